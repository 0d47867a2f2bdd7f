// max_pool2d, avg_pool2d, adaptive_avg_pool2d and their backwards against naive
// double-precision loops and central finite differences.
//
// The references follow the definitions (kernels/naive_conv_pool.h). Output sizes in the case
// tables are worked out by hand beside each case.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <array>
#include <cmath>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include "kernels/finite_difference.h"
#include "kernels/naive_conv_pool.h"
#include "test_util.h"

namespace g = graft;
using g::IntPair;
using g::Shape;
using g::Tensor;
using g::testing::error_message;
using g::testing::make_tensor;
using g::testing::numeric_gradient;
using g::testing::sample_values;
using ::testing::HasSubstr;

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

struct PoolCase {
  const char* name;
  Shape shape;  // (N, C, H, W) or (C, H, W)
  IntPair kernel;
  std::optional<IntPair> stride;
  IntPair padding, dilation;
  bool ceil_mode;
  IntPair out;  // worked out by hand
};

const PoolCase kCases[] = {
    // (6 - 2) / 2 + 1 = 3, (8 - 2) / 2 + 1 = 4
    {"2x2, stride = kernel", {2, 3, 6, 8}, 2, std::nullopt, 0, 1, false, {3, 4}},
    // (5 + 2 - 3) / 1 + 1 = 5
    {"3x3 stride 1 padding 1", {1, 2, 5, 5}, 3, 1, 1, 1, false, {5, 5}},
    // (7 + 2 - 3) / 2 + 1 = 4, floor((6 + 2 - 3) / 2) + 1 = 3
    {"3x3 stride 2 padding 1", {2, 2, 7, 6}, 3, 2, 1, 1, false, {4, 3}},
    // ceil((7 - 3) / 2) + 1 = 3, ceil((6 - 3) / 2) + 1 = 3 (floor mode gives 2)
    {"ceil_mode adds a partial window", {1, 2, 7, 6}, 3, 2, 0, 1, true, {3, 3}},
    // ceil((5 + 2 - 2) / 2) + 1 = 4, but window 3 would start at 6 - 1 = 5, in the padding: 3
    {"ceil_mode drops a window in the padding", {1, 1, 5, 5}, 2, 2, 1, 1, true, {3, 3}},
    // (6 + 2 - 2) / 1 + 1 = 7, (9 - 3) / 2 + 1 = 4
    {"non-square", {3, 1, 6, 9}, {2, 3}, IntPair{1, 2}, {1, 0}, 1, false, {7, 4}},
    // unbatched: (5 - 2) + 1 = 4, (4 - 2) + 1 = 3
    {"unbatched", {2, 5, 4}, 2, 1, 0, 1, false, {4, 3}},
};

// Max pool only: dilation 2 spans 5 inputs: (7 - 5) / 1 + 1 = 3; with padding 1 and stride 2:
// (8 + 2 - 5) / 2 + 1 = 3
const PoolCase kDilatedCases[] = {
    {"dilation 2", {1, 2, 7, 7}, 3, 1, 0, 2, false, {3, 3}},
    {"dilation 2 padding 1 stride 2", {2, 1, 8, 8}, 3, 2, 1, 2, false, {3, 3}},
};

Shape out_shape(const Shape& in, IntPair out) {
  Shape s = in;
  s[s.size() - 2] = out.h;
  s[s.size() - 1] = out.w;
  return s;
}

void naive_max_pool(const PoolCase& k, const std::vector<double>& x, std::vector<double>& out,
                    std::vector<int64_t>& index) {
  g::testing::naive_max_pool(k.shape, k.kernel, k.stride.value_or(k.kernel), k.padding, k.dilation,
                             k.out, x, out, index);
}

std::vector<double> naive_avg_pool(const PoolCase& k, const std::vector<double>& x,
                                   bool count_include_pad) {
  return g::testing::naive_avg_pool(k.shape, k.kernel, k.stride.value_or(k.kernel), k.padding,
                                    k.out, count_include_pad, x);
}

using g::testing::naive_adaptive_avg_pool;

void expect_near_values(const Tensor& got, const std::vector<double>& want, double tol,
                        const std::string& what) {
  const std::vector<double> values = got.to_vector<double>();
  ASSERT_EQ(values.size(), want.size()) << what;
  for (size_t i = 0; i < want.size(); ++i)
    ASSERT_NEAR(values[i], want[i], tol * (1 + std::abs(want[i]))) << what << ", element " << i;
}

