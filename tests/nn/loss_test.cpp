// Losses against their hand formulas computed in double here: cross_entropy (class indices,
// K-dim and unbatched inputs, ignore_index, label_smoothing by PyTorch's formula, class
// probabilities, per-class weight), nll_loss, mse_loss, l1_loss, smooth_l1_loss, huber_loss,
// binary_cross_entropy, binary_cross_entropy_with_logits (pos_weight, weight), every
// reduction, logits of +-1e4, and the errors.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>

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
  // bool is not a class index (PyTorch: "expected scalar type Long but found Bool").
  for (const char* op : {"nll_loss", "cross_entropy"})
    EXPECT_THAT(error_message([&] {
                  const g::Tensor target = make_tensor({1}, {1}, g::kBool);
                  op == std::string("nll_loss") ? F::nll_loss(x, target)
                                                : F::cross_entropy(x, target);
                }),
                HasSubstr(std::string(op) + "(): expected class indices of an integer dtype, but "
                                            "got target of dtype bool"));
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

// Per-class weight: each position's terms scaled by weight[class]; the mean over class
// indices divides by the sum of weight[target] over the positions not ignored, over class
// probabilities by the number of positions (PyTorch's weighted means).
TEST(NnLoss, CrossEntropyPerClassWeight) {
  const auto xv = sample_values(12, -3, 3, 12);
  const g::Tensor x = make_tensor(xv, {4, 3});
  const std::vector<double> w = {0.5, 2, 1.5};
  const g::Tensor weight = make_tensor(w, {3});
  const std::vector<int64_t> y = {2, 0, -100, 1};
  const g::Tensor target = make_tensor({2, 0, -100, 1}, {4}, g::kInt64);
  for (const double s : {0.0, 0.3}) {
    std::vector<double> rows(4, 0.0);
    double sum = 0, total_weight = 0;
    for (int64_t i = 0; i < 4; ++i) {
      if (y[i] == -100) continue;
      const double lse = logsumexp(xv, i * 3, 3);
      double smooth = 0;
      for (int64_t c = 0; c < 3; ++c) smooth += w[c] * (lse - xv[i * 3 + c]) / 3;
      rows[i] = (1 - s) * w[y[i]] * (lse - xv[i * 3 + y[i]]) + s * smooth;
      sum += rows[i];
      total_weight += w[y[i]];
    }
    const auto none = values(F::cross_entropy(
        x, target, {.reduction = Reduction::kNone, .label_smoothing = s, .weight = weight}));
    for (size_t i = 0; i < 4; ++i) EXPECT_NEAR(none[i], rows[i], 1e-12) << i << " " << s;
    EXPECT_NEAR(scalar(F::cross_entropy(x, target, {.label_smoothing = s, .weight = weight})),
                sum / total_weight, 1e-12);
    EXPECT_NEAR(
        scalar(F::cross_entropy(
            x, target, {.reduction = Reduction::kSum, .label_smoothing = s, .weight = weight})),
        sum, 1e-12);
  }
  // nll_loss and the modules, whose weight is a buffer.
  const double lse1 = logsumexp(xv, 3, 3), lse3 = logsumexp(xv, 9, 3);
  const double nll = (w[0] * (lse1 - xv[3]) + w[1] * (lse3 - xv[10])) / (w[0] + w[1]);
  const g::Tensor t2 = make_tensor({-100, 0, -100, 1}, {4}, g::kInt64);
  EXPECT_NEAR(scalar(F::nll_loss(g::log_softmax(x, 1), t2, {.weight = weight})), nll, 1e-12);
  nn::NLLLoss nll_module({.weight = weight});
  EXPECT_EQ(nll_module.buffers().size(), 1u);
  EXPECT_NEAR(scalar(nll_module(g::log_softmax(x, 1), t2)), nll, 1e-12);
  nn::CrossEntropyLoss module({.weight = weight});
  EXPECT_EQ(module.named_buffers().at(0).first, "weight");
  EXPECT_NEAR(scalar(module(x, t2)), nll, 1e-12);
  // A float32 weight scales float64 logits (and the reverse) without a dtype error.
  EXPECT_NEAR(scalar(F::cross_entropy(x, t2, {.weight = weight.to(g::kFloat32)})), nll, 1e-6);

  // Class probabilities: -sum_c w_c q_c log p_c per row, the mean over rows.
  const std::vector<double> q = {0.2, 0.3, 0.5, 1, 0, 0, 0, 0.5, 0.5, 0.1, 0.1, 0.8};
  double prob_sum = 0;
  for (int64_t i = 0; i < 4; ++i) {
    const double lse = logsumexp(xv, i * 3, 3);
    for (int64_t c = 0; c < 3; ++c) prob_sum += w[c] * q[i * 3 + c] * (lse - xv[i * 3 + c]);
  }
  EXPECT_NEAR(scalar(F::cross_entropy(x, make_tensor(q, {4, 3}), {.weight = weight})), prob_sum / 4,
              1e-12);
}

