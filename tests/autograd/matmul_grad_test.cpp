// matmul gradients beyond the op registry's gradcheck rows (tests/ops/linalg_rows.cpp, every
// shape case of matmul, mm and bmm): a broadcast batch summed back against a naive
// reference, and node names.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "grad_test_util.h"

namespace g = graft;
using g::autograd::TensorList;
using g::testing::Layout;
using g::testing::make_leaf;
using g::testing::make_tensor;
using g::testing::sample_values;

namespace {

// a (2, 1, 2, 3) @ b (3, 3, 4) -> (2, 3, 2, 4). With a gradient of ones,
//   d a[i, 0, m, k] = sum over j, n of b[j, k, n]      (a's batch dim 1 was broadcast to 3)
//   d b[j, k, n]    = sum over i, m of a[i, 0, m, k]   (b's batch was broadcast over i)
TEST(MatmulGradBroadcast, BroadcastBatchDimsAreSummedBack) {
  const std::vector<double> av = sample_values(12, -2, 2, 1), bv = sample_values(36, -2, 2, 2);
  const g::Tensor a = make_tensor(av, {2, 1, 2, 3}).requires_grad_();
  const g::Tensor b = make_tensor(bv, {3, 3, 4}).requires_grad_();
  g::matmul(a, b).sum().backward();
  std::vector<double> da(12, 0.0), db(36, 0.0);
  for (int i = 0; i < 2; ++i)
    for (int j = 0; j < 3; ++j)
      for (int m = 0; m < 2; ++m)
        for (int k = 0; k < 3; ++k)
          for (int n = 0; n < 4; ++n) {
            da[(i * 2 + m) * 3 + k] += bv[(j * 3 + k) * 4 + n];
            db[(j * 3 + k) * 4 + n] += av[(i * 2 + m) * 3 + k];
          }
  ASSERT_EQ(a.grad().shape(), a.shape());
  ASSERT_EQ(b.grad().shape(), b.shape());
  const std::vector<double> got_a = a.grad().to_vector<double>(),
                            got_b = b.grad().to_vector<double>();
  for (size_t i = 0; i < da.size(); ++i) EXPECT_NEAR(got_a[i], da[i], 1e-12) << "a " << i;
  for (size_t i = 0; i < db.size(); ++i) EXPECT_NEAR(got_b[i], db[i], 1e-12) << "b " << i;
}

// Only the operand that requires grad gets one; the other's is never computed.
TEST(MatmulGradBroadcast, OnlyOperandsThatRequireGradGetOne) {
  const g::Tensor w = make_leaf({3, 4}, Layout::contiguous);
  const g::Tensor x = make_tensor(sample_values(6), {2, 3});
  g::matmul(x, w).sum().backward();
  EXPECT_FALSE(x.requires_grad());
  EXPECT_EQ(w.grad().shape(), g::Shape({3, 4}));
}

// linear() multiplies by weight.t(): the weight's gradient must come back contiguous in
// the weight's own layout (so AccumulateGrad takes it without a copy), and right.
TEST(MatmulGradLayout, ATransposedOperandsGradientComesInItsLayout) {
  const g::Tensor w = make_leaf({3, 4}, Layout::contiguous);
  const g::Tensor x = make_leaf({2, 4}, Layout::contiguous, g::testing::kAny, 2);
  g::matmul(x, w.t()).sum().backward();
  EXPECT_TRUE(w.grad().is_contiguous());
  // d(sum(x @ w^T)) / dw[i][j] = sum over rows of x[r][j].
  const auto xs = x.detach().to_vector<double>(), got = w.grad().to_vector<double>();
  for (int64_t i = 0; i < 3; ++i)
    for (int64_t j = 0; j < 4; ++j) EXPECT_NEAR(got[i * 4 + j], xs[j] + xs[4 + j], 1e-12);
  // The same for the left operand, when it is the transposed one.
  const g::Tensor v = make_leaf({4, 2}, Layout::contiguous, g::testing::kAny, 3);
  g::matmul(v.t(), w.t()).sum().backward();
  EXPECT_TRUE(v.grad().is_contiguous());
}

TEST(MatmulGradNames, NodesAreNamedAfterTheirOp) {
  const g::Tensor a = make_leaf({2, 2, 2}, Layout::contiguous);
  EXPECT_EQ(g::matmul(a, a).grad_fn()->name(), "MatmulBackward");
  EXPECT_EQ(g::bmm(a, a).grad_fn()->name(), "BmmBackward");
  const g::Tensor m = make_leaf({2, 2}, Layout::contiguous);
  EXPECT_EQ(g::mm(m, m).grad_fn()->name(), "MmBackward");
}

}  // namespace
