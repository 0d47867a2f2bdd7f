// The AVX-512 float32 functions of math_avx512.h.
#include "graft/kernels/cpu/math_avx512.h"

#include <cmath>
#include <initializer_list>
#include <iterator>

#include "graft/kernels/cpu/cpu_features.h"
#include "graft/kernels/cpu/lane_masks.h"
#include "graft/kernels/cpu/math_constants.h"
#include "graft/kernels/functors.h"

#if defined(__x86_64__) && defined(__GNUC__)
#include "graft/kernels/cpu/avx512_file.h"

namespace graft::kernels::cpu {
namespace {

GRAFT_AVX512 __m512 splat(float value) { return _mm512_set1_ps(value); }

// e^x for 16 floats (math_constants.h).
GRAFT_AVX512 __m512 exp16(__m512 x) {
  using namespace exp_constants;
  // min/max return their second operand when either is NaN, so a NaN x passes through.
  x = _mm512_min_ps(splat(kHighest), x);
  x = _mm512_max_ps(splat(kLowest), x);
  const __m512 shifter = splat(kShifter);
  const __m512 n = _mm512_sub_ps(_mm512_fmadd_ps(x, splat(kLog2E), shifter), shifter);
  __m512 r = _mm512_fnmadd_ps(n, splat(kLn2High), x);
  r = _mm512_fnmadd_ps(n, splat(kLn2Low), r);
  __m512 p = splat(kPolynomial[0]);
#pragma GCC unroll 6
  for (int k = 1; k < 7; ++k) p = _mm512_fmadd_ps(p, r, splat(kPolynomial[k]));
  // vscalefps rounds once: results among the denormals are right, and overflow gives inf.
  return _mm512_scalef_ps(p, n);
}

// log(x) for 16 floats: x = m 2^e with m in [sqrt(1/2), sqrt(2)), vgetmantps giving m in
// [1, 2) and vgetexpps e, subnormals included (m past sqrt(2) is halved and e raised);
// log(m) = f - f^2 / 2 + f^3 P(f) with f = m - 1, Cephes's logf polynomial; e ln 2 added in
// two parts, as exp16 subtracts it.
GRAFT_AVX512 __m512 log16(__m512 x) {
  __m512 m = _mm512_getmant_ps(x, _MM_MANT_NORM_1_2, _MM_MANT_SIGN_zero);
  __m512 e = _mm512_getexp_ps(x);
  const __mmask16 high = _mm512_cmp_ps_mask(m, splat(1.41421356237f), _CMP_GT_OQ);
  m = _mm512_mask_mul_ps(m, high, m, splat(0.5f));
  e = _mm512_mask_add_ps(e, high, e, splat(1.0f));
  const __m512 f = _mm512_sub_ps(m, splat(1.0f));
  const __m512 f2 = _mm512_mul_ps(f, f);
  __m512 p = splat(7.0376836292e-2f);
  p = _mm512_fmadd_ps(p, f, splat(-1.1514610310e-1f));
  p = _mm512_fmadd_ps(p, f, splat(1.1676998740e-1f));
  p = _mm512_fmadd_ps(p, f, splat(-1.2420140846e-1f));
  p = _mm512_fmadd_ps(p, f, splat(1.4249322787e-1f));
  p = _mm512_fmadd_ps(p, f, splat(-1.6668057665e-1f));
  p = _mm512_fmadd_ps(p, f, splat(2.0000714765e-1f));
  p = _mm512_fmadd_ps(p, f, splat(-2.4999993993e-1f));
  p = _mm512_fmadd_ps(p, f, splat(3.3333331174e-1f));
  __m512 y = _mm512_mul_ps(_mm512_mul_ps(p, f), f2);  // f^3 P(f)
  y = _mm512_fmadd_ps(e, splat(-2.12194440e-4f), y);  // ln 2's small part
  y = _mm512_fmadd_ps(f2, splat(-0.5f), y);
  __m512 r = _mm512_fmadd_ps(e, splat(0.693359375f), _mm512_add_ps(f, y));  // and its leading bits
  // log(0) = -inf, a negative's log is NaN, log(inf) = inf; a NaN is NaN from f on. Those
  // inputs are the ones whose bits less one, unsigned, reach inf's less one (-0 and the
  // negatives by their sign bit, +0 by wrapping round): one test where most vectors have none.
  const __m512i bits_less_one = _mm512_sub_epi32(_mm512_castps_si512(x), _mm512_set1_epi32(1));
  if (_mm512_cmpge_epu32_mask(bits_less_one, _mm512_set1_epi32(0x7f7fffff)) == 0) return r;
  const __m512 zero = _mm512_setzero_ps();
  r = _mm512_mask_blend_ps(_mm512_cmp_ps_mask(x, zero, _CMP_EQ_OQ), r, splat(-INFINITY));
  r = _mm512_mask_blend_ps(_mm512_cmp_ps_mask(x, zero, _CMP_LT_OQ), r, splat(NAN));
  return _mm512_mask_blend_ps(_mm512_cmp_ps_mask(x, splat(INFINITY), _CMP_EQ_OQ), r,
                              splat(INFINITY));
}

// erf(x) for 16 floats: Eigen's generic_fast_erf_float, step for step (math_constants.h).
GRAFT_AVX512 __m512 erf16(__m512 x) {
  using namespace erf_constants;
  x = _mm512_max_ps(splat(-kClamp), _mm512_min_ps(splat(kClamp), x));  // NaN passes, as in exp16
  const __m512 x2 = _mm512_mul_ps(x, x);
  __m512 p = splat(kP[0]);
#pragma GCC unroll 6
  for (int k = 1; k < 7; ++k) p = _mm512_fmadd_ps(x2, p, splat(kP[k]));
  p = _mm512_mul_ps(x, p);
  __m512 q = splat(kQ[0]);
#pragma GCC unroll 4
  for (int k = 1; k < 5; ++k) q = _mm512_fmadd_ps(x2, q, splat(kQ[k]));
  return _mm512_div_ps(p, q);
}

using erf_constants::kInvSqrtTwoPi;
using erf_constants::kSqrtHalf;

// Phi(x) = (1 + erf(x / sqrt 2)) / 2.
GRAFT_AVX512 __m512 normal_cdf16(__m512 x) {
  const __m512 erf = erf16(_mm512_mul_ps(x, splat(kSqrtHalf)));
  return _mm512_mul_ps(splat(0.5f), _mm512_add_ps(splat(1.0f), erf));
}

// 1 / (1 + e^-x), as SigmoidOp: an e^-x that overflows to inf gives 0.
GRAFT_AVX512 __m512 sigmoid16(__m512 x) {
  const __m512 e = exp16(_mm512_sub_ps(_mm512_setzero_ps(), x));
  return _mm512_div_ps(splat(1.0f), _mm512_add_ps(splat(1.0f), e));
}

// x sigmoid(t) as x / (1 + e^-t), one rounding fewer than the product: SiLU (t = x) and GELU's
// tanh form (t = 2u). An e^-t that overflows to inf gives -0 for a negative x.
GRAFT_AVX512 __m512 times_sigmoid16(__m512 x, __m512 t) {
  const __m512 e = exp16(_mm512_sub_ps(_mm512_setzero_ps(), t));
  return _mm512_div_ps(x, _mm512_add_ps(splat(1.0f), e));
}

// The derivative of x sigmoid(t(x)), s (1 + x (1 - s) t'), from s = sigmoid(t) and t'.
GRAFT_AVX512 __m512 times_sigmoid_slope16(__m512 x, __m512 s, __m512 dt) {
  const __m512 rest = _mm512_mul_ps(_mm512_sub_ps(splat(1.0f), s), dt);  // exact where t' is 1
  return _mm512_mul_ps(s, _mm512_fmadd_ps(x, rest, splat(1.0f)));
}

// 2u = 2 sqrt(2 / pi) (x + 0.044715 x^3), the argument of GELU's tanh form (GeluTanhOp).
GRAFT_AVX512 __m512 gelu_tanh_twice_u16(__m512 x) {
  constexpr float kTwiceK = 2 * GeluTanhOp::kSqrtTwoOverPi;
  const __m512 cube = _mm512_mul_ps(_mm512_mul_ps(x, x), x);
  return _mm512_mul_ps(splat(kTwiceK), _mm512_fmadd_ps(splat(GeluTanhOp::kCubic), cube, x));
}

GRAFT_AVX512 __m512d splat8(double value) { return _mm512_set1_pd(value); }

// log(x) for 8 positive doubles: x = m 2^e by vgetmantpd and vgetexppd, m in [sqrt(1/2),
// sqrt(2)), log(m) = 2 atanh(s) with s = (m - 1) / (m + 1), |s| <= 0.172, by its series to
// s^13: within 1e-15 relative, near 1 too (m - 1 is exact there).
GRAFT_AVX512 __m512d log8(__m512d x) {
  constexpr double kLn2 = 0.6931471805599453;
  __m512d m = _mm512_getmant_pd(x, _MM_MANT_NORM_1_2, _MM_MANT_SIGN_zero);
  __m512d e = _mm512_getexp_pd(x);
  const __mmask8 high = _mm512_cmp_pd_mask(m, splat8(1.4142135623730951), _CMP_GT_OQ);
  m = _mm512_mask_mul_pd(m, high, m, splat8(0.5));
  e = _mm512_mask_add_pd(e, high, e, splat8(1.0));
  const __m512d s = _mm512_div_pd(_mm512_sub_pd(m, splat8(1.0)), _mm512_add_pd(m, splat8(1.0)));
  const __m512d s2 = _mm512_mul_pd(s, s);
  __m512d q = splat8(1.0 / 13);
  for (const double c : {1.0 / 11, 1.0 / 9, 1.0 / 7, 1.0 / 5, 1.0 / 3})
    q = _mm512_fmadd_pd(q, s2, splat8(c));
  const __m512d two_s = _mm512_add_pd(s, s);
  const __m512d log_m = _mm512_fmadd_pd(_mm512_mul_pd(two_s, q), s2, two_s);
  return _mm512_fmadd_pd(e, splat8(kLn2), log_m);
}

// t = k ln 2 + r for 8 doubles, k = t / ln 2 rounded and |r| <= ln 2 / 2; and e^r - 1 by its
// series to r^11 (relative to e^r - 1, r tiny included).
struct ExpParts {
  __m512d k, em1;
};
GRAFT_AVX512 ExpParts exp_parts8(__m512d t) {
  using namespace exp_series_constants;
  const __m512d k =
      _mm512_roundscale_pd(_mm512_mul_pd(t, splat8(kLog2E)), _MM_FROUND_TO_NEAREST_INT);
  const __m512d r = _mm512_fnmadd_pd(k, splat8(kLn2), t);
  __m512d p = splat8(kSeries[0]);
  for (size_t i = 1; i < std::size(kSeries); ++i) p = _mm512_fmadd_pd(p, r, splat8(kSeries[i]));
  return {k, _mm512_mul_pd(p, r)};
}

// x^y for 8 doubles of float values, array_math.h's pow_block step for step in 8 lanes: e^(y
// log(x)) as 2^k (1 + (e^r - 1)) by vscalefpd; the caller keeps only the lanes of its domain.
GRAFT_AVX512 __m512d pow8(__m512d x, __m512d y) {
  const ExpParts parts = exp_parts8(_mm512_mul_pd(y, log8(x)));
  return _mm512_scalef_pd(_mm512_add_pd(parts.em1, splat8(1.0)), parts.k);
}

// e^x - 1 for 8 doubles of float values: 2^k (e^r - 1) + (2^k - 1), where k = 0 (|x| <= ln 2 /
// 2) the series alone, so a tiny x keeps its relative precision. x is clamped to [-110, 89]
// first (beyond, the float result is -1 or inf either way; min and max keep a NaN). A zero
// is answered by itself: the sum's + (2^0 - 1) would turn -0 into +0.
GRAFT_AVX512 __m512d expm1_8(__m512d x) {
  using namespace exp_series_constants;
  const __mmask8 zero = _mm512_cmp_pd_mask(x, _mm512_setzero_pd(), _CMP_EQ_OQ);
  const __m512d clamped = _mm512_max_pd(splat8(kLowest), _mm512_min_pd(splat8(kHighest), x));
  const ExpParts parts = exp_parts8(clamped);
  const __m512d y =
      _mm512_add_pd(_mm512_scalef_pd(parts.em1, parts.k),
                    _mm512_sub_pd(_mm512_scalef_pd(splat8(1.0), parts.k), splat8(1.0)));
  return _mm512_mask_mov_pd(y, zero, x);
}

// The floats of lanes 0-7 (upper = 0) or 8-15 of v as doubles; and 16 results of f (8 doubles
// to 8 doubles) on the lanes of a and b, rounded to float once.
GRAFT_AVX512 __m512d widened_half(__m512 v, int upper) {
  const __m512d bits = _mm512_castps_pd(v);
  return _mm512_cvtps_pd(
      _mm256_castpd_ps(upper ? _mm512_extractf64x4_pd(bits, 1) : _mm512_castpd512_pd256(bits)));
}
template <class F>
GRAFT_AVX512 __m512 in_double16(__m512 a, __m512 b, F f) {
  const __m256 low = _mm512_cvtpd_ps(f(widened_half(a, 0), widened_half(b, 0)));
  const __m256 high = _mm512_cvtpd_ps(f(widened_half(a, 1), widened_half(b, 1)));
  return _mm512_castpd_ps(
      _mm512_insertf64x4(_mm512_castps_pd(_mm512_castps256_ps512(low)), _mm256_castps_pd(high), 1));
}

// x reduced by the multiple of pi / 2 nearest it, for 16 floats with |x| < 8192: z = x - j pi /
// 2 in [-pi / 4, pi / 4], with pi / 2 in three floats by fused multiply-adds, and j's low bits
// (its quadrant, its parity) in those of `shifted`, x / (pi / 2) plus 1.5 * 2^23, which rounds
// j. The first step, x - j C1, is exact (its bits fit a float: C1's lowest is 2^-23 and the
// difference is below 1), and each later one rounds relative to z itself, so z keeps float's
// relative precision where it is tiny (near tan's poles, sin's and cos's zeros). In double (a
// half of the step widened, three multiply-adds, narrowed) tan took 7.8 ns a step of 16 on the
// 2-core Xeon, in float 3.8, as accurate.
struct QuarterTurns {
  __m512 z, shifted;
};
GRAFT_AVX512 QuarterTurns reduced_by_quarter_turns(__m512 x) {
  const __m512 shifter = splat(0x1.8p23f);
  const __m512 shifted = _mm512_fmadd_ps(x, splat(0.63661977236758134f), shifter);
  const __m512 j = _mm512_sub_ps(shifted, shifter);
  __m512 z = _mm512_fnmadd_ps(j, splat(1.57079637050628662f), x);
  z = _mm512_fnmadd_ps(j, splat(-4.37113882867379e-8f), z);
  z = _mm512_fnmadd_ps(j, splat(-1.71512451000588e-15f), z);
  return {z, shifted};
}

// tan(x) for 16 floats with |x| < 8192, Cephes's tanf: x reduced to z, tan(z) = z + z^3 P(z^2)
// on [-pi / 4, pi / 4], and -1 / tan(z) for an odd j. Within 2.8 ulp of every float below 8192
// (all of them tried), as with the reduction in double. The caller answers larger |x| (and
// inf and NaN) otherwise.
GRAFT_AVX512 __m512 tan16(__m512 x) {
  const auto [z, shifted] = reduced_by_quarter_turns(x);
  const __m512 zz = _mm512_mul_ps(z, z);
  __m512 p = splat(9.38540185543e-3f);
  for (const float c : {3.11992232697e-3f, 2.44301354525e-2f, 5.34112807005e-2f, 1.33387994085e-1f,
                        3.33331568548e-1f})
    p = _mm512_fmadd_ps(p, zz, splat(c));
  const __m512 t = _mm512_fmadd_ps(_mm512_mul_ps(p, zz), z, z);
  // j odd: tan(z + pi / 2) = -1 / tan(z).
  const __mmask16 odd = _mm512_test_epi32_mask(_mm512_castps_si512(shifted), _mm512_set1_epi32(1));
  return _mm512_mask_div_ps(t, odd, splat(-1.0f), t);
}

// sin(x) (kQuadrant 0) or cos(x) = sin(x + pi / 2) (kQuadrant 1) for 16 floats with |x| <
// 8192, Cephes's sinf and cosf: x reduced to z as for tan16, then by the quadrant j +
// kQuadrant, sin(z), cos(z), -sin(z) or -cos(z), each by its polynomial on [-pi / 4,
// pi / 4]. Within 1.56 ulp of every float below 8192 (all of them tried), against Eigen's 1;
// a step of 16 took 3.3 ns on the 2-core Xeon, Eigen's about 11. sin(-0.0) is -0.0, given
// back whole (the polynomial's sum would round it to +0.0). The caller answers larger |x|
// (and inf and NaN) otherwise.
template <int kQuadrant>
GRAFT_AVX512 __m512 sin_or_cos16(__m512 x) {
  const auto [z, shifted] = reduced_by_quarter_turns(x);
  const __m512 zz = _mm512_mul_ps(z, z);
  __m512 sin_z = _mm512_fmadd_ps(splat(-1.9515295891e-4f), zz, splat(8.3321608736e-3f));
  sin_z = _mm512_fmadd_ps(sin_z, zz, splat(-1.6666654611e-1f));
  sin_z = _mm512_fmadd_ps(_mm512_mul_ps(sin_z, zz), z, z);
  __m512 cos_z = _mm512_fmadd_ps(splat(2.443315711809948e-5f), zz, splat(-1.388731625493765e-3f));
  cos_z = _mm512_fmadd_ps(cos_z, zz, splat(4.166664568298827e-2f));
  cos_z =
      _mm512_fmadd_ps(_mm512_mul_ps(cos_z, zz), zz, _mm512_fnmadd_ps(splat(0.5f), zz, splat(1.0f)));
  const __m512i quadrant =
      _mm512_add_epi32(_mm512_castps_si512(shifted), _mm512_set1_epi32(kQuadrant));
  const __mmask16 odd = _mm512_test_epi32_mask(quadrant, _mm512_set1_epi32(1));
  const __mmask16 negated = _mm512_test_epi32_mask(quadrant, _mm512_set1_epi32(2));
  __m512 y = _mm512_mask_blend_ps(odd, sin_z, cos_z);
  y = _mm512_mask_sub_ps(y, negated, _mm512_setzero_ps(), y);
  if constexpr (kQuadrant == 0)
    y = _mm512_mask_mov_ps(y, _mm512_cmp_ps_mask(x, _mm512_setzero_ps(), _CMP_EQ_OQ), x);
  return y;
}

// y with each lane of `lanes` replaced by f of x's lane, one call each: for the few elements
// outside a 16-lane method's domain.
template <class F>
GRAFT_AVX512 __m512 lanes_by_the_c_library(__m512 x, __m512 y, __mmask16 lanes, F f) {
  alignas(64) float xs[16], ys[16];
  _mm512_store_ps(xs, x);
  _mm512_store_ps(ys, y);
  for (int k = 0; k < 16; ++k)
    if ((lanes >> k & 1) != 0) ys[k] = f(xs[k]);
  return _mm512_load_ps(ys);
}

// A loop over n elements 16 at a time, the last few under a mask: f(i, lanes) does the lanes
// of the 16 from element i.
template <class F>
GRAFT_AVX512 void by_sixteen(int64_t n, F f) {
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) f(i, static_cast<__mmask16>(0xffff));
  if (i < n) f(i, static_cast<__mmask16>(first_lanes16(n - i)));
}

// out[i] = f(in[i]) for i < n, f taking and giving 16 floats.
template <class F>
GRAFT_AVX512 void map16(const float* in, float* out, int64_t n, F f) {
  by_sixteen(n, [=](int64_t i, __mmask16 lanes) GRAFT_AVX512_LAMBDA {
    _mm512_mask_storeu_ps(out + i, lanes, f(_mm512_maskz_loadu_ps(lanes, in + i)));
  });
}

// out[i] = g[i] f'(x[i]) for i < n, `derivative` giving f' of 16 floats.
template <class F>
GRAFT_AVX512 void gradient16(const float* g, const float* x, float* out, int64_t n, F derivative) {
  by_sixteen(n, [=](int64_t i, __mmask16 lanes) GRAFT_AVX512_LAMBDA {
    const __m512 d = derivative(_mm512_maskz_loadu_ps(lanes, x + i));
    _mm512_mask_storeu_ps(out + i, lanes, _mm512_mul_ps(_mm512_maskz_loadu_ps(lanes, g + i), d));
  });
}

}  // namespace

