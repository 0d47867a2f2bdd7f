// Every nn layer's forward against a naive double-precision loop written here, plus their
// construction (shapes, PyTorch's init bounds), train/eval behaviour and errors.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <numbers>

#include "test_util.h"

namespace g = graft;
namespace nn = graft::nn;
using g::testing::error_message;
using g::testing::make_tensor;
using g::testing::sample_values;
using ::testing::HasSubstr;

namespace {

std::vector<double> values(const g::Tensor& t) { return t.to_vector<double>(); }

g::Tensor input(const g::Shape& shape, uint32_t seed = 1) {
  return make_tensor(sample_values(shape.numel(), -2, 2, seed), shape);
}

void expect_near(const g::Tensor& got, const g::Shape& shape, const std::vector<double>& want,
                 double tol = 1e-12) {
  ASSERT_EQ(got.shape(), shape);
  const std::vector<double> v = values(got);
  ASSERT_EQ(v.size(), want.size());
  for (size_t i = 0; i < v.size(); ++i) EXPECT_NEAR(v[i], want[i], tol) << "element " << i;
}

// Every element of t lies in [-bound, bound] and they are not all equal.
void expect_within(const g::Tensor& t, double bound) {
  const std::vector<double> v = values(t);
  for (double x : v) EXPECT_LE(std::abs(x), bound);
  EXPECT_NE(*std::min_element(v.begin(), v.end()), *std::max_element(v.begin(), v.end()));
}

// out[n, o, i, j] = b[o] + sum over the group's channels c and taps (p, q) of
// w[o, c, p, q] * x[n, g * cpg + c, i * s - pad + p * d, j * s - pad + q * d].
std::vector<double> conv_reference(const g::Tensor& x, const g::Tensor& w, const g::Tensor& b,
                                   int64_t stride, int64_t pad, int64_t dil, int64_t groups,
                                   g::Shape& shape) {
  const int64_t n = x.size(0), cin = x.size(1), h = x.size(2), wd = x.size(3);
  const int64_t cout = w.size(0), cpg = cin / groups, kh = w.size(2), kw = w.size(3);
  const int64_t oh = (h + 2 * pad - dil * (kh - 1) - 1) / stride + 1;
  const int64_t ow = (wd + 2 * pad - dil * (kw - 1) - 1) / stride + 1;
  shape = {n, cout, oh, ow};
  const auto xv = values(x), wv = values(w), bv = values(b);
  std::vector<double> out;
  for (int64_t in = 0; in < n; ++in)
    for (int64_t o = 0; o < cout; ++o)
      for (int64_t i = 0; i < oh; ++i)
        for (int64_t j = 0; j < ow; ++j) {
          double acc = bv[o];
          const int64_t group = o / (cout / groups);
          for (int64_t c = 0; c < cpg; ++c)
            for (int64_t p = 0; p < kh; ++p)
              for (int64_t q = 0; q < kw; ++q) {
                const int64_t r = i * stride - pad + p * dil, s = j * stride - pad + q * dil;
                if (r < 0 || r >= h || s < 0 || s >= wd) continue;
                const int64_t ch = group * cpg + c;
                acc +=
                    wv[((o * cpg + c) * kh + p) * kw + q] * xv[((in * cin + ch) * h + r) * wd + s];
              }
          out.push_back(acc);
        }
  return out;
}

// Max or mean over k x k windows of each (H, W) plane of a 4-D x; padded positions are
// skipped by max and count as zeros for the mean (count_include_pad).
std::vector<double> pool_reference(const g::Tensor& x, int64_t k, int64_t stride, int64_t pad,
                                   bool max, g::Shape& shape) {
  const int64_t planes = x.size(0) * x.size(1), h = x.size(2), w = x.size(3);
  const int64_t oh = (h + 2 * pad - k) / stride + 1, ow = (w + 2 * pad - k) / stride + 1;
  shape = {x.size(0), x.size(1), oh, ow};
  const auto xv = values(x);
  std::vector<double> out;
  for (int64_t pl = 0; pl < planes; ++pl)
    for (int64_t i = 0; i < oh; ++i)
      for (int64_t j = 0; j < ow; ++j) {
        double acc = max ? -INFINITY : 0;
        for (int64_t p = 0; p < k; ++p)
          for (int64_t q = 0; q < k; ++q) {
            const int64_t r = i * stride - pad + p, s = j * stride - pad + q;
            if (r < 0 || r >= h || s < 0 || s >= w) continue;
            const double v = xv[(pl * h + r) * w + s];
            acc = max ? std::max(acc, v) : acc + v;
          }
        out.push_back(max ? acc : acc / static_cast<double>(k * k));
      }
  return out;
}

}  // namespace

