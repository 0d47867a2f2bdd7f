// softmax and log_softmax against a naive double-precision reference along every dim.
//
// The reference is the textbook definition with the max subtracted, computed in double
// on the logical values: softmax(x)_i = exp(x_i - max) / sum_j exp(x_j - max) and
// log_softmax(x)_i = x_i - max - log(sum_j exp(x_j - max)).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "test_util.h"

namespace g = graft;
using g::testing::error_message;
using g::testing::make_tensor;
using g::testing::sample_values;
using ::testing::HasSubstr;

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

// The reference along `dim` of row-major `values` of `shape`.
std::vector<double> naive_softmax(const std::vector<double>& values, const g::Shape& shape,
                                  int64_t dim, bool log) {
  int64_t outer = 1, inner = 1;
  for (int64_t d = 0; d < shape.size(); ++d) {
    if (d < dim) outer *= shape[d];
    if (d > dim) inner *= shape[d];
  }
  const int64_t n = shape.size() == 0 ? 1 : shape[dim];
  std::vector<double> out(values.size());
  for (int64_t o = 0; o < outer; ++o) {
    for (int64_t i = 0; i < inner; ++i) {
      auto at = [&](int64_t d) { return o * n * inner + d * inner + i; };
      double max = -kInf, sum = 0;
      for (int64_t d = 0; d < n; ++d) max = std::max(max, values[at(d)]);
      for (int64_t d = 0; d < n; ++d) sum += std::exp(values[at(d)] - max);
      for (int64_t d = 0; d < n; ++d)
        out[at(d)] =
            log ? values[at(d)] - max - std::log(sum) : std::exp(values[at(d)] - max) / sum;
    }
  }
  return out;
}

void expect_close(const g::Tensor& got, const std::vector<double>& expected, double tol,
                  const std::string& what) {
  const std::vector<double> values = got.to_vector<double>();
  ASSERT_EQ(values.size(), expected.size()) << what;
  for (size_t i = 0; i < values.size(); ++i) {
    if (std::isnan(expected[i])) {
      EXPECT_TRUE(std::isnan(values[i])) << what << " at " << i;
    } else if (std::isinf(expected[i])) {
      EXPECT_EQ(values[i], expected[i]) << what << " at " << i;
    } else {
      EXPECT_NEAR(values[i], expected[i], tol * (1 + std::abs(expected[i]))) << what << " at " << i;
    }
  }
}

double tolerance(g::DType dtype) { return dtype == g::kFloat32 ? 1e-6 : 1e-13; }

TEST(Softmax, MatchesNaiveReferenceAlongEveryDim) {
  const g::Shape shape{3, 4, 5};
  const std::vector<double> v = sample_values(shape.numel(), -4, 4);
  for (g::DType dtype : {g::kFloat32, g::kFloat64}) {
    const g::Tensor x = make_tensor(v, shape, dtype);
    for (int64_t dim = -3; dim < 3; ++dim) {
      const int64_t d = dim < 0 ? dim + 3 : dim;
      const std::string what = std::string(g::dtype_name(dtype)) + " dim " + std::to_string(dim);
      const g::Tensor y = g::softmax(x, dim), ly = g::log_softmax(x, dim);
      EXPECT_EQ(y.shape(), shape);
      EXPECT_EQ(y.dtype(), dtype);
      expect_close(y, naive_softmax(v, shape, d, false), tolerance(dtype), "softmax " + what);
      expect_close(ly, naive_softmax(v, shape, d, true), tolerance(dtype), "log_softmax " + what);
      expect_close(x.softmax(dim), naive_softmax(v, shape, d, false), tolerance(dtype),
                   "method " + what);
    }
  }
}

TEST(Softmax, NonContiguousInputsGiveTheSameResultAsTheirCopies) {
  // (6, 8) values seen transposed, with steps, and expanded along a broadcast dim.
  const std::vector<double> v = sample_values(48, -3, 3, 5);
  const g::Tensor base = make_tensor(v, {6, 8});
  const g::Tensor views[] = {base.t(),
                             base.index({g::Slice(1, g::None, 2), g::Slice(0, g::None, 3)}),
                             base.index({g::Slice(0, 1)}).expand({4, 8})};
  for (const g::Tensor& view : views) {
    ASSERT_FALSE(view.is_contiguous());
    const std::vector<double> logical = view.contiguous().to_vector<double>();
    for (int64_t dim : {0, 1}) {
      expect_close(g::softmax(view, dim), naive_softmax(logical, view.shape(), dim, false), 1e-13,
                   "softmax of a view, dim " + std::to_string(dim));
      expect_close(g::log_softmax(view, dim), naive_softmax(logical, view.shape(), dim, true),
                   1e-13, "log_softmax of a view, dim " + std::to_string(dim));
    }
  }
}