double tolerance(g::DType dtype) { return dtype == g::kFloat32 ? 1e-6 : 1e-13; }

// L = sum(pool(x) * r) for a fixed random r of the output's shape.
struct Loss {
  Tensor r;
  std::function<Tensor()> pool;
  double operator()() const { return g::sum(pool() * r).item<double>(); }
};

TEST(MaxPool2d, MatchesNaiveLoopsWithIndices) {
  std::vector<PoolCase> cases(std::begin(kCases), std::end(kCases));
  cases.insert(cases.end(), std::begin(kDilatedCases), std::end(kDilatedCases));
  for (const PoolCase& k : cases) {
    const std::vector<double> x = sample_values(k.shape.numel());
    std::vector<double> want;
    std::vector<int64_t> want_index;
    naive_max_pool(k, x, want, want_index);
    for (g::DType dtype : {g::kFloat32, g::kFloat64}) {
      const auto [out, index] = g::max_pool2d_with_indices(
          make_tensor(x, k.shape, dtype), k.kernel, k.stride, k.padding, k.dilation, k.ceil_mode);
      ASSERT_EQ(out.shape(), out_shape(k.shape, k.out)) << k.name;
      EXPECT_EQ(out.dtype(), dtype);
      EXPECT_EQ(index.dtype(), g::kInt64);
      expect_near_values(out, want, tolerance(dtype), k.name);
      EXPECT_EQ(index.to_vector<int64_t>(), want_index) << k.name;
    }
  }
}

TEST(MaxPool2d, NanWinsAndAllMinusInfinityPicksTheFirstTap) {
  // One 2x4 plane, two 2x2 windows: the first holds a NaN, the second only -inf.
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const Tensor x = make_tensor({1, nan, -kInf, -kInf, 3, 2, -kInf, -kInf}, {1, 2, 4});
  const auto [out, index] = g::max_pool2d_with_indices(x, 2);
  const std::vector<double> values = out.to_vector<double>();
  EXPECT_TRUE(std::isnan(values[0]));
  EXPECT_EQ(values[1], -kInf);
  EXPECT_EQ(index.to_vector<int64_t>(), std::vector<int64_t>({1, 2}));
}

TEST(MaxPool2d, HalvingWindowsTakeTheGeneralLoopsMaxAndIndex) {
  // 2x2 windows at stride 2 have loops of their own (kernels/cpu/pool.cpp; 8 outputs a step
  // in AVX-512 for float32): ten windows side by side, more than one step and a partial one,
  // over an odd width whose last column no window reads. Each window's four taps, in the
  // window's order (top left, top right, bottom left, bottom right), and the tap that wins:
  // a NaN wins (the last of several), ties keep the first tap.
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const struct {
    std::array<double, 4> taps;
    int winner;
  } windows[] = {{{1, 1, 1, 1}, 0},     {{1, 3, 3, 2}, 1},   {{1, 2, 3, 4}, 3},
                 {{5, 2, 3, 4}, 0},     {{1, 2, 9, 4}, 2},   {{nan, 2, 3, 4}, 0},
                 {{1, nan, 3, nan}, 3}, {{1, 2, nan, 4}, 2}, {{-kInf, -kInf, -kInf, -kInf}, 0},
                 {{1, nan, 3, 4}, 1}};
  constexpr int64_t kWindows = std::size(windows), kWidth = 2 * kWindows + 1;
  std::vector<double> x(2 * kWidth, 100.0);  // the last column: larger than any tap, never read
  std::vector<int64_t> want_index;
  for (int64_t w = 0; w < kWindows; ++w) {
    for (int t = 0; t < 4; ++t) x[t / 2 * kWidth + 2 * w + t % 2] = windows[w].taps[t];
    const int t = windows[w].winner;
    want_index.push_back(t / 2 * kWidth + 2 * w + t % 2);
  }
  for (g::DType dtype : {g::kFloat32, g::kFloat64}) {
    const auto [out, index] = g::max_pool2d_with_indices(make_tensor(x, {1, 2, kWidth}, dtype), 2);
    ASSERT_EQ(out.shape(), Shape({1, 1, kWindows}));
    EXPECT_EQ(index.to_vector<int64_t>(), want_index) << g::dtype_name(dtype);
    const std::vector<double> values = out.to_vector<double>();
    for (int64_t w = 0; w < kWindows; ++w) {
      const double want = windows[w].taps[windows[w].winner];
      if (std::isnan(want))
        EXPECT_TRUE(std::isnan(values[w])) << "window " << w << ", " << g::dtype_name(dtype);
      else
        EXPECT_EQ(values[w], want) << "window " << w << ", " << g::dtype_name(dtype);
    }
  }
}

