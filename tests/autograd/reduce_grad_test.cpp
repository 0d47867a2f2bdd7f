// Reduction gradients beyond the op registry's gradcheck rows (tests/ops/reduction_rows.cpp): prod
// at zeros, max/min splitting among ties, std of a constant slice, the integer and bool reductions
// that carry no gradient, and the node names.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>

#include "grad_test_util.h"

namespace g = graft;
using g::autograd::TensorList;
using g::testing::Layout;
using g::testing::make_leaf;
using g::testing::make_tensor;

namespace {

g::Tensor leaf(const std::vector<double>& values, const g::Shape& shape) {
  return make_tensor(values, shape).requires_grad_();
}

// d prod / d x_i is the product of the other elements of x_i's slice: at a zero, not
// 0 / 0 but the product of the rest; in a slice with two zeros every element's product of
// the others holds a zero, so the whole slice's gradient is 0.
TEST(ReduceGradProd, ZerosGetTheProductOfTheOthers) {
  const g::Tensor x = leaf({0, 2, 3,   // one zero: its gradient is 2 * 3
                            0, 0, 5,   // two zeros: every gradient holds a zero
                            1, 2, 4},  // no zero: prod / x_i
                           {3, 3});
  g::prod(x, {1}).sum().backward();
  const std::vector<double> expected{6, 0, 0, 0, 0, 0, 8, 4, 2};
  EXPECT_EQ(x.grad().to_vector<double>(), expected);

  const g::Tensor y = leaf({0, 2, 3, 4}, {4});
  g::prod(y).backward();
  EXPECT_EQ(y.grad().to_vector<double>(), (std::vector<double>{24, 0, 0, 0}));
}

// prod is linear in each element, so central differences are exact at zeros too; with two
// zeros in a slice, d2 prod / dx_i dx_j (both zeros) is the product of the rest, not 0.
TEST(ReduceGradProd, MatchesFiniteDifferencesAtZerosToSecondOrder) {
  const auto f = [](const TensorList& in) { return g::prod(in[0], {1}); };
  const g::Tensor x = leaf({0, 2, 3, -1.5, 0, 0, 5, 0.5, 1, 2, 4, 0.25}, {3, 4});
  EXPECT_TRUE(g::autograd::gradcheck(f, {x}));
  EXPECT_TRUE(g::autograd::gradgradcheck(f, {x}));
  const auto all = [](const TensorList& in) { return g::prod(in[0]); };
  const g::Tensor two_zeros = leaf({0, 2, 0, -1.5, 3}, {5});
  EXPECT_TRUE(g::autograd::gradcheck(all, {two_zeros}));
  EXPECT_TRUE(g::autograd::gradgradcheck(all, {two_zeros}));
}

// A long slice: the prefix/suffix scan takes log2(n) steps and must cover every element.
TEST(ReduceGradProd, LongSlicesMatchTheProductOfTheOthers) {
  std::vector<double> values(37);
  for (size_t i = 0; i < values.size(); ++i) values[i] = 1 + 0.01 * static_cast<double>(i);
  values[11] = 0;
  const g::Tensor x = leaf(values, {37});
  g::prod(x).backward();
  const std::vector<double> grad = x.grad().to_vector<double>();
  for (size_t i = 0; i < values.size(); ++i) {
    double others = 1;  // reference: the naive product of every other element
    for (size_t j = 0; j < values.size(); ++j)
      if (j != i) others *= values[j];
    EXPECT_NEAR(grad[i], others, 1e-12) << "element " << i;
  }
}

// As torch.amax: the gradient of a maximum shared by k elements is split evenly, 1/k each.
TEST(ReduceGradExtremes, TiesSplitTheGradientEvenly) {
  const g::Tensor x = leaf({3, 1, 3, 3, /**/ 2, 5, 0, 1}, {2, 4});
  g::max(x, {1}).backward(make_tensor({1, 2}, {2}));
  const std::vector<double> expected{1.0 / 3, 0, 1.0 / 3, 1.0 / 3, 0, 2, 0, 0};
  EXPECT_EQ(x.grad().to_vector<double>(), expected);

  const g::Tensor y = leaf({-1, 4, -1, 2}, {2, 2});
  g::min(y).backward();
  EXPECT_EQ(y.grad().to_vector<double>(), (std::vector<double>{0.5, 0, 0.5, 0}));
}

// PyTorch gives a slice of equal values (std 0) a zero gradient rather than 0 / 0.
TEST(ReduceGradStd, ConstantSliceHasZeroGradient) {
  const g::Tensor x = leaf({2, 2, 2, /**/ 1, 2, 4}, {2, 3});
  g::std(x, {1}).sum().backward();
  const std::vector<double> grad = x.grad().to_vector<double>();
  for (int i = 0; i < 3; ++i) EXPECT_EQ(grad[i], 0) << "element " << i;
  // d std / d x_i = (x_i - mean) / ((n - 1) std), mean 7/3, std sqrt(7/3).
  const double mean = 7.0 / 3, sd = std::sqrt(7.0 / 3);
  EXPECT_NEAR(grad[3], (1 - mean) / (2 * sd), 1e-12);
  EXPECT_NEAR(grad[5], (4 - mean) / (2 * sd), 1e-12);
}

// logsumexp of huge values: its gradient, the softmax of the slice, stays finite.
TEST(ReduceGradLogsumexp, GradientIsTheSoftmaxEvenForHugeValues) {
  const g::Tensor x = leaf({1000, 1000 + std::log(3.0)}, {2});
  g::logsumexp(x).backward();
  const std::vector<double> grad = x.grad().to_vector<double>();
  EXPECT_NEAR(grad[0], 0.25, 1e-12);
  EXPECT_NEAR(grad[1], 0.75, 1e-12);
}

// Their results are int64 or bool: they never require grad, so they neither refuse a
// tensor that requires grad nor record anything.
TEST(ReduceGradNonDifferentiable, IndexAndLogicalReductionsCarryNoGradient) {
  const g::Tensor x = make_leaf({2, 3}, Layout::contiguous);
  for (const g::Tensor& out : {g::argmax(x), g::argmin(x, 1), g::all(x), g::any(x, {0}),
                               g::sum(x > 0), g::prod(x < 0, {1})}) {
    EXPECT_FALSE(is_floating_point(out.dtype()));
    EXPECT_FALSE(out.requires_grad());
    EXPECT_EQ(out.grad_fn(), nullptr);
  }
}

TEST(ReduceGradNames, NodesAreNamedAfterTheirOp) {
  const g::Tensor x = make_leaf({2, 3}, Layout::contiguous);
  const std::pair<g::Tensor, const char*> cases[] = {
      {x.sum(), "SumBackward"}, {x.mean(), "MeanBackward"}, {x.prod(), "ProdBackward"},
      {x.max(), "MaxBackward"}, {x.min(), "MinBackward"},   {x.logsumexp(), "LogsumexpBackward"},
      {x.var(), "VarBackward"}, {x.std(), "StdBackward"},
  };
  for (const auto& [out, name] : cases) {
    ASSERT_NE(out.grad_fn(), nullptr) << name;
    EXPECT_EQ(out.grad_fn()->name(), name);
  }
}

// Reducing an empty tensor: the gradient is empty too, and the sum of nothing still
// connects to its input.
TEST(ReduceGradEmpty, EmptyInputsGetEmptyGradients) {
  const g::Tensor x = g::zeros({0, 3}, g::kFloat64).requires_grad_();
  g::sum(x).backward();
  EXPECT_EQ(x.grad().shape(), g::Shape({0, 3}));
  const g::Tensor y = g::zeros({0, 3}, g::kFloat64).requires_grad_();
  g::mean(y, {0}).sum().backward();
  EXPECT_EQ(y.grad().shape(), g::Shape({0, 3}));
}

}  // namespace
