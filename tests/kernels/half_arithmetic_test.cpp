// float16's +, -, * and / in AVX512-FP16's instructions (kernels/cpu/half_arithmetic.h) give the
// bits of the float32 way they replace, graft::Half(float(a) op float(b)), rounded once: every
// float16 pattern against a spread of others (zeros, subnormals, the largest finite, infinities,
// NaN, patterns either side of 1), in every arrangement of scalar and vector operands, and runs
// whose lengths leave every kind of tail. A NaN result need only be a NaN: its payload is not
// part of the contract.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

#include "graft/kernels/cpu/cpu_features.h"
#include "graft/kernels/cpu/half_arithmetic.h"

namespace g = graft;
namespace cpu = graft::kernels::cpu;

namespace {

using cpu::HalfArithmetic;

float apply(HalfArithmetic op, float a, float b) {
  switch (op) {
    case HalfArithmetic::kAdd:
      return a + b;
    case HalfArithmetic::kSub:
      return a - b;
    case HalfArithmetic::kMul:
      return a * b;
    case HalfArithmetic::kDiv:
      return a / b;
  }
  return NAN;
}

const char* name(HalfArithmetic op) {
  constexpr const char* kNames[] = {"+", "-", "*", "/"};
  return kNames[static_cast<int>(op)];
}

std::vector<g::Half> every_pattern() {
  std::vector<g::Half> all(65536);
  for (uint32_t b = 0; b < 65536; ++b) all[b] = g::Half::from_bits(static_cast<uint16_t>(b));
  return all;
}

// The other operands each pattern meets: both zeros, the smallest and largest subnormals, the
// smallest normal, 1 and its neighbours, the largest finite, infinities, a NaN, with both
// signs where it matters, and patterns drawn at random.
std::vector<g::Half> spread_of_others() {
  std::vector<g::Half> others;
  for (const uint16_t bits : {0x0000, 0x8000, 0x0001, 0x83ff, 0x0400, 0x3c00, 0x3bff, 0x3c01,
                              0xbc00, 0x4000, 0x3555, 0x7bff, 0xfbff, 0x7c00, 0xfc00, 0x7e00})
    others.push_back(g::Half::from_bits(bits));
  std::mt19937 rng(7);
  for (int i = 0; i < 24; ++i) others.push_back(g::Half::from_bits(static_cast<uint16_t>(rng())));
  return others;
}

// out[i] against a[i] op b[i] (index 0 of a scalar operand) for i < n.
void expect_float32_rounded_once(HalfArithmetic op, const g::Half* a, bool a_is_scalar,
                                 const g::Half* b, bool b_is_scalar, int64_t n) {
  std::vector<g::Half> out(static_cast<size_t>(n) + 1, g::Half::from_bits(0x1234));
  cpu::half_arithmetic_avx512fp16(op, a, a_is_scalar, b, b_is_scalar, out.data(), n);
  for (int64_t i = 0; i < n; ++i) {
    const g::Half x = a[a_is_scalar ? 0 : i], y = b[b_is_scalar ? 0 : i];
    const g::Half expected(apply(op, static_cast<float>(x), static_cast<float>(y)));
    if (std::isnan(static_cast<float>(expected)))
      ASSERT_TRUE(std::isnan(static_cast<float>(out[i])))
          << std::hex << x.bits() << " " << name(op) << " " << y.bits();
    else
      ASSERT_EQ(out[i].bits(), expected.bits())
          << std::hex << x.bits() << " " << name(op) << " " << y.bits();
  }
  ASSERT_EQ(out[n].bits(), 0x1234) << "wrote past the end of a run of " << n;
}

constexpr HalfArithmetic kOps[] = {HalfArithmetic::kAdd, HalfArithmetic::kSub, HalfArithmetic::kMul,
                                   HalfArithmetic::kDiv};

TEST(HalfArithmetic, EveryPatternWithAScalarAsFloat32RoundedOnce) {
  if (!cpu::cpu_runs_avx512_fp16()) GTEST_SKIP() << "this CPU has no AVX512-FP16";
  const std::vector<g::Half> all = every_pattern();
  const auto n = static_cast<int64_t>(all.size());
  for (const HalfArithmetic op : kOps) {
    for (const g::Half other : spread_of_others()) {
      expect_float32_rounded_once(op, all.data(), false, &other, true, n);
      expect_float32_rounded_once(op, &other, true, all.data(), false, n);
    }
  }
}

TEST(HalfArithmetic, EveryPatternAgainstAShuffleOfThemAsFloat32RoundedOnce) {
  if (!cpu::cpu_runs_avx512_fp16()) GTEST_SKIP() << "this CPU has no AVX512-FP16";
  const std::vector<g::Half> all = every_pattern();
  std::vector<g::Half> shuffled = all;
  std::shuffle(shuffled.begin(), shuffled.end(), std::mt19937(11));
  for (const HalfArithmetic op : kOps)
    expect_float32_rounded_once(op, all.data(), false, shuffled.data(), false,
                                static_cast<int64_t>(all.size()));
}

// Two vectors a step, then masked tails: lengths around one and two vectors of 32 lanes, and
// runs that start off a vector's alignment.
TEST(HalfArithmetic, RunsOfEveryTailLength) {
  if (!cpu::cpu_runs_avx512_fp16()) GTEST_SKIP() << "this CPU has no AVX512-FP16";
  const std::vector<g::Half> all = every_pattern();
  for (const HalfArithmetic op : kOps) {
    for (const int64_t n : {1, 2, 31, 32, 33, 63, 64, 65, 95, 96, 97, 130}) {
      for (const int64_t start : {int64_t{0}, int64_t{1}, int64_t{17}}) {
        const g::Half* a = all.data() + 15000 + start;
        const g::Half* b = all.data() + 48000 + start;
        expect_float32_rounded_once(op, a, false, b, false, n);
        expect_float32_rounded_once(op, a, false, b, true, n);
        expect_float32_rounded_once(op, a, true, b, false, n);
        expect_float32_rounded_once(op, a, true, b, true, n);
      }
    }
  }
}

}  // namespace
