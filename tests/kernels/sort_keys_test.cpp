// The keys every sort orders by (kernels/sort_keys.h), and value_of_key, their inverse: every
// 16-bit pattern of float16 and bfloat16, spread float32 and float64 patterns, the integer
// extremes, both directions. A key gives back its value, bit for bit, except a floating zero
// (whose signs share a key) and NaN (all of which share the largest key), where it says so.
#include "graft/kernels/sort_keys.h"

#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>

namespace k = graft::kernels;

namespace {

template <class T, class Bits>
Bits bits_of(T value) {
  if constexpr (graft::is_float16_v<T>)
    return value.bits();
  else
    return std::bit_cast<Bits>(value);
}

// value_of_key(sort_key(v)) is v, or says it cannot tell, for a zero or NaN v only.
template <class T, class Bits>
void expect_round_trip(T v) {
  for (const bool descending : {false, true}) {
    T back{};
    const bool told = k::value_of_key<T>(k::sort_key(v, descending), descending, back);
    const auto as_float = static_cast<double>(v);
    const bool ambiguous = std::isnan(as_float) || as_float == 0;
    if (!graft::is_floating_type_v<T>) {
      ASSERT_TRUE(told);
    } else {
      ASSERT_EQ(told, !ambiguous) << as_float;
    }
    if (told) {
      ASSERT_EQ((bits_of<T, Bits>(back)), (bits_of<T, Bits>(v))) << as_float;
    }
  }
}

}  // namespace

TEST(SortKeys, EveryHalfAndBFloat16PatternComesBackFromItsKey) {
  for (uint32_t bits = 0; bits <= 0xffff; ++bits) {
    expect_round_trip<graft::Half, uint16_t>(graft::Half::from_bits(static_cast<uint16_t>(bits)));
    expect_round_trip<graft::BFloat16, uint16_t>(
        graft::BFloat16::from_bits(static_cast<uint16_t>(bits)));
  }
}

TEST(SortKeys, FloatAndDoublePatternsComeBackFromTheirKeys) {
  for (uint64_t bits = 0; bits <= 0xffffffffu; bits += 65521)  // every exponent, both signs
    expect_round_trip<float, uint32_t>(std::bit_cast<float>(static_cast<uint32_t>(bits)));
  for (const float v :
       {0.0f, -0.0f, std::numeric_limits<float>::infinity(),
        -std::numeric_limits<float>::infinity(), std::numeric_limits<float>::denorm_min(), -1.5f})
    expect_round_trip<float, uint32_t>(v);
  for (uint64_t step = 0; step < 200000; ++step)
    expect_round_trip<double, uint64_t>(std::bit_cast<double>(step * 0x0000a7d3b1c2e4f5ull));
}

TEST(SortKeys, IntegersAndBoolsComeBackFromTheirKeys) {
  for (const int64_t v : {std::numeric_limits<int64_t>::min(), int64_t{-1}, int64_t{0}, int64_t{1},
                          std::numeric_limits<int64_t>::max()})
    expect_round_trip<int64_t, uint64_t>(v);
  for (const int32_t v :
       {std::numeric_limits<int32_t>::min(), -7, 0, 7, std::numeric_limits<int32_t>::max()})
    expect_round_trip<int32_t, uint32_t>(v);
  for (int v = 0; v < 256; ++v) expect_round_trip<uint8_t, uint8_t>(static_cast<uint8_t>(v));
  expect_round_trip<bool, uint8_t>(false);
  expect_round_trip<bool, uint8_t>(true);
}
