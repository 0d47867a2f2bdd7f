// Losses against their hand formulas computed in double here: cross_entropy (class indices,
// K-dim and unbatched inputs, ignore_index, label_smoothing by PyTorch's formula, class
// probabilities), nll_loss, mse_loss, l1_loss, binary_cross_entropy_with_logits
// (pos_weight, weight), every reduction, logits of +-1e4, and the errors.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "graft/autograd/gradcheck.h"
#include "test_util.h"

namespace g = graft;
namespace nn = graft::nn;
namespace F = graft::nn::functional;
using F::Reduction;
using g::testing::error_message;
using g::testing::make_tensor;
using g::testing::sample_values;
using ::testing::HasSubstr;

namespace {

std::vector<double> values(const g::Tensor& t) { return t.to_vector<double>(); }

double scalar(const g::Tensor& t) {
  EXPECT_EQ(t.dim(), 0);
  return t.item<double>();
}

// log sum_c exp(row[c]), shifted by the max so that +-1e4 stays finite.
double logsumexp(const std::vector<double>& v, int64_t begin, int64_t n, int64_t step = 1) {
  double m = -INFINITY, s = 0;
  for (int64_t c = 0; c < n; ++c) m = std::max(m, v[begin + c * step]);
  for (int64_t c = 0; c < n; ++c) s += std::exp(v[begin + c * step] - m);
  return m + std::log(s);
}

// Per-row cross entropy of (N, C) logits with label smoothing s (PyTorch's formula):
// (1 - s) * -log p[y] + s * mean_c(-log p[c]).
std::vector<double> cross_entropy_rows(const std::vector<double>& x, int64_t classes,
                                       const std::vector<int64_t>& y, double s = 0) {
  std::vector<double> out;
  for (size_t i = 0; i < y.size(); ++i) {
    const int64_t r = static_cast<int64_t>(i) * classes;
    const double lse = logsumexp(x, r, classes);
    double uniform = 0;
    for (int64_t c = 0; c < classes; ++c) uniform += (lse - x[r + c]) / classes;
    out.push_back((1 - s) * (lse - x[r + y[i]]) + s * uniform);
  }
  return out;
}

// PyTorch's BCE-with-logits formula (a different arrangement from graft's):
// (1 - y) x + (1 + (pw - 1) y) (log1p(exp(-|x|)) + max(-x, 0)).
double bce_reference(double x, double y, double pw = 1) {
  return (1 - y) * x +
         (1 + (pw - 1) * y) * (std::log1p(std::exp(-std::abs(x))) + std::max(-x, 0.0));
}

}  // namespace

TEST(NnLoss, CrossEntropyOfClassIndicesMatchesMinusLogSoftmax) {
  const auto xv = sample_values(12, -3, 3);
  const g::Tensor x = make_tensor(xv, {4, 3});
  const std::vector<int64_t> y = {2, 0, 1, 1};
  const g::Tensor target = make_tensor({2, 0, 1, 1}, {4}, g::kInt64);
  const auto rows = cross_entropy_rows(xv, 3, y);
  const auto none = values(F::cross_entropy(x, target, {.reduction = Reduction::kNone}));
  for (size_t i = 0; i < 4; ++i) EXPECT_NEAR(none[i], rows[i], 1e-12);
  double sum = 0;
  for (double r : rows) sum += r;
  EXPECT_NEAR(scalar(F::cross_entropy(x, target)), sum / 4, 1e-12);
  EXPECT_NEAR(scalar(F::cross_entropy(x, target, {.reduction = Reduction::kSum})), sum, 1e-12);
  EXPECT_NEAR(scalar(nn::CrossEntropyLoss()(x, target)), sum / 4, 1e-12);
  // nll_loss on log-probabilities is the same loss.
  EXPECT_NEAR(scalar(F::nll_loss(g::log_softmax(x, 1), target)), sum / 4, 1e-12);
  EXPECT_NEAR(scalar(nn::NLLLoss()(g::log_softmax(x, 1), target)), sum / 4, 1e-12);
  // int32 targets are class indices too.
  EXPECT_NEAR(scalar(F::cross_entropy(x, target.to(g::kInt32))), sum / 4, 1e-12);
}

