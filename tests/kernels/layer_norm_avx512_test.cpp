// Layer norm's 16-lane float32 forward (kernels/cpu/layer_norm_avx512.h) against naive loops
// in double: each row's mean and rstd to double's precision (its sums are of floats, in
// double), the output to float's; over row widths that leave every kind of tail of the 32
// floats a step takes, rows far from zero (where a one-pass variance would cancel), and no
// float written past the rows.
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
