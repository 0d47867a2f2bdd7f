// graft::Half (IEEE binary16) and graft::BFloat16: the two 16-bit floating-point types.
//
// Both are a sign, an exponent and a fraction packed into 16 bits; they differ only in how
// the bits are split: binary16 has 5 exponent bits and 10 fraction bits (more precision, a
// range up to 65504), bfloat16 has 8 and 7 (float32's range, three significant digits).
// So one class template serves both, parameterised by the split.
//
// Arithmetic goes through float: a Half converts to float implicitly, and a float (or any
// C++ number) converts to Half implicitly, rounding once. So `a + b` on two Halfs is a float
// sum, which is what kernels want (load half, compute in float32, store half), and a kernel
// written for float compiles for Half unchanged. Conversions are correctly rounded (to
// nearest, ties to even), keep NaN a NaN and inf an inf, and produce subnormals and
// overflow exactly as IEEE 754 says. The portable conversions below are plain integer code,
// the same on the host and in CUDA kernels; from and to float, the hot path of every kernel,
// bfloat16 takes a shift and a branch-free rounding, and float16 on an x86-64 build with F16C
// (graft's default, x86-64-v3) takes the hardware's vcvtps2ph / vcvtph2ps (through the
// compiler's _Float16 and F16C's intrinsic), one element an instruction (GCC 12 does not vectorise
// them: the CPU loops convert blocks eight-wide, kernels/cpu/half_blocks.h). Both give the portable
// code's bits (tests/core/half_test.cpp checks each against the same reference). In CUDA
// device code float16 takes the GPU's instructions, cvt.rn.f16.f32 and cvt.f32.f16, one an
// element where the portable code is a few dozen integer and double operations: the same
// values, NaN payloads aside (the GPU makes every NaN its canonical one).
#pragma once

#include <bit>
#include <cstdint>
#include <limits>
#include <type_traits>

#include "graft/core/host_device.h"

// The hardware float16 conversions: host code of a C++ translation unit built with F16C. CUDA
// translation units (whose front end has no _Float16) and device code use the portable code,
// which gives the same bits.
#if defined(__F16C__) && defined(__FLT16_MANT_DIG__) && !defined(__CUDACC__)
#define GRAFT_F16C_CONVERSIONS 1
#include <immintrin.h>
#else
#define GRAFT_F16C_CONVERSIONS 0
#endif
#if defined(__CUDA_ARCH__)
#define GRAFT_CUDA_FLOAT16_CONVERSIONS 1
#else
#define GRAFT_CUDA_FLOAT16_CONVERSIONS 0
#endif

