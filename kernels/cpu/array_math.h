// Vectorised forms of the elementwise functors whose scalar form the compiler cannot
// vectorise: std::exp is a call into the C library, one element at a time, which made
// graft's exp three times slower than PyTorch's on a million floats; glibc's erff costs
// about 24 ns an element on this machine's CPUs against Eigen's 0.5, which made the exact
// GELU 15% of a small GPT's training step. For a dense float32 run of a unary op (or of the
// fused gradients g * op'(x), or of atan2, fmod and remainder, whose second operand may be
// one scalar), cpu_elementwise_loop calls ArrayForm<Op>::apply on the whole run instead, built
// on Eigen's vectorised array functions (the same exp the CPU softmax uses) or on loops the
// compiler vectorises. float64 keeps the scalar functors: their callers asked for the precision.
// exact_exp, at the end, is the exp the softmax and attention kernels take where entries may
// be masked (-inf).
//
// exp, expm1, log, log1p, pow, tan, erf, GELU, the sigmoid and SiLU run 16 lanes wide where
// the CPU has AVX-512 (math_avx512.h); exp, erf, the GELUs, the sigmoid and SiLU 8 lanes wide
// elsewhere, in AVX2 (math_v3.h), with the same bits, so that they give the same results on
// every x86-64-v3 CPU. The others fall back on Eigen there, as all of them do in builds
// without AVX2.
//
// Accuracy (of the Eigen fallbacks): Eigen's exp is within 2 ulp of the correctly rounded result
// for normal results (std::exp: 1 ulp), which tests/kernels/array_math_test.cpp checks over a
// sweep. Below exp's normal range (x < ln(FLT_MIN), about -87.34) Eigen clamps its input and
// returns a fixed tiny number where the true result is a denormal or 0; those elements
// are recomputed by std::exp. Eigen's erf, a rational approximation on [-4, 4] (and +-1
// outside, as erf rounds there in float), is within 6 ulp (the same test sweeps it).
#pragma once

#include <Eigen/Core>
#include <algorithm>
#include <bit>
#include <cmath>
#include <concepts>
#include <cstdint>
#include <limits>
#include <type_traits>
#include <unsupported/Eigen/SpecialFunctions>

#include "graft/kernels/cpu/cpu_features.h"
#include "graft/kernels/cpu/math_avx512.h"
#include "graft/kernels/cpu/math_v3.h"
#include "graft/kernels/functors.h"

