// Blocks of 16-bit floats to float32 and back, at the speed of the hardware's vector
// conversions: what lets the CPU loops run a 16-bit op as a float32 one on a block at a time.
//
// Element by element, bfloat16 converts in a shift, which GCC vectorises; float16 converts
// through _Float16 and F16C, which GCC 12 leaves scalar (one vcvtph2ps per element): a
// float16 add ran at a third of bfloat16's speed. So float16 blocks take F16C's eight-wide
// instructions explicitly, vcvtph2ps to widen and vcvtps2ph with round-to-nearest-even to
// narrow: the same bits as graft::Half's own conversions (the instructions behind them).
#pragma once

#include <cstdint>

#include "graft/core/half.h"

namespace graft::kernels::cpu {

// out[i] = float(in[i]) for i < n.
template <class H>
void widen_block(const H* in, float* out, int64_t n) {
  int64_t i = 0;
#if GRAFT_F16C_CONVERSIONS
  if constexpr (std::is_same_v<H, Half>) {
    for (; i + 8 <= n; i += 8)
      _mm256_storeu_ps(out + i,
                       _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(in + i))));
  }
#endif
  for (; i < n; ++i) out[i] = static_cast<float>(in[i]);
}

// out[i] = H(in[i]) for i < n, rounded to nearest, ties to even.
template <class H>
void narrow_block(const float* in, H* out, int64_t n) {
  int64_t i = 0;
#if GRAFT_F16C_CONVERSIONS
  if constexpr (std::is_same_v<H, Half>) {
    for (; i + 8 <= n; i += 8)
      _mm_storeu_si128(reinterpret_cast<__m128i*>(out + i),
                       _mm256_cvtps_ph(_mm256_loadu_ps(in + i), _MM_FROUND_TO_NEAREST_INT));
  }
#endif
  for (; i < n; ++i) out[i] = H(in[i]);
}

}  // namespace graft::kernels::cpu