TEST(NnLoss, CrossEntropyWeightAlongTheClassDimOfKDimInput) {
  // (N, C, L) = (2, 3, 2): the weight broadcasts as (3, 1).
  const auto xv = sample_values(12, -3, 3, 13);
  const g::Tensor x = make_tensor(xv, {2, 3, 2});
  const std::vector<double> w = {1, 3, 0.25};
  const int64_t y[2][2] = {{0, 2}, {1, 1}};
  const double s = 0.1;
  double sum = 0, total_weight = 0;
  for (int64_t n = 0; n < 2; ++n)
    for (int64_t l = 0; l < 2; ++l) {
      const double lse = logsumexp(xv, n * 6 + l, 3, 2);
      double smooth = 0;
      for (int64_t c = 0; c < 3; ++c) smooth += w[c] * (lse - xv[n * 6 + c * 2 + l]) / 3;
      sum += (1 - s) * w[y[n][l]] * (lse - xv[n * 6 + y[n][l] * 2 + l]) + s * smooth;
      total_weight += w[y[n][l]];
    }
  EXPECT_NEAR(scalar(F::cross_entropy(x, make_tensor({0, 2, 1, 1}, {2, 2}, g::kInt64),
                                      {.label_smoothing = s, .weight = make_tensor(w, {3})})),
              sum / total_weight, 1e-12);
  // Unbatched (C) logits with a 0-d target: weight[target] * -log p[target], divided by
  // weight[target] again for the mean.
  const g::Tensor row = make_tensor({1, 2, 3}, {3});
  const g::Tensor one = make_tensor({1}, {}, g::kInt64);
  EXPECT_NEAR(scalar(F::cross_entropy(
                  row, one, {.reduction = Reduction::kSum, .weight = make_tensor(w, {3})})),
              3 * (logsumexp({1, 2, 3}, 0, 3) - 2), 1e-12);
  EXPECT_NEAR(scalar(F::cross_entropy(row, one, {.weight = make_tensor(w, {3})})),
              logsumexp({1, 2, 3}, 0, 3) - 2, 1e-12);
  EXPECT_THAT(error_message([&] {
                F::cross_entropy(x, make_tensor({0, 2, 1, 1}, {2, 2}, g::kInt64),
                                 {.weight = make_tensor({1, 2}, {2})});
              }),
              HasSubstr("cross_entropy(): weight should hold one value for each of the 3 classes "
                        "of input of shape (2, 3, 2), but got weight of shape (2,)"));
  EXPECT_THAT(error_message([&] {
                F::nll_loss(x, make_tensor({0, 2, 1, 1}, {2, 2}, g::kInt64),
                            {.weight = make_tensor({1, 2, 3}, {3}, g::kInt64)});
              }),
              HasSubstr("nll_loss(): expected a floating-point weight, but got int64"));
}

// smooth_l1 and huber against their piecewise formulas, on differences either side of
// beta / delta; beta = 0 is l1_loss; huber = delta * smooth_l1 with beta = delta.
TEST(NnLoss, SmoothL1AndHuberArePiecewise) {
  const std::vector<double> a = {0, 0.3, -0.7, 2, -3, 0.5, 1.2, -0.1};
  const std::vector<double> b = {0, 0, 0.2, 0.5, 0, -0.5, 0, 0.1};
  const g::Tensor x = make_tensor(a, {2, 4}), y = make_tensor(b, {2, 4});
  for (const double beta : {1.0, 0.5, 2.5}) {
    std::vector<double> smooth, huber;
    double smooth_sum = 0;
    for (size_t i = 0; i < a.size(); ++i) {
      const double d = std::abs(a[i] - b[i]);
      smooth.push_back(d < beta ? 0.5 * d * d / beta : d - 0.5 * beta);
      huber.push_back(d < beta ? 0.5 * d * d : beta * (d - 0.5 * beta));
      smooth_sum += smooth.back();
    }
    const auto got = values(F::smooth_l1_loss(x, y, Reduction::kNone, beta));
    const auto got_huber = values(F::huber_loss(x, y, Reduction::kNone, beta));
    for (size_t i = 0; i < a.size(); ++i) {
      EXPECT_NEAR(got[i], smooth[i], 1e-15) << i << " beta " << beta;
      EXPECT_NEAR(got_huber[i], huber[i], 1e-15) << i << " delta " << beta;
    }
    EXPECT_NEAR(scalar(F::smooth_l1_loss(x, y, Reduction::kMean, beta)), smooth_sum / 8, 1e-15);
    EXPECT_NEAR(scalar(nn::SmoothL1Loss(Reduction::kSum, beta)(x, y)), smooth_sum, 1e-14);
    EXPECT_NEAR(scalar(nn::HuberLoss(Reduction::kSum, beta)(x, y)), beta * smooth_sum, 1e-14);
  }
  EXPECT_EQ(values(F::smooth_l1_loss(x, y, Reduction::kNone, 0.0)),
            values(F::l1_loss(x, y, Reduction::kNone)));
  EXPECT_EQ(scalar(F::smooth_l1_loss(x, y)), scalar(nn::SmoothL1Loss()(x, y)));
  EXPECT_THAT(error_message([&] { F::smooth_l1_loss(x, y, Reduction::kMean, -1); }),
              HasSubstr("smooth_l1_loss(): beta must be non-negative, but got -1"));
  EXPECT_THAT(error_message([&] { F::huber_loss(x, y, Reduction::kMean, 0); }),
              HasSubstr("huber_loss(): delta must be positive, but got 0"));
  EXPECT_THAT(error_message([&] {
                F::huber_loss(x, make_tensor({1, 2}, {2}));
              }),
              HasSubstr("huber_loss(): target of shape (2,) must have the shape of input (2, 4)"));
}