TEST(NnLayers, LinearComputesXWtPlusBAndInitialisesLikePyTorch) {
  nn::Linear fc(5, 3);
  EXPECT_EQ(fc.weight.shape(), g::Shape({3, 5}));
  EXPECT_EQ(fc.weight.dtype(), g::kFloat32);
  // kaiming_uniform(a = sqrt(5)): bound = sqrt(6 / (1 + 5)) * sqrt(3 / fan_in)... = 1/sqrt(5).
  expect_within(fc.weight, 1 / std::sqrt(5.0));
  expect_within(fc.bias, 1 / std::sqrt(5.0));
  fc.to(g::kFloat64);
  const g::Tensor x = input({2, 4, 5});  // any leading dims
  const auto xv = values(x), wv = values(fc.weight), bv = values(fc.bias);
  std::vector<double> want;
  for (int64_t r = 0; r < 8; ++r)
    for (int64_t o = 0; o < 3; ++o) {
      double acc = bv[o];
      for (int64_t i = 0; i < 5; ++i) acc += xv[r * 5 + i] * wv[o * 5 + i];
      want.push_back(acc);
    }
  expect_near(fc(x), {2, 4, 3}, want);
  EXPECT_FALSE(nn::Linear(5, 3, /*bias=*/false).bias.defined());
  EXPECT_THAT(error_message([&] {
                fc(input({2, 4}));
              }),
              HasSubstr("linear(): input of shape (2, 4) must have in_features = 5 elements in "
                        "its last dim"));
}

TEST(NnLayers, Conv2dMatchesNaiveLoopsWithStridePaddingDilationGroups) {
  struct Case {
    int64_t cin, cout, k, stride, pad, dil, groups;
  };
  for (const Case c :
       {Case{2, 3, 3, 1, 1, 1, 1}, Case{4, 6, 3, 2, 2, 2, 2}, Case{3, 3, 2, 1, 0, 1, 3}}) {
    nn::Conv2d conv(c.cin, c.cout, c.k, c.stride, c.pad, c.dil, c.groups);
    const double bound = 1 / std::sqrt(static_cast<double>(c.cin / c.groups * c.k * c.k));
    expect_within(conv.weight, bound);
    expect_within(conv.bias, bound);
    conv.to(g::kFloat64);
    const g::Tensor x = input({2, c.cin, 7, 6});
    g::Shape shape;
    const auto want =
        conv_reference(x, conv.weight, conv.bias, c.stride, c.pad, c.dil, c.groups, shape);
    expect_near(conv(x), shape, want);
  }
  EXPECT_THAT(error_message([] { nn::Conv2d(3, 4, 3, 1, 0, 1, 2); }),
              HasSubstr("in_channels (3) and out_channels (4) must be positive and divisible by "
                        "groups=2"));
}

TEST(NnLayers, PoolsMatchNaiveLoops) {
  const g::Tensor x = input({2, 3, 6, 5});
  g::Shape shape;
  auto want = pool_reference(x, 2, 2, 0, true, shape);
  expect_near(nn::MaxPool2d(2)(x), shape, want);
  want = pool_reference(x, 3, 2, 1, true, shape);
  expect_near(nn::MaxPool2d(3, 2, 1)(x), shape, want);
  want = pool_reference(x, 3, 1, 1, false, shape);
  expect_near(nn::AvgPool2d(3, 1, 1)(x), shape, want);
  // Adaptive: windows [floor(i H / o), ceil((i + 1) H / o)); 6 -> 4 rows, 5 -> 2 cols.
  const auto xv = values(x);
  std::vector<double> adaptive;
  for (int64_t pl = 0; pl < 6; ++pl)
    for (int64_t i = 0; i < 4; ++i)
      for (int64_t j = 0; j < 2; ++j) {
        const int64_t r0 = i * 6 / 4, r1 = ((i + 1) * 6 + 3) / 4;
        const int64_t s0 = j * 5 / 2, s1 = ((j + 1) * 5 + 1) / 2;
        double acc = 0;
        for (int64_t r = r0; r < r1; ++r)
          for (int64_t s = s0; s < s1; ++s) acc += xv[(pl * 6 + r) * 5 + s];
        adaptive.push_back(acc / static_cast<double>((r1 - r0) * (s1 - s0)));
      }
  expect_near(nn::AdaptiveAvgPool2d({4, 2})(x), {2, 3, 4, 2}, adaptive);
}