// Dilation 4 and padding 2 over 3 inputs: the middle window's taps, -1 and 3, both miss the
// input (and the outer ones hold one input each). That window's max is -inf with index -1,
// as PyTorch's value, and it sends its gradient nowhere: the backward once wrote it to
// dx[-1], before the plane.
TEST(MaxPool2d, AWindowOfPaddingAloneIsMinusInfinityAndPassesNoGradient) {
  const PoolCase k = {"dilation 4 padding 2", {2, 1, 3, 3}, 2, 1, 2, 4, false, {3, 3}};
  const std::vector<double> x = sample_values(k.shape.numel());
  std::vector<double> want;
  std::vector<int64_t> want_index;
  naive_max_pool(k, x, want, want_index);
  for (g::DType dtype : {g::kFloat32, g::kFloat64, g::kFloat16, g::kBFloat16}) {
    SCOPED_TRACE(g::dtype_name(dtype));
    const Tensor input = make_tensor(x, k.shape, dtype).requires_grad_();
    const auto [out, index] =
        g::max_pool2d_with_indices(input, k.kernel, k.stride, k.padding, k.dilation, k.ceil_mode);
    EXPECT_EQ(index.to_vector<int64_t>(), want_index);
    const std::vector<double> got = out.to_vector<double>();
    ASSERT_EQ(got.size(), want.size());
    // -inf where the naive loops found no tap in the input.
    for (size_t i = 0; i < got.size(); ++i)
      EXPECT_EQ(got[i], make_tensor({want[i]}, {}, dtype).item<double>()) << i;
    // Each input gets the gradients of the windows whose max it is; the empty ones none.
    out.backward(g::ones(out.shape(), dtype));
    std::vector<double> want_grad(x.size(), 0.0);
    const int64_t plane = 9;
    for (size_t o = 0; o < want_index.size(); ++o)
      if (want_index[o] >= 0) want_grad[o / plane * plane + want_index[o]] += 1;
    EXPECT_EQ(input.grad().to_vector<double>(), want_grad);
    // The public backward takes the forward's -1 too (it once rejected it as out of range).
    EXPECT_EQ(g::max_pool2d_backward(g::ones(out.shape(), dtype), k.shape, index, k.kernel,
                                     k.stride, k.padding, k.dilation, k.ceil_mode)
                  .to_vector<double>(),
              want_grad);
  }
}

TEST(MaxPool2d, ReadsNonContiguousInputAndEmptyBatches) {
  const PoolCase& k = kCases[2];
  const std::vector<double> x = sample_values(k.shape.numel());
  const Tensor dense = make_tensor(x, k.shape);
  const Tensor transposed = dense.transpose(2, 3).contiguous().transpose(2, 3);
  ASSERT_FALSE(transposed.is_contiguous());
  EXPECT_TRUE(g::equal(g::max_pool2d(transposed, k.kernel, k.stride, k.padding),
                       g::max_pool2d(dense, k.kernel, k.stride, k.padding)));
  const Tensor empty = g::zeros({0, 2, 7, 6});
  EXPECT_EQ(g::max_pool2d(empty, 3, 2, 1).shape(), Shape({0, 2, 4, 3}));
  EXPECT_EQ(g::avg_pool2d(empty, 3, 2, 1).shape(), Shape({0, 2, 4, 3}));
  EXPECT_EQ(g::adaptive_avg_pool2d(empty, {1, 2}).shape(), Shape({0, 2, 1, 2}));
}

