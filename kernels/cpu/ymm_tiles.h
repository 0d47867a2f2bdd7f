// The AVX2 GEMM tile of the packed GEMM's float32 kernel for CPUs without AVX-512
// (packed_gemm.h), and the 8 x 8 transpose that it and DirectConv (direct_conv_v3.h) pack and
// unpack with. AVX2 and FMA are graft's build target, so these are plain inline code; a build
// for an older target (GRAFT_YMM_KERNELS 0) has none of them.
//
// The tile is the 6 x 16 one of the BLAS kernels written for AVX2 (OpenBLAS's and BLIS's
// Haswell kernels): 12 ymm registers of sums, with b's two vectors of a k-step and a's
// broadcast value 15 of the 16, each k-step two loads, six broadcasts and twelve FMAs. Seven
// rows would need 17 registers; 8 columns of twelve rows, as many FMAs, would take twelve
// broadcasts a step to feed them.
#pragma once

#include <cstdint>

#if defined(__AVX2__) && defined(__FMA__)
#define GRAFT_YMM_KERNELS 1
#include <immintrin.h>
#else
#define GRAFT_YMM_KERNELS 0
#endif

namespace graft::kernels::cpu {

// Rows of a's (and of the output's) in a tile at most; its columns are 16.
inline constexpr int64_t kYmmTileRows = 6;

#if GRAFT_YMM_KERNELS

// out (kRows, 16) = a's rows [0, kRows) times b's 16 columns: a's value (i, w) at
// a[row[i] + word[w]] (tile_operands.h), b's of word w at b + w * b_word; the sums in registers
// for the whole of k, from zero, or from out's values with `accumulate`.
template <int64_t kRows, class Rows, class Words>
void ymm_tile(const float* a, Rows row, Words word, const float* b, int64_t b_word, int64_t words,
              float* out, int64_t out_stride, bool accumulate) {
  static_assert(kRows >= 1 && kRows <= kYmmTileRows);
  __m256 sums[kRows][2];
#pragma GCC unroll 6
  for (int64_t i = 0; i < kRows; ++i) {
    sums[i][0] = accumulate ? _mm256_loadu_ps(out + i * out_stride) : _mm256_setzero_ps();
    sums[i][1] = accumulate ? _mm256_loadu_ps(out + i * out_stride + 8) : _mm256_setzero_ps();
  }
  for (int64_t w = 0; w < words; ++w) {
    const __m256 b_low = _mm256_loadu_ps(b + w * b_word);
    const __m256 b_high = _mm256_loadu_ps(b + w * b_word + 8);
    const float* a_word = a + word[w];
#pragma GCC unroll 6
    for (int64_t i = 0; i < kRows; ++i) {
      const __m256 a_value = _mm256_broadcast_ss(a_word + row[i]);
      sums[i][0] = _mm256_fmadd_ps(a_value, b_low, sums[i][0]);
      sums[i][1] = _mm256_fmadd_ps(a_value, b_high, sums[i][1]);
    }
  }
#pragma GCC unroll 6
  for (int64_t i = 0; i < kRows; ++i) {
    _mm256_storeu_ps(out + i * out_stride, sums[i][0]);
    _mm256_storeu_ps(out + i * out_stride + 8, sums[i][1]);
  }
}

// The 8 x 8 block in rows[] transposed in place: rows[i][j] <- rows[j][i].
inline void transpose_8x8(__m256 (&rows)[8]) {
  __m256 pairs[8], quads[8];
  for (int i = 0; i < 8; i += 2) {
    pairs[i] = _mm256_unpacklo_ps(rows[i], rows[i + 1]);
    pairs[i + 1] = _mm256_unpackhi_ps(rows[i], rows[i + 1]);
  }
  for (int i = 0; i < 8; i += 4) {
    quads[i] = _mm256_shuffle_ps(pairs[i], pairs[i + 2], 0x44);
    quads[i + 1] = _mm256_shuffle_ps(pairs[i], pairs[i + 2], 0xee);
    quads[i + 2] = _mm256_shuffle_ps(pairs[i + 1], pairs[i + 3], 0x44);
    quads[i + 3] = _mm256_shuffle_ps(pairs[i + 1], pairs[i + 3], 0xee);
  }
  for (int i = 0; i < 4; ++i) {
    rows[i] = _mm256_permute2f128_ps(quads[i], quads[i + 4], 0x20);
    rows[i + 4] = _mm256_permute2f128_ps(quads[i], quads[i + 4], 0x31);
  }
}

#endif  // GRAFT_YMM_KERNELS

}  // namespace graft::kernels::cpu
