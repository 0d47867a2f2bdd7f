// norm beyond the op registry's rows (tests/ops/scan_rows.cpp): gradients where PyTorch
// defines them specially (a norm of zeros, ties of the inf norm), and the errors.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "grad_test_util.h"

namespace g = graft;
using g::autograd::TensorList;
using g::testing::error_message;
using g::testing::make_tensor;

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

g::Tensor leaf(const std::vector<double>& values, const g::Shape& shape) {
  return make_tensor(values, shape).requires_grad_();
}

// At a norm of 0 the gradient is 0, not 0 / 0, for p = 2 and every p > 1 (PyTorch masks
// it); at x_i = 0 with p < 1, |x_i|^(p - 1) is inf and the gradient is 0 too. Second
// derivatives stay finite there as well.
TEST(NormGrad, ZeroNormsAndZeroElementsGetZeroGradients) {
  for (const double p : {2.0, 3.0, 1.5, 0.5, 1.0}) {
    SCOPED_TRACE("p = " + std::to_string(p));
    const g::Tensor x = leaf({0, 0, 0, 0, 3, -4}, {2, 3});
    const g::Tensor n = g::norm(x, p, {1});
    const g::Tensor dx = g::autograd::grad({n.sum()}, {x}, {.create_graph = true})[0];
    const std::vector<double> grad = dx.to_vector<double>();
    for (int i = 0; i < 4; ++i) EXPECT_EQ(grad[i], 0) << i;
    for (const double v : grad) EXPECT_TRUE(std::isfinite(v));
    const g::Tensor ddx = g::autograd::grad({dx.sum()}, {x}, {.allow_unused = true})[0];
    if (ddx.defined()) {
      for (const double v : ddx.to_vector<double>()) EXPECT_TRUE(std::isfinite(v));
    }
  }
  // p = 2 on the second row: x / |x| = (0, 3, -4) / 5.
  const g::Tensor x = leaf({0, 0, 0, 0, 3, -4}, {2, 3});
  g::norm(x, 2, {1}).sum().backward();
  const std::vector<double> want{0, 0, 0, 0, 0.6, -0.8}, got = x.grad().to_vector<double>();
  for (size_t i = 0; i < want.size(); ++i) EXPECT_NEAR(got[i], want[i], 1e-15) << i;
}

// The inf norm sends the gradient to the elements of largest |x|, split evenly among ties,
// with their sign (as PyTorch's norm_backward); -inf likewise for the smallest.
TEST(NormGrad, InfNormsSplitTheGradientAmongTies) {
  const g::Tensor x = leaf({3, -3, 1, 2}, {4});
  g::norm(x, kInf).backward();
  EXPECT_EQ(x.grad().to_vector<double>(), (std::vector<double>{0.5, -0.5, 0, 0}));
  const g::Tensor y = leaf({-1, 4, 1, 2}, {4});
  g::norm(y, -kInf).backward();
  EXPECT_EQ(y.grad().to_vector<double>(), (std::vector<double>{-0.5, 0, 0.5, 0}));
}

TEST(NormGrad, CountOfNonZerosHasAZeroGradient) {
  const g::Tensor x = leaf({0, 2, -1, 0}, {4});
  const g::Tensor n = g::norm(x, 0);
  EXPECT_EQ(n.item<double>(), 2);
  n.backward();
  EXPECT_EQ(x.grad().to_vector<double>(), (std::vector<double>{0, 0, 0, 0}));
}

TEST(Norm, RefusesIntegersAndEmptyInfNorms) {
  EXPECT_THAT(error_message([] { g::norm(g::ones({3}, g::kInt64)); }),
              ::testing::HasSubstr("norm(): input dtype should be floating point, got int64"));
  EXPECT_THAT(error_message([] {
                g::norm(g::ones({0, 3}), kInf, {0});
              }),
              ::testing::HasSubstr("norm(): cannot compute the inf norm of an empty group"));
  EXPECT_THAT(error_message([] {
                g::norm(g::ones({2, 3}), 2, {1, -1});
              }),
              ::testing::HasSubstr("norm(): dim 1 appears multiple times"));
  // Reducing over a non-empty dim of an empty tensor has no group to fill.
  EXPECT_EQ(g::norm(g::ones({0, 3}), kInf, {1}).shape(), (g::Shape{0}));
  EXPECT_EQ(g::norm(g::ones({0, 3})).item<float>(), 0.0f);
}

}  // namespace