namespace graft::kernels::cpu {

template <class Op>
struct ArrayForm;  // no vectorised form: the scalar functor runs

// Whether Op has a vectorised form for T over kInputs inputs: apply(in, out, n) for a unary
// op, apply(a, b, out, n) for a binary one.
template <class Op, class T, int kInputs = 1>
inline constexpr bool has_array_form =
    std::is_same_v<T, float> &&
    (kInputs == 1 ? requires(const float* in, float* out) { ArrayForm<Op>::apply(in, out, 0); }
                  : kInputs == 2 && requires(const float* in, float* out) {
                      ArrayForm<Op>::apply(in, in, out, 0);
                    });

// Whether Op has a vectorised form for T with a scalar second operand: apply_scalar(in, b,
// out, n), which returns false, having done nothing, for a scalar it has no form for.
template <class Op, class T>
inline constexpr bool has_scalar_array_form = std::is_same_v<T, float>&& requires(const float* in,
                                                                                  float* out) {
  { ArrayForm<Op>::apply_scalar(in, 1.0f, out, 0) } -> std::same_as<bool>;
};

using FloatArrayMap = Eigen::Map<Eigen::ArrayXf>;
using ConstFloatArrayMap = Eigen::Map<const Eigen::ArrayXf>;

// out[i] = by_c_library(in[i]) where outside(in[i]): the elements an Eigen function gets wrong,
// found by a vectorised count first (most runs have none).
template <class Outside, class Function>
void recompute_where(const float* in, float* out, int64_t n, const Outside& outside,
                     const Function& by_c_library) {
  int64_t count = 0;  // a count, not a bool: GCC vectorises an integer sum, not a bool or
  for (int64_t i = 0; i < n; ++i) count += outside(in[i]);
  if (count == 0) return;
  for (int64_t i = 0; i < n; ++i)
    if (outside(in[i])) out[i] = by_c_library(in[i]);
}

// c ? a : b for floats or doubles, blended through their bits. GCC 12 turns `c ? r + y : r`
// after a float compare back into a conditional sum, which it will not vectorise while a float
// operation may trap (-ftrapping-math, the default); given both values computed, it
// vectorises this.
template <class T>
T blend(bool c, T a, T b) {
  using Bits = std::conditional_t<sizeof(T) == 4, uint32_t, uint64_t>;
  const Bits mask = Bits{0} - static_cast<Bits>(c);
  return std::bit_cast<T>((std::bit_cast<Bits>(a) & mask) | (std::bit_cast<Bits>(b) & ~mask));
}

// Element i of an operand that is an array or, with kScalar, one value: read once, into a
// member that writes to an output cannot change (so the compiler need not reload it).
template <bool kScalar>
struct ArrayOrScalar {
  explicit ArrayOrScalar(const float* p) : p(p), scalar(kScalar ? p[0] : 0.0f) {}
  float operator[](int64_t i) const { return kScalar ? scalar : p[i]; }
  const float* p;
  float scalar;
};

// out[i] = answer(i) where out[i] is NaN, the mark a vectorised loop leaves on the elements
// outside its method's domain: found by a vectorised count first (most runs have none).
template <class Answer>
void answer_marked(float* out, int64_t n, const Answer& answer) {
  int64_t marked = 0;  // a count, not a bool: see recompute_where
  for (int64_t i = 0; i < n; ++i) marked += out[i] != out[i];
  if (marked == 0) return;
  for (int64_t i = 0; i < n; ++i)
    if (out[i] != out[i]) out[i] = answer(i);
}

// An array form that reads its inputs again after a first pass (to answer some elements by
// the C library) runs in blocks through a buffer on the stack: out may be one of its inputs
// (x.exp_(), x.pow_(2.5)), whose elements must still be there when they are read again.
// block(first, count, buffer) fills buffer[j] for element first + j, j < count.
inline constexpr int64_t kBufferedBlock = 256;
template <class Block>
void through_buffer(float* out, int64_t n, const Block& block) {
  float buffer[kBufferedBlock];
  for (int64_t first = 0; first < n; first += kBufferedBlock) {
    const int64_t count = std::min(kBufferedBlock, n - first);
    block(first, count, buffer);
    std::copy(buffer, buffer + count, out + first);
  }
}

// An op whose float32 form is one of Eigen's vectorised array functions as it is: tanh
// (within 3 ulp), and, off AVX-512, sin and cos (1 ulp, large arguments included), log1p and
// expm1 (2 ulp) and tan as sin / cos (Eigen's own tan is the C library's, an element at a
// time; relative errors add, so within 3 ulp near the poles too); exp and log with the
// corrections of eigen_corrected below. Through the C library's functions, one call an
// element, graft took 6-40 times PyTorch's time on a million floats (tanh 6.5 ms against 0.16).
enum class EigenFunction { kExp, kLog, kTanh, kSin, kCos, kTan, kLog1p, kExpm1 };
template <EigenFunction kFunction>
struct EigenArrayForm {
  static void apply(const float* in, float* out, int64_t n) {
    const auto x = ConstFloatArrayMap(in, n);
    auto y = FloatArrayMap(out, n);
    if constexpr (kFunction == EigenFunction::kExp) y = x.exp();
    if constexpr (kFunction == EigenFunction::kLog) y = x.log();
    if constexpr (kFunction == EigenFunction::kTanh) y = x.tanh();
    if constexpr (kFunction == EigenFunction::kSin) y = x.sin();
    if constexpr (kFunction == EigenFunction::kCos) y = x.cos();
    if constexpr (kFunction == EigenFunction::kTan) y = x.sin() / x.cos();
    if constexpr (kFunction == EigenFunction::kLog1p) y = x.log1p();
    if constexpr (kFunction == EigenFunction::kExpm1) y = x.expm1();
  }
};

// Eigen's kFunction with the elements it gets wrong (outside) recomputed by the C library's
// (through_buffer: in place, those inputs must still be there).
template <EigenFunction kFunction, class Outside, class Function>
void eigen_corrected(const float* in, float* out, int64_t n, const Outside& outside,
                     const Function& by_c_library) {
  through_buffer(out, n, [&](int64_t first, int64_t count, float* buffer) {
    EigenArrayForm<kFunction>::apply(in + first, buffer, count);
    recompute_where(in + first, buffer, count, outside, by_c_library);
  });
}

// The 16-lane form where the CPU has AVX-512, else Eigen's (functions without an 8-lane form).
template <void (*kAvx512)(const float*, float*, int64_t), EigenFunction kFallback>
struct Avx512OrEigenForm {
  static void apply(const float* in, float* out, int64_t n) {
    if (cpu_runs_avx512()) return kAvx512(in, out, n);
    EigenArrayForm<kFallback>::apply(in, out, n);
  }
};

// exp: 16 lanes wide where the CPU has AVX-512 (math_avx512.h), else 8 in AVX2 (math_v3.h),
// the same bits, denormals right; in builds without AVX2, Eigen's, and below the normal range,
// where the result is a denormal or 0, which Eigen does not give, the C library's.
template <>
struct ArrayForm<ExpOp> {
  static void apply(const float* in, float* out, int64_t n) {
    if (cpu_runs_avx512()) return exp_avx512(in, out, n);
    if constexpr (GRAFT_MATH_V3) return exp_v3(in, out, n);
    by_eigen(in, out, n);
  }
  static void by_eigen(const float* in, float* out, int64_t n) {
    constexpr float kLowestNormalExp = -87.336544f;  // ln(FLT_MIN)
    eigen_corrected<EigenFunction::kExp>(
        in, out, n, [](float x) { return x < kLowestNormalExp; },
        [](float x) { return std::exp(x); });
  }
};

// log: 16 lanes wide where the CPU has AVX-512 (math_avx512.h); elsewhere Eigen's, within 1
// ulp for normal inputs, and a subnormal input (below 1.2e-38), whose exponent Eigen's frexp
// misreads, by the C library's log.
template <>
struct ArrayForm<LogOp> {
  static void apply(const float* in, float* out, int64_t n) {
    if (cpu_runs_avx512()) return log_avx512(in, out, n);
    by_eigen(in, out, n);
  }
  static void by_eigen(const float* in, float* out, int64_t n) {
    constexpr float kSmallestNormal = std::numeric_limits<float>::min();
    eigen_corrected<EigenFunction::kLog>(
        in, out, n, [](float x) { return x > 0 && x < kSmallestNormal; },
        [](float x) { return std::log(x); });
  }
};

template <>
struct ArrayForm<TanhOp> : EigenArrayForm<EigenFunction::kTanh> {};
// floor: GCC 12 leaves std::floor scalar while a float operation may trap (-ftrapping-math,
// the default), and vectorises std::rint (vroundps): floor(x) = rint(x) - 1 where rint rounded
// up, which is floor's bits for every float (all 2^32 tried: the signs of zeros, infinities
// and NaN included). A million floats, two threads of the 2-core Xeon: 202-295 -> 112-122 us
// (PyTorch 152). ceil(x) is -floor(-x), its signed zeros included (ceil(-0.3) is -0; all 2^32
// tried as well): 165-186 -> 118-144 us.
inline float floor_by_rint(float x) {
  const float nearest = std::rint(x);
  return nearest - blend(nearest > x, 1.0f, 0.0f);
}
template <>
struct ArrayForm<FloorOp> {
  static void apply(const float* in, float* out, int64_t n) {
    for (int64_t i = 0; i < n; ++i) out[i] = floor_by_rint(in[i]);
  }
};
template <>
struct ArrayForm<CeilOp> {
  static void apply(const float* in, float* out, int64_t n) {
    for (int64_t i = 0; i < n; ++i) out[i] = -floor_by_rint(-in[i]);
  }
};
// sin and cos: Cephes's sinf and cosf, 16 lanes, where the CPU has AVX-512 (math_avx512.h; the
// C library's for |x| >= 8192, inf and NaN); elsewhere Eigen's.
template <>
struct ArrayForm<SinOp> : Avx512OrEigenForm<&sin_avx512, EigenFunction::kSin> {};
template <>
struct ArrayForm<CosOp> : Avx512OrEigenForm<&cos_avx512, EigenFunction::kCos> {};
// tan: Cephes's tanf, 16 lanes, where the CPU has AVX-512 (math_avx512.h; the C library's for
// |x| >= 8192, inf and NaN); elsewhere Eigen's sin / cos (a million floats, two threads of the
// 2-core Xeon: Eigen's 588 us, with the reduction in double and a second pass for the C
// library's elements 439, now 181-193; PyTorch's 258-1020, as its allocator hands out fresh
// pages or not).
template <>
struct ArrayForm<TanOp> : Avx512OrEigenForm<&tan_avx512, EigenFunction::kTan> {};
// log1p and expm1: 16 lanes a step where the CPU has AVX-512 (math_avx512.h), expm1 in double
// and rounded once, log1p by the float log with Goldberg's correction (a million floats, two
// threads of the 2-core Xeon: log1p 654 -> 299 us, expm1 1360 -> 425; PyTorch's 436-1650 and
// 616-668); elsewhere Eigen's, but expm1 in AVX2's 8 lanes (math_v3.h) with the same bits.
template <>
struct ArrayForm<Log1pOp> : Avx512OrEigenForm<&log1p_avx512, EigenFunction::kLog1p> {};
template <>
struct ArrayForm<Expm1Op> {
  static void apply(const float* in, float* out, int64_t n) {
    if (cpu_runs_avx512()) return expm1_avx512(in, out, n);
    if constexpr (GRAFT_MATH_V3) return expm1_v3(in, out, n);
    EigenArrayForm<EigenFunction::kExpm1>::apply(in, out, n);
  }
};

// x^y for other exponents, and for a tensor of them: the C library's powf, one call an element,
// took 2.6 ms on a million floats against PyTorch's 1.3; this 0.92 (two threads of the 2-core
// Xeon, 16 lanes). In double, rounded once to float: x = m 2^e (m in [sqrt(1/2), sqrt(2)), from
// x's bits), log(m) = 2 atanh(s) with s = (m - 1) / (m + 1), |s| <= 0.172, by its series to
// s^13 (within 1e-11 relative), t = y (e ln 2 + log(m)), and e^t as 2^k e^r (k = t / ln 2
// rounded by the 1.5 * 2^52 shift, |r| <= ln 2 / 2, e^r by its series to r^11). t's error, |t|
// 1e-11 at most, moves the result by far less than half a float ulp, so it is float's correctly
// rounded x^y but where that lies within a hair of a tie (59 of 24M random pairs; never more
// than 0.51 ulp away). 16 lanes a step where the CPU has AVX-512 (math_avx512.h's pow_avx512,
// the same arithmetic in 8-lane halves). Elements outside the method's domain (x <= 0,
// subnormal, infinite or NaN; y infinite or NaN; a result beyond float's normal range) are
// marked NaN and answered by std::pow. y is an array, or with kScalarExponent the one value
// y[0]. `sixteen_lanes` chooses the form (the tests run both). pow_block computes a block into
// an out that is neither input, pow_floats a whole run through_buffer.
template <bool kScalarExponent>
void pow_block(const float* x, const float* y, float* out, int64_t n, bool sixteen_lanes) {
  const ArrayOrScalar<kScalarExponent> exponent(y);
  constexpr float kMarked = std::numeric_limits<float>::quiet_NaN();
  if (sixteen_lanes) {
    pow_avx512(x, y, kScalarExponent ? 0 : 1, out, n);
  } else {
    constexpr double kLn2 = 0.6931471805599453, kLog2e = 1.4426950408889634;
    constexpr double kShift = 0x1.8p52;  // adding it leaves k in the low bits
    for (int64_t i = 0; i < n; ++i) {
      const uint32_t bits = std::bit_cast<uint32_t>(x[i]);
      // m in [1, 2), halved (and e raised) from sqrt(2) on; written as arithmetic, without a
      // select (with one, GCC 12 does not vectorise the loop).
      const uint32_t mantissa = bits & 0x7fffffu;
      const bool high = mantissa > 0x3504f3u;  // m > sqrt(2)
      const double m = std::bit_cast<float>(mantissa | (0x3f800000u - (uint32_t{high} << 23)));
      const double e = static_cast<int32_t>(bits >> 23) - 127 + int32_t{high};
      const double s = (m - 1) / (m + 1), s2 = s * s;
      // (log(m) - 2 s) / 2 s = s^2 / 3 + s^4 / 5 + ... + s^12 / 13.
      const double series =
          (((((1.0 / 13 * s2 + 1.0 / 11) * s2 + 1.0 / 9) * s2 + 1.0 / 7) * s2 + 1.0 / 5) * s2 +
           1.0 / 3) *
          s2;
      const double t = static_cast<double>(exponent[i]) * (e * kLn2 + 2 * s + 2 * s * series);
      // Beyond float's range (and for x out of the domain) NaN, which the check below marks.
      const double bounded = blend(std::abs(t) < 100.0, t, static_cast<double>(kMarked));
      const double shifted = bounded * kLog2e + kShift, k = shifted - kShift;
      const double r = bounded - k * kLn2;
      // e^r = sum r^j / j! for j to 11, in Horner's form.
      double p = 1.0 / 39916800;
      p = p * r + 1.0 / 3628800;
      p = p * r + 1.0 / 362880;
      p = p * r + 1.0 / 40320;
      p = p * r + 1.0 / 5040;
      p = p * r + 1.0 / 720;
      p = p * r + 1.0 / 120;
      p = p * r + 1.0 / 24;
      p = p * r + 1.0 / 6;
      p = p * r + 0.5;
      p = p * r + 1.0;
      p = p * r + 1.0;
      const double scale = std::bit_cast<double>((std::bit_cast<uint64_t>(shifted) + 1023) << 52);
      out[i] = static_cast<float>(p * scale);
    }
  }
  for (int64_t i = 0; i < n; ++i) {
    const uint32_t biased = std::bit_cast<uint32_t>(x[i]) >> 23;  // 1 to 254: positive, normal
    const bool kept = (biased >= 1) & (biased <= 254) &
                      (std::abs(exponent[i]) < std::numeric_limits<float>::infinity()) &
                      (out[i] >= std::numeric_limits<float>::min()) &
                      (out[i] <= std::numeric_limits<float>::max());
    out[i] = blend(kept, out[i], kMarked);
  }
  answer_marked(out, n, [&](int64_t i) { return std::pow(x[i], exponent[i]); });
}
template <bool kScalarExponent>
void pow_floats(const float* x, const float* y, float* out, int64_t n,
                bool sixteen_lanes = cpu_runs_avx512()) {
  through_buffer(out, n, [&](int64_t first, int64_t count, float* buffer) {
    pow_block<kScalarExponent>(x + first, kScalarExponent ? y : y + first, buffer, count,
                               sixteen_lanes);
  });
}

// pow(x, b) for one exponent b: the exponents PyTorch computes without pow, by products,
// quotients and sqrt, which vectorise (the C library's powf, one call an element, took 2.6
// ms on a million floats and PyTorch 0.15 for pow(x, 2)). x * x, 1 / x and sqrt are rounded
// once, as pow is; x^3 and x^-2 twice (within 2 ulp). sqrt's -0 and NaN at -inf are made
// pow's +0 and +inf.
template <>
struct ArrayForm<PowOp> {
  static bool apply_scalar(const float* in, float exponent, float* out, int64_t n) {
    const auto x = ConstFloatArrayMap(in, n);
    auto y = FloatArrayMap(out, n);
    if (exponent == 2.0f) {
      y = x * x;
    } else if (exponent == 3.0f) {
      y = x * x * x;
    } else if (exponent == -1.0f) {
      y = x.inverse();
    } else if (exponent == -2.0f) {
      y = (x * x).inverse();
    } else if (exponent == 0.5f) {
      // std::sqrt, which the compiler vectorises rounded once, not Eigen's sqrt (an
      // approximation refined by a Newton step under its default fast math: 0 at subnormals,
      // NaN at inf). -0 + 0 = +0.
      for (int64_t i = 0; i < n; ++i) out[i] = std::sqrt(in[i]) + 0.0f;
      for (int64_t i = 0; i < n; ++i)
        if (in[i] == -std::numeric_limits<float>::infinity()) out[i] = -in[i];
    } else {
      pow_floats<true>(in, &exponent, out, n);
    }
    return true;
  }
  static void apply(const float* x, const float* y, float* out, int64_t n) {
    pow_floats<false>(x, y, out, n);
  }
};

// fmod and remainder. C's fmod is exact (the remainder is a float: no rounding at all), and
// the C library's, one call an element, took 7.0 ms on a million floats (remainder 9.6) against
// PyTorch's 0.74 (0.85); this form 0.49 (0.54), two threads of the 2-core Xeon. In double, the
// truncated quotient q = trunc(a / b) of two floats is exact while |a / b| < 2^24: the double
// quotient lies within 2^-29 of the true one there, and a true quotient that is not an integer lies
// at least 2^-25 from the next integer (the numerator of the gap, (k + 1) b - a, is a multiple of
// the smaller ulp of a and b). Then q b has at most 48 significant bits and a - q b, the exact
// remainder, is a float: both exact in double. q is truncated by a conversion to int32, which
// vectorises where std::trunc does not. The sign is a's, zero included. The other elements (a
// larger quotient; a or b infinite or NaN; b = 0: a few, or none) are marked NaN and then answered
// by std::fmod. Remainder moves fmod's result by one b where the signs differ, as the scalar
// functor does. b is an array, or with kScalarDivisor the one value b[0]. fmod_block computes
// a block into an out that is neither input, fmod_floats a whole run through_buffer.
template <bool kScalarDivisor, class Op>
void fmod_block(const float* a, const float* b, float* out, int64_t n) {
  const ArrayOrScalar<kScalarDivisor> divisor(b);
  constexpr double kExactQuotients = 0x1p24, kInf = std::numeric_limits<double>::infinity();
  constexpr float kMarked = std::numeric_limits<float>::quiet_NaN();
  for (int64_t i = 0; i < n; ++i) {
    const double x = a[i], y = divisor[i], quotient = x / y;
    const bool exact = (std::abs(quotient) < kExactQuotients) & (std::abs(y) != kInf);
    const double q = static_cast<int32_t>(blend(exact, quotient, 0.0));
    out[i] = blend(exact, std::copysign(static_cast<float>(x - q * y), a[i]), kMarked);
  }
  answer_marked(out, n, [&](int64_t i) { return std::fmod(a[i], divisor[i]); });
  if constexpr (std::is_same_v<Op, RemainderOp>) {
    for (int64_t i = 0; i < n; ++i) {
      const float r = out[i], y = divisor[i];
      out[i] = blend((r != 0) & ((r < 0) != (y < 0)), r + y, r);
    }
  }
}
template <bool kScalarDivisor, class Op>
void fmod_floats(const float* a, const float* b, float* out, int64_t n) {
  through_buffer(out, n, [&](int64_t first, int64_t count, float* buffer) {
    fmod_block<kScalarDivisor, Op>(a + first, kScalarDivisor ? b : b + first, buffer, count);
  });
}

template <class Op>
struct FmodArrayForm {
  static void apply(const float* a, const float* b, float* out, int64_t n) {
    fmod_floats<false, Op>(a, b, out, n);
  }
  static bool apply_scalar(const float* a, float b, float* out, int64_t n) {
    fmod_floats<true, Op>(a, &b, out, n);
    return true;
  }
};
template <>
struct ArrayForm<FmodOp> : FmodArrayForm<FmodOp> {};
template <>
struct ArrayForm<RemainderOp> : FmodArrayForm<RemainderOp> {};

// atan2(y, x): the C library's, one call an element, took 13.6 ms on a million floats against
// PyTorch's 0.69; this form 0.50 (two threads, the 2-core Xeon), within 2.3 ulp of the true
// angle in 33M random pairs (tests/kernels/array_math_test.cpp). Here in float, in a loop the
// compiler vectorises: t = min(|x|, |y|) / max(|x|, |y|) in [0, 1] (0 where both are 0, 1 where
// both are infinite), reduced to |u| <= tan(pi / 8) (u = (t - 1) / (t + 1) from t > tan(pi / 8)),
// and p = atan(u) by Cephes's atanf polynomial. The angle is then k pi / 4 + s p, k from 0 to 4 and
// s = +-1 (pi / 4 + p for the reduced t; pi / 2 minus that where |y| > |x|, pi minus that where x's
// sign bit is set), with y's sign: k pi / 4 carried in two parts (its float, and the rest from an
// fma and pi / 4's own rest), so that the sum is rounded once. C's special cases follow: +-0 and
// +-pi for zeros, multiples of pi / 4 for infinities, NaN for a NaN. x is an array, or with
// kScalarX the one value x[0].
template <bool kScalarX>
void atan2_floats(const float* y, const float* x, float* out, int64_t n) {
  const ArrayOrScalar<kScalarX> abscissa(x);
  constexpr float kInf = std::numeric_limits<float>::infinity();
  constexpr float kTanPiOver8 = 0.41421356237f;
  // pi / 4: the nearest float, and the difference from the true value.
  constexpr float kQuarterPi = 0.785398185253f, kQuarterPiRest = -2.18556941e-8f;
  for (int64_t i = 0; i < n; ++i) {
    const float xi = abscissa[i], ax = std::abs(xi), ay = std::abs(y[i]);
    const bool swapped = ay > ax, negative_x = std::signbit(xi);
    const float low = blend(swapped, ax, ay), high = blend(swapped, ay, ax);
    const bool both_zero = (low == 0) & (high == 0), both_infinite = (low == kInf) & (high == kInf);
    const bool reduced = (low > kTanPiOver8 * high) | both_infinite;
    // One division: (t - 1) / (t + 1) = (low - high) / (low + high).
    const float quotient = blend(reduced, low - high, low) / blend(reduced, low + high, high);
    const float u = blend(both_zero | both_infinite, 0.0f, quotient), z = u * u;
    const float p = (((8.05374449538e-2f * z - 1.38776856032e-1f) * z + 1.99777106478e-1f) * z -
                     3.33329491539e-1f) *
                        z * u +
                    u;
    // k and s: pi / 4 + p where reduced; pi / 2 - a where swapped; pi - a where x < 0.
    float k = blend(reduced, 1.0f, 0.0f);
    k = blend(swapped, 2.0f - k, k);
    k = blend(negative_x, 4.0f - k, k);
    const float s = blend(swapped != negative_x, -1.0f, 1.0f);
    const float angle = k * kQuarterPi;
    const float rest = std::fma(k, kQuarterPi, -angle) + k * kQuarterPiRest;
    out[i] = std::copysign(angle + (s * p + rest), y[i]);
  }
}

template <>
struct ArrayForm<Atan2Op> {
  static void apply(const float* y, const float* x, float* out, int64_t n) {
    atan2_floats<false>(y, x, out, n);
  }
  static bool apply_scalar(const float* y, float x, float* out, int64_t n) {
    atan2_floats<true>(y, &x, out, n);
    return true;
  }
};

template <>
struct ArrayForm<SigmoidOp> {
  // 1 / (1 + e^-x), as the scalar functor. Where e^-x would be a denormal, 1 + e^-x is 1
  // either way; where it overflows to inf the result is 0, as the scalar functor's.
  static void apply(const float* in, float* out, int64_t n) {
    if (cpu_runs_avx512()) return sigmoid_avx512(in, out, n);
    if constexpr (GRAFT_MATH_V3) return sigmoid_v3(in, out, n);
    FloatArrayMap(out, n) = (1.0f + (-ConstFloatArrayMap(in, n)).exp()).inverse();
  }
};

template <>
struct ArrayForm<SiluOp> {
  // x / (1 + e^-x), as the scalar functor: -0 where e^-x overflows to inf.
  static void apply(const float* in, float* out, int64_t n) {
    if (cpu_runs_avx512()) return silu_avx512(in, out, n);
    if constexpr (GRAFT_MATH_V3) return silu_v3(in, out, n);
    const auto x = ConstFloatArrayMap(in, n);
    FloatArrayMap(out, n) = x / (1.0f + (-x).exp());
  }
};

template <>
struct ArrayForm<ErfOp> {
  static void apply(const float* in, float* out, int64_t n) {
    if (cpu_runs_avx512()) return erf_avx512(in, out, n);
    if constexpr (GRAFT_MATH_V3) return erf_v3(in, out, n);
    FloatArrayMap(out, n) = ConstFloatArrayMap(in, n).erf();
  }
};

template <>
struct ArrayForm<GeluOp> {
  // x Phi(x) = x (1 + erf(x / sqrt 2)) / 2, as the scalar functor (and PyTorch's CPU GELU).
  static void apply(const float* in, float* out, int64_t n) {
    if (cpu_runs_avx512()) return gelu_avx512(in, out, n);
    if constexpr (GRAFT_MATH_V3) return gelu_v3(in, out, n);
    const auto x = ConstFloatArrayMap(in, n);
    FloatArrayMap(out, n) = x * 0.5f * (1.0f + (x * 0.70710678118654752f).erf());
  }
};

// g * GELU'(x) = g (Phi(x) + x phi(x)): GeluOp::backward, vectorised.
template <>
struct ArrayForm<BackwardOf<GeluOp>> {
  static void apply(const float* g, const float* in, float* out, int64_t n) {
    if (cpu_runs_avx512()) return gelu_backward_avx512(g, in, out, n);
    if constexpr (GRAFT_MATH_V3) return gelu_backward_v3(g, in, out, n);
    const auto x = ConstFloatArrayMap(in, n);
    const auto cdf = 0.5f * (1.0f + (x * 0.70710678118654752f).erf());
    const auto pdf = (-0.5f * x * x).exp() * 0.39894228040143267794f;
    FloatArrayMap(out, n) = ConstFloatArrayMap(g, n) * (cdf + x * pdf);
  }
};

// GELU's tanh approximation, x / (1 + e^(-2u)) with u = sqrt(2 / pi) (x + 0.044715 x^3), as the
// scalar functor; and g times its derivative, g s (1 + x (1 - s) 2u') with s = sigmoid(2u).
// Composed of eight tensor ops it took 1.57 ms on a million floats (PyTorch 0.94).
template <>
struct ArrayForm<GeluTanhOp> {
  static void apply(const float* in, float* out, int64_t n) {
    if (cpu_runs_avx512()) return gelu_tanh_avx512(in, out, n);
    if constexpr (GRAFT_MATH_V3) return gelu_tanh_v3(in, out, n);
    const auto x = ConstFloatArrayMap(in, n);
    const auto twice_u =
        x * 2 * float(GeluTanhOp::kSqrtTwoOverPi) * (1.0f + float(GeluTanhOp::kCubic) * x * x);
    FloatArrayMap(out, n) = x / (1.0f + (-twice_u).exp());
  }
};
template <>
struct ArrayForm<BackwardOf<GeluTanhOp>> {
  static void apply(const float* g, const float* in, float* out, int64_t n) {
    if (cpu_runs_avx512()) return gelu_tanh_backward_avx512(g, in, out, n);
    if constexpr (GRAFT_MATH_V3) return gelu_tanh_backward_v3(g, in, out, n);
    constexpr float kTwiceK = 2 * GeluTanhOp::kSqrtTwoOverPi;
    const auto x = ConstFloatArrayMap(in, n);
    const auto s =
        (1.0f + (-x * kTwiceK * (1.0f + float(GeluTanhOp::kCubic) * x * x)).exp()).inverse();
    const auto twice_du = kTwiceK * (1.0f + float(3 * GeluTanhOp::kCubic) * x * x);
    FloatArrayMap(out, n) = ConstFloatArrayMap(g, n) * s * (1.0f + x * (1.0f - s) * twice_du);
  }
};

// g * SiLU'(x) = g s (1 + x (1 - s)), s = sigmoid(x): SiluOp::backward, vectorised.
template <>
struct ArrayForm<BackwardOf<SiluOp>> {
  static void apply(const float* g, const float* in, float* out, int64_t n) {
    if (cpu_runs_avx512()) return silu_backward_avx512(g, in, out, n);
    if constexpr (GRAFT_MATH_V3) return silu_backward_v3(g, in, out, n);
    const auto x = ConstFloatArrayMap(in, n);
    const auto s = (1.0f + (-x).exp()).inverse();
    FloatArrayMap(out, n) = ConstFloatArrayMap(g, n) * s * (1.0f + x * (1.0f - s));
  }
};

// The sum of exp(x[i] - shift) for i < n: float32 16 lanes wide where the CPU has AVX-512,
// else 8 in AVX2 (math_v3.h); for other types (and builds without AVX2) Eigen's exp. log_softmax
// over the rows of (2048, 1024) on the 2-core Xeon, two threads, against Eigen's 8-lane exp over
// the shifted row: 905-925 -> 480-518 us; of (2048, 10), 46-49 -> 31.
template <class T>
T shifted_exp_sum(const T* x, T shift, int64_t n) {
  if constexpr (std::is_same_v<T, float>) {
    if (cpu_runs_avx512()) return shifted_exp_sum_avx512(x, shift, n);
    if constexpr (GRAFT_MATH_V3) return shifted_exp_sum_v3(x, shift, n);
  }
  return (Eigen::Map<const Eigen::Array<T, Eigen::Dynamic, 1>>(x, n) - shift).exp().sum();
}

// out = exp(in) elementwise, exactly 0 where in is -inf: a masked logit or score must get
// probability 0 (softmax.cpp, attention.cpp). A float32 vector of kExactExpCallFrom elements
// or more goes through ArrayForm<ExpOp>, which is exact there and 16 lanes wide where the CPU
// has AVX-512: `in` (the shifted logits, an expression) is written to `out` first and
// exponentiated in place. softmax over the rows of (2048, 1024) on the 2-core Xeon, two
// threads: 930 -> 490 us, of (2048, 64) 77 -> 52. Below 32 elements the call, and the first
// vector load waiting for the stores just made (a 64-byte load over two 32-byte stores is
// not forwarded), cost more than they save: rows of 16, 32 us against 44. Elsewhere Eigen's
// vectorised exp, which gives a tiny positive number at -inf, and the -inf entries fixed in a
// second pass: Eigen's select(), the one-expression way, runs an element at a time through
// the C library's expf, 3.5 times slower than the vectorised exp; there `in` (read twice)
// must not alias `out`. Where only a sum of exps is wanted, a plain exp() serves: each -inf
// adds about 1e-38 to a sum of at least 1 (the row's maximum contributes exp(0)). Always
// inlined: called, the short rows' Eigen path ran slower (softmax of (64, 10): 2.82 -> 3.28
// us; inlined, 2.66-2.75).
inline constexpr Eigen::Index kExactExpCallFrom = 32;
template <class Out, class In>
__attribute__((always_inline)) inline void exact_exp(Out&& out, const In& in) {
  using Scalar = typename In::Scalar;
  if constexpr (std::is_same_v<Scalar, float> && std::decay_t<Out>::IsVectorAtCompileTime) {
    if (out.innerStride() == 1 && out.size() >= kExactExpCallFrom) {
      out = in;
      ArrayForm<ExpOp>::apply(out.data(), out.data(), out.size());
      return;
    }
  }
  out = in.exp();
  constexpr auto kMinusInf = -std::numeric_limits<Scalar>::infinity();
  for (Eigen::Index i = 0; i < out.rows(); ++i)
    for (Eigen::Index j = 0; j < out.cols(); ++j)
      if (in(i, j) == kMinusInf) out(i, j) = 0;
}

}  // namespace graft::kernels::cpu