TEST(NnLoss, CrossEntropyIgnoreIndexAveragesOverTheRest) {
  const auto xv = sample_values(12, -3, 3, 2);
  const g::Tensor x = make_tensor(xv, {4, 3});
  const g::Tensor target = make_tensor({2, -100, 1, 5}, {4}, g::kInt64);
  const auto rows = cross_entropy_rows(xv, 3, {2, 0, 1, 0});
  // With ignore_index = 5, the -100 is a class index out of range.
  EXPECT_THAT(error_message([&] { F::cross_entropy(x, target, {.ignore_index = 5}); }),
              HasSubstr("cross_entropy(): target -100 is out of bounds for 3 classes; targets "
                        "must lie in [0, 3) or equal ignore_index=5"));
  // Rows 1 and 3 hold the default ignore_index and drop out.
  const g::Tensor t2 = make_tensor({2, -100, 1, -100}, {4}, g::kInt64);
  const auto loss = values(F::cross_entropy(x, t2, {.reduction = Reduction::kNone}));
  EXPECT_NEAR(loss[0], rows[0], 1e-12);
  EXPECT_EQ(loss[1], 0.0);
  EXPECT_NEAR(loss[2], rows[2], 1e-12);
  EXPECT_EQ(loss[3], 0.0);
  EXPECT_NEAR(scalar(F::cross_entropy(x, t2)), (rows[0] + rows[2]) / 2, 1e-12);
  // Everything ignored: 0 / 0, as PyTorch.
  EXPECT_TRUE(std::isnan(scalar(F::cross_entropy(x, g::full({4}, -100, g::kInt64)))));
}

TEST(NnLoss, CrossEntropyLabelSmoothingFollowsPyTorchsFormula) {
  const auto xv = sample_values(15, -3, 3, 3);
  const g::Tensor x = make_tensor(xv, {3, 5});
  const g::Tensor target = make_tensor({4, 0, -100}, {3}, g::kInt64);
  const auto rows = cross_entropy_rows(xv, 5, {4, 0, 0}, 0.2);
  EXPECT_NEAR(scalar(F::cross_entropy(x, target, {.label_smoothing = 0.2})),
              (rows[0] + rows[1]) / 2, 1e-12);
  EXPECT_THAT(error_message([&] { F::cross_entropy(x, target, {.label_smoothing = 1.5}); }),
              HasSubstr("label_smoothing must be between 0.0 and 1.0, but got 1.5"));
}

TEST(NnLoss, CrossEntropyOfProbabilities) {
  const auto xv = sample_values(8, -3, 3, 4);
  const g::Tensor x = make_tensor(xv, {2, 4});
  const std::vector<double> q = {0.1, 0.2, 0.3, 0.4, 1, 0, 0, 0};
  const double s = 0.1;
  double total = 0;
  for (int64_t r = 0; r < 2; ++r) {
    const double lse = logsumexp(xv, r * 4, 4);
    for (int64_t c = 0; c < 4; ++c)
      total += ((1 - s) * q[r * 4 + c] + s / 4) * (lse - xv[r * 4 + c]);
  }
  EXPECT_NEAR(scalar(F::cross_entropy(x, make_tensor(q, {2, 4}), {.label_smoothing = s})),
              total / 2, 1e-12);
  EXPECT_THAT(error_message([&] {
                F::cross_entropy(x, make_tensor({1, 0}, {2}));
              }),
              HasSubstr("expected a floating-point (class probabilities) target of input's "
                        "shape (2, 4), but got target of shape (2,)"));
}

TEST(NnLoss, CrossEntropyKDimAndUnbatched) {
  // (N, C, L): the class dim is 1, every (n, l) a position.
  const auto xv = sample_values(12, -3, 3, 5);
  const g::Tensor x = make_tensor(xv, {2, 3, 2});
  const int64_t y[2][2] = {{0, 2}, {1, 1}};
  double sum = 0;
  for (int64_t n = 0; n < 2; ++n)
    for (int64_t l = 0; l < 2; ++l)
      sum += logsumexp(xv, n * 6 + l, 3, 2) - xv[n * 6 + y[n][l] * 2 + l];
  EXPECT_NEAR(scalar(F::cross_entropy(x, make_tensor({0, 2, 1, 1}, {2, 2}, g::kInt64))), sum / 4,
              1e-12);
  // (C) logits and a 0-d target.
  const g::Tensor row = make_tensor({1, 2, 3}, {3});
  const g::Tensor loss =
      F::cross_entropy(row, make_tensor({1}, {}, g::kInt64), {.reduction = Reduction::kNone});
  EXPECT_NEAR(scalar(loss), logsumexp({1, 2, 3}, 0, 3) - 2, 1e-12);
  EXPECT_THAT(error_message([&] {
                F::cross_entropy(x, make_tensor({0, 1}, {2}, g::kInt64));
              }),
              HasSubstr("expected class-index target of shape (2, 2) (input of shape (2, 3, 2) "
                        "without its class dim 1), but got target of shape (2,)"));
}