TEST(MaxPool2dBackward, MatchesFiniteDifferences) {
  std::vector<PoolCase> cases(std::begin(kCases), std::end(kCases));
  cases.insert(cases.end(), std::begin(kDilatedCases), std::end(kDilatedCases));
  for (const PoolCase& k : cases) {
    const Tensor x = make_tensor(sample_values(k.shape.numel()), k.shape);
    const auto [out, index] =
        g::max_pool2d_with_indices(x, k.kernel, k.stride, k.padding, k.dilation, k.ceil_mode);
    const Loss loss{
        make_tensor(sample_values(out.numel(), -1, 1, 5), out.shape()),
        [&] { return g::max_pool2d(x, k.kernel, k.stride, k.padding, k.dilation, k.ceil_mode); }};
    // eps below the smallest gap between sample values, so no max changes hands.
    expect_near_values(g::max_pool2d_backward(loss.r, x.shape(), index, k.kernel, k.stride,
                                              k.padding, k.dilation, k.ceil_mode),
                       numeric_gradient(x, loss, 1e-8), 1e-6, k.name);
  }
}

TEST(AvgPool2d, MatchesNaiveLoopsWithAndWithoutPaddingInTheCount) {
  for (const PoolCase& k : kCases) {
    const std::vector<double> x = sample_values(k.shape.numel());
    for (bool include_pad : {true, false}) {
      for (g::DType dtype : {g::kFloat32, g::kFloat64}) {
        const Tensor out = g::avg_pool2d(make_tensor(x, k.shape, dtype), k.kernel, k.stride,
                                         k.padding, k.ceil_mode, include_pad);
        ASSERT_EQ(out.shape(), out_shape(k.shape, k.out)) << k.name;
        expect_near_values(out, naive_avg_pool(k, x, include_pad), tolerance(dtype),
                           std::string(k.name) + (include_pad ? " counting padding" : ""));
      }
    }
  }
}

TEST(AvgPool2dBackward, MatchesFiniteDifferences) {
  for (const PoolCase& k : kCases) {
    for (bool include_pad : {true, false}) {
      const Tensor x = make_tensor(sample_values(k.shape.numel()), k.shape);
      const auto pool = [&] {
        return g::avg_pool2d(x, k.kernel, k.stride, k.padding, k.ceil_mode, include_pad);
      };
      const Loss loss{make_tensor(sample_values(pool().numel(), -1, 1, 5), pool().shape()), pool};
      expect_near_values(g::avg_pool2d_backward(loss.r, x.shape(), k.kernel, k.stride, k.padding,
                                                k.ceil_mode, include_pad),
                         numeric_gradient(x, loss), 1e-6, k.name);
    }
  }
}

struct AdaptiveCase {
  Shape shape;
  IntPair size;
};
const AdaptiveCase kAdaptiveCases[] = {
    {{2, 3, 7, 5}, {3, 2}},  // uneven, overlapping windows
    {{1, 1, 4, 4}, 4},       // identity
    {{1, 2, 5, 7}, 1},       // global average
    {{1, 1, 2, 3}, {3, 5}},  // more outputs than inputs
    {{3, 6, 4}, {2, 3}},     // unbatched
};

TEST(AdaptiveAvgPool2d, MatchesNaiveLoopsAndFiniteDifferences) {
  for (const AdaptiveCase& k : kAdaptiveCases) {
    const std::string what = k.shape.str();
    const std::vector<double> values = sample_values(k.shape.numel());
    for (g::DType dtype : {g::kFloat32, g::kFloat64}) {
      const Tensor out = g::adaptive_avg_pool2d(make_tensor(values, k.shape, dtype), k.size);
      ASSERT_EQ(out.shape(), out_shape(k.shape, k.size)) << what;
      expect_near_values(out, naive_adaptive_avg_pool(k.shape, k.size, values), tolerance(dtype),
                         what);
    }
    const Tensor x = make_tensor(values, k.shape);
    const auto pool = [&] { return g::adaptive_avg_pool2d(x, k.size); };
    const Loss loss{make_tensor(sample_values(pool().numel(), -1, 1, 5), pool().shape()), pool};
    expect_near_values(g::adaptive_avg_pool2d_backward(loss.r, x.shape()),
                       numeric_gradient(x, loss), 1e-6, what + " backward");
  }
}

