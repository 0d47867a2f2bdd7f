// softmax and log_softmax gradients beyond the op registry's gradcheck rows
// (tests/ops/linalg_rows.cpp): stability at huge inputs, and node names.
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

// The formulas read only the output, never exp(x): inputs near 1000 give exact gradients.
// x = (1000, 1000 + log 3): softmax = (1/4, 3/4). With the gradient (1, 0):
//   softmax:     dx = y * (g - y . g) = (1/4 * 3/4, 3/4 * -1/4) = (3/16, -3/16)
//   log_softmax: dx = g - softmax * sum(g) = (3/4, -3/4)
TEST(SoftmaxGradStability, HugeInputsGiveExactGradients) {
  const g::Tensor x = make_tensor({1000, 1000 + std::log(3.0)}, {2}).requires_grad_();
  const g::Tensor upstream = make_tensor({1, 0}, {2});
  g::softmax(x, 0).backward(upstream);
  std::vector<double> grad = x.grad().to_vector<double>();
  EXPECT_NEAR(grad[0], 3.0 / 16, 1e-12);
  EXPECT_NEAR(grad[1], -3.0 / 16, 1e-12);
  const g::Tensor y = make_tensor({1000, 1000 + std::log(3.0)}, {2}).requires_grad_();
  g::log_softmax(y, 0).backward(upstream);
  grad = y.grad().to_vector<double>();
  EXPECT_NEAR(grad[0], 0.75, 1e-12);
  EXPECT_NEAR(grad[1], -0.75, 1e-12);
}

TEST(SoftmaxGradNames, NodesAreNamedAfterTheirOp) {
  const g::Tensor x = make_leaf({2, 3}, Layout::contiguous);
  EXPECT_EQ(g::softmax(x, 1).grad_fn()->name(), "SoftmaxBackward");
  EXPECT_EQ(g::log_softmax(x, 1).grad_fn()->name(), "LogSoftmaxBackward");
}

}  // namespace
