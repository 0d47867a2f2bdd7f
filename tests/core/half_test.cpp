// graft::Half and graft::BFloat16 against an independent reference: every bit pattern
// decoded with ldexp in double, and rounding done by searching those values for the nearest
// (ties to the even pattern). Exhaustive where it is cheap: all 65536 patterns of each type
// to float and back, and float and double to each type at every value, every midpoint
// between neighbours (the ties) and the numbers either side of each midpoint. Both ways of
// converting are checked: the portable integer code (what CUDA kernels run) and the fast
// paths from and to float (a shift for bfloat16, the F16C instructions for float16).
#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>

#include "graft/graft.h"

namespace g = graft;

namespace {

// The fields of a 16-bit format, from the format's own description.
template <class T>
struct Fields;
template <>
struct Fields<g::Half> {
  using Format = g::Binary16Format;
  static constexpr int kExponentBits = 5, kFractionBits = 10;
};
template <>
struct Fields<g::BFloat16> {
  using Format = g::BFloat16Format;
  static constexpr int kExponentBits = 8, kFractionBits = 7;
};

template <class T>
constexpr int kBias = (1 << (Fields<T>::kExponentBits - 1)) - 1;
template <class T>
constexpr uint16_t kInfinityBits = ((1u << Fields<T>::kExponentBits) - 1)
                                   << Fields<T>::kFractionBits;

// The value of a non-negative pattern; the infinity pattern counts as 2^(emax + 1), the
// value IEEE's overflow rule rounds against.
template <class T>
double magnitude_of(uint16_t bits) {
  constexpr int m = Fields<T>::kFractionBits;
  const int exponent = bits >> m;
  const double fraction = bits & ((1u << m) - 1);
  if (exponent == 0) return std::ldexp(fraction, 1 - kBias<T> - m);
  return std::ldexp(fraction + std::ldexp(1.0, m), exponent - kBias<T> - m);
}

template <class T>
double value_of(uint16_t bits) {
  const uint16_t magnitude = bits & 0x7fff;
  if (magnitude > kInfinityBits<T>) return std::numeric_limits<double>::quiet_NaN();
  if (magnitude == kInfinityBits<T>) return bits & 0x8000 ? -INFINITY : INFINITY;
  const double v = magnitude_of<T>(magnitude);
  return bits & 0x8000 ? -v : v;
}

// The pattern nearest to x, ties to the even pattern, by binary search over the
// non-negative patterns (whose values grow with their bits).
template <class T>
uint16_t reference_round(double x) {
  const uint16_t sign = std::signbit(x) ? 0x8000 : 0;
  const double a = std::abs(x);
  if (std::isinf(a)) return sign | kInfinityBits<T>;
  uint16_t lo = 0, hi = kInfinityBits<T>;  // magnitude_of(lo) <= a < magnitude_of(hi)
  if (a >= magnitude_of<T>(hi)) return sign | kInfinityBits<T>;
  while (hi - lo > 1) {
    const auto mid = static_cast<uint16_t>((lo + hi) / 2);
    (magnitude_of<T>(mid) <= a ? lo : hi) = mid;
  }
  const double below = a - magnitude_of<T>(lo), above = magnitude_of<T>(hi) - a;
  const uint16_t nearest = below < above ? lo : above < below ? hi : (lo % 2 == 0 ? lo : hi);
  return sign | nearest;
}

std::string hex(uint16_t bits) {
  char text[8];
  std::snprintf(text, sizeof text, "0x%04x", bits);
  return text;
}

template <class T>
class Float16Conversions : public ::testing::Test {};
using Float16Types = ::testing::Types<g::Half, g::BFloat16>;
TYPED_TEST_SUITE(Float16Conversions, Float16Types);

TYPED_TEST(Float16Conversions, EveryPatternWidensExactlyAndComesBack) {
  using T = TypeParam;
  for (uint32_t b = 0; b <= 0xffff; ++b) {
    const auto bits = static_cast<uint16_t>(b);
    const float widened = T::from_bits(bits);
    const float portable = g::detail::portable_float16_to_float<typename Fields<T>::Format>(bits);
    const double want = value_of<T>(bits);
    if (std::isnan(want)) {
      EXPECT_TRUE(std::isnan(widened)) << hex(bits);
      EXPECT_TRUE(std::isnan(portable)) << hex(bits);
      // The same NaN by the hardware and the portable code: a float16 one made quiet (as F16C
      // does, and IEEE 754), a bfloat16 one as it is (a shift).
      EXPECT_EQ(std::bit_cast<uint32_t>(widened), std::bit_cast<uint32_t>(portable)) << hex(bits);
      EXPECT_TRUE(std::isnan(static_cast<float>(T(widened)))) << hex(bits) << ": NaN stays NaN";
      continue;
    }
    ASSERT_EQ(static_cast<double>(widened), want) << hex(bits);
    ASSERT_EQ(static_cast<double>(portable), want) << hex(bits) << " portably";
    ASSERT_EQ(static_cast<double>(T::from_bits(bits)), want) << hex(bits) << " to double";
    EXPECT_EQ(std::signbit(widened), (bits & 0x8000) != 0) << hex(bits);
    ASSERT_EQ(T(widened).bits(), bits) << hex(bits) << " back from float";
    ASSERT_EQ(T(static_cast<double>(widened)).bits(), bits) << hex(bits) << " back from double";
  }
}

// Every midpoint between neighbours is a tie; the float and the double just either side of
// it must go to the nearer neighbour, by the float, double and portable conversions alike
// (a double next to a midpoint is no float: rounded to the nearest float first, it would
// become the tie). The last midpoint (between the largest finite value and 2^(emax + 1)) is
// where overflow to infinity starts.
TYPED_TEST(Float16Conversions, RoundsToNearestEvenAtEveryBoundary) {
  using T = TypeParam;
  const auto portable = g::detail::portable_round_to_float16<typename Fields<T>::Format>;
  int64_t checked = 0;
  for (uint16_t lo = 0; lo < kInfinityBits<T>; ++lo) {
    const double mid = (magnitude_of<T>(lo) + magnitude_of<T>(lo + 1)) / 2;
    const auto mid_float = static_cast<float>(mid);
    ASSERT_EQ(static_cast<double>(mid_float), mid) << "a midpoint is a float exactly";
    for (double sign : {1.0, -1.0}) {
      const double points[] = {mid, std::nextafter(mid, 0.0), std::nextafter(mid, INFINITY)};
      const float float_points[] = {mid_float, std::nextafter(mid_float, 0.0f),
                                    std::nextafter(mid_float, INFINITY)};
      for (int k = 0; k < 3; ++k) {
        const double x = sign * points[k];
        ASSERT_EQ(T(x).bits(), reference_round<T>(x)) << "double " << x;
        ASSERT_EQ(portable(x), reference_round<T>(x)) << "portably " << x;
        const float f = static_cast<float>(sign) * float_points[k];
        ASSERT_EQ(T(f).bits(), reference_round<T>(f)) << "float " << f;
        ASSERT_EQ(portable(f), reference_round<T>(f)) << "portably " << f;
        checked += 4;
      }
    }
  }
  EXPECT_EQ(checked, 24 * int64_t{kInfinityBits<T>});
}

TYPED_TEST(Float16Conversions, SpecialValues) {
  using T = TypeParam;
  using L = std::numeric_limits<T>;
  EXPECT_EQ(T(INFINITY).bits(), kInfinityBits<T>);
  EXPECT_EQ(T(-INFINITY).bits(), 0x8000 | kInfinityBits<T>);
  EXPECT_TRUE(std::isnan(static_cast<float>(T(NAN))));
  EXPECT_TRUE(std::isnan(static_cast<float>(T(-NAN))));
  EXPECT_EQ(T(-0.0).bits(), 0x8000);  // the sign of zero is kept
  EXPECT_EQ(T(1e300).bits(), kInfinityBits<T>);
  // A double past float's largest, which rounds to it or to infinity as a float: infinity.
  EXPECT_EQ(T(std::nextafter(double{std::numeric_limits<float>::max()}, INFINITY)).bits(),
            kInfinityBits<T>);
  EXPECT_TRUE(std::isnan(static_cast<float>(T(std::numeric_limits<double>::quiet_NaN()))));
  EXPECT_EQ(T(-1e-300).bits(), 0x8000);
  EXPECT_EQ(T(std::numeric_limits<double>::denorm_min()).bits(), 0);
  EXPECT_EQ(static_cast<float>(L::infinity()), INFINITY);
  EXPECT_TRUE(std::isnan(static_cast<float>(L::quiet_NaN())));
  EXPECT_EQ(static_cast<double>(L::max()), value_of<T>(kInfinityBits<T> - 1));
  EXPECT_EQ(static_cast<float>(L::lowest()), -static_cast<float>(L::max()));
  EXPECT_EQ(static_cast<double>(L::min()), std::ldexp(1.0, 1 - kBias<T>));
  EXPECT_EQ(static_cast<double>(L::denorm_min()),
            std::ldexp(1.0, 1 - kBias<T> - Fields<T>::kFractionBits));
  EXPECT_EQ(static_cast<double>(L::epsilon()), std::ldexp(1.0, -Fields<T>::kFractionBits));
  EXPECT_EQ(L::digits, Fields<T>::kFractionBits + 1);
  // Integers convert too, rounding like the double they equal.
  EXPECT_EQ(T(3).bits(), T(3.0).bits());
  EXPECT_EQ(T(int64_t{1} << 40).bits(), reference_round<T>(std::ldexp(1.0, 40)));
}

TEST(Float16, KnownPatternsAndArithmeticInFloat) {
  static_assert(g::Half(1.0f).bits() == 0x3c00);
  static_assert(g::BFloat16(1.0f).bits() == 0x3f80);
  static_assert(std::numeric_limits<g::Half>::max() == 65504.0f);
  EXPECT_EQ(g::Half(65504.0f).bits(), 0x7bff);
  EXPECT_EQ(g::Half(65520.0f).bits(),
            0x7c00);  // max + half an ulp ties away from max's odd pattern
  EXPECT_EQ(g::Half(65519.99f).bits(), 0x7bff);
  EXPECT_EQ(g::BFloat16(3.0e38f).bits(), 0x7f62);
  // a + b is a float sum: no rounding to 16 bits until it is stored.
  const g::Half a(2048.0f), b(1.0f);
  EXPECT_EQ(a + b, 2049.0f);
  g::Half c = a;
  c += 1.0f;  // stored: 2049 is not a half, and the tie goes to the even 2048
  EXPECT_EQ(static_cast<float>(c), 2048.0f);
  // Between the two types: through float, rounded once.
  EXPECT_EQ(static_cast<float>(g::BFloat16(g::Half(1.5f))), 1.5f);
  EXPECT_EQ(static_cast<g::Half>(g::BFloat16(1e10f)).bits(), 0x7c00);
}

}  // namespace
