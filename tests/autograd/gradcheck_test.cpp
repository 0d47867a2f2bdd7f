// gradcheck / gradgradcheck themselves: they pass correct gradients, catch wrong ones with
// a message naming the input, the element and both values, and refuse unusable inputs.
// Also to_dot, the graph as Graphviz text.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "test_util.h"

namespace g = graft;
using g::autograd::TensorList;
using g::testing::error_message;
using g::testing::make_tensor;
using g::testing::sample_values;
using ::testing::HasSubstr;

namespace {
g::Tensor leaf(const g::Shape& shape, uint32_t seed, g::DType dtype = g::kFloat64) {
  return make_tensor(sample_values(shape.numel(), -2, 2, seed), shape, dtype).requires_grad_();
}
}  // namespace

TEST(Gradcheck, PassesACompositionOfOpsWithSeveralOutputs) {
  const g::autograd::Function f = [](const TensorList& in) {
    return TensorList{in[0] * in[1].exp(), (in[0] - in[1]).tanh()};
  };
  EXPECT_TRUE(g::autograd::gradcheck(f, {leaf({2, 3}, 1), leaf({2, 3}, 2)}));
  EXPECT_TRUE(g::autograd::gradgradcheck(f, {leaf({2, 3}, 1), leaf({2, 3}, 2)}));
}

TEST(Gradcheck, IgnoresInputsThatDoNotRequireGrad) {
  const g::Tensor constant = make_tensor({1, 2, 3}, {3});
  EXPECT_TRUE(g::autograd::gradcheck([](const TensorList& in) { return in[0] * in[1]; },
                                     {leaf({3}, 1), constant}));
}

TEST(Gradcheck, CatchesAWrongGradientAndSaysWhere) {
  // x * x.detach() has the value x^2 but its recorded gradient is x, not 2x.
  const auto wrong = [](const TensorList& in) { return in[0] * in[0].detach(); };
  const g::Tensor x = make_tensor({1, 3}, {2}).requires_grad_();
  const std::string msg = error_message([&] { g::autograd::gradcheck(wrong, {x}); });
  EXPECT_THAT(msg,
              HasSubstr("gradcheck(): Jacobian mismatch for output 0 with respect to input 0"));
  EXPECT_THAT(msg, HasSubstr("d output[0] / d input[0] (flat indices) is 1 analytically but 2"));
}

TEST(Gradgradcheck, CatchesAWrongSecondDerivative) {
  // x^2 * x.detach(): the first derivative it records, 2x * x, is itself wrong in x.
  const auto wrong = [](const TensorList& in) { return in[0] * in[0] * in[0].detach(); };
  const std::string msg = error_message([&] { g::autograd::gradgradcheck(wrong, {leaf({2}, 1)}); });
  EXPECT_THAT(msg, HasSubstr("Jacobian mismatch"));
}

TEST(Gradcheck, RefusesFloat32AndInputsWithoutGrad) {
  const auto f = [](const TensorList& in) { return in[0] * 2; };
  EXPECT_THAT(error_message([&] { g::autograd::gradcheck(f, {leaf({2}, 1, g::kFloat32)}); }),
              HasSubstr("gradcheck(): input 0 is float32; finite differences need float64"));
  EXPECT_THAT(error_message([&] { g::autograd::gradcheck(f, {make_tensor({1}, {1})}); }),
              HasSubstr("gradcheck(): no input requires grad"));
}

TEST(ToDot, DrawsEveryNodeWithItsInputs) {
  const g::Tensor x = leaf({2, 3}, 1);
  const g::Tensor w = make_tensor(sample_values(3, -1, 1), {3});  // no grad: no arrow
  const std::string dot = g::autograd::to_dot((x * w).exp());
  EXPECT_THAT(dot, HasSubstr("digraph graft {"));
  EXPECT_THAT(dot, HasSubstr("tensor [shape=ellipse, label=\"tensor float64 (2, 3) cpu\"]"));
  EXPECT_THAT(dot, HasSubstr("n0 [label=\"ExpBackward\\ninput 0: float64 (2, 3) cpu\"]"));
  EXPECT_THAT(dot, HasSubstr("n1 [label=\"MulBackward\\ninput 0: float64 (2, 3) cpu\\ninput 1: "
                             "float64 (3,) cpu (no grad)\"]"));
  EXPECT_THAT(dot, HasSubstr("n2 [label=\"AccumulateGrad\\nleaf float64 (2, 3) cpu\"]"));
  EXPECT_THAT(dot, HasSubstr("tensor -> n0;"));
  EXPECT_THAT(dot, HasSubstr("n0 -> n1 [label=\"0\"]"));
  EXPECT_THAT(dot, HasSubstr("n1 -> n2 [label=\"0\"]"));
  EXPECT_THAT(dot, ::testing::Not(HasSubstr("n1 -> n3")));
}

TEST(ToDot, SharedNodesAppearOnce) {
  const g::Tensor x = leaf({2}, 1);
  const g::Tensor a = x * 2;
  const std::string dot = g::autograd::to_dot(a * a);
  EXPECT_THAT(dot, HasSubstr("n0 -> n1 [label=\"0\"]"));
  EXPECT_THAT(dot, HasSubstr("n0 -> n1 [label=\"1\"]"));
  EXPECT_THAT(dot, ::testing::Not(HasSubstr("n3")));  // Mul, Mul, AccumulateGrad
}

TEST(ToDot, ALeafIsJustTheTensor) {
  const std::string dot = g::autograd::to_dot(make_tensor({1}, {1}));
  EXPECT_THAT(dot, HasSubstr("tensor [shape=ellipse"));
  EXPECT_THAT(dot, ::testing::Not(HasSubstr("->")));
}
