// Layer norm's 16-lane float32 rows (kernels/cpu/layer_norm_avx512.h) against naive loops in
// double: the forward's mean and rstd of each row to double's precision (its sums are of
// floats, in double), its output to float's; the backward's dx, dweight and dbias to float's,
// with each of dx and the column sums asked for alone; over row widths that leave every kind
// of tail of the 32 floats a step takes, rows far from zero (where a one-pass variance would
// cancel), and no float written past the rows.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <vector>

#include "graft/kernels/cpu/cpu_features.h"
#include "graft/kernels/cpu/layer_norm_avx512.h"
#include "test_util.h"

namespace cpu = graft::kernels::cpu;

namespace {

constexpr int64_t kRows = 3;
constexpr double kEps = 1e-5;

std::vector<float> floats(int64_t n, double lo, double hi, uint32_t seed) {
  const std::vector<double> sample = graft::testing::sample_values(n, lo, hi, seed);
  return {sample.begin(), sample.end()};
}

void expect_rows_match_double(int64_t cols, double centre) {
  SCOPED_TRACE(std::to_string(cols) + " columns around " + std::to_string(centre));
  const std::vector<float> x = floats(kRows * cols, centre - 3, centre + 3, 7);
  const std::vector<float> weight = floats(cols, -2, 2, 8), bias = floats(cols, -1, 1, 9);
  // Past the rows, a sentinel that a store of a partial step's other lanes would overwrite.
  std::vector<float> out(static_cast<size_t>(kRows * cols + 16), -7.0f);
  std::vector<double> mean(kRows), rstd(kRows);
  cpu::layer_norm_rows_avx512(x.data(), weight.data(), bias.data(), kRows, cols, kEps, out.data(),
                              mean.data(), rstd.data());
  for (int64_t r = 0; r < kRows; ++r) {
    const float* row = x.data() + r * cols;
    double want_mean = 0, squares = 0;
    for (int64_t j = 0; j < cols; ++j) want_mean += row[j];
    want_mean /= static_cast<double>(cols);
    for (int64_t j = 0; j < cols; ++j) squares += (row[j] - want_mean) * (row[j] - want_mean);
    const double want_rstd = 1 / std::sqrt(squares / static_cast<double>(cols) + kEps);
    EXPECT_NEAR(mean[r], want_mean, 1e-13 * std::fabs(centre) + 1e-14) << "row " << r;
    EXPECT_NEAR(rstd[r], want_rstd, 1e-12 * want_rstd) << "row " << r;
    for (int64_t j = 0; j < cols; ++j) {
      const double scaled = (row[j] - want_mean) * want_rstd * weight[j];
      const double want = scaled + bias[j];
      // A few float roundings of the terms, none of x's size: the mean is carried by two
      // floats, so x - mean is exact to float's precision of the difference, not of x.
      const double tolerance = 4e-7 * (std::fabs(scaled) + std::fabs(bias[j])) + 1e-30;
      ASSERT_NEAR(out[r * cols + j], want, tolerance) << "row " << r << ", column " << j;
    }
  }
  for (size_t i = kRows * cols; i < out.size(); ++i) EXPECT_EQ(out[i], -7.0f) << "past the rows";
}

// A row's mean and rstd in double, as the forward computes them.
struct Statistics {
  double mean, rstd;
};
Statistics statistics(const float* row, int64_t cols) {
  double mean = 0, squares = 0;
  for (int64_t j = 0; j < cols; ++j) mean += row[j];
  mean /= static_cast<double>(cols);
  for (int64_t j = 0; j < cols; ++j) squares += (row[j] - mean) * (row[j] - mean);
  return {mean, 1 / std::sqrt(squares / static_cast<double>(cols) + kEps)};
}

// The backward of kRows rows of `cols` columns, with dx (kInput) and the column sums
// (kColumns), against the same in double; dweight and dbias start from values of their own,
// which the rows' sums add to.
template <bool kInput, bool kColumns>
void expect_backward_matches_double(int64_t cols, double centre) {
  SCOPED_TRACE(std::to_string(cols) + " columns around " + std::to_string(centre) +
               (kInput ? ", dx" : "") + (kColumns ? ", dweight and dbias" : ""));
  const std::vector<float> x = floats(kRows * cols, centre - 3, centre + 3, 17);
  const std::vector<float> dy = floats(kRows * cols, -1, 1, 18);
  const std::vector<float> weight = floats(cols, -2, 2, 19);
  const std::vector<float> start = floats(2 * cols, -1, 1, 20);
  std::vector<double> mean(kRows), rstd(kRows);
  for (int64_t r = 0; r < kRows; ++r) {
    const Statistics s = statistics(x.data() + r * cols, cols);
    mean[r] = s.mean;
    rstd[r] = s.rstd;
  }
  // Past each output, a sentinel that a store of a partial step's other lanes would overwrite.
  std::vector<float> dx(static_cast<size_t>(kRows * cols + 16), -7.0f);
  std::vector<float> dweight(start.begin(), start.begin() + cols);
  std::vector<float> dbias(start.begin() + cols, start.end());
  dweight.resize(static_cast<size_t>(cols + 16), -7.0f);
  dbias.resize(static_cast<size_t>(cols + 16), -7.0f);
  cpu::layer_norm_backward_rows_avx512(dy.data(), x.data(), weight.data(), mean.data(), rstd.data(),
                                       kRows, cols, kInput ? dx.data() : nullptr,
                                       kColumns ? dweight.data() : nullptr,
                                       kColumns ? dbias.data() : nullptr);
  std::vector<double> want_dweight(start.begin(), start.begin() + cols);
  std::vector<double> want_dbias(start.begin() + cols, start.end());
  std::vector<double> dweight_scale(want_dweight.size(), 0.0);
  for (int64_t r = 0; r < kRows; ++r) {
    const float* x_row = x.data() + r * cols;
    const float* dy_row = dy.data() + r * cols;
    const auto xhat = [&](int64_t j) { return (x_row[j] - mean[r]) * rstd[r]; };
    double g_mean = 0, gx_mean = 0;
    for (int64_t j = 0; j < cols; ++j) {
      g_mean += dy_row[j] * static_cast<double>(weight[j]);
      gx_mean += dy_row[j] * static_cast<double>(weight[j]) * xhat(j);
    }
    g_mean /= static_cast<double>(cols);
    gx_mean /= static_cast<double>(cols);
    for (int64_t j = 0; j < cols; ++j) {
      want_dweight[j] += dy_row[j] * xhat(j);
      want_dbias[j] += dy_row[j];
      dweight_scale[j] += std::fabs(dy_row[j] * xhat(j));
      if (!kInput) continue;
      const double g = dy_row[j] * static_cast<double>(weight[j]);
      const double want = rstd[r] * (g - g_mean - xhat(j) * gx_mean);
      // The terms' float roundings; the mean is carried by two floats, so xhat keeps float's
      // precision of x - mean, not of x.
      const double tolerance =
          8e-7 * rstd[r] * (std::fabs(g) + std::fabs(g_mean) + std::fabs(xhat(j) * gx_mean)) +
          1e-30;
      ASSERT_NEAR(dx[r * cols + j], want, tolerance) << "row " << r << ", column " << j;
    }
  }
  for (int64_t j = 0; j < cols; ++j) {
    if (!kColumns) {
      EXPECT_EQ(dweight[j], start[j]) << "dweight written when not asked for";
      EXPECT_EQ(dbias[j], start[cols + j]) << "dbias written when not asked for";
      continue;
    }
    EXPECT_NEAR(dweight[j], want_dweight[j],
                4e-7 * (dweight_scale[j] + std::fabs(start[j])) * kRows)
        << "column " << j;
    EXPECT_NEAR(dbias[j], want_dbias[j], 4e-7 * (kRows + std::fabs(start[cols + j])) * kRows)
        << "column " << j;
  }
  for (size_t i = kInput ? kRows * cols : 0; i < dx.size(); ++i)
    EXPECT_EQ(dx[i], -7.0f) << (kInput ? "past the rows" : "dx written when not asked for");
  for (size_t j = cols; j < dweight.size(); ++j) {
    EXPECT_EQ(dweight[j], -7.0f) << "past the columns";
    EXPECT_EQ(dbias[j], -7.0f) << "past the columns";
  }
}

}  // namespace