TEST(Softmax, LargeInputsSplitAcrossThreadsAndTiles) {
  // Long rows (last dim) and a leading dim over lines 70 apart: tiles of 64 and a partial one.
  const struct {
    g::Shape shape;
    int64_t dim;
  } cases[] = {{{300, 257}, 1}, {{400, 70}, 0}, {{3, 500, 130}, 1}};
  for (const auto& c : cases) {
    const std::vector<double> v = sample_values(c.shape.numel(), -6, 6, 9);
    for (g::DType dtype : {g::kFloat32, g::kFloat64}) {
      const g::Tensor x = make_tensor(v, c.shape, dtype);
      expect_close(g::softmax(x, c.dim), naive_softmax(v, c.shape, c.dim, false), tolerance(dtype),
                   "softmax " + c.shape.str());
      expect_close(g::log_softmax(x, c.dim), naive_softmax(v, c.shape, c.dim, true),
                   tolerance(dtype), "log_softmax " + c.shape.str());
    }
  }
}

TEST(Softmax, SixteenBitLinesMatchTheReference) {
  // The CPU kernel widens float16 and bfloat16 a tile at a time and computes in float32: the
  // reference's values within the 16-bit type's rounding (2^-11, 2^-8), along the last dim
  // (rows) and along others (tiles of 64 lines and a partial one, and tiles as wide as all
  // their lines), on one thread's shapes and on threaded ones.
  const struct {
    g::Shape shape;
    int64_t dim;
  } cases[] = {{{3, 4, 5}, 2}, {{3, 4, 5}, 1},     {{300, 257}, 1},
               {{400, 70}, 0}, {{3, 500, 130}, 1}, {{2, 50, 10}, 1}};
  for (const auto& c : cases) {
    const std::vector<double> v = sample_values(c.shape.numel(), -6, 6, 11);
    for (g::DType dtype : {g::kFloat16, g::kBFloat16}) {
      // The reference on the values as the 16-bit type holds them.
      const g::Tensor x = make_tensor(v, c.shape, dtype);
      const std::vector<double> held = x.to_vector<double>();
      const double tol = dtype == g::kFloat16 ? 1.0 / 2048 : 1.0 / 256;
      const std::string what =
          std::string(g::dtype_name(dtype)) + " " + c.shape.str() + " dim " + std::to_string(c.dim);
      const g::Tensor y = g::softmax(x, c.dim), ly = g::log_softmax(x, c.dim);
      EXPECT_EQ(y.dtype(), dtype);
      EXPECT_EQ(ly.dtype(), dtype);
      expect_close(y, naive_softmax(held, c.shape, c.dim, false), tol, "softmax " + what);
      expect_close(ly, naive_softmax(held, c.shape, c.dim, true), tol, "log_softmax " + what);
    }
  }
}

TEST(Softmax, RowsSumToOneAndLogSoftmaxIsLogOfSoftmax) {
  const std::vector<double> v = sample_values(7 * 33, -20, 20, 3);
  for (g::DType dtype : {g::kFloat32, g::kFloat64}) {
    const g::Tensor x = make_tensor(v, {7, 33}, dtype);
    const std::vector<double> p = g::softmax(x, 1).to_vector<double>();
    const std::vector<double> lp = g::log_softmax(x, 1).to_vector<double>();
    for (int r = 0; r < 7; ++r) {
      double sum = 0;
      for (int c = 0; c < 33; ++c) sum += p[r * 33 + c];
      EXPECT_NEAR(sum, 1.0, 10 * tolerance(dtype)) << "row " << r;
    }
    for (size_t i = 0; i < p.size(); ++i) {
      if (p[i] > 0) {
        EXPECT_NEAR(lp[i], std::log(p[i]), 1e-4 * (1 + std::abs(lp[i]))) << i;
      }
    }
  }
}

TEST(Softmax, ExtremeLogitsStayFinite) {
  // Rows: huge logits of both signs; a -inf entry (probability exactly 0); equal huge logits
  // (an even split). exp(-1e4) underflows to 0 in both dtypes; log_softmax keeps -1e4.
  const std::vector<double> v = {1e4, -1e4, 0, -kInf, 0, 1, 1e4, 1e4, -kInf};
  const std::vector<double> softmax_expected = {
      1, 0, 0, 0, 1 / (1 + std::exp(1.0)), std::exp(1.0) / (1 + std::exp(1.0)), 0.5, 0.5, 0};
  const std::vector<double> log_expected = {0,
                                            -2e4,
                                            -1e4,
                                            -kInf,
                                            -std::log1p(std::exp(1.0)),
                                            1 - std::log1p(std::exp(1.0)),
                                            -std::log(2.0),
                                            -std::log(2.0),
                                            -kInf};
  for (g::DType dtype : {g::kFloat32, g::kFloat64}) {
    const g::Tensor x = make_tensor(v, {3, 3}, dtype);
    expect_close(g::softmax(x, 1), softmax_expected, tolerance(dtype), "softmax");
    expect_close(g::log_softmax(x, 1), log_expected, tolerance(dtype), "log_softmax");
  }
}