TEST(Pool2d, SixteenBitPoolsAreTheFloat32ResultsRounded) {
  // The CPU kernels widen a float16 or bfloat16 plane at a time and compute in float32: the
  // maxima and their indices of the widened values, and each output (and gradient) rounded
  // once, bit for bit what pooling widened copies gives; on the case table and on the CNN's
  // first pooling, whose planes spread over threads.
  std::vector<PoolCase> cases(std::begin(kCases), std::end(kCases));
  cases.insert(cases.end(), std::begin(kDilatedCases), std::end(kDilatedCases));
  cases.push_back(
      {"the CNN's first pooling", {64, 32, 28, 28}, 2, std::nullopt, 0, 1, false, {14, 14}});
  for (const PoolCase& k : cases) {
    const std::vector<double> values = sample_values(k.shape.numel(), -3, 3, 7);
    for (const g::DType dtype : {g::kFloat16, g::kBFloat16}) {
      SCOPED_TRACE(std::string(k.name) + " " + g::dtype_name(dtype));
      const Tensor x = make_tensor(values, k.shape, dtype), x32 = x.to(g::kFloat32);
      const auto [out, index] =
          g::max_pool2d_with_indices(x, k.kernel, k.stride, k.padding, k.dilation, k.ceil_mode);
      const auto [out32, index32] =
          g::max_pool2d_with_indices(x32, k.kernel, k.stride, k.padding, k.dilation, k.ceil_mode);
      EXPECT_EQ(out.dtype(), dtype);
      EXPECT_TRUE(g::equal(out, out32.to(dtype)));
      EXPECT_TRUE(g::equal(index, index32));
      const Tensor dy = make_tensor(sample_values(out.numel(), -1, 1, 8), out.shape(), dtype);
      EXPECT_TRUE(g::equal(g::max_pool2d_backward(dy, x.shape(), index, k.kernel, k.stride,
                                                  k.padding, k.dilation, k.ceil_mode),
                           g::max_pool2d_backward(dy.to(g::kFloat32), x.shape(), index, k.kernel,
                                                  k.stride, k.padding, k.dilation, k.ceil_mode)
                               .to(dtype)));
      if (k.dilation.h == 1 && k.dilation.w == 1) {
        const Tensor avg = g::avg_pool2d(x, k.kernel, k.stride, k.padding, k.ceil_mode, false);
        EXPECT_TRUE(g::equal(
            avg, g::avg_pool2d(x32, k.kernel, k.stride, k.padding, k.ceil_mode, false).to(dtype)));
        EXPECT_TRUE(g::equal(
            g::avg_pool2d_backward(dy, x.shape(), k.kernel, k.stride, k.padding, k.ceil_mode),
            g::avg_pool2d_backward(dy.to(g::kFloat32), x.shape(), k.kernel, k.stride, k.padding,
                                   k.ceil_mode)
                .to(dtype)));
      }
      EXPECT_TRUE(g::equal(g::adaptive_avg_pool2d(x, {3, 2}),
                           g::adaptive_avg_pool2d(x32, {3, 2}).to(dtype)));
    }
  }
}

