// Spellings of API.md that a user coming from libtorch writes and graft once refused to
// compile or read otherwise, each checked for what it means: TensorOptions' requires_grad in
// every factory, a scalar on the left of a comparison, Tensor::where, a hook that returns
// nothing, backward's retain_graph following create_graph, and a reduction's dim given bare.
#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

#include "graft/graft.h"
#include "test_util.h"

namespace g = graft;
using g::Tensor;
using g::TensorOptions;
using g::testing::error_message;

TEST(ApiSpellings, EveryFactoryMakesALeafThatRequiresGradWhenItsOptionsAsk) {
  const TensorOptions grad = TensorOptions().dtype(g::kFloat64).requires_grad();
  std::vector<float> blob = {1, 2, 3};
  const std::vector<std::pair<const char*, Tensor>> made = {
      {"zeros", g::zeros({2, 3}, grad)},
      {"ones", g::ones({2}, grad)},
      {"full", g::full({2}, 7.0, grad)},
      {"empty", g::empty({2}, grad)},
      {"empty_like", g::empty_like(g::zeros({2}), grad)},
      {"rand", g::rand({2}, grad)},
      {"randn", g::randn({2}, grad)},
      {"arange", g::arange(0.0, 1.0, 0.25, grad)},
      {"linspace", g::linspace(0, 1, 5, grad)},
      {"eye", g::eye(3, grad)},
      {"tensor", g::tensor({1.5, 2.5}, grad)},
      {"from_blob", g::from_blob(blob.data(), {3}, TensorOptions().requires_grad(true))},
  };
  for (const auto& [name, t] : made) {
    EXPECT_TRUE(t.requires_grad()) << name;
    EXPECT_TRUE(t.is_leaf()) << name;
  }
  // The values are the factories' own, written before the flag was set.
  EXPECT_TRUE(g::equal(made[0].second, g::zeros({2, 3})));
  EXPECT_TRUE(g::equal(made[2].second, g::full({2}, 7.0)));
  EXPECT_TRUE(g::equal(made[9].second, g::eye(3)));
  EXPECT_TRUE(g::equal(made[11].second, g::tensor({1.f, 2.f, 3.f})));
  EXPECT_EQ(made[0].second.dtype(), g::kFloat64);

  // A leaf made so takes part in autograd like any other.
  const Tensor w = g::ones({3}, TensorOptions().requires_grad(true));
  (w * w).sum().backward();
  EXPECT_TRUE(g::equal(w.grad(), g::full({3}, 2.0)));
  EXPECT_FALSE(g::zeros({2}, TensorOptions().requires_grad(false)).requires_grad());
  EXPECT_FALSE(g::zeros({2}).requires_grad());
  // Integers cannot require grad, as in PyTorch.
  EXPECT_NE(error_message([] {
              g::zeros({2}, TensorOptions(g::kInt64).requires_grad());
            }).find("only Tensors of floating point dtype can require gradients"),
            std::string::npos);
}

TEST(ApiSpellings, AScalarOnTheLeftOfAComparisonIsTheMirroredComparison) {
  const Tensor x = g::tensor({1.f, 2.f, 3.f});
  EXPECT_TRUE(g::equal(2 == x, x == 2));
  EXPECT_TRUE(g::equal(2.0 != x, x != 2.0));
  EXPECT_TRUE(g::equal(2 < x, g::tensor({false, false, true})));
  EXPECT_TRUE(g::equal(2 <= x, g::tensor({false, true, true})));
  EXPECT_TRUE(g::equal(2 > x, g::tensor({true, false, false})));
  EXPECT_TRUE(g::equal(2 >= x, g::tensor({true, true, false})));
  EXPECT_EQ((2 < x).dtype(), g::kBool);
}

TEST(ApiSpellings, WhereAsAMethodKeepsThisTensorWhereTheConditionHolds) {
  const Tensor x = g::tensor({1.f, 2.f, 3.f}), y = g::tensor({-1.f, -2.f, -3.f});
  const Tensor condition = g::tensor({true, false, true});
  EXPECT_TRUE(g::equal(x.where(condition, y), g::tensor({1.f, -2.f, 3.f})));
  EXPECT_TRUE(g::equal(x.where(condition, 0), g::tensor({1.f, 0.f, 3.f})));
}

TEST(ApiSpellings, AHookThatReturnsNothingSeesTheGradientAndLeavesIt) {
  const Tensor w = g::tensor({1.0, 2.0}, g::kFloat64).requires_grad_();
  Tensor seen;
  w.register_hook([&seen](const Tensor& grad) { seen = grad.clone(); });
  (w * 3).sum().backward();
  EXPECT_TRUE(g::equal(seen, g::full({2}, 3.0)));
  EXPECT_TRUE(g::equal(w.grad(), g::full({2}, 3.0)));
}

TEST(ApiSpellings, BackwardKeepsTheGraphWhenItRecordsItself) {
  // retain_graph unset follows create_graph: the graph survives for a second pass.
  const Tensor x = g::tensor({2.0}, g::kFloat64).requires_grad_();
  const Tensor y = (x * x * x).sum();
  y.backward({}, std::nullopt, /*create_graph=*/true);
  EXPECT_NO_THROW(y.backward());
  EXPECT_TRUE(g::allclose(x.grad(), g::tensor({24.0}, g::kFloat64)));  // 12 twice
  // A gradient with a graph holds x through that graph, and x holds it: dropping it breaks
  // the cycle (PyTorch warns of the same one).
  x.mutable_grad() = Tensor();
  // Without create_graph the graph is freed, and a second pass says so.
  const Tensor z = (x * x).sum();
  z.backward();
  EXPECT_THROW(z.backward(), g::Error);
}

TEST(ApiSpellings, AReductionTakesOneDimBare) {
  const Tensor x = g::arange(6.0).reshape({2, 3});
  EXPECT_TRUE(g::equal(x.sum(1), x.sum({1})));
  EXPECT_TRUE(g::equal(x.mean(0, true), x.mean({0}, true)));
  EXPECT_TRUE(g::equal(x.max(-1), g::tensor({2.f, 5.f})));
  EXPECT_TRUE(g::equal(g::sum(x, 1), g::sum(x, {1})));
  // A braced list is still dims: {} reduces every one.
  EXPECT_EQ(x.sum({}).dim(), 0);
  EXPECT_EQ(x.sum({}).item<float>(), 15.f);
}
