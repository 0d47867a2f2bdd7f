// math_v3.h's functions: math_avx512.cpp's, step for step, in AVX2 and FMA.
#include "graft/kernels/cpu/math_v3.h"

#include <iterator>

#include "graft/kernels/cpu/cpu_features.h"
#include "graft/kernels/functors.h"

#if GRAFT_MATH_V3
#include <immintrin.h>

#include "graft/kernels/cpu/lane_masks.h"

#include "graft/kernels/cpu/math_constants.h"

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

// erf(x) for 8 floats: erf16's steps (Eigen's generic_fast_erf_float).
inline __m256 erf8(__m256 x) {
  using namespace erf_constants;
  x = _mm256_max_ps(splat(-kClamp), _mm256_min_ps(splat(kClamp), x));  // NaN passes
  const __m256 x2 = _mm256_mul_ps(x, x);
  __m256 p = splat(kP[0]);
#pragma GCC unroll 6
  for (int k = 1; k < 7; ++k) p = _mm256_fmadd_ps(x2, p, splat(kP[k]));
  p = _mm256_mul_ps(x, p);
  __m256 q = splat(kQ[0]);
#pragma GCC unroll 4
  for (int k = 1; k < 5; ++k) q = _mm256_fmadd_ps(x2, q, splat(kQ[k]));
  return _mm256_div_ps(p, q);
}

// Phi(x) = (1 + erf(x / sqrt 2)) / 2.
inline __m256 normal_cdf8(__m256 x) {
  const __m256 erf = erf8(_mm256_mul_ps(x, splat(erf_constants::kSqrtHalf)));
  return _mm256_mul_ps(splat(0.5f), _mm256_add_ps(splat(1.0f), erf));
}

// 1 / (1 + e^-x), as SigmoidOp.
inline __m256 sigmoid8(__m256 x) {
  const __m256 e = exp8(_mm256_sub_ps(_mm256_setzero_ps(), x));
  return _mm256_div_ps(splat(1.0f), _mm256_add_ps(splat(1.0f), e));
}

// e^x - 1 for 4 doubles of float values: math_avx512.cpp's expm1_8 step for step, 2^k (k in
// [-159, 129] after the clamps: a normal double) built in the exponent field, where vscalefpd
// scales by it; both products by 2^k are exact either way.
inline __m256d expm1_4(__m256d x) {
  using namespace exp_series_constants;
  const __m256d zero = _mm256_cmp_pd(x, _mm256_setzero_pd(), _CMP_EQ_OQ);
  const __m256d t =
      _mm256_max_pd(_mm256_set1_pd(kLowest), _mm256_min_pd(_mm256_set1_pd(kHighest), x));
  const __m256d k = _mm256_round_pd(_mm256_mul_pd(t, _mm256_set1_pd(kLog2E)),
                                    _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  const __m256d r = _mm256_fnmadd_pd(k, _mm256_set1_pd(kLn2), t);
  __m256d p = _mm256_set1_pd(kSeries[0]);
  for (size_t i = 1; i < std::size(kSeries); ++i)
    p = _mm256_fmadd_pd(p, r, _mm256_set1_pd(kSeries[i]));
  const __m256d em1 = _mm256_mul_pd(p, r);
  // A NaN lane's k converts to INT_MIN, a finite power: em1 is NaN there already.
  const __m256i biased =
      _mm256_add_epi64(_mm256_cvtepi32_epi64(_mm256_cvtpd_epi32(k)), _mm256_set1_epi64x(1023));
  const __m256d power = _mm256_castsi256_pd(_mm256_slli_epi64(biased, 52));
  const __m256d y =
      _mm256_add_pd(_mm256_mul_pd(em1, power), _mm256_sub_pd(power, _mm256_set1_pd(1.0)));
  return _mm256_blendv_pd(y, x, zero);
}

// expm1 of 8 floats in two halves of 4 doubles, each rounded once to float.
inline __m256 expm1_in_double8(__m256 x) {
  const __m128 low = _mm256_cvtpd_ps(expm1_4(_mm256_cvtps_pd(_mm256_castps256_ps128(x))));
  const __m128 high = _mm256_cvtpd_ps(expm1_4(_mm256_cvtps_pd(_mm256_extractf128_ps(x, 1))));
  return _mm256_set_m128(high, low);
}

// x sigmoid(t) as x / (1 + e^-t): SiLU (t = x) and GELU's tanh form (t = 2u).
inline __m256 times_sigmoid8(__m256 x, __m256 t) {
  const __m256 e = exp8(_mm256_sub_ps(_mm256_setzero_ps(), t));
  return _mm256_div_ps(x, _mm256_add_ps(splat(1.0f), e));
}

// The derivative of x sigmoid(t(x)), s (1 + x (1 - s) t'), from s = sigmoid(t) and t'.
inline __m256 times_sigmoid_slope8(__m256 x, __m256 s, __m256 dt) {
  const __m256 rest = _mm256_mul_ps(_mm256_sub_ps(splat(1.0f), s), dt);
  return _mm256_mul_ps(s, _mm256_fmadd_ps(x, rest, splat(1.0f)));
}

// 2u = 2 sqrt(2 / pi) (x + 0.044715 x^3), the argument of GELU's tanh form (GeluTanhOp).
constexpr float kTwiceK = 2 * GeluTanhOp::kSqrtTwoOverPi;
inline __m256 gelu_tanh_twice_u8(__m256 x) {
  const __m256 cube = _mm256_mul_ps(_mm256_mul_ps(x, x), x);
  return _mm256_mul_ps(splat(kTwiceK), _mm256_fmadd_ps(splat(GeluTanhOp::kCubic), cube, x));
}

// out[i] = f(in[i]) for i < n, f taking and giving 8 floats.
template <class F>
inline void map8(const float* in, float* out, int64_t n, const F& f) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) _mm256_storeu_ps(out + i, f(_mm256_loadu_ps(in + i)));
  if (i < n) {
    const __m256i lanes = first_lanes8(n - i);
    _mm256_maskstore_ps(out + i, lanes, f(_mm256_maskload_ps(in + i, lanes)));
  }
}