TEST(Pool2d, RejectsBadInputsWithMessagesThatNameTheShapes) {
  const Tensor x = g::zeros({1, 2, 5, 5});
  EXPECT_THAT(error_message([&] { g::max_pool2d(x, 3, 1, 2); }),
              HasSubstr("max_pool2d(): padding should be non-negative and at most half of the "
                        "dilated kernel size, but got padding=(2, 2) for kernel_size=(3, 3) and "
                        "dilation=(1, 1)"));
  EXPECT_THAT(error_message([&] {
                g::avg_pool2d(x, {3, 5}, 1, {1, 3});
              }),
              HasSubstr("avg_pool2d(): padding should be non-negative and at most half of the "
                        "kernel size, but got padding=(1, 3) for kernel_size=(3, 5)"));
  EXPECT_THAT(error_message([&] { g::max_pool2d(x, 2, 1, -1); }),
              HasSubstr("but got padding=(-1, -1)"));
  EXPECT_THAT(error_message([&] {
                g::max_pool2d(g::zeros({1, 1, 2, 2}), 3);
              }),
              HasSubstr("max_pool2d(): input of shape (1, 1, 2, 2) is smaller than the dilated "
                        "kernel (kernel_size=(3, 3) and dilation=(1, 1), padding=(0, 0)): the "
                        "output "
                        "would be 0 x 0; use a smaller kernel or more padding"));
  EXPECT_THAT(error_message([&] {
                g::avg_pool2d(g::zeros({1, 1, 2, 4}), 3);
              }),
              HasSubstr("avg_pool2d(): input of shape (1, 1, 2, 4) is smaller than the kernel"));
  EXPECT_THAT(error_message([&] {
                g::max_pool2d(x, 2, IntPair{0, 1});
              }),
              HasSubstr("max_pool2d(): stride must be positive, but got stride=(0, 1)"));
  EXPECT_THAT(error_message([&] { g::max_pool2d(x, 2, 1, 0, 0); }),
              HasSubstr("max_pool2d(): dilation must be positive, but got dilation=(0, 0)"));
  EXPECT_THAT(error_message([&] {
                g::avg_pool2d(x, {0, 2});
              }),
              HasSubstr("avg_pool2d(): kernel_size must be positive, but got kernel_size=(0, 2)"));
  EXPECT_THAT(error_message([&] {
                g::max_pool2d(g::zeros({5, 5}), 2);
              }),
              HasSubstr("max_pool2d(): expected a 3-D (unbatched C, H, W) or 4-D (batched N, C, "
                        "H, W) input, but got input of shape (5, 5)"));
  EXPECT_THAT(error_message([&] {
                g::avg_pool2d(g::zeros({1, 2, 0, 5}), 2);
              }),
              HasSubstr("avg_pool2d(): expected an input with non-zero channels, height and "
                        "width, but got input of shape (1, 2, 0, 5)"));
  EXPECT_THAT(error_message([&] { g::max_pool2d(x.to(g::kInt64), 2); }),
              HasSubstr("max_pool2d(): expected a floating-point input, but got input of dtype "
                        "int64 and shape (1, 2, 5, 5)"));
  EXPECT_THAT(error_message([&] {
                g::adaptive_avg_pool2d(x, {0, 2});
              }),
              HasSubstr("adaptive_avg_pool2d(): output_size must be positive, but got (0, 2)"));
  EXPECT_THAT(
      error_message([&] {
        g::avg_pool2d_backward(g::zeros({1, 2, 3, 3}), x.shape(), 2);
      }),
      HasSubstr("avg_pool2d_backward(): expected grad_out of shape (1, 2, 2, 2) (the pool's "
                "output for input of shape (1, 2, 5, 5)), but got grad_out of shape (1, 2, 3, 3)"));
  EXPECT_THAT(error_message([&] {
                g::adaptive_avg_pool2d_backward(g::zeros({1, 2, 3, 3}, g::kInt64), x.shape());
              }),
              HasSubstr("adaptive_avg_pool2d_backward(): expected a floating-point grad_out"));
}

TEST(MaxPool2dBackward, RejectsIndicesThatDoNotFit) {
  const Tensor x = make_tensor(sample_values(50), {1, 2, 5, 5});
  const auto [out, index] = g::max_pool2d_with_indices(x, 2);
  EXPECT_THAT(
      error_message([&] { g::max_pool2d_backward(out, x.shape(), index.to(g::kInt32), 2); }),
      HasSubstr("max_pool2d_backward(): expected int64 indices of grad_out's shape (1, 2, "
                "2, 2) (as max_pool2d_with_indices returns them), but got int32 indices "
                "of shape (1, 2, 2, 2)"));
  EXPECT_THAT(error_message([&] {
                g::max_pool2d_backward(out, {2, 5, 5}, index, 2);
              }),
              HasSubstr("max_pool2d_backward(): expected grad_out of shape (2, 2, 2) (the pool's "
                        "output for input of shape (2, 5, 5)), but got grad_out of shape (1, 2, "
                        "2, 2)"));
  EXPECT_THAT(error_message([&] { g::max_pool2d_backward(out, x.shape(), index, 3, 1); }),
              HasSubstr("max_pool2d_backward(): expected grad_out of shape (1, 2, 3, 3)"));
  EXPECT_THAT(error_message([&] { g::max_pool2d_backward(out, x.shape(), index + 25, 2); }),
              HasSubstr("max_pool2d_backward(): indices must lie in [0, 25) (a flat h * W + w "
                        "index into an input plane of 5 x 5) or be -1 (a window of padding "
                        "alone), but got indices from 25 to"));
  EXPECT_THAT(error_message([&] { g::max_pool2d_backward(out, x.shape(), index - 2, 2); }),
              HasSubstr("but got indices from -2 to"));
}

}  // namespace