namespace graft {

// The two splits of 16 bits.
struct Binary16Format {
  static constexpr int kExponentBits = 5;
  static constexpr int kFractionBits = 10;
};
struct BFloat16Format {
  static constexpr int kExponentBits = 8;
  static constexpr int kFractionBits = 7;
};

namespace detail {

template <class Format>
struct Float16Layout {
  static constexpr int kFractionBits = Format::kFractionBits;
  static constexpr int kBias = (1 << (Format::kExponentBits - 1)) - 1;
  static constexpr uint16_t kFractionMask = (1u << kFractionBits) - 1;
  static constexpr uint16_t kExponentMax = (1u << Format::kExponentBits) - 1;
  static constexpr uint16_t kInfinity = kExponentMax << kFractionBits;
  static constexpr uint16_t kSign = 0x8000;
};

// The 16-bit pattern nearest to `value` (ties to even), portably. Every float and every int32
// is a double exactly, so rounding from double is the one correctly rounded conversion all of
// them need (an int64 beyond 2^53 rounds twice: to double, then here).
template <class Format>
GRAFT_HOST_DEVICE constexpr uint16_t portable_round_to_float16(double value) {
  using L = Float16Layout<Format>;
  const auto bits = std::bit_cast<uint64_t>(value);
  const auto sign = static_cast<uint16_t>((bits >> 48) & L::kSign);
  const uint64_t magnitude = bits & 0x7fffffffffffffffull;
  constexpr uint64_t kDoubleInfinity = 0x7ff0000000000000ull;
  if (magnitude >= kDoubleInfinity) {
    if (magnitude == kDoubleInfinity) return sign | L::kInfinity;
    // NaN: quiet, with the top of the payload kept.
    const auto payload =
        static_cast<uint16_t>((magnitude >> (52 - L::kFractionBits)) & L::kFractionMask);
    return sign | L::kInfinity | (1u << (L::kFractionBits - 1)) | payload;
  }
  const int exponent = static_cast<int>(magnitude >> 52) - 1023;
  // Zero and double subnormals (below 2^-1022, far under half the smallest 16-bit
  // subnormal of either format) round to zero.
  if (exponent == -1023) return sign;
  const uint64_t significand = (magnitude & ((1ull << 52) - 1)) | (1ull << 52);
  // The exponent field it would have; below 1 the result is subnormal, and the significand
  // loses one more bit for every step under the normal range.
  const int biased = exponent + L::kBias;
  const int shift = 52 - L::kFractionBits + (biased < 1 ? 1 - biased : 0);
  if (shift > 53) return sign;  // under half the smallest subnormal
  uint64_t kept = significand >> shift;
  const uint64_t rest = significand & ((1ull << shift) - 1);
  const uint64_t halfway = 1ull << (shift - 1);
  if (rest > halfway || (rest == halfway && (kept & 1))) ++kept;
  // A normal result keeps its leading one in `kept`, so the exponent field adds biased - 1;
  // a carry out of the fraction (rounding up to the next power of two) lands in the
  // exponent by itself, and a subnormal that rounds up to the smallest normal too.
  const uint64_t result =
      (static_cast<uint64_t>(biased < 1 ? 0 : biased - 1) << L::kFractionBits) + kept;
  if (result >= L::kInfinity) return sign | L::kInfinity;
  return sign | static_cast<uint16_t>(result);
}

// The float equal to a 16-bit pattern (exact: float holds every value of both formats),
// portably.
template <class Format>
GRAFT_HOST_DEVICE constexpr float portable_float16_to_float(uint16_t bits) {
  using L = Float16Layout<Format>;
  constexpr int kShift = 23 - L::kFractionBits;
  const uint32_t sign = static_cast<uint32_t>(bits & L::kSign) << 16;
  const uint32_t exponent = (bits >> L::kFractionBits) & L::kExponentMax;
  uint32_t fraction = bits & L::kFractionMask;
  if (exponent == L::kExponentMax) {
    // inf, or a NaN with its payload; a float16 NaN made quiet, as IEEE 754's conversions and
    // F16C's vcvtph2ps (float16_to_float's hardware path) make it. bfloat16 widens by a shift
    // everywhere, its NaNs as they are.
    const uint32_t quiet =
        std::is_same_v<Format, Binary16Format> && fraction != 0 ? 0x00400000u : 0;
    return std::bit_cast<float>(sign | 0x7f800000u | quiet | (fraction << kShift));
  }
  if (exponent != 0)
    return std::bit_cast<float>(sign | ((exponent - L::kBias + 127) << 23) | (fraction << kShift));
  if (fraction == 0) return std::bit_cast<float>(sign);
  // A subnormal: with float's own exponent range (bfloat16) it is a float subnormal with
  // the same bits; otherwise it is a normal float, so move its leading one into place.
  if constexpr (L::kBias == 127) {
    return std::bit_cast<float>(sign | (fraction << kShift));
  } else {
    int float_exponent = 1 - L::kBias + 127;
    while ((fraction & (1u << L::kFractionBits)) == 0) {
      fraction <<= 1;
      --float_exponent;
    }
    fraction &= L::kFractionMask;
    return std::bit_cast<float>(sign | (static_cast<uint32_t>(float_exponent) << 23) |
                                (fraction << kShift));
  }
}

// The 16-bit pattern nearest to a float: the portable code's bits, faster.
template <class Format>
GRAFT_HOST_DEVICE constexpr uint16_t round_float_to_float16(float value) {
  if constexpr (std::is_same_v<Format, BFloat16Format>) {
    // bfloat16 is float's top half: add just under half of the dropped low half, plus one
    // when the kept part is odd (ties to even), and keep the top; a carry rounds up into the
    // exponent (to infinity past the largest). A NaN is kept a NaN and made quiet.
    const auto bits = std::bit_cast<uint32_t>(value);
    if ((bits & 0x7fffffffu) > 0x7f800000u) return static_cast<uint16_t>((bits >> 16) | 0x0040u);
    return static_cast<uint16_t>((bits + 0x7fffu + ((bits >> 16) & 1u)) >> 16);
  } else {
#if GRAFT_F16C_CONVERSIONS
    if (!std::is_constant_evaluated()) return std::bit_cast<uint16_t>(static_cast<_Float16>(value));
#endif
#if GRAFT_CUDA_FLOAT16_CONVERSIONS
    if (!std::is_constant_evaluated()) {
      uint16_t bits;
      asm("cvt.rn.f16.f32 %0, %1;" : "=h"(bits) : "f"(value));
      return bits;
    }
#endif
    return portable_round_to_float16<Format>(static_cast<double>(value));
  }
}

// The float nearest to `value` toward zero, its last bit set when that dropped anything:
// rounding to odd. A float holds 13 more significant bits than float16 and 16 more than
// bfloat16, so this float, rounded to either to nearest, rounds as the double would (below,
// at or above each halfway point, and whether exactly at it): one correct rounding, where
// double to float to nearest and then to 16 bits rounds twice (1 + 2^-11 + 2^-40 becomes the
// tie 1 + 2^-11, and goes down to 1). A few instructions without a branch, where the
// portable rounding from double takes a few dozen: a cumsum of 16-bit floats rounds every
// one of its double running sums (1M of them, 5.1 ms that way).
GRAFT_HOST_DEVICE constexpr float round_to_odd_float(double value) {
  const auto nearest = static_cast<float>(value);
  const double back = nearest;
  const double magnitude = value < 0 ? -value : value;
  const double nearest_magnitude = back < 0 ? -back : back;
  // Rounded away from zero: its neighbour toward zero (from infinity, the largest float).
  const uint32_t toward_zero =
      std::bit_cast<uint32_t>(nearest) - (nearest_magnitude > magnitude ? 1u : 0u);
  return std::bit_cast<float>(toward_zero | (back != value ? 1u : 0u));  // a NaN stays one
}

// The float equal to a 16-bit pattern: the portable code's value, faster.
template <class Format>
GRAFT_HOST_DEVICE constexpr float float16_to_float(uint16_t bits) {
  if constexpr (std::is_same_v<Format, BFloat16Format>) {
    return std::bit_cast<float>(static_cast<uint32_t>(bits) << 16);
  } else {
#if GRAFT_F16C_CONVERSIONS
    // The intrinsic, not static_cast<float>(_Float16): inlined where the float goes on to
    // double (a reducer's step), GCC folds the two casts into one, _Float16 to double, which
    // has no instruction and becomes a call to libgcc's __extendhfdf2 per element (a float16
    // sum over dim 0 of a (1024, 1024), 3.2 ms against bfloat16's 0.11).
    if (!std::is_constant_evaluated()) return _cvtsh_ss(bits);
#endif
#if GRAFT_CUDA_FLOAT16_CONVERSIONS
    if (!std::is_constant_evaluated()) {
      float value;
      asm("cvt.f32.f16 %0, %1;" : "=f"(value) : "h"(bits));
      return value;
    }
#endif
    return portable_float16_to_float<Format>(bits);
  }
}

}  // namespace detail

template <class Format>
class Float16 {
 public:
  constexpr Float16() = default;
  // From any C++ number, rounded to nearest (ties to even): a float directly, the others
  // through double, which holds every int32 exactly, and a float rounded to odd from it.
  GRAFT_HOST_DEVICE constexpr Float16(float value)  // NOLINT(google-explicit-constructor)
      : bits_(detail::round_float_to_float16<Format>(value)) {}
  template <class T,
            std::enable_if_t<std::is_arithmetic_v<T> && !std::is_same_v<T, float>, int> = 0>
  GRAFT_HOST_DEVICE constexpr Float16(T value)  // NOLINT(google-explicit-constructor)
      : bits_(detail::round_float_to_float16<Format>(
            detail::round_to_odd_float(static_cast<double>(value)))) {}

