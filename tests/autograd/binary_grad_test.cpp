// Gradients beyond the op registry's gradcheck rows (tests/ops/elementwise_rows.cpp): the
// points where the formula is 0 / 0, or the function has a kink, and PyTorch defines a value.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>

#include "grad_test_util.h"

namespace g = graft;
using g::testing::make_tensor;

namespace {

// atan2(y, x) at the origin: both partial derivatives are 0 / 0, and PyTorch gives 0 (its
// reciprocal of y^2 + x^2 with inf made 0), signed as the other operand's zero; elsewhere the
// formulas x / r^2 and -y / r^2.
TEST(BinaryGradAtan2, TheOriginGivesZerosNotNaN) {
  const g::Tensor y = make_tensor({0.0, 0.0, 1.0}, {3}).requires_grad_();
  const g::Tensor x = make_tensor({0.0, -0.0, 0.0}, {3}).requires_grad_();
  g::atan2(y, x).sum().backward();
  const std::vector<double> dy = y.grad().to_vector<double>(), dx = x.grad().to_vector<double>();
  EXPECT_EQ(dy, (std::vector<double>{0.0, 0.0, 0.0}));
  EXPECT_EQ(dx, (std::vector<double>{0.0, 0.0, -1.0}));
  EXPECT_TRUE(std::signbit(dy[1])) << "-0: the gradient is g * x * 0 with x = -0";
  EXPECT_TRUE(std::signbit(dx[0]));
}

// clamp at its bounds: PyTorch's minimum-norm subgradient (2.15), 0 at each bound as relu's
// at 0, 1 strictly inside, 0 outside and for NaN; one-sided clamps alike.
TEST(ClampGrad, ZeroAtTheBoundsAsRelu) {
  const g::Tensor x = make_tensor({-1.0, 0.0, 0.5, 1.0, 2.0, NAN}, {6}).requires_grad_();
  g::clamp(x, 0.0, 1.0).sum().backward();
  EXPECT_EQ(x.grad().to_vector<double>(), (std::vector<double>{0, 0, 1, 0, 0, 0}));
  x.mutable_grad() = g::Tensor();
  g::clamp(x, 0.0).sum().backward();
  EXPECT_EQ(x.grad().to_vector<double>(), (std::vector<double>{0, 0, 1, 1, 1, 0}));
  x.mutable_grad() = g::Tensor();
  g::clamp(x, std::nullopt, 1.0).sum().backward();
  EXPECT_EQ(x.grad().to_vector<double>(), (std::vector<double>{1, 1, 1, 0, 0, 0}));
  x.mutable_grad() = g::Tensor();
  x.relu().sum().backward();  // the same function as clamp(x, 0), the same gradient
  EXPECT_EQ(x.grad().to_vector<double>()[1], 0);
}

}  // namespace
