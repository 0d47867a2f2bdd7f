// math_v3.h's exp: exp_constants.h's method in AVX2 and FMA.
#include "graft/kernels/cpu/math_v3.h"

#include "graft/core/error.h"

#if GRAFT_MATH_V3
#include <immintrin.h>

#include "graft/kernels/cpu/exp_constants.h"

namespace graft::kernels::cpu {
namespace {

inline __m256 splat(float value) { return _mm256_set1_ps(value); }

// p 2^n for p in [0.7, 1.42] (e^r) and an integral n in [-150, 129] (exp8's clamps), rounded
// once, as vscalefps gives it. Where the result is a normal float (n in [-125, 127]: p's biased
// exponent is 126 or 127), n is added to p's exponent field, exact. Elsewhere (a denormal or
// zero result, an infinite one, a NaN lane) p is scaled by 2^(n/2), exact (every such product
// is a normal float), then by 2^(n - n/2), both powers normal floats: only the second rounds.
inline __m256 scaled(__m256 p, __m256 n) {
  const __m256i k = _mm256_cvtps_epi32(n);  // a NaN gives INT_MIN, outside the range
  const __m256i normal = _mm256_and_si256(_mm256_cmpgt_epi32(k, _mm256_set1_epi32(-126)),
                                          _mm256_cmpgt_epi32(_mm256_set1_epi32(128), k));
  if (_mm256_movemask_ps(_mm256_castsi256_ps(normal)) == 0xff)
    return _mm256_castsi256_ps(_mm256_add_epi32(_mm256_castps_si256(p), _mm256_slli_epi32(k, 23)));
  const auto power_of_two = [](__m256i e) {
    return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(e, _mm256_set1_epi32(127)), 23));
  };
  const __m256i half = _mm256_srai_epi32(k, 1);
  return _mm256_mul_ps(_mm256_mul_ps(p, power_of_two(half)),
                       power_of_two(_mm256_sub_epi32(k, half)));
}

// e^x for 8 floats: exp16's steps (math_avx512.cpp).
inline __m256 exp8(__m256 x) {
  using namespace exp_constants;
  // min/max return their second operand when either is NaN, so a NaN x passes through.
  x = _mm256_min_ps(splat(kHighest), x);
  x = _mm256_max_ps(splat(kLowest), x);
  const __m256 shifter = splat(kShifter);
  const __m256 n = _mm256_sub_ps(_mm256_fmadd_ps(x, splat(kLog2E), shifter), shifter);
  __m256 r = _mm256_fnmadd_ps(n, splat(kLn2High), x);
  r = _mm256_fnmadd_ps(n, splat(kLn2Low), r);
  __m256 p = splat(kPolynomial[0]);
#pragma GCC unroll 6
  for (int k = 1; k < 7; ++k) p = _mm256_fmadd_ps(p, r, splat(kPolynomial[k]));
  return scaled(p, n);
}

// The lanes of the first `count` of 8: all ones there, zero past it.
inline __m256i first_lanes8(int64_t count) {
  return _mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int32_t>(count < 8 ? count : 8)),
                            _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

}  // namespace

void exp_v3(const float* in, float* out, int64_t n) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) _mm256_storeu_ps(out + i, exp8(_mm256_loadu_ps(in + i)));
  if (i < n) {
    const __m256i lanes = first_lanes8(n - i);
    _mm256_maskstore_ps(out + i, lanes, exp8(_mm256_maskload_ps(in + i, lanes)));
  }
}

float shifted_exp_sum_v3(const float* in, float shift, int64_t n) {
  __m256 sum = _mm256_setzero_ps();
  int64_t i = 0;
  for (; i + 8 <= n; i += 8)
    sum = _mm256_add_ps(sum, exp8(_mm256_sub_ps(_mm256_loadu_ps(in + i), splat(shift))));
  if (i < n) {  // lanes past n: exp(-shift), left out
    const __m256i lanes = first_lanes8(n - i);
    const __m256 e = exp8(_mm256_sub_ps(_mm256_maskload_ps(in + i, lanes), splat(shift)));
    sum = _mm256_add_ps(sum, _mm256_and_ps(e, _mm256_castsi256_ps(lanes)));
  }
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(sum), _mm256_extractf128_ps(sum, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_shuffle_ps(s, s, _MM_SHUFFLE(1, 1, 1, 1)));
  return _mm_cvtss_f32(s);
}

}  // namespace graft::kernels::cpu

#else

namespace graft::kernels::cpu {

void exp_v3(const float*, float*, int64_t) {
  detail::fail("exp_v3(): graft was built without AVX2 and FMA");
}
float shifted_exp_sum_v3(const float*, float, int64_t) {
  detail::fail("shifted_exp_sum_v3(): graft was built without AVX2 and FMA");
}

}  // namespace graft::kernels::cpu

#endif
