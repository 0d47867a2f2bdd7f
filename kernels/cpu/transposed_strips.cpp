// The register transposes of transposed_strips.h.
#include "graft/kernels/cpu/transposed_strips.h"

#include "graft/core/error.h"
#include "graft/kernels/cpu/cpu_features.h"

#if defined(__x86_64__) && defined(__GNUC__)
#include "graft/kernels/cpu/avx512_file.h"
#include "graft/kernels/cpu/lane_masks.h"
#include "graft/kernels/cpu/zmm_transpose.h"

namespace graft::kernels::cpu {
namespace {

// 4-byte elements: a column's 16 rows are one 64-byte load.
__attribute__((target("avx512f"))) void transpose_words(const uint32_t* src, int64_t col_stride,
                                                        int64_t rows, int64_t cols, uint32_t* buf,
                                                        int64_t buf_stride) {
  const auto lanes = static_cast<__mmask16>(first_lanes16(rows));
  for (int64_t j0 = 0; j0 < cols; j0 += 16) {
    __m512 block[16];
    for (int64_t k = 0; k < 16; ++k)
      block[k] = j0 + k < cols ? _mm512_maskz_loadu_ps(lanes, src + (j0 + k) * col_stride)
                               : _mm512_setzero_ps();
    transpose_16x16(block);
    const auto stored = static_cast<__mmask16>(first_lanes16(cols - j0));
    for (int64_t i = 0; i < rows; ++i)
      _mm512_mask_storeu_ps(buf + i * buf_stride + j0, stored, block[i]);
  }
}

// 2-byte elements: a column's 16 rows widened to 32-bit lanes, the same transpose, narrowed
// back as they are stored. The same loop as transpose_words, not one template for both: its
// 16-bit loads need AVX-512 BW, and GCC inlines no helper compiled for BW into the AVX512F-only
// function that serves 4-byte strips on CPUs without it.
__attribute__((target("avx512f,avx512bw,avx512vl"))) void transpose_halves(
    const uint16_t* src, int64_t col_stride, int64_t rows, int64_t cols, uint16_t* buf,
    int64_t buf_stride) {
  const auto lanes = static_cast<__mmask16>(first_lanes16(rows));
  for (int64_t j0 = 0; j0 < cols; j0 += 16) {
    __m512 block[16];
    for (int64_t k = 0; k < 16; ++k)
      block[k] = j0 + k < cols ? _mm512_castsi512_ps(_mm512_cvtepu16_epi32(
                                     _mm256_maskz_loadu_epi16(lanes, src + (j0 + k) * col_stride)))
                               : _mm512_setzero_ps();
    transpose_16x16(block);
    const auto stored = static_cast<__mmask16>(first_lanes16(cols - j0));
    for (int64_t i = 0; i < rows; ++i)
      _mm512_mask_cvtepi32_storeu_epi16(buf + i * buf_stride + j0, stored,
                                        _mm512_castps_si512(block[i]));
  }
}

}  // namespace

bool strips_take(int64_t bytes) {
  static const bool halves = cpu_runs_avx512() && __builtin_cpu_supports("avx512bw");
  return (bytes == 4 && cpu_runs_avx512()) || (bytes == 2 && halves);
}

void transpose_strip(int64_t bytes, const void* src, int64_t col_stride, int64_t rows, int64_t cols,
                     void* buf, int64_t buf_stride) {
  if (bytes == 4)
    transpose_words(static_cast<const uint32_t*>(src), col_stride, rows, cols,
                    static_cast<uint32_t*>(buf), buf_stride);
  else
    transpose_halves(static_cast<const uint16_t*>(src), col_stride, rows, cols,
                     static_cast<uint16_t*>(buf), buf_stride);
}

}  // namespace graft::kernels::cpu

#else

namespace graft::kernels::cpu {

bool strips_take(int64_t) { return false; }

void transpose_strip(int64_t, const void*, int64_t, int64_t, int64_t, void*, int64_t) {
  detail::fail("transpose_strip(): graft was built without its AVX-512 kernels");
}

}  // namespace graft::kernels::cpu

#endif
