// widen16: sixteen float16 or bfloat16 values widened to float32 in one AVX-512 register, the
// one way half_blocks_avx512.cpp's blocks and reduce_avx512.cpp's 16-bit sums both widen. For
// AVX-512 code only, behind cpu_runs_avx512(), as zmm_transpose.h is.
#pragma once

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>

#include <type_traits>

#include "graft/core/half.h"

namespace graft::kernels::cpu {

// The floats of the 16-bit values whose bits are `bits`: vcvtph2ps for float16 (F16C's
// instruction at twice the width, the same bits), and for bfloat16, the top half of a float's
// bits, a shift.
template <class H>
__attribute__((target("avx512f"), always_inline)) inline __m512 widen16(__m256i bits) {
  static_assert(std::is_same_v<H, Half> || std::is_same_v<H, BFloat16>);
  if constexpr (std::is_same_v<H, Half>)
    return _mm512_cvtph_ps(bits);
  else
    return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(bits), 16));
}

// widen16 of the 16 values at p.
template <class H>
__attribute__((target("avx512f"), always_inline)) inline __m512 widen16(const H* p) {
  return widen16<H>(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
}

}  // namespace graft::kernels::cpu

#endif