TEST(NnLayers, ActivationsMatchTheirFormulas) {
  const g::Tensor x = input({3, 4});
  const auto xv = values(x);
  auto check = [&](nn::Module&& m, double (*f)(double)) {
    std::vector<double> want;
    for (double v : xv) want.push_back(f(v));
    expect_near(m(x), {3, 4}, want, 1e-12);
  };
  check(nn::ReLU(), [](double v) { return std::max(v, 0.0); });
  check(nn::Tanh(), [](double v) { return std::tanh(v); });
  check(nn::Sigmoid(), [](double v) { return 1 / (1 + std::exp(-v)); });
  check(nn::SiLU(), [](double v) { return v / (1 + std::exp(-v)); });
  check(nn::GELU(), [](double v) { return v * 0.5 * (1 + std::erf(v / std::sqrt(2.0))); });
  check(nn::GELU("tanh"), [](double v) {
    return 0.5 * v * (1 + std::tanh(std::sqrt(2 / std::numbers::pi) * (v + 0.044715 * v * v * v)));
  });
  std::vector<double> soft(12), log_soft(12);
  for (int64_t r = 0; r < 3; ++r) {
    double z = 0;
    for (int64_t c = 0; c < 4; ++c) z += std::exp(xv[r * 4 + c]);
    for (int64_t c = 0; c < 4; ++c) {
      soft[r * 4 + c] = std::exp(xv[r * 4 + c]) / z;
      log_soft[r * 4 + c] = xv[r * 4 + c] - std::log(z);
    }
  }
  expect_near(nn::Softmax(1)(x), {3, 4}, soft);
  expect_near(nn::LogSoftmax(-1)(x), {3, 4}, log_soft);
  EXPECT_THAT(error_message([] { nn::GELU("fast"); }),
              HasSubstr("GELU: approximate must be \"none\" or \"tanh\", but got \"fast\""));
}

TEST(NnLayers, FlattenKeepsTheBatchDim) {
  const g::Tensor x = input({2, 3, 4, 5});
  EXPECT_EQ(nn::Flatten()(x).shape(), g::Shape({2, 60}));
  EXPECT_EQ(nn::Flatten(0, 1)(x).shape(), g::Shape({6, 4, 5}));
  EXPECT_EQ(values(nn::Flatten()(x)), values(x));
}