TEST(LayerNormAvx512, RowsOfEveryTailMatchDouble) {
  if (!cpu::cpu_runs_avx512()) GTEST_SKIP() << "this CPU has no AVX-512";
  for (const int64_t cols : {1, 2, 15, 16, 17, 31, 32, 33, 47, 48, 49, 63, 64, 65, 100, 384, 1000})
    expect_rows_match_double(cols, 0.5);
}

TEST(LayerNormAvx512, RowsFarFromZeroKeepTheirVariance) {
  if (!cpu::cpu_runs_avx512()) GTEST_SKIP() << "this CPU has no AVX-512";
  for (const int64_t cols : {17, 512}) expect_rows_match_double(cols, 1e4);
}

TEST(LayerNormAvx512, BackwardRowsOfEveryTailMatchDouble) {
  if (!cpu::cpu_runs_avx512()) GTEST_SKIP() << "this CPU has no AVX-512";
  for (const int64_t cols :
       {1, 2, 15, 16, 17, 31, 32, 33, 47, 48, 49, 63, 64, 65, 100, 384, 1000}) {
    expect_backward_matches_double<true, true>(cols, 0.5);
    expect_backward_matches_double<true, false>(cols, 0.5);
    expect_backward_matches_double<false, true>(cols, 0.5);
  }
}

TEST(LayerNormAvx512, BackwardRowsFarFromZeroMatchDouble) {
  if (!cpu::cpu_runs_avx512()) GTEST_SKIP() << "this CPU has no AVX-512";
  for (const int64_t cols : {17, 512}) expect_backward_matches_double<true, true>(cols, 1e4);
}
