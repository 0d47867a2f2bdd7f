// The AVX-512 float32 forward and backward rows of layer_norm_avx512.h.
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

// The 16 floats of v as two registers of 8 doubles, the first 8 and the last 8.
GRAFT_AVX512 void widen_halves(__m512 v, __m512d halves[2]) {
  halves[0] = _mm512_cvtps_pd(_mm512_castps512_ps256(v));
  halves[1] = _mm512_cvtps_pd(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(v), 1)));
}

// The sum of four accumulators of 8 doubles.
GRAFT_AVX512 double reduce4(const __m512d sums[4]) {
  return _mm512_reduce_add_pd(
      _mm512_add_pd(_mm512_add_pd(sums[0], sums[1]), _mm512_add_pd(sums[2], sums[3])));
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
    __m512d halves[2];
    widen_halves(v, halves);
    for (int h = 0; h < 2; ++h) {
      __m512d d = halves[h];
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
  return reduce4(sums);
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

// The backward's first pass over one row: the sums in double of g = dy * weight and of
// g * xhat, each 16 products widened into two of four accumulators of each sum, as row_sum's.
// Past the row's end dy reads 0, and so do both products.
GRAFT_AVX512 void gradient_sums(const float* dy, const float* x, const float* weight, int64_t cols,
                                const RowStats<float>& stats, double& g_sum, double& gx_sum) {
  __m512d g_sums[4], gx_sums[4];
  for (int k = 0; k < 4; ++k) g_sums[k] = gx_sums[k] = _mm512_setzero_pd();
  const __m512 hi = _mm512_set1_ps(stats.hi), lo = _mm512_set1_ps(stats.lo),
               rstd = _mm512_set1_ps(stats.rstd);
  // Adds the 16 columns from j into the accumulators pair and pair + 1.
  const auto add16 = [&](int pair, int64_t j) GRAFT_AVX512_LAMBDA {
    const int64_t count = cols - j;
    const __m512 g = _mm512_mul_ps(load16(dy + j, count), load16(weight + j, count));
    const __m512 xhat =
        _mm512_mul_ps(_mm512_sub_ps(_mm512_sub_ps(load16(x + j, count), hi), lo), rstd);
    __m512d halves[2];
    widen_halves(g, halves);
    g_sums[pair] = _mm512_add_pd(g_sums[pair], halves[0]);
    g_sums[pair + 1] = _mm512_add_pd(g_sums[pair + 1], halves[1]);
    widen_halves(_mm512_mul_ps(g, xhat), halves);
    gx_sums[pair] = _mm512_add_pd(gx_sums[pair], halves[0]);
    gx_sums[pair + 1] = _mm512_add_pd(gx_sums[pair + 1], halves[1]);
  };
  int64_t j = 0;
  for (; j + 32 <= cols; j += 32) {
    add16(0, j);
    add16(2, j + 16);
  }
  if (j < cols) add16(0, j);
  if (j + 16 < cols) add16(2, j + 16);
  g_sum = reduce4(g_sums);
  gx_sum = reduce4(gx_sums);
}

// The backward's second pass over one row, from one xhat per element: dx = rstd * (g - g_mean
// - xhat * gx_mean) (kInput), and dweight += dy * xhat, dbias += dy (kColumns); each 64 bytes
// of dy and of x ask for the line at the same place in the next row (next_dy, next_x), as
// normalize_row does.
template <bool kInput, bool kColumns>
GRAFT_AVX512 void gradient_row(const float* dy, const float* x, const float* weight, int64_t cols,
                               const RowStats<float>& stats, float g_mean, float gx_mean,
                               uintptr_t next_dy, uintptr_t next_x, float* dx, float* dweight,
                               float* dbias) {
  const __m512 hi = _mm512_set1_ps(stats.hi), lo = _mm512_set1_ps(stats.lo),
               rstd = _mm512_set1_ps(stats.rstd), g_centre = _mm512_set1_ps(g_mean),
               gx_scale = _mm512_set1_ps(gx_mean);
  for (int64_t j = 0; j < cols; j += 16) {
    const auto offset = static_cast<uintptr_t>(j) * sizeof(float);
    _mm_prefetch(reinterpret_cast<const char*>(next_dy + offset), _MM_HINT_T0);
    _mm_prefetch(reinterpret_cast<const char*>(next_x + offset), _MM_HINT_T0);
    const int64_t count = cols - j;
    const auto lanes = static_cast<__mmask16>(first_lanes16(count));
    const __m512 dy16 = load16(dy + j, count);
    const __m512 xhat =
        _mm512_mul_ps(_mm512_sub_ps(_mm512_sub_ps(load16(x + j, count), hi), lo), rstd);
    if constexpr (kInput) {
      const __m512 g = _mm512_mul_ps(dy16, load16(weight + j, count));
      const __m512 dx16 =
          _mm512_mul_ps(rstd, _mm512_fnmadd_ps(xhat, gx_scale, _mm512_sub_ps(g, g_centre)));
      _mm512_mask_storeu_ps(dx + j, lanes, dx16);
    }
    if constexpr (kColumns) {
      _mm512_mask_storeu_ps(dweight + j, lanes,
                            _mm512_fmadd_ps(dy16, xhat, load16(dweight + j, count)));
      _mm512_mask_storeu_ps(dbias + j, lanes, _mm512_add_ps(dy16, load16(dbias + j, count)));
    }
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

__attribute__((target("avx512f"))) void layer_norm_backward_rows_avx512(
    const float* dy, const float* x, const float* weight, const double* mean, const double* rstd,
    int64_t rows, int64_t cols, float* dx, float* dweight, float* dbias) {
  const auto n = static_cast<double>(cols);
  const auto row_bytes = static_cast<uintptr_t>(cols) * sizeof(float);
  for (int64_t r = 0; r < rows; ++r) {
    const float* dy_row = dy + r * cols;
    const float* x_row = x + r * cols;
    const RowStats<float> stats(mean[r], rstd[r]);
    const uintptr_t next_dy = reinterpret_cast<uintptr_t>(dy_row) + row_bytes;
    const uintptr_t next_x = reinterpret_cast<uintptr_t>(x_row) + row_bytes;
    if (dx == nullptr) {
      gradient_row<false, true>(dy_row, x_row, weight, cols, stats, 0.0f, 0.0f, next_dy, next_x,
                                nullptr, dweight, dbias);
      continue;
    }
    double g_sum = 0, gx_sum = 0;
    gradient_sums(dy_row, x_row, weight, cols, stats, g_sum, gx_sum);
    const auto g_mean = static_cast<float>(g_sum / n);
    const auto gx_mean = static_cast<float>(gx_sum / n);
    if (dweight != nullptr)
      gradient_row<true, true>(dy_row, x_row, weight, cols, stats, g_mean, gx_mean, next_dy, next_x,
                               dx + r * cols, dweight, dbias);
    else
      gradient_row<true, false>(dy_row, x_row, weight, cols, stats, g_mean, gx_mean, next_dy,
                                next_x, dx + r * cols, nullptr, nullptr);
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

void layer_norm_backward_rows_avx512(const float*, const float*, const float*, const double*,
                                     const double*, int64_t, int64_t, float*, float*, float*) {
  fail_built_without_avx512("layer_norm_backward_rows_avx512");
}

}  // namespace graft::kernels::cpu

#endif