// GCC 12 does not pass a function's target on to the lambdas inside it: each lambda below
// names it itself (GRAFT_AVX512_LAMBDA). They capture by default, though they use nothing: a
// lambda without a capture-default converts to a function pointer, whose invoker GCC compiles
// without the target, and a zmm value returned there is an ABI change it warns of.
__attribute__((target("avx512f"))) void exp_avx512(const float* in, float* out, int64_t n) {
  map16(in, out, n, [=](__m512 x) GRAFT_AVX512_LAMBDA { return exp16(x); });
}

__attribute__((target("avx512f"))) void log_avx512(const float* in, float* out, int64_t n) {
  map16(in, out, n, [=](__m512 x) GRAFT_AVX512_LAMBDA { return log16(x); });
}

// 16 floats a step, as two halves of 8 doubles.
__attribute__((target("avx512f"))) void pow_avx512(const float* x, const float* y, int64_t y_step,
                                                   float* out, int64_t n) {
  by_sixteen(n, [=](int64_t i, __mmask16 lanes) GRAFT_AVX512_LAMBDA {
    const __m512 a = _mm512_maskz_loadu_ps(lanes, x + i);
    const __m512 b = y_step == 0 ? _mm512_set1_ps(y[0]) : _mm512_maskz_loadu_ps(lanes, y + i);
    _mm512_mask_storeu_ps(
        out + i, lanes,
        in_double16(a, b, [=](__m512d u, __m512d v) GRAFT_AVX512_LAMBDA { return pow8(u, v); }));
  });
}