TEST(NnLoss, CrossEntropyStaysFiniteForLogitsOf1e4) {
  for (const g::DType dtype : {g::kFloat32, g::kFloat64}) {
    const std::vector<double> xv = {1e4, -1e4, 0, -1e4, 1e4, 1e4, 0, 0, -1e4};
    const g::Tensor x = make_tensor(xv, {3, 3}, dtype);
    const g::Tensor target = make_tensor({1, 0, 0}, {3}, g::kInt64);
    // Row 0: -1e4 - 1e4 below the max; row 1: log 2 + 2e4; row 2: log(2 + e^-1e4) = log 2.
    const auto loss = values(F::cross_entropy(x, target, {.reduction = Reduction::kNone}));
    EXPECT_NEAR(loss[0], 2e4, 1e-3);
    EXPECT_NEAR(loss[1], 2e4 + std::log(2.0), 2e-3);
    EXPECT_NEAR(loss[2], std::log(2.0), 1e-6);
    EXPECT_NEAR(scalar(F::cross_entropy(x, target, {.label_smoothing = 0.1})),
                (cross_entropy_rows(xv, 3, {1, 0, 0}, 0.1)[0] +
                 cross_entropy_rows(xv, 3, {1, 0, 0}, 0.1)[1] +
                 cross_entropy_rows(xv, 3, {1, 0, 0}, 0.1)[2]) /
                    3,
                1e-2);
  }
}

TEST(NnLoss, NllLossRejectsProbabilityTargets) {
  const g::Tensor x = make_tensor({-1, -2}, {1, 2});
  EXPECT_NEAR(scalar(F::nll_loss(x, make_tensor({1}, {1}, g::kInt64))), 2, 1e-15);
  EXPECT_THAT(error_message([&] {
                F::nll_loss(x, make_tensor({1, 0}, {1, 2}));
              }),
              HasSubstr("nll_loss(): expected class indices of an integer dtype as target, but "
                        "got float64"));
  EXPECT_THAT(error_message([&] { F::nll_loss(x, make_tensor({2}, {1}, g::kInt64)); }),
              HasSubstr("nll_loss(): target 2 is out of bounds for 2 classes"));
}

// mse_loss's mean and sum reduce the difference in one fused pass, with a backward of their
// own: first and second derivatives in float64 for each reduction, the empty case, and a
// million float32 errors against their sum in double, and their mean in float16.
TEST(NnLoss, MseReductionsDifferentiateTwiceAndSumAccurately) {
  const g::Tensor x = make_tensor(sample_values(12, -2, 2, 8), {3, 4}).requires_grad_();
  const g::Tensor y = make_tensor(sample_values(12, -2, 2, 9), {3, 4}).requires_grad_();
  for (const Reduction reduction : {Reduction::kMean, Reduction::kSum, Reduction::kNone}) {
    const auto loss = [reduction](const g::autograd::TensorList& in) {
      return F::mse_loss(in[0], in[1], reduction);
    };
    EXPECT_TRUE(g::autograd::gradcheck(loss, {x, y}));
    EXPECT_TRUE(g::autograd::gradgradcheck(loss, {x, y}));
  }
  const g::Tensor none = g::empty({0, 3}).requires_grad_();
  EXPECT_TRUE(std::isnan(scalar(F::mse_loss(none, g::empty({0, 3})))));  // 0 / 0, as PyTorch
  const g::Tensor sum = F::mse_loss(none, g::empty({0, 3}), Reduction::kSum);
  EXPECT_EQ(scalar(sum), 0);
  sum.backward();
  EXPECT_EQ(none.grad().shape(), g::Shape({0, 3}));

  const int64_t n = 1 << 20;
  const auto a = sample_values(n, -3, 3, 10), b = sample_values(n, -3, 3, 11);
  double want = 0;
  for (int64_t i = 0; i < n; ++i) {
    const double d = static_cast<double>(static_cast<float>(a[i])) - static_cast<float>(b[i]);
    want += d * d;
  }
  const g::Tensor a32 = make_tensor(a, {1024, 1024}, g::kFloat32);
  const g::Tensor b32 = make_tensor(b, {1024, 1024}, g::kFloat32);
  EXPECT_NEAR(scalar(F::mse_loss(a32, b32, Reduction::kSum)), want, want * 2e-7);
  EXPECT_NEAR(scalar(F::mse_loss(a32, b32)), want / n, want / n * 2e-7);
  // In float16 the sum of these squares (about 6e6) is beyond the dtype; their mean is not.
  const g::Tensor mean16 = F::mse_loss(a32.to(g::kFloat16), b32.to(g::kFloat16));
  EXPECT_EQ(mean16.dtype(), g::kFloat16);
  EXPECT_NEAR(scalar(mean16), want / n, want / n * 2e-3);
}

