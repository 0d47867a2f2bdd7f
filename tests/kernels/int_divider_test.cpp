// IntDivider (kernels/int_divider.h), the multiply-and-shift division the strided CUDA
// kernels use, against the hardware's n / d: every divisor up to 4096, the powers of two
// and their neighbours up to 2^31, and a spread of random ones; for each, numerators at
// and around its multiples, the smallest and the largest allowed (2^31 - 1), and random.
// The host form runs here; the device form differs only in computing umulhi with
// __umulhi, which returns the same high word.
#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <vector>

#include "graft/kernels/int_divider.h"

namespace {

using graft::kernels::IntDivider;

constexpr uint32_t kLargest = (uint32_t{1} << 31) - 1;  // the largest numerator allowed

std::vector<uint32_t> divisors() {
  std::vector<uint32_t> list;
  for (uint32_t d = 1; d <= 4096; ++d) list.push_back(d);
  for (int s = 12; s <= 31; ++s) {
    const uint32_t p = uint32_t{1} << s;
    for (uint32_t d : {p - 1, p, p + 1}) list.push_back(d);
  }
  std::mt19937 rng(7);
  std::uniform_int_distribution<uint32_t> any(1, kLargest);
  for (int i = 0; i < 2000; ++i) list.push_back(any(rng));
  return list;
}

TEST(IntDivider, DividesEveryNumeratorBelowTwoToThe31LikeTheHardware) {
  std::mt19937 rng(11);
  std::uniform_int_distribution<uint32_t> any(0, kLargest);
  for (const uint32_t d : divisors()) {
    if (d > kLargest) continue;
    const IntDivider divider(d);
    std::vector<uint32_t> numerators = {0, 1, d - 1, d, kLargest, kLargest - 1};
    // Around the multiples of d, where a quotient one off would show first.
    for (uint64_t q :
         {uint64_t{1}, uint64_t{2}, uint64_t{kLargest / d}, uint64_t{kLargest / d / 2}})
      for (const int64_t delta : {-1, 0, 1}) {
        const int64_t n = static_cast<int64_t>(q * d) + delta;
        if (n >= 0 && n <= kLargest) numerators.push_back(static_cast<uint32_t>(n));
      }
    for (int i = 0; i < 64; ++i) numerators.push_back(any(rng));
    for (const uint32_t n : numerators) {
      ASSERT_EQ(divider.div(n), n / d)
          << n << " / " << d << " (magic " << divider.magic << ", shift " << divider.shift << ")";
    }
  }
}

TEST(IntDivider, EveryNumeratorOfSmallDivisorsUpToAMillion) {
  for (uint32_t d = 1; d <= 64; ++d) {
    const IntDivider divider(d);
    for (uint32_t n = 0; n < (1u << 20); ++n) ASSERT_EQ(divider.div(n), n / d) << n << " / " << d;
  }
}

}  // namespace