__attribute__((target("avx512f"))) void expm1_avx512(const float* in, float* out, int64_t n) {
  map16(in, out, n, [=](__m512 x) GRAFT_AVX512_LAMBDA {
    return in_double16(x, x, [=](__m512d u, __m512d) GRAFT_AVX512_LAMBDA { return expm1_8(u); });
  });
}

// Where |x| >= 8192 (or inf, or NaN), the C library's tan. Answered here, in the step, rather
// than marked for the caller: a buffer and a second pass over it (array_math.h's
// through_buffer, answer_marked) cost a third of the time (a million floats, two threads:
// 285 -> 187 us).
__attribute__((target("avx512f"))) void tan_avx512(const float* in, float* out, int64_t n) {
  map16(in, out, n, [=](__m512 x) GRAFT_AVX512_LAMBDA {
    const __mmask16 small = _mm512_cmp_ps_mask(_mm512_abs_ps(x), splat(8192.0f), _CMP_LT_OQ);
    const __m512 y = tan16(x);
    if (small == 0xffff) return y;
    return lanes_by_the_c_library(x, y, static_cast<__mmask16>(~small),
                                  [](float v) { return std::tan(v); });
  });
}

// Where |x| >= 8192 (or inf, or NaN), the C library's sin and cos, in the step as tan's.
template <int kQuadrant, class F>
GRAFT_AVX512 void sin_or_cos(const float* in, float* out, int64_t n, F by_the_c_library) {
  map16(in, out, n, [=](__m512 x) GRAFT_AVX512_LAMBDA {
    const __mmask16 small = _mm512_cmp_ps_mask(_mm512_abs_ps(x), splat(8192.0f), _CMP_LT_OQ);
    const __m512 y = sin_or_cos16<kQuadrant>(x);
    if (small == 0xffff) return y;
    return lanes_by_the_c_library(x, y, static_cast<__mmask16>(~small), by_the_c_library);
  });
}