TEST(NnLoss, MseAndL1) {
  const auto a = sample_values(6, -2, 2, 6), b = sample_values(6, -2, 2, 7);
  const g::Tensor x = make_tensor(a, {2, 3}), y = make_tensor(b, {2, 3});
  double sq = 0, ab = 0;
  std::vector<double> sq_each;
  for (size_t i = 0; i < 6; ++i) {
    sq += (a[i] - b[i]) * (a[i] - b[i]);
    ab += std::abs(a[i] - b[i]);
    sq_each.push_back((a[i] - b[i]) * (a[i] - b[i]));
  }
  EXPECT_NEAR(scalar(F::mse_loss(x, y)), sq / 6, 1e-12);
  EXPECT_NEAR(scalar(F::mse_loss(x, y, Reduction::kSum)), sq, 1e-12);
  EXPECT_EQ(values(F::mse_loss(x, y, Reduction::kNone)), sq_each);
  EXPECT_NEAR(scalar(F::l1_loss(x, y)), ab / 6, 1e-12);
  EXPECT_NEAR(scalar(nn::L1Loss(Reduction::kSum)(x, y)), ab, 1e-12);
  EXPECT_NEAR(scalar(nn::MSELoss()(x, y)), sq / 6, 1e-12);
  EXPECT_THAT(error_message([&] {
                F::mse_loss(x, make_tensor({1, 2, 3}, {3}));
              }),
              HasSubstr("mse_loss(): target of shape (3,) must have the shape of input (2, 3)"));
  EXPECT_THAT(
      error_message([&] { F::l1_loss(x.to(g::kInt64), y); }),
      HasSubstr("l1_loss(): expected a floating-point input, but got input of dtype int64"));
}

TEST(NnLoss, BceWithLogitsMatchesPyTorchsFormulaEvenAt1e4) {
  const std::vector<double> xv = {1e4, 1e4, -1e4, -1e4, 0, 0.5, -3, 2};
  const std::vector<double> yv = {0, 1, 0, 1, 1, 0.3, 1, 0};
  const g::Tensor x = make_tensor(xv, {2, 4}), y = make_tensor(yv, {2, 4});
  const std::vector<double> pw = {2, 0.5, 1, 3};
  const std::vector<double> w = {1, 2};  // per row, broadcast as (2, 1)
  std::vector<double> plain, weighted;
  double sum = 0;
  for (size_t i = 0; i < 8; ++i) {
    plain.push_back(bce_reference(xv[i], yv[i]));
    weighted.push_back(w[i / 4] * bce_reference(xv[i], yv[i], pw[i % 4]));
    sum += plain.back();
  }
  const auto got =
      values(F::binary_cross_entropy_with_logits(x, y, {.reduction = Reduction::kNone}));
  for (size_t i = 0; i < 8; ++i) EXPECT_NEAR(got[i], plain[i], 1e-9 * std::max(1.0, plain[i])) << i;
  EXPECT_NEAR(scalar(F::binary_cross_entropy_with_logits(x, y)), sum / 8, 1e-9);
  nn::BCEWithLogitsLoss loss({.weight = make_tensor(w, {2, 1}),
                              .pos_weight = make_tensor(pw, {4}),
                              .reduction = Reduction::kNone});
  EXPECT_EQ(loss.buffers().size(), 2u);
  const auto got_weighted = values(loss(x, y));
  for (size_t i = 0; i < 8; ++i)
    EXPECT_NEAR(got_weighted[i], weighted[i], 1e-9 * std::max(1.0, weighted[i])) << i;
  // float32 too: still finite at +-1e4.
  for (double v : values(F::binary_cross_entropy_with_logits(x.to(g::kFloat32), y.to(g::kFloat32),
                                                             {.reduction = Reduction::kNone})))
    EXPECT_TRUE(std::isfinite(v));
}
