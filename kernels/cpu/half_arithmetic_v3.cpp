// half_arithmetic.h's 8-lane kernel, for CPUs without AVX-512: float16 or bfloat16 operands
// widened in AVX2 registers, the operation in float32, the result rounded in registers and
// stored, one pass over memory where cpu_elementwise_loop's blocks take three (loops.h).
// half_arithmetic_avx512.cpp's loop at half the width, over half_lanes_v3.h's conversions: its
// AVX-512 helpers cannot serve here, since GCC compiles a function for one target, and an
// AVX-512 instruction in this loop would fault on the CPUs it is for.
//
// A million-element add, two threads of the 2-core EPYC (Zen 4) under GRAFT_CPU_CAPABILITY=
// avx2, old and new builds in turns: float16 205 -> 56 us, bfloat16 189 -> 109-119 (PyTorch at
// AVX2: 89 and 112). bfloat16's rounding is ten integer steps a vector where float16's is one
// instruction; skipping its NaN blend where a vector holds no NaN moved nothing.
#include "graft/kernels/cpu/half_arithmetic.h"

#include <cstring>

#include "graft/kernels/cpu/cpu_features.h"
#include "graft/kernels/cpu/prefetch.h"

#if GRAFT_HALF_ARITHMETIC_V3
#include "graft/kernels/cpu/half_lanes_v3.h"

namespace graft::kernels::cpu {
namespace {

constexpr int64_t kLanes = 8, kStep = 2 * kLanes;
constexpr int64_t kAhead = 1024;  // elements, as half_arithmetic_avx512.cpp asks

// x op y in 8 float lanes.
template <HalfArithmetic kOp>
__m256 lanes(__m256 x, __m256 y) {
  if constexpr (kOp == HalfArithmetic::kAdd) return _mm256_add_ps(x, y);
  if constexpr (kOp == HalfArithmetic::kSub) return _mm256_sub_ps(x, y);
  if constexpr (kOp == HalfArithmetic::kMul) return _mm256_mul_ps(x, y);
  return _mm256_div_ps(x, y);
}

// The 8 floats of an operand at element i: its values there widened, or for a scalar its one
// value in every lane (`splat`, widened once).
template <class H, bool kScalar>
__m256 operand(const H* p, int64_t i, __m256 splat) {
  if constexpr (kScalar) return splat;
  return widen8(p + i);
}

template <class H, bool kScalar>
__m256 splat_of(const H* p) {
  if constexpr (kScalar) return _mm256_set1_ps(static_cast<float>(*p));
  return _mm256_setzero_ps();
}

// out[i] = a[i] op b[i] for the 16 elements from i.
template <HalfArithmetic kOp, class H, bool kAScalar, bool kBScalar>
void step(const H* a, const H* b, H* out, int64_t i, __m256 a_splat, __m256 b_splat) {
  const __m256 low =
      lanes<kOp>(operand<H, kAScalar>(a, i, a_splat), operand<H, kBScalar>(b, i, b_splat));
  const __m256 high = lanes<kOp>(operand<H, kAScalar>(a, i + kLanes, a_splat),
                                 operand<H, kBScalar>(b, i + kLanes, b_splat));
  store_narrowed16(out + i, low, high);
}

template <HalfArithmetic kOp, class H, bool kAScalar, bool kBScalar>
void combine(const H* a, const H* b, H* out, int64_t n) {
  const __m256 a_splat = splat_of<H, kAScalar>(a), b_splat = splat_of<H, kBScalar>(b);
  int64_t i = 0;
  for (; i + kStep <= n; i += kStep) {
    if constexpr (!kAScalar) prefetch_lines(a, (i + kAhead) * 2, 32);
    if constexpr (!kBScalar) prefetch_lines(b, (i + kAhead) * 2, 32);
    prefetch_lines<true>(out, (i + kAhead) * 2, 32);
    step<kOp, H, kAScalar, kBScalar>(a, b, out, i, a_splat, b_splat);
  }
  if (i < n) {
    // The last few (< 16) through zero-padded copies: nothing read or written past n.
    const auto count = static_cast<size_t>(n - i);
    H a_part[kStep] = {}, b_part[kStep] = {}, out_part[kStep];
    std::memcpy(a_part, a + (kAScalar ? 0 : i), (kAScalar ? 1 : count) * sizeof(H));
    std::memcpy(b_part, b + (kBScalar ? 0 : i), (kBScalar ? 1 : count) * sizeof(H));
    step<kOp, H, kAScalar, kBScalar>(a_part, b_part, out_part, 0, a_splat, b_splat);
    std::memcpy(out + i, out_part, count * sizeof(H));
  }
}

template <class H>
void arithmetic_in_float(HalfArithmetic op, const H* a, bool a_is_scalar, const H* b,
                         bool b_is_scalar, H* out, int64_t n) {
  with_choices_as_types(op, a_is_scalar, b_is_scalar, [&](auto kind, auto a_scalar, auto b_scalar) {
    combine<decltype(kind)::value, H, decltype(a_scalar)::value, decltype(b_scalar)::value>(a, b,
                                                                                            out, n);
  });
}

}  // namespace

void half_arithmetic_v3(HalfArithmetic op, const Half* a, bool a_is_scalar, const Half* b,
                        bool b_is_scalar, Half* out, int64_t n) {
  arithmetic_in_float(op, a, a_is_scalar, b, b_is_scalar, out, n);
}

void half_arithmetic_v3(HalfArithmetic op, const BFloat16* a, bool a_is_scalar, const BFloat16* b,
                        bool b_is_scalar, BFloat16* out, int64_t n) {
  arithmetic_in_float(op, a, a_is_scalar, b, b_is_scalar, out, n);
}

}  // namespace graft::kernels::cpu

#else

namespace graft::kernels::cpu {

void half_arithmetic_v3(HalfArithmetic, const Half*, bool, const Half*, bool, Half*, int64_t) {
  fail_built_without_v3("half_arithmetic_v3");
}
void half_arithmetic_v3(HalfArithmetic, const BFloat16*, bool, const BFloat16*, bool, BFloat16*,
                        int64_t) {
  fail_built_without_v3("half_arithmetic_v3");
}

}  // namespace graft::kernels::cpu

#endif