__attribute__((target("avx512f"))) void sin_avx512(const float* in, float* out, int64_t n) {
  sin_or_cos<0>(in, out, n, [](float v) { return std::sin(v); });
}

__attribute__((target("avx512f"))) void cos_avx512(const float* in, float* out, int64_t n) {
  sin_or_cos<1>(in, out, n, [](float v) { return std::cos(v); });
}

// log(1 + x) = log(u) x / (u - 1) with u = 1 + x rounded (Goldberg's correction: the rounding
// of u cancels), by log16; x itself where u is 1, inf where u is. Within 2.5 units of 2^-23
// of the result's binade over every third float from 0 up and from -1 to 0; twice as fast as
// the same in double (a million floats: 531 -> 299 us).
__attribute__((target("avx512f"))) void log1p_avx512(const float* in, float* out, int64_t n) {
  map16(in, out, n, [=](__m512 x) GRAFT_AVX512_LAMBDA {
    const __m512 u = _mm512_add_ps(x, splat(1.0f));
    const __m512 d = _mm512_sub_ps(u, splat(1.0f));
    __m512 y = _mm512_mul_ps(log16(u), _mm512_div_ps(x, d));
    y = _mm512_mask_blend_ps(_mm512_cmp_ps_mask(d, _mm512_setzero_ps(), _CMP_EQ_OQ), y, x);
    return _mm512_mask_blend_ps(_mm512_cmp_ps_mask(u, splat(INFINITY), _CMP_EQ_OQ), y, u);
  });
}