// out[i] = g[i] f'(x[i]) for i < n, `derivative` giving f' of 8 floats.
template <class F>
inline void gradient8(const float* g, const float* x, float* out, int64_t n, const F& derivative) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8)
    _mm256_storeu_ps(out + i,
                     _mm256_mul_ps(_mm256_loadu_ps(g + i), derivative(_mm256_loadu_ps(x + i))));
  if (i < n) {
    const __m256i lanes = first_lanes8(n - i);
    const __m256 d = derivative(_mm256_maskload_ps(x + i, lanes));
    _mm256_maskstore_ps(out + i, lanes, _mm256_mul_ps(_mm256_maskload_ps(g + i, lanes), d));
  }
}

}  // namespace

void exp_v3(const float* in, float* out, int64_t n) { map8(in, out, n, exp8); }

void expm1_v3(const float* in, float* out, int64_t n) { map8(in, out, n, expm1_in_double8); }

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

void erf_v3(const float* in, float* out, int64_t n) { map8(in, out, n, erf8); }

void gelu_v3(const float* in, float* out, int64_t n) {
  map8(in, out, n, [](__m256 x) { return _mm256_mul_ps(x, normal_cdf8(x)); });
}

// Phi(x) + x phi(x).
void gelu_backward_v3(const float* g, const float* x, float* out, int64_t n) {
  gradient8(g, x, out, n, [](__m256 a) {
    const __m256 pdf = _mm256_mul_ps(exp8(_mm256_mul_ps(_mm256_mul_ps(splat(-0.5f), a), a)),
                                     splat(erf_constants::kInvSqrtTwoPi));
    return _mm256_fmadd_ps(a, pdf, normal_cdf8(a));
  });
}

void sigmoid_v3(const float* in, float* out, int64_t n) { map8(in, out, n, sigmoid8); }

void silu_v3(const float* in, float* out, int64_t n) {
  map8(in, out, n, [](__m256 x) { return times_sigmoid8(x, x); });
}

void silu_backward_v3(const float* g, const float* x, float* out, int64_t n) {
  gradient8(g, x, out, n,
            [](__m256 a) { return times_sigmoid_slope8(a, sigmoid8(a), splat(1.0f)); });
}

void gelu_tanh_v3(const float* in, float* out, int64_t n) {
  map8(in, out, n, [](__m256 x) { return times_sigmoid8(x, gelu_tanh_twice_u8(x)); });
}

void gelu_tanh_backward_v3(const float* g, const float* x, float* out, int64_t n) {
  gradient8(g, x, out, n, [](__m256 a) {
    const __m256 twice_du = _mm256_fmadd_ps(splat(kTwiceK * 3 * GeluTanhOp::kCubic),
                                            _mm256_mul_ps(a, a), splat(kTwiceK));
    return times_sigmoid_slope8(a, sigmoid8(gelu_tanh_twice_u8(a)), twice_du);
  });
}

}  // namespace graft::kernels::cpu

#else

namespace graft::kernels::cpu {

void exp_v3(const float*, float*, int64_t) { fail_built_without_v3("exp_v3"); }
void expm1_v3(const float*, float*, int64_t) { fail_built_without_v3("expm1_v3"); }
float shifted_exp_sum_v3(const float*, float, int64_t) {
  fail_built_without_v3("shifted_exp_sum_v3");
}
void erf_v3(const float*, float*, int64_t) { fail_built_without_v3("erf_v3"); }
void gelu_v3(const float*, float*, int64_t) { fail_built_without_v3("gelu_v3"); }
void gelu_backward_v3(const float*, const float*, float*, int64_t) {
  fail_built_without_v3("gelu_backward_v3");
}
void sigmoid_v3(const float*, float*, int64_t) { fail_built_without_v3("sigmoid_v3"); }
void silu_v3(const float*, float*, int64_t) { fail_built_without_v3("silu_v3"); }
void silu_backward_v3(const float*, const float*, float*, int64_t) {
  fail_built_without_v3("silu_backward_v3");
}
void gelu_tanh_v3(const float*, float*, int64_t) { fail_built_without_v3("gelu_tanh_v3"); }
void gelu_tanh_backward_v3(const float*, const float*, float*, int64_t) {
  fail_built_without_v3("gelu_tanh_backward_v3");
}

}  // namespace graft::kernels::cpu

#endif