// binary_cross_entropy on probabilities: -[y log x + (1 - y) log(1 - x)] with each log
// clamped at -100, so 0 and 1 give finite losses; values outside [0, 1] (or NaN) are an
// error.
TEST(NnLoss, BinaryCrossEntropyOfProbabilities) {
  const std::vector<double> xv = {0.1, 0.5, 0.9, 0, 1, 0, 1, 0.25};
  const std::vector<double> yv = {0, 1, 0.3, 0, 1, 1, 0, 0.75};
  const g::Tensor x = make_tensor(xv, {2, 4}), y = make_tensor(yv, {2, 4});
  const std::vector<double> w = {2, 0.5};
  std::vector<double> plain;
  double sum = 0, weighted = 0;
  for (size_t i = 0; i < xv.size(); ++i) {
    const double log_x = std::max(std::log(xv[i]), -100.0);
    const double log_1mx = std::max(std::log1p(-xv[i]), -100.0);
    plain.push_back(-(yv[i] * log_x + (1 - yv[i]) * log_1mx));
    sum += plain.back();
    weighted += w[i / 4] * plain.back();
  }
  const auto got = values(F::binary_cross_entropy(x, y, {.reduction = Reduction::kNone}));
  for (size_t i = 0; i < xv.size(); ++i) EXPECT_NEAR(got[i], plain[i], 1e-12) << i;
  EXPECT_EQ(got[5], 100);  // log 0, clamped
  EXPECT_NEAR(scalar(F::binary_cross_entropy(x, y)), sum / 8, 1e-12);
  nn::BCELoss loss({.weight = make_tensor(w, {2, 1}), .reduction = Reduction::kSum});
  EXPECT_EQ(loss.buffers().size(), 1u);
  EXPECT_NEAR(scalar(loss(x, y)), weighted, 1e-12);
  // Logits where probabilities belong: named, with the op to use instead.
  for (const double bad : {1.5, -0.25, std::nan("")})
    EXPECT_THAT(error_message([&] {
                  F::binary_cross_entropy(make_tensor({0.5, bad}, {2}), make_tensor({0, 1}, {2}));
                }),
                HasSubstr("binary_cross_entropy(): all elements of input should be between 0 and "
                          "1"))
        << bad;
  EXPECT_THAT(error_message(
                  [&] { F::binary_cross_entropy(make_tensor({1.5}, {1}), make_tensor({1}, {1})); }),
              HasSubstr("but got values in [1.5, 1.5]; pass probabilities (a sigmoid's output), or "
                        "logits to binary_cross_entropy_with_logits"));
}

// A weight on another device than the input is an error naming the loss, the weight and both
// devices, before any kernel runs: without a GPU the weight is CPU memory labelled cuda:0.
TEST(NnLoss, AWeightOnAnotherDeviceIsAnErrorNamingBoth) {
  const g::Tensor p = g::full({2, 4}, 0.5), y = g::ones({2, 4});
  const g::Tensor host = g::ones({4});
  const g::Tensor elsewhere =
      g::cuda::is_available()
          ? host.cuda()
          : g::from_blob(host.data_ptr(), {4}, g::TensorOptions(g::kFloat32).device(g::kCUDA));
  const auto expect_names = [](const std::string& message, const char* op, const char* name) {
    EXPECT_THAT(message, HasSubstr(std::string(op) + "(): " + name + " is on cuda:0"));
    EXPECT_THAT(message, HasSubstr("input is on cpu"));
  };
  expect_names(error_message([&] { F::binary_cross_entropy(p, y, {.weight = elsewhere}); }),
               "binary_cross_entropy", "weight");
  expect_names(
      error_message([&] { F::binary_cross_entropy_with_logits(p, y, {.weight = elsewhere}); }),
      "binary_cross_entropy_with_logits", "weight");
  expect_names(
      error_message([&] { F::binary_cross_entropy_with_logits(p, y, {.pos_weight = elsewhere}); }),
      "binary_cross_entropy_with_logits", "pos_weight");
}