TEST(NnLayers, BatchNormNormalizesPerChannelAndTracksRunningStats) {
  nn::BatchNorm2d bn(3);
  bn.to(g::kFloat64);
  EXPECT_EQ(bn.weight.to_vector<double>(), std::vector<double>(3, 1.0));
  bn.weight.detach().copy_(make_tensor({1, 2, 3}, {3}));
  bn.bias.detach().copy_(make_tensor({0, -1, 1}, {3}));
  const g::Tensor x = input({4, 3, 2, 2});
  const auto xv = values(x);
  const double eps = 1e-5;
  std::vector<double> mean(3, 0), var(3, 0);  // biased, per channel over N, H, W
  for (int64_t i = 0; i < 48; ++i) mean[(i / 4) % 3] += xv[i] / 16;
  for (int64_t i = 0; i < 48; ++i) var[(i / 4) % 3] += std::pow(xv[i] - mean[(i / 4) % 3], 2) / 16;
  std::vector<double> want(48);
  const double w[3] = {1, 2, 3}, b[3] = {0, -1, 1};
  for (int64_t i = 0; i < 48; ++i) {
    const int64_t c = (i / 4) % 3;
    want[i] = (xv[i] - mean[c]) / std::sqrt(var[c] + eps) * w[c] + b[c];
  }
  expect_near(bn(x), {4, 3, 2, 2}, want, 1e-10);
  // Running stats move 0.1 of the way, the variance unbiased (n / (n - 1)).
  for (int64_t c = 0; c < 3; ++c) {
    EXPECT_NEAR(values(bn.running_mean)[c], 0.1 * mean[c], 1e-12);
    EXPECT_NEAR(values(bn.running_var)[c], 0.9 + 0.1 * var[c] * 16 / 15, 1e-12);
  }
  EXPECT_EQ(bn.num_batches_tracked.item<int64_t>(), 1);

  // eval(): the running stats normalize, and nothing moves.
  bn.eval();
  const auto rm = values(bn.running_mean), rv = values(bn.running_var);
  for (int64_t i = 0; i < 48; ++i) {
    const int64_t c = (i / 4) % 3;
    want[i] = (xv[i] - rm[c]) / std::sqrt(rv[c] + eps) * w[c] + b[c];
  }
  expect_near(bn(x), {4, 3, 2, 2}, want, 1e-10);
  EXPECT_EQ(values(bn.running_mean), rm);
  EXPECT_EQ(bn.num_batches_tracked.item<int64_t>(), 1);
  EXPECT_THAT(error_message([&] {
                bn(input({4, 2, 2, 2}));
              }),
              HasSubstr("BatchNorm2d: expected 3 channels (dim 1) for num_features=3"));
  EXPECT_THAT(error_message([&] {
                bn(input({4, 3}));
              }),
              HasSubstr("BatchNorm2d: expected (N, C, H, W) input, but got input of shape (4, 3)"));
}

TEST(NnLayers, BatchNorm1dVariants) {
  const g::Tensor x = input({5, 2});
  // Without tracking: always the batch's statistics, no buffers.
  nn::BatchNorm1d plain(2, 1e-5, 0.1, /*affine=*/false, /*track_running_stats=*/false);
  plain.to(g::kFloat64).eval();
  EXPECT_TRUE(plain.buffers().empty());
  EXPECT_TRUE(plain.parameters().empty());
  const g::Tensor y = plain(x);
  for (int64_t c = 0; c < 2; ++c) {
    const g::Tensor col = y.select(1, c);
    EXPECT_NEAR(col.mean().item<double>(), 0, 1e-12);
    EXPECT_NEAR(col.var(0).item<double>(), 1, 1e-4);  // biased var + eps ~ 1
  }
  // momentum = nullopt: a cumulative average of the batch means.
  nn::BatchNorm1d cumulative(2, 1e-5, std::nullopt);
  cumulative.to(g::kFloat64);
  cumulative(x);
  cumulative(x * 3);
  const auto xv = values(x);
  for (int64_t c = 0; c < 2; ++c) {
    double m = 0;
    for (int64_t n = 0; n < 5; ++n) m += xv[n * 2 + c] / 5;
    EXPECT_NEAR(values(cumulative.running_mean)[c], (m + 3 * m) / 2, 1e-12);
  }
  EXPECT_THAT(error_message([&] {
                cumulative(input({1, 2}));
              }),
              HasSubstr("expected more than 1 value per channel when training"));
  EXPECT_EQ(nn::BatchNorm1d(2)(input({4, 2, 3}, 2).to(g::kFloat32)).shape(), g::Shape({4, 2, 3}));
  // An empty batch gives an empty result and leaves the running statistics as they were
  // (PyTorch's behaviour; their update would be NaN).
  const std::vector<double> mean_before = values(cumulative.running_mean);
  const std::vector<double> var_before = values(cumulative.running_var);
  EXPECT_EQ(cumulative(input({0, 2})).shape(), g::Shape({0, 2}));
  EXPECT_EQ(values(cumulative.running_mean), mean_before);
  EXPECT_EQ(values(cumulative.running_var), var_before);
}

