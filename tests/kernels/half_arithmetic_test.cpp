// The one-pass 16-bit +, -, * and / (kernels/cpu/half_arithmetic.h), float16 in AVX512-FP16's
// instructions and float16 and bfloat16 converted in AVX-512 registers (bfloat16 rounded by
// integer steps, and by AVX512-BF16's instruction) or in AVX2's, give the bits of the
// float32 way they replace, H(float(a) op float(b)), rounded once: every 16-bit pattern
// against a spread of others (zeros, subnormals, the largest finite, infinities, NaN, patterns
// either side of 1), in every arrangement of scalar and vector operands, and runs whose
// lengths leave every kind of tail. A NaN result need only be a NaN: its payload is not part
// of the contract.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <random>
#include <type_traits>
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

// One kernel under test: its 16-bit type, whether this CPU runs it, and the kernel.
template <class Type, bool (*kRuns)(),
          void (*kRun)(HalfArithmetic, const Type*, bool, const Type*, bool, Type*, int64_t)>
struct Kernel {
  using H = Type;
  static bool runs() { return kRuns(); }
  static void run(HalfArithmetic op, const H* a, bool a_is_scalar, const H* b, bool b_is_scalar,
                  H* out, int64_t n) {
    kRun(op, a, a_is_scalar, b, b_is_scalar, out, n);
  }
};
using InFloat16Instructions =
    Kernel<g::Half, &cpu::cpu_runs_avx512_fp16, &cpu::half_arithmetic_avx512fp16>;
template <class Type>
using ConvertedInRegisters = Kernel<Type, &cpu::cpu_runs_avx512, &cpu::half_arithmetic_avx512>;
using BFloat16ByInstruction =
    Kernel<g::BFloat16, &cpu::cpu_runs_avx512_bf16, &cpu::half_arithmetic_avx512_bf16>;
bool built_with_v3() { return GRAFT_HALF_ARITHMETIC_V3 != 0; }
template <class Type>
using InEightLanes = Kernel<Type, &built_with_v3, &cpu::half_arithmetic_v3>;

template <class H>
std::vector<H> every_pattern() {
  std::vector<H> all(65536);
  for (uint32_t b = 0; b < 65536; ++b) all[b] = H::from_bits(static_cast<uint16_t>(b));
  return all;
}

// The other operands each pattern meets: both zeros, the smallest and largest subnormals, the
// smallest normal, 1 and its neighbours, 2, a third, the largest finite, infinities, a NaN,
// with both signs where it matters, and patterns drawn at random.
template <class H>
std::vector<H> spread_of_others() {
  std::vector<H> others;
  const auto bits =
      std::is_same_v<H, g::Half>
          ? std::vector<uint16_t>{0x0000, 0x8000, 0x0001, 0x83ff, 0x0400, 0x3c00, 0x3bff, 0x3c01,
                                  0xbc00, 0x4000, 0x3555, 0x7bff, 0xfbff, 0x7c00, 0xfc00, 0x7e00}
          : std::vector<uint16_t>{0x0000, 0x8000, 0x0001, 0x807f, 0x0080, 0x3f80, 0x3f7f, 0x3f81,
                                  0xbf80, 0x4000, 0x3eab, 0x7f7f, 0xff7f, 0x7f80, 0xff80, 0x7fc0};
  for (const uint16_t b : bits) others.push_back(H::from_bits(b));
  std::mt19937 rng(7);
  for (int i = 0; i < 24; ++i) others.push_back(H::from_bits(static_cast<uint16_t>(rng())));
  return others;
}

// out[i] against a[i] op b[i] (index 0 of a scalar operand) for i < n.
template <class Kernel, class H = typename Kernel::H>
void expect_float32_rounded_once(HalfArithmetic op, const H* a, bool a_is_scalar, const H* b,
                                 bool b_is_scalar, int64_t n) {
  std::vector<H> out(static_cast<size_t>(n) + 1, H::from_bits(0x1234));
  Kernel::run(op, a, a_is_scalar, b, b_is_scalar, out.data(), n);
  for (int64_t i = 0; i < n; ++i) {
    const H x = a[a_is_scalar ? 0 : i], y = b[b_is_scalar ? 0 : i];
    const H expected(apply(op, static_cast<float>(x), static_cast<float>(y)));
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

template <class Kernel>
class HalfArithmeticKernel : public ::testing::Test {
 protected:
  using H = typename Kernel::H;
  void SetUp() override {
    if (!Kernel::runs()) GTEST_SKIP() << "this CPU does not run the kernel";
  }
};
using Kernels = ::testing::Types<InFloat16Instructions, ConvertedInRegisters<g::Half>,
                                 ConvertedInRegisters<g::BFloat16>, BFloat16ByInstruction,
                                 InEightLanes<g::Half>, InEightLanes<g::BFloat16>>;
TYPED_TEST_SUITE(HalfArithmeticKernel, Kernels);

TYPED_TEST(HalfArithmeticKernel, EveryPatternWithAScalarAsFloat32RoundedOnce) {
  using H = typename TestFixture::H;
  const std::vector<H> all = every_pattern<H>();
  const auto n = static_cast<int64_t>(all.size());
  for (const HalfArithmetic op : kOps) {
    for (const H other : spread_of_others<H>()) {
      expect_float32_rounded_once<TypeParam>(op, all.data(), false, &other, true, n);
      expect_float32_rounded_once<TypeParam>(op, &other, true, all.data(), false, n);
    }
  }
}

TYPED_TEST(HalfArithmeticKernel, EveryPatternAgainstAShuffleOfThemAsFloat32RoundedOnce) {
  using H = typename TestFixture::H;
  const std::vector<H> all = every_pattern<H>();
  std::vector<H> shuffled = all;
  std::shuffle(shuffled.begin(), shuffled.end(), std::mt19937(11));
  for (const HalfArithmetic op : kOps)
    expect_float32_rounded_once<TypeParam>(op, all.data(), false, shuffled.data(), false,
                                           static_cast<int64_t>(all.size()));
}

// Whole vectors two at a time, then one, then a partial tail: lengths around one and two
// vectors of 8, 16 and 32 lanes, and runs that start off a vector's alignment.
TYPED_TEST(HalfArithmeticKernel, RunsOfEveryTailLength) {
  using H = typename TestFixture::H;
  const std::vector<H> all = every_pattern<H>();
  for (const HalfArithmetic op : kOps) {
    for (const int64_t n :
         {1, 2, 7, 8, 9, 15, 16, 17, 31, 32, 33, 47, 48, 49, 63, 64, 65, 95, 96, 97, 130}) {
      for (const int64_t start : {int64_t{0}, int64_t{1}, int64_t{17}}) {
        const H* a = all.data() + 15000 + start;
        const H* b = all.data() + 48000 + start;
        expect_float32_rounded_once<TypeParam>(op, a, false, b, false, n);
        expect_float32_rounded_once<TypeParam>(op, a, false, b, true, n);
        expect_float32_rounded_once<TypeParam>(op, a, true, b, false, n);
        expect_float32_rounded_once<TypeParam>(op, a, true, b, true, n);
      }
    }
  }
}

}  // namespace
