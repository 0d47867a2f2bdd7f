// bfloat16_dot_rows: what one AMX tdpbf16ps computes, done in AVX512-BF16's vdpbf16ps, for the
// bfloat16 convolution's engine on CPUs without AMX (bfloat16_conv.h). Both operands are 32-bit
// words, each a pair of bfloat16 along k; a product of two words is the sum of the pairs'
// two products, added in float32. For AVX-512 code only, behind cpu_runs(kAvx512BFloat16), in
// .cpp files that include avx512_file.h.
#pragma once

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>

#include <cstdint>
#include <cstring>

namespace graft::kernels::cpu {

// Rows of a block the accumulators hold: 8 rows x 32 columns in 16 zmm registers, the rest of
// the 32 for b's two vectors and a's broadcasts.
inline constexpr int64_t kDotRows = 8;

#define GRAFT_AVX512_BF16 __attribute__((target("avx512f,avx512bf16"), always_inline)) inline

GRAFT_AVX512_BF16 void zero_rows(__m512 (&acc)[kDotRows][2]) {
  for (auto& row : acc) row[0] = row[1] = _mm512_setzero_ps();
}

// acc += a (kDotRows x words) . b (words x 32), where a's word (r, w) is at a + r * a_stride + w
// and b's row w at b + w * b_stride (32 words). Words are read by memcpy: the convolution's
// operands are bfloat16 arrays seen as words.
GRAFT_AVX512_BF16 void bfloat16_dot_rows(__m512 (&acc)[kDotRows][2], const uint32_t* a,
                                         int64_t a_stride, const uint32_t* b, int64_t b_stride,
                                         int64_t words) {
  for (int64_t w = 0; w < words; ++w) {
    const auto b_low = reinterpret_cast<__m512bh>(_mm512_loadu_si512(b + w * b_stride));
    const auto b_high = reinterpret_cast<__m512bh>(_mm512_loadu_si512(b + w * b_stride + 16));
#pragma GCC unroll 8
    for (int64_t r = 0; r < kDotRows; ++r) {
      uint32_t word;
      std::memcpy(&word, a + r * a_stride + w, sizeof(word));
      const auto pair = reinterpret_cast<__m512bh>(_mm512_set1_epi32(static_cast<int>(word)));
      acc[r][0] = _mm512_dpbf16_ps(acc[r][0], pair, b_low);
      acc[r][1] = _mm512_dpbf16_ps(acc[r][1], pair, b_high);
    }
  }
}

// The accumulators into rows of 32 floats, `stride` apart.
GRAFT_AVX512_BF16 void store_rows(const __m512 (&acc)[kDotRows][2], float* out, int64_t stride) {
  for (int64_t r = 0; r < kDotRows; ++r) {
    _mm512_storeu_ps(out + r * stride, acc[r][0]);
    _mm512_storeu_ps(out + r * stride + 16, acc[r][1]);
  }
}

}  // namespace graft::kernels::cpu

#endif