  // From the other 16-bit type, through float (exact), rounding once.
  template <class OtherFormat>
  GRAFT_HOST_DEVICE constexpr explicit Float16(Float16<OtherFormat> value)
      : Float16(static_cast<float>(value)) {}

  GRAFT_HOST_DEVICE constexpr operator float() const {  // NOLINT(google-explicit-constructor)
    return detail::float16_to_float<Format>(bits_);
  }
  // static_cast<double>(h) (reductions accumulate in double), through float, exact. Explicit,
  // so that h + 1.0 still goes through float alone.
  GRAFT_HOST_DEVICE constexpr explicit operator double() const {
    return static_cast<double>(detail::float16_to_float<Format>(bits_));
  }

  GRAFT_HOST_DEVICE static constexpr Float16 from_bits(uint16_t bits) {
    Float16 out;
    out.bits_ = bits;
    return out;
  }
  GRAFT_HOST_DEVICE constexpr uint16_t bits() const { return bits_; }

  // Compound assignment computes in float and rounds once (a + b itself is a float).
  GRAFT_HOST_DEVICE constexpr Float16& operator+=(float other) {
    return *this = float(*this) + other;
  }
  GRAFT_HOST_DEVICE constexpr Float16& operator-=(float other) {
    return *this = float(*this) - other;
  }
  GRAFT_HOST_DEVICE constexpr Float16& operator*=(float other) {
    return *this = float(*this) * other;
  }
  GRAFT_HOST_DEVICE constexpr Float16& operator/=(float other) {
    return *this = float(*this) / other;
  }