TEST(NnLayers, LayerNormNormalizesTheTrailingDims) {
  nn::LayerNorm ln({2, 3});
  ln.to(g::kFloat64);
  ln.weight.detach().copy_(make_tensor({1, 2, 3, 4, 5, 6}, {2, 3}));
  ln.bias.detach().fill_(0.5);
  const g::Tensor x = input({4, 2, 3});
  const auto xv = values(x);
  std::vector<double> want;
  for (int64_t r = 0; r < 4; ++r) {
    double m = 0, v = 0;
    for (int64_t i = 0; i < 6; ++i) m += xv[r * 6 + i] / 6;
    for (int64_t i = 0; i < 6; ++i) v += std::pow(xv[r * 6 + i] - m, 2) / 6;
    for (int64_t i = 0; i < 6; ++i)
      want.push_back((xv[r * 6 + i] - m) / std::sqrt(v + 1e-5) * (i + 1) + 0.5);
  }
  expect_near(ln(x), {4, 2, 3}, want, 1e-10);
  EXPECT_THAT(error_message([&] {
                ln(input({4, 3, 2}));
              }),
              HasSubstr("layer_norm(): input of shape (4, 3, 2) must end with normalized_shape "
                        "(2, 3)"));
}

TEST(NnLayers, DropoutZeroesAboutPAndScalesTheRestInTrainingOnly) {
  nn::Dropout drop(0.25);
  const g::Tensor x = g::ones({100000});
  g::manual_seed(7);
  const auto y = values(drop(x));
  int64_t zeros = 0;
  for (double v : y) {
    if (v == 0)
      ++zeros;
    else
      EXPECT_FLOAT_EQ(static_cast<float>(v), 1 / 0.75f);  // float32 x
  }
  EXPECT_NEAR(static_cast<double>(zeros) / 100000, 0.25, 0.01);  // ~7 binomial std devs
  g::manual_seed(7);
  EXPECT_EQ(values(drop(x)), y);  // the same seed gives the same mask
  drop.eval();
  EXPECT_TRUE(drop(x).is_same(x));
  EXPECT_EQ(values(nn::functional::dropout(x, 1.0)), std::vector<double>(100000, 0.0));
  EXPECT_THAT(error_message([] { nn::Dropout(1.5); }),
              HasSubstr("Dropout: probability has to be between 0 and 1, but got p=1.5"));
}

TEST(NnLayers, EmbeddingPicksRows) {
  nn::Embedding emb(5, 3, /*padding_idx=*/-1);
  EXPECT_EQ(emb.padding_idx, 4);
  EXPECT_EQ(values(emb.weight.select(0, 4)), std::vector<double>(3, 0.0));
  const g::Tensor idx = make_tensor({0, 4, 2, 2, 1, 3}, {2, 3}, g::kInt64);
  const g::Tensor y = emb(idx);
  ASSERT_EQ(y.shape(), g::Shape({2, 3, 3}));
  const auto wv = values(emb.weight), yv = values(y);
  const int64_t rows[6] = {0, 4, 2, 2, 1, 3};
  for (int64_t i = 0; i < 6; ++i)
    for (int64_t d = 0; d < 3; ++d) EXPECT_EQ(yv[i * 3 + d], wv[rows[i] * 3 + d]);
  EXPECT_THAT(error_message([&] { emb(make_tensor({5}, {1}, g::kInt64)); }),
              HasSubstr("index_select"));
  EXPECT_THAT(error_message([&] { emb(make_tensor({1}, {1})); }),
              HasSubstr("embedding(): expected indices of dtype int64 or int32, but got float64"));
  EXPECT_THAT(error_message([] { nn::Embedding(5, 3, 5); }),
              HasSubstr("padding_idx must be within num_embeddings (5), but got padding_idx=5"));
}

TEST(NnLayers, IdentityReturnsItsInputItself) {
  const g::Tensor x = make_tensor({1, 2, 3}, {3});
  EXPECT_TRUE(nn::Identity()(x).is_same(x));
}