__attribute__((target("avx512f"))) float shifted_exp_sum_avx512(const float* in, float shift,
                                                                int64_t n) {
  __m512 sum = _mm512_setzero_ps();
  by_sixteen(n, [&](int64_t i, __mmask16 lanes) GRAFT_AVX512_LAMBDA {
    const __m512 x = _mm512_sub_ps(_mm512_maskz_loadu_ps(lanes, in + i), splat(shift));
    sum = _mm512_mask_add_ps(sum, lanes, sum, exp16(x));  // lanes past n: exp(-shift), left out
  });
  return _mm512_reduce_add_ps(sum);
}

__attribute__((target("avx512f"))) void erf_avx512(const float* in, float* out, int64_t n) {
  map16(in, out, n, [=](__m512 x) GRAFT_AVX512_LAMBDA { return erf16(x); });
}

__attribute__((target("avx512f"))) void gelu_avx512(const float* in, float* out, int64_t n) {
  map16(in, out, n,
        [=](__m512 x) GRAFT_AVX512_LAMBDA { return _mm512_mul_ps(x, normal_cdf16(x)); });
}

// Phi(x) + x phi(x).
__attribute__((target("avx512f"))) void gelu_backward_avx512(const float* g, const float* x,
                                                             float* out, int64_t n) {
  gradient16(g, x, out, n, [=](__m512 a) GRAFT_AVX512_LAMBDA {
    const __m512 pdf = _mm512_mul_ps(exp16(_mm512_mul_ps(_mm512_mul_ps(splat(-0.5f), a), a)),
                                     splat(kInvSqrtTwoPi));
    return _mm512_fmadd_ps(a, pdf, normal_cdf16(a));
  });
}

