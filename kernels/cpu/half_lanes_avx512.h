// widen16 and narrow16: sixteen float16 or bfloat16 values widened to float32 in one AVX-512
// register, and sixteen floats rounded back, the one way half_blocks_avx512.cpp's blocks,
// half_arithmetic_avx512.cpp's fused loops and reduce_avx512.cpp's 16-bit sums convert. For
// AVX-512 code only, behind cpu_runs_avx512(), as zmm_transpose.h is.
#pragma once

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>

#include <cstdint>
#include <cstring>
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

// widen16 of the first `count` values at p (all 16 from 16 on), the other lanes +0.0: a partial
// run copied out first, zero-padded, since a masked load of 16-bit lanes needs AVX512-BW, which
// cpu_runs_avx512() does not ask for.
template <class H>
__attribute__((target("avx512f"), always_inline)) inline __m512 widen16(const H* p, int64_t count) {
  if (count >= 16) return widen16(p);
  H part[16] = {};
  std::memcpy(part, p, static_cast<size_t>(count) * sizeof(H));
  return widen16(part);
}

// BFloat16's own rounding (core/half.h), lane for lane: add 0x7fff, and one more where the kept
// part is odd (ties to even), keep the top half; a NaN keeps its top half, made quiet.
__attribute__((target("avx512f"), always_inline)) inline __m256i bfloat16_by_integers(
    __m512i bits) {
  const __m512i odd = _mm512_and_si512(_mm512_srli_epi32(bits, 16), _mm512_set1_epi32(1));
  const __m512i rounded = _mm512_srli_epi32(
      _mm512_add_epi32(bits, _mm512_add_epi32(_mm512_set1_epi32(0x7fff), odd)), 16);
  const __mmask16 nan = _mm512_cmpgt_epu32_mask(
      _mm512_and_si512(bits, _mm512_set1_epi32(0x7fffffff)), _mm512_set1_epi32(0x7f800000));
  const __m512i kept = _mm512_or_si512(_mm512_srli_epi32(bits, 16), _mm512_set1_epi32(0x0040));
  return _mm512_cvtepi32_epi16(_mm512_mask_blend_epi32(nan, rounded, kept));
}

// AVX512-BF16's vcvtneps2bf16 rounds as bfloat16_by_integers does, NaNs included, in one
// instruction where the integer steps take ten; but it counts a subnormal float (below 2^-126)
// as zero, so a vector with one goes the integer way (subnormal floats are rare: the smallest
// normal is 1.2e-38). These instructions are written as inline assembly: GCC inlines no
// function compiled for AVX512-BF16 (or AVX512-DQ, whose vfpclassps finds the subnormals)
// into an AVX512F one, and the loops that call these serve CPUs without them too (their
// instantiations that reach them are chosen at run time, behind cpu_runs_avx512_bf16(), which
// asks for both).
__attribute__((target("avx512f"), always_inline)) inline __mmask16 subnormal_lanes(__m512 x) {
  __mmask16 lanes;
  asm("vfpclassps $0x20, %1, %0" : "=k"(lanes) : "v"(x));  // 0x20: the subnormal class
  return lanes;
}

__attribute__((target("avx512f"), always_inline)) inline __m256i bfloat16_by_instruction(__m512 x) {
  if (subnormal_lanes(x) != 0) return bfloat16_by_integers(_mm512_castps_si512(x));
  __m256i narrowed;
  asm("vcvtneps2bf16 %1, %0" : "=v"(narrowed) : "v"(x));
  return narrowed;
}

// How narrow16 and store_narrowed32 round to bfloat16: by bfloat16_by_integers on any AVX-512
// CPU, or by the instruction, only where cpu_runs_avx512_bf16().
enum class BFloat16Narrowing { kIntegerSteps, kInstruction };

// The bits of the sixteen floats of x rounded to H, to nearest, ties to even: vcvtps2ph for
// float16 (F16C's instruction at twice the width, the same bits as graft::Half's conversion),
// and for bfloat16 as kNarrowing says.
template <class H, BFloat16Narrowing kNarrowing = BFloat16Narrowing::kIntegerSteps>
__attribute__((target("avx512f"), always_inline)) inline __m256i narrow16(__m512 x) {
  static_assert(std::is_same_v<H, Half> || std::is_same_v<H, BFloat16>);
  if constexpr (std::is_same_v<H, Half>)
    return _mm512_cvtps_ph(x, _MM_FROUND_TO_NEAREST_INT);
  else if constexpr (kNarrowing == BFloat16Narrowing::kInstruction)
    return bfloat16_by_instruction(x);
  else
    return bfloat16_by_integers(_mm512_castps_si512(x));
}

// out[0, 32) = low's and high's floats rounded as narrow16 rounds them. For bfloat16 by the
// instruction, one test and one vcvtne2ps2bf16 for both (narrowing alone, 4096 floats in L1, one
// thread of the Xeon, 0.062 -> 0.046 ns a float against a vector at a time: float16's rate);
// otherwise two narrow16 and two stores (joined into one register and one store, a float16
// add of a million elements ran 52 -> 61 us on the EPYC: Zen 4 does the join in the shuffle
// unit, which vcvtps2ph keeps busy).
template <class H, BFloat16Narrowing kNarrowing = BFloat16Narrowing::kIntegerSteps>
__attribute__((target("avx512f"), always_inline)) inline void store_narrowed32(H* out, __m512 low,
                                                                               __m512 high) {
  if constexpr (std::is_same_v<H, BFloat16> && kNarrowing == BFloat16Narrowing::kInstruction) {
    if ((subnormal_lanes(low) | subnormal_lanes(high)) == 0) {
      __m512i narrowed;  // low's values in the lower half
      asm("vcvtne2ps2bf16 %2, %1, %0" : "=v"(narrowed) : "v"(high), "v"(low));
      _mm512_storeu_si512(out, narrowed);
      return;
    }
  }
  _mm256_storeu_si256(reinterpret_cast<__m256i*>(out), narrow16<H, kNarrowing>(low));
  _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + 16), narrow16<H, kNarrowing>(high));
}

}  // namespace graft::kernels::cpu

#endif