TEST(NnLayers, OneHotMarksEachIndex) {
  const g::Tensor idx = make_tensor({2, 0, 1, 2}, {2, 2}, g::kInt32);
  const g::Tensor hot = nn::functional::one_hot(idx);
  EXPECT_EQ(hot.dtype(), g::kInt64);
  EXPECT_EQ(hot.shape(), g::Shape({2, 2, 3}));
  EXPECT_EQ(hot.to_vector<int64_t>(), (std::vector<int64_t>{0, 0, 1, 1, 0, 0, 0, 1, 0, 0, 0, 1}));
  EXPECT_EQ(nn::functional::one_hot(idx, 4).shape(), g::Shape({2, 2, 4}));
  EXPECT_EQ(nn::functional::one_hot(g::empty({0}, g::kInt64), 5).shape(), g::Shape({0, 5}));
  EXPECT_EQ(nn::functional::one_hot(make_tensor({1}, {}, g::kInt64), 2).to_vector<int64_t>(),
            (std::vector<int64_t>{0, 1}));
  EXPECT_THAT(error_message([&] { nn::functional::one_hot(idx, 2); }),
              HasSubstr("one_hot(): class value 2 is not smaller than num_classes=2"));
  EXPECT_THAT(error_message([&] { nn::functional::one_hot(make_tensor({-1}, {1}, g::kInt64)); }),
              HasSubstr("one_hot(): class values must be non-negative, but got -1"));
  EXPECT_THAT(error_message([&] { nn::functional::one_hot(g::empty({0}, g::kInt64)); }),
              HasSubstr("cannot infer the number of classes from an empty tensor"));
  EXPECT_THAT(error_message([&] { nn::functional::one_hot(make_tensor({1}, {1})); }),
              HasSubstr("one_hot(): expected class indices of an integer dtype, but got float64"));
}

// pad against a naive loop: every output element is x at (o - before) where that lies inside
// x's kept part, else the value; negative amounts crop.
TEST(NnLayers, PadMatchesANaiveLoop) {
  const auto xv = sample_values(24, -3, 3);
  const g::Tensor x = make_tensor(xv, {2, 3, 4});
  struct Case {
    std::vector<int64_t> pad;
    std::vector<int64_t> shape;
  };
  for (const Case& c :
       {Case{{1, 2}, {2, 3, 7}}, Case{{0, 0, 2, 1}, {2, 6, 4}},
        Case{{-1, 1, 1, -2, 1, 0}, {3, 2, 4}}, Case{{-4, 0}, {2, 3, 0}}, Case{{}, {2, 3, 4}}}) {
    const g::Tensor out = nn::functional::pad(x, c.pad, 0.5);
    ASSERT_EQ(out.shape(), g::Shape(c.shape));
    const auto got = out.to_vector<double>();
    int64_t before[3] = {0, 0, 0};
    for (size_t p = 0; p < c.pad.size() / 2; ++p) before[2 - p] = c.pad[2 * p];
    size_t n = 0;
    for (int64_t i = 0; i < c.shape[0]; ++i)
      for (int64_t j = 0; j < c.shape[1]; ++j)
        for (int64_t k = 0; k < c.shape[2]; ++k, ++n) {
          const int64_t si = i - before[0], sj = j - before[1], sk = k - before[2];
          const bool inside = si >= 0 && si < 2 && sj >= 0 && sj < 3 && sk >= 0 && sk < 4;
          EXPECT_EQ(got[n], inside ? xv[(si * 3 + sj) * 4 + sk] : 0.5) << i << j << k;
        }
  }
  EXPECT_EQ(nn::functional::pad(make_tensor({7}, {1}, g::kInt64), {1, 1}).to_vector<int64_t>(),
            (std::vector<int64_t>{0, 7, 0}));
  EXPECT_THAT(error_message([&] { nn::functional::pad(x, {1}); }),
              HasSubstr("pad(): the padding must hold (before, after) pairs, but got 1 values"));
  EXPECT_THAT(error_message([&] {
                nn::functional::pad(x, {1, 1, 1, 1, 1, 1, 1, 1});
              }),
              HasSubstr("pad(): 4 pairs pad 4 dims, but the input of shape (2, 3, 4) has 3"));
  EXPECT_THAT(error_message([&] {
                nn::functional::pad(x, {-3, -2});
              }),
              HasSubstr("padding (-3, -2) of dim 2 of size 4 leaves size -1"));
}