TEST(Softmax, AllNegativeInfinityRowIsNaNAsInPyTorch) {
  // max = -inf, and -inf - (-inf) is NaN; the other row is unaffected.
  const g::Tensor x = make_tensor({-kInf, -kInf, 0, 0}, {2, 2});
  const double nan = std::numeric_limits<double>::quiet_NaN();
  expect_close(g::softmax(x, 1), {nan, nan, 0.5, 0.5}, 1e-15, "softmax");
  expect_close(g::log_softmax(x, 1), {nan, nan, -std::log(2.0), -std::log(2.0)}, 1e-15,
               "log_softmax");
}

TEST(Softmax, LongLinesWithMaskedLogits) {
  // Lines of 32 and more take the 16-lane exp where the CPU has AVX-512 (array_math.h's
  // exact_exp and shifted_exp_sum), along the last dim and across 40 lines of a leading one:
  // a -inf logit's probability is exactly 0 there too, a line of -inf is NaN, and the lanes
  // past a line's end count for nothing.
  const struct {
    g::Shape shape;
    int64_t dim;
  } cases[] = {{{3, 45}, 1}, {{5, 40}, 0}};
  for (const auto& c : cases) {
    std::vector<double> v = sample_values(c.shape.numel(), -8, 8, 4);
    for (size_t i = 0; i < v.size(); i += 7) v[i] = -kInf;  // masked entries, both layouts
    if (c.dim == 1) {
      for (int64_t j = 0; j < 45; ++j) v[45 + j] = -kInf;  // row 1: all masked
    } else {
      for (int64_t i = 0; i < 5; ++i) v[i * 40 + 3] = -kInf;  // column 3: all masked
    }
    for (g::DType dtype : {g::kFloat32, g::kFloat64}) {
      const g::Tensor x = make_tensor(v, c.shape, dtype);
      const std::string what = std::string(g::dtype_name(dtype)) + " " + c.shape.str();
      const std::vector<double> p = g::softmax(x, c.dim).to_vector<double>();
      expect_close(g::softmax(x, c.dim), naive_softmax(v, c.shape, c.dim, false), tolerance(dtype),
                   "softmax " + what);
      expect_close(g::log_softmax(x, c.dim), naive_softmax(v, c.shape, c.dim, true),
                   tolerance(dtype), "log_softmax " + what);
      for (size_t i = 0; i < v.size(); ++i) {
        if (v[i] == -kInf && !std::isnan(p[i])) {
          EXPECT_EQ(p[i], 0.0) << what << " at " << i;
        }
      }
    }
  }
}

TEST(Softmax, ZeroDimAndEmptyInputs) {
  // A 0-d tensor is a single line of one element: softmax 1, log_softmax 0.
  const g::Tensor s = make_tensor({3.5}, {});
  for (int64_t dim : {0, -1}) {
    EXPECT_EQ(g::softmax(s, dim).shape(), g::Shape());
    EXPECT_EQ(g::softmax(s, dim).item<double>(), 1.0);
    EXPECT_EQ(g::log_softmax(s, dim).item<double>(), 0.0);
  }
  EXPECT_EQ(g::softmax(g::empty({0, 3}), 1).shape(), g::Shape({0, 3}));
  EXPECT_EQ(g::log_softmax(g::empty({3, 0}), 1).shape(), g::Shape({3, 0}));
}

TEST(SoftmaxErrors, IntegerInputsAndBadDims) {
  EXPECT_THAT(error_message([] {
                g::softmax(g::empty({2, 3}, g::kInt64), 1);
              }),
              HasSubstr("softmax(): expected a floating-point tensor, but got int64"));
  EXPECT_THAT(error_message([] { g::log_softmax(g::empty({2}, g::kInt32), 0); }),
              HasSubstr("convert it with .to(graft::kFloat32)"));
  EXPECT_THAT(error_message([] {
                g::softmax(g::empty({2, 3}), 2);
              }),
              HasSubstr("softmax(): dimension out of range (expected to be in range of [-2, 1], "
                        "but got 2)"));
  EXPECT_THAT(error_message([] { g::log_softmax(g::empty({}), 1); }),
              HasSubstr("log_softmax(): dimension out of range"));
}

}  // namespace