__attribute__((target("avx512f"))) void sigmoid_avx512(const float* in, float* out, int64_t n) {
  map16(in, out, n, [=](__m512 x) GRAFT_AVX512_LAMBDA { return sigmoid16(x); });
}

// SiLU, x sigmoid(x), and its gradient, as SiluOp.
__attribute__((target("avx512f"))) void silu_avx512(const float* in, float* out, int64_t n) {
  map16(in, out, n, [=](__m512 x) GRAFT_AVX512_LAMBDA { return times_sigmoid16(x, x); });
}

__attribute__((target("avx512f"))) void silu_backward_avx512(const float* g, const float* x,
                                                             float* out, int64_t n) {
  gradient16(g, x, out, n, [=](__m512 a) GRAFT_AVX512_LAMBDA {
    return times_sigmoid_slope16(a, sigmoid16(a), splat(1.0f));
  });
}

// GELU's tanh form x sigmoid(2u) and its gradient, as GeluTanhOp.
__attribute__((target("avx512f"))) void gelu_tanh_avx512(const float* in, float* out, int64_t n) {
  map16(in, out, n,
        [=](__m512 x) GRAFT_AVX512_LAMBDA { return times_sigmoid16(x, gelu_tanh_twice_u16(x)); });
}

__attribute__((target("avx512f"))) void gelu_tanh_backward_avx512(const float* g, const float* x,
                                                                  float* out, int64_t n) {
  gradient16(g, x, out, n, [=](__m512 a) GRAFT_AVX512_LAMBDA {
    constexpr float kTwiceK = 2 * GeluTanhOp::kSqrtTwoOverPi;
    const __m512 twice_du = _mm512_fmadd_ps(splat(kTwiceK * 3 * GeluTanhOp::kCubic),
                                            _mm512_mul_ps(a, a), splat(kTwiceK));
    return times_sigmoid_slope16(a, sigmoid16(gelu_tanh_twice_u16(a)), twice_du);
  });
}

