// widen8 and store_narrowed16: float16 or bfloat16 values widened to float32 in one AVX2
// register, and floats rounded back, as half_lanes_avx512.h does at twice the width: for the
// 8-lane kernels of graft's build target, x86-64-v3 (half_arithmetic_v3.cpp's one-pass
// arithmetic, reduce_v3.cpp's 16-bit sums). Only where the build has AVX2 and F16C.
#pragma once

#include "graft/core/half.h"

#if GRAFT_F16C_CONVERSIONS && defined(__AVX2__)
#include <immintrin.h>

#include <cstdint>
#include <cstring>
#include <type_traits>

namespace graft::kernels::cpu {

// The eight floats of the 16-bit values at p: vcvtph2ps for float16 (graft::Half's own
// conversion), and for bfloat16, the top half of a float's bits, a shift.
template <class H>
inline __m256 widen8(const H* p) {
  static_assert(std::is_same_v<H, Half> || std::is_same_v<H, BFloat16>);
  const __m128i bits = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
  if constexpr (std::is_same_v<H, Half>)
    return _mm256_cvtph_ps(bits);
  else
    return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(bits), 16));
}

// widen8 of the first `count` values at p (all 8 from 8 on), the other lanes +0.0, nothing
// read past them.
template <class H>
inline __m256 widen8(const H* p, int64_t count) {
  if (count >= 8) return widen8(p);
  H part[8] = {};
  std::memcpy(part, p, static_cast<size_t>(count) * sizeof(H));
  return widen8(part);
}

// BFloat16's own rounding (core/half.h) of eight floats, lane for lane, into the low half of
// each 32-bit lane: add 0x7fff, and one more where the kept part is odd (ties to even), keep
// the top half; a NaN keeps its top half, made quiet.
inline __m256i bfloat16_bits8(__m256 x) {
  const __m256i bits = _mm256_castps_si256(x);
  const __m256i odd = _mm256_and_si256(_mm256_srli_epi32(bits, 16), _mm256_set1_epi32(1));
  const __m256i rounded = _mm256_srli_epi32(
      _mm256_add_epi32(bits, _mm256_add_epi32(_mm256_set1_epi32(0x7fff), odd)), 16);
  // Both sides are below 2^31, so the signed compare is the unsigned one.
  const __m256i nan = _mm256_cmpgt_epi32(_mm256_and_si256(bits, _mm256_set1_epi32(0x7fffffff)),
                                         _mm256_set1_epi32(0x7f800000));
  const __m256i kept = _mm256_or_si256(_mm256_srli_epi32(bits, 16), _mm256_set1_epi32(0x0040));
  return _mm256_blendv_epi8(rounded, kept, nan);
}

// out[0, 16) = low's and high's floats rounded to H, to nearest, ties to even: vcvtps2ph for
// float16 (the bits of graft::Half's conversion), BFloat16's rounding for bfloat16, the two
// registers' 16-bit halves packed (within each 128-bit lane) and put in order.
template <class H>
inline void store_narrowed16(H* out, __m256 low, __m256 high) {
  if constexpr (std::is_same_v<H, Half>) {
    _mm_storeu_si128(reinterpret_cast<__m128i*>(out),
                     _mm256_cvtps_ph(low, _MM_FROUND_TO_NEAREST_INT));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(out + 8),
                     _mm256_cvtps_ph(high, _MM_FROUND_TO_NEAREST_INT));
  } else {
    const __m256i packed = _mm256_packus_epi32(bfloat16_bits8(low), bfloat16_bits8(high));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(out),
                        _mm256_permute4x64_epi64(packed, _MM_SHUFFLE(3, 1, 2, 0)));
  }
}

}  // namespace graft::kernels::cpu

#endif
