// The random kernels' argument block and the per-element draws every backend shares.
//
// A call fills `numel` contiguous elements from blocks offset, offset + 1, ... of the
// Philox stream of `seed` (core/random.h). One block (four 32-bit words) feeds
// elements_per_block() consecutive elements, and element i reads only block
// offset + i / E at position i % E. So element i never depends on how the work is split
// between CPU threads or CUDA threads, and the same seed gives the same numbers on
// every device: rand and randint bit for bit; randn within the few-ulp differences of
// each device's log/sin/cos (measured on an H200 against the CPU over 2^24 draws: at most
// 3.5e-7 relative for float32, 5.6e-16 for float64).
//
// The draws:
// - uniform float32: the top 24 bits of one word, times 2^-24: a multiple of 2^-24 in
//   [0, 1) (every float32 of that grid, never 1.0). float64: 53 bits from two words.
//   float16 and bfloat16: the top 11 or 8 bits of the word, so the value is exact in the type
//   and never rounds up to 1.0 (a float32 draw rounded to 16 bits could).
// - normal: Box-Muller on two uniforms, both outputs used: u1 in (0, 1] (so log(u1) is
//   finite), u2 in [0, 1); r = sqrt(-2 log u1); the pair is (r cos 2 pi u2, r sin 2 pi u2),
//   computed in the output's precision. float32 takes a pair from two words (four
//   normals a block); float64 takes a pair from all four (two normals a block); float16 and
//   bfloat16 round float32's normals (the same seed gives the same numbers, rounded).
// - integer in [low, high): a 64-bit word x from two words, and low + floor(x * span /
//   2^64) with span = high - low in uint64 (Lemire's multiply-shift without rejection,
//   so that the count of words per element stays fixed). Every value gets within one of
//   2^64 / span preimages: a relative bias below span / 2^64 (2^-32 for spans up to 2^32).
#pragma once

#include <cmath>
#include <cstdint>
#include <limits>

#include "graft/core/dtype.h"
#include "graft/core/random.h"

namespace graft::kernels {

enum class Distribution : uint8_t { kUniform, kNormal, kInteger };

struct RandomArgs {
  void* out;  // numel contiguous elements of `dtype`
  DType dtype;
  int64_t numel;
  uint64_t seed;
  uint64_t offset;  // the first Philox block of this call
  Distribution distribution;
  int64_t low = 0;  // kInteger: values in [low, high), high > low
  int64_t high = 0;
};

// Elements fed by one Philox block: four when an element takes 32 bits, two for 64.
GRAFT_HOST_DEVICE constexpr int elements_per_block(Distribution distribution, DType dtype) {
  return distribution == Distribution::kInteger || dtype == kFloat64 ? 2 : 4;
}

inline constexpr float kTwoPow24Inv = 1.0f / 16777216.0f;
inline constexpr double kTwoPow53Inv = 1.0 / 9007199254740992.0;
inline constexpr double kTwoPi = 6.283185307179586476925286766559;

GRAFT_HOST_DEVICE inline uint64_t join_words(uint32_t hi, uint32_t lo) {
  return (static_cast<uint64_t>(hi) << 32) | lo;
}

// A uniform T (float or double) in [0, 1) from word(s) at `j` of the block, or in (0, 1]
// when `open_at_zero`, as the log of Box-Muller needs.
template <class T>
GRAFT_HOST_DEVICE T uniform_from_words(const PhiloxBlock& block, int j, bool open_at_zero) {
  if constexpr (sizeof(T) == 4) {
    const uint32_t bits = block.words[j] >> 8;
    return static_cast<T>(bits + (open_at_zero ? 1u : 0u)) * kTwoPow24Inv;
  } else {
    const uint64_t bits = join_words(block.words[j], block.words[j + 1]) >> 11;
    return static_cast<T>(bits + (open_at_zero ? 1u : 0u)) * kTwoPow53Inv;
  }
}

// Element j (0 <= j < elements_per_block) of a block, for a floating distribution.
template <class T>
GRAFT_HOST_DEVICE T draw_floating(const PhiloxBlock& block, int j, Distribution distribution) {
  if constexpr (is_float16_v<T>) {
    if (distribution == Distribution::kNormal)
      return static_cast<T>(draw_floating<float>(block, j, distribution));
    constexpr int kDigits = std::numeric_limits<T>::digits;
    const uint32_t bits = block.words[j] >> (32 - kDigits);
    return static_cast<T>(static_cast<float>(bits) * (1.0f / static_cast<float>(1u << kDigits)));
  } else {
    constexpr int kWordsPerUniform = sizeof(T) == 4 ? 1 : 2;
    if (distribution == Distribution::kUniform)
      return uniform_from_words<T>(block, j * kWordsPerUniform, false);
    // Box-Muller: elements 2k and 2k + 1 are the two outputs of the k-th uniform pair.
    const int first_word = (j / 2) * 2 * kWordsPerUniform;
    const T u1 = uniform_from_words<T>(block, first_word, true);
    const T u2 = uniform_from_words<T>(block, first_word + kWordsPerUniform, false);
    const T radius = std::sqrt(T(-2) * std::log(u1));
    const T angle = static_cast<T>(kTwoPi) * u2;
    return radius * (j % 2 == 0 ? std::cos(angle) : std::sin(angle));
  }
}

// The high 64 bits of a * b, in portable 32-bit pieces (no __int128 on every compiler).
GRAFT_HOST_DEVICE inline uint64_t mul_high_64(uint64_t a, uint64_t b) {
  const uint64_t a_lo = static_cast<uint32_t>(a), a_hi = a >> 32;
  const uint64_t b_lo = static_cast<uint32_t>(b), b_hi = b >> 32;
  const uint64_t lo_lo = a_lo * b_lo, hi_lo = a_hi * b_lo, lo_hi = a_lo * b_hi;
  const uint64_t middle =
      (lo_lo >> 32) + static_cast<uint32_t>(hi_lo) + static_cast<uint32_t>(lo_hi);
  return a_hi * b_hi + (hi_lo >> 32) + (lo_hi >> 32) + (middle >> 32);
}

// Element j (0 or 1) of a block for kInteger: a value in [low, low + span), where span =
// high - low computed in uint64 (it may exceed INT64_MAX) and the sum wraps back.
GRAFT_HOST_DEVICE inline int64_t draw_integer(const PhiloxBlock& block, int j, int64_t low,
                                              uint64_t span) {
  const uint64_t x = join_words(block.words[2 * j], block.words[2 * j + 1]);
  return static_cast<int64_t>(static_cast<uint64_t>(low) + mul_high_64(x, span));
}

}  // namespace graft::kernels