 private:
  uint16_t bits_ = 0;
};

using Half = Float16<Binary16Format>;
using BFloat16 = Float16<BFloat16Format>;

// True for the two 16-bit types: kernels use it to pick float as their compute type.
template <class T>
inline constexpr bool is_float16_v =
    std::is_same_v<std::remove_cv_t<T>, Half> || std::is_same_v<std::remove_cv_t<T>, BFloat16>;
// std::is_floating_point_v says no to class types; this says yes to all four.
template <class T>
inline constexpr bool is_floating_type_v = std::is_floating_point_v<T> || is_float16_v<T>;
// The type a kernel computes in for elements of type T: float for the 16-bit types.
template <class T>
using compute_type_t = std::conditional_t<is_float16_v<T>, float, T>;

}  // namespace graft

// numeric_limits, as for float, from the bit patterns.
template <class Format>
class std::numeric_limits<graft::Float16<Format>> {
  using T = graft::Float16<Format>;
  using L = graft::detail::Float16Layout<Format>;

 public:
  static constexpr bool is_specialized = true;
  static constexpr bool is_signed = true;
  static constexpr bool is_integer = false;
  static constexpr bool is_exact = false;
  static constexpr bool has_infinity = true;
  static constexpr bool has_quiet_NaN = true;
  static constexpr bool has_signaling_NaN = true;
  static constexpr bool is_iec559 = true;
  static constexpr bool is_bounded = true;
  static constexpr int radix = 2;
  static constexpr int digits = L::kFractionBits + 1;
  static constexpr int min_exponent = 2 - L::kBias;
  static constexpr int max_exponent = L::kBias + 1;
  static constexpr float_round_style round_style = round_to_nearest;
  static constexpr T min() { return T::from_bits(1u << L::kFractionBits); }
  static constexpr T lowest() { return T::from_bits(L::kSign | (L::kInfinity - 1)); }
  static constexpr T max() { return T::from_bits(L::kInfinity - 1); }
  static constexpr T epsilon() {
    return T::from_bits((L::kBias - L::kFractionBits) << L::kFractionBits);
  }
  static constexpr T round_error() { return T::from_bits((L::kBias - 1) << L::kFractionBits); }
  static constexpr T infinity() { return T::from_bits(L::kInfinity); }
  static constexpr T quiet_NaN() {
    return T::from_bits(L::kInfinity | (1u << (L::kFractionBits - 1)));
  }
  static constexpr T signaling_NaN() { return T::from_bits(L::kInfinity | 1u); }
  static constexpr T denorm_min() { return T::from_bits(1); }
};
