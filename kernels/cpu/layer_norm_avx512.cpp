// The AVX-512 float32 forward of layer_norm_avx512.h.
#include "graft/kernels/cpu/layer_norm_avx512.h"

#include <cmath>
#include <cstdint>

#include "graft/kernels/cpu/lane_masks.h"
#include "graft/kernels/layer_norm.h"

#if defined(__x86_64__) && defined(__GNUC__)
#include "graft/kernels/cpu/avx512_file.h"

namespace graft::kernels::cpu {
namespace {

// 16 floats from p, the first `count` of them (the rest +0.0).
GRAFT_AVX512 __m512 load16(const float* p, int64_t count) {
  if (count >= 16) return _mm512_loadu_ps(p);
  return _mm512_maskz_loadu_ps(static_cast<__mmask16>(first_lanes16(count)), p);
}

// The sum in double of a row's floats (kSquares false), or of the squares of their
// deviations from `mean` (kSquares true): each 16 floats widened to two registers of 8
// doubles, into four accumulators, so that four chains of adds hide each other's latency;
// lanes past the row's end add nothing.
template <bool kSquares>
GRAFT_AVX512 double row_sum(const float* row, int64_t cols, double mean) {
  __m512d sums[4] = {_mm512_setzero_pd(), _mm512_setzero_pd(), _mm512_setzero_pd(),
                     _mm512_setzero_pd()};
  const __m512d centre = _mm512_set1_pd(mean);
  // Adds the 16 floats v (the lanes of `lanes`) into sums[pair] and sums[pair + 1].
  const auto add16 = [&](int pair, __m512 v, __mmask16 lanes) GRAFT_AVX512_LAMBDA {
    const __m256 halves[2] = {_mm512_castps512_ps256(v),
                              _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(v), 1))};
    for (int h = 0; h < 2; ++h) {
      __m512d d = _mm512_cvtps_pd(halves[h]);
      __m512d& sum = sums[pair + h];
      if constexpr (kSquares) {
        d = _mm512_maskz_sub_pd(static_cast<__mmask8>(lanes >> (8 * h)), d, centre);
        sum = _mm512_fmadd_pd(d, d, sum);
      } else {
        sum = _mm512_add_pd(sum, d);
      }
    }
  };
  int64_t j = 0;
  for (; j + 32 <= cols; j += 32) {
    add16(0, _mm512_loadu_ps(row + j), 0xffff);
    add16(2, _mm512_loadu_ps(row + j + 16), 0xffff);
  }
  if (j < cols) add16(0, load16(row + j, cols - j), first_lanes16(cols - j));
  if (j + 16 < cols) add16(2, load16(row + j + 16, cols - j - 16), first_lanes16(cols - j - 16));
  return _mm512_reduce_add_pd(
      _mm512_add_pd(_mm512_add_pd(sums[0], sums[1]), _mm512_add_pd(sums[2], sums[3])));
}

// out = ((x - hi) - lo) * rstd * weight + bias, RowStats::normalize's steps, over one row; each
// 64 bytes of it ask for the line at the same place in the next row (`next`, as an integer:
// past the last row, a pointer there would be undefined behaviour, and a prefetch never
// faults). Without the asking, the row's first pass waits on memory the hardware prefetchers
// have not yet fetched.
GRAFT_AVX512 void normalize_row(const float* row, const float* weight, const float* bias,
                                int64_t cols, const RowStats<float>& stats, uintptr_t next,
                                float* out) {
  const __m512 hi = _mm512_set1_ps(stats.hi), lo = _mm512_set1_ps(stats.lo),
               rstd = _mm512_set1_ps(stats.rstd);
  for (int64_t j = 0; j < cols; j += 16) {
    _mm_prefetch(reinterpret_cast<const char*>(next + static_cast<uintptr_t>(j) * sizeof(float)),
                 _MM_HINT_T0);
    const int64_t count = cols - j;
    const __m512 xhat =
        _mm512_mul_ps(_mm512_sub_ps(_mm512_sub_ps(load16(row + j, count), hi), lo), rstd);
    const __m512 y = _mm512_fmadd_ps(xhat, load16(weight + j, count), load16(bias + j, count));
    if (count >= 16)
      _mm512_storeu_ps(out + j, y);
    else
      _mm512_mask_storeu_ps(out + j, static_cast<__mmask16>(first_lanes16(count)), y);
  }
}

}  // namespace

__attribute__((target("avx512f"))) void layer_norm_rows_avx512(const float* x, const float* weight,
                                                               const float* bias, int64_t rows,
                                                               int64_t cols, double eps, float* out,
                                                               double* mean, double* rstd) {
  const auto n = static_cast<double>(cols);
  for (int64_t r = 0; r < rows; ++r) {
    const float* row = x + r * cols;
    mean[r] = row_sum<false>(row, cols, 0.0) / n;
    rstd[r] = 1.0 / std::sqrt(row_sum<true>(row, cols, mean[r]) / n + eps);
    normalize_row(row, weight, bias, cols, RowStats<float>(mean[r], rstd[r]),
                  reinterpret_cast<uintptr_t>(row) + static_cast<uintptr_t>(cols) * sizeof(float),
                  out + r * cols);
  }
}

}  // namespace graft::kernels::cpu

#else  // not x86-64 with GCC or Clang: cpu_runs_avx512() is false, so this never runs.

#include "graft/kernels/cpu/cpu_features.h"

namespace graft::kernels::cpu {

void layer_norm_rows_avx512(const float*, const float*, const float*, int64_t, int64_t, double,
                            float*, double*, double*) {
  fail_built_without_avx512("layer_norm_rows_avx512");
}

}  // namespace graft::kernels::cpu

#endif