#undef GRAFT_AVX512

}  // namespace graft::kernels::cpu

#else

namespace graft::kernels::cpu {

void exp_avx512(const float*, float*, int64_t) { fail_built_without_avx512("exp_avx512"); }
void log_avx512(const float*, float*, int64_t) { fail_built_without_avx512("log_avx512"); }
void pow_avx512(const float*, const float*, int64_t, float*, int64_t) {
  fail_built_without_avx512("pow_avx512");
}
void expm1_avx512(const float*, float*, int64_t) { fail_built_without_avx512("expm1_avx512"); }
void log1p_avx512(const float*, float*, int64_t) { fail_built_without_avx512("log1p_avx512"); }
void sin_avx512(const float*, float*, int64_t) { fail_built_without_avx512("sin_avx512"); }
void cos_avx512(const float*, float*, int64_t) { fail_built_without_avx512("cos_avx512"); }
void tan_avx512(const float*, float*, int64_t) { fail_built_without_avx512("tan_avx512"); }
float shifted_exp_sum_avx512(const float*, float, int64_t) {
  fail_built_without_avx512("shifted_exp_sum_avx512");
}
void erf_avx512(const float*, float*, int64_t) { fail_built_without_avx512("erf_avx512"); }
void gelu_avx512(const float*, float*, int64_t) { fail_built_without_avx512("gelu_avx512"); }
void gelu_backward_avx512(const float*, const float*, float*, int64_t) {
  fail_built_without_avx512("gelu_backward_avx512");
}
void sigmoid_avx512(const float*, float*, int64_t) { fail_built_without_avx512("sigmoid_avx512"); }
void silu_avx512(const float*, float*, int64_t) { fail_built_without_avx512("silu_avx512"); }
void silu_backward_avx512(const float*, const float*, float*, int64_t) {
  fail_built_without_avx512("silu_backward_avx512");
}
void gelu_tanh_avx512(const float*, float*, int64_t) {
  fail_built_without_avx512("gelu_tanh_avx512");
}
void gelu_tanh_backward_avx512(const float*, const float*, float*, int64_t) {
  fail_built_without_avx512("gelu_tanh_backward_avx512");
}

}  // namespace graft::kernels::cpu

#endif
