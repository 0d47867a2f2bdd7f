// half_arithmetic.h's in-float kernel: float16 or bfloat16 operands widened in registers, the
// operation in float32, the result rounded in registers and stored, one pass over memory.
#include "graft/kernels/cpu/half_arithmetic.h"

#include <cstring>

#include "graft/kernels/cpu/cpu_features.h"
#include "graft/kernels/cpu/prefetch.h"

#if defined(__x86_64__) && defined(__GNUC__)
#include "graft/kernels/cpu/avx512_file.h"
#include "graft/kernels/cpu/half_lanes_avx512.h"

namespace graft::kernels::cpu {
namespace {

constexpr int64_t kLanes = 16;
constexpr int64_t kAhead = 1024;  // elements: as half_arithmetic_avx512fp16.cpp asks

// x op y in 16 float lanes.
template <HalfArithmetic kOp>
GRAFT_AVX512 __m512 lanes(__m512 x, __m512 y) {
  if constexpr (kOp == HalfArithmetic::kAdd) return _mm512_add_ps(x, y);
  if constexpr (kOp == HalfArithmetic::kSub) return _mm512_sub_ps(x, y);
  if constexpr (kOp == HalfArithmetic::kMul) return _mm512_mul_ps(x, y);
  return _mm512_div_ps(x, y);
}

// The 16 floats of an operand at element i: its values there widened, or for a scalar its one
// value in every lane (`splat`, widened once).
template <class H, bool kScalar>
GRAFT_AVX512 __m512 operand_lanes(const H* p, int64_t i, __m512 splat) {
  if constexpr (kScalar) return splat;
  return widen16(p + i);
}

// The same for the last `count` (< 16) elements.
template <class H, bool kScalar>
GRAFT_AVX512 __m512 operand_tail(const H* p, int64_t i, int64_t count, __m512 splat) {
  if constexpr (kScalar) return splat;
  return widen16(p + i, count);
}

template <class H, bool kScalar>
GRAFT_AVX512 __m512 splat_of(const H* p) {
  if constexpr (kScalar) return _mm512_set1_ps(static_cast<float>(*p));
  return _mm512_setzero_ps();
}

template <HalfArithmetic kOp, class H, bool kAScalar, bool kBScalar, BFloat16Narrowing kNarrowing>
__attribute__((target("avx512f"))) void combine(const H* a, const H* b, H* out, int64_t n) {
  const __m512 a_splat = splat_of<H, kAScalar>(a);
  const __m512 b_splat = splat_of<H, kBScalar>(b);
  int64_t i = 0;
  // Two vectors a step: two independent chains of loads for each pair of stores.
  for (; i + 2 * kLanes <= n; i += 2 * kLanes) {
    if constexpr (!kAScalar) prefetch_lines(a, (i + kAhead) * 2, 64);
    if constexpr (!kBScalar) prefetch_lines(b, (i + kAhead) * 2, 64);
    prefetch_lines<true>(out, (i + kAhead) * 2, 64);
    const __m512 low = lanes<kOp>(operand_lanes<H, kAScalar>(a, i, a_splat),
                                  operand_lanes<H, kBScalar>(b, i, b_splat));
    const __m512 high = lanes<kOp>(operand_lanes<H, kAScalar>(a, i + kLanes, a_splat),
                                   operand_lanes<H, kBScalar>(b, i + kLanes, b_splat));
    store_narrowed32<H, kNarrowing>(out + i, low, high);
  }
  for (; i + kLanes <= n; i += kLanes) {
    const __m512 result = lanes<kOp>(operand_lanes<H, kAScalar>(a, i, a_splat),
                                     operand_lanes<H, kBScalar>(b, i, b_splat));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + i), narrow16<H, kNarrowing>(result));
  }
  if (i < n) {
    const int64_t count = n - i;
    const __m512 result = lanes<kOp>(operand_tail<H, kAScalar>(a, i, count, a_splat),
                                     operand_tail<H, kBScalar>(b, i, count, b_splat));
    H rounded[kLanes];
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(rounded), narrow16<H, kNarrowing>(result));
    std::memcpy(out + i, rounded, sizeof(H) * static_cast<size_t>(count));
  }
}

template <BFloat16Narrowing kNarrowing = BFloat16Narrowing::kIntegerSteps, class H>
void arithmetic_in_float(HalfArithmetic op, const H* a, bool a_is_scalar, const H* b,
                         bool b_is_scalar, H* out, int64_t n) {
  with_choices_as_types(op, a_is_scalar, b_is_scalar, [&](auto kind, auto a_scalar, auto b_scalar) {
    combine<decltype(kind)::value, H, decltype(a_scalar)::value, decltype(b_scalar)::value,
            kNarrowing>(a, b, out, n);
  });
}

}  // namespace

void half_arithmetic_avx512(HalfArithmetic op, const Half* a, bool a_is_scalar, const Half* b,
                            bool b_is_scalar, Half* out, int64_t n) {
  arithmetic_in_float(op, a, a_is_scalar, b, b_is_scalar, out, n);
}

void half_arithmetic_avx512(HalfArithmetic op, const BFloat16* a, bool a_is_scalar,
                            const BFloat16* b, bool b_is_scalar, BFloat16* out, int64_t n) {
  arithmetic_in_float(op, a, a_is_scalar, b, b_is_scalar, out, n);
}

void half_arithmetic_avx512_bf16(HalfArithmetic op, const BFloat16* a, bool a_is_scalar,
                                 const BFloat16* b, bool b_is_scalar, BFloat16* out, int64_t n) {
  arithmetic_in_float<BFloat16Narrowing::kInstruction>(op, a, a_is_scalar, b, b_is_scalar, out, n);
}

}  // namespace graft::kernels::cpu

#else

namespace graft::kernels::cpu {

void half_arithmetic_avx512(HalfArithmetic, const Half*, bool, const Half*, bool, Half*, int64_t) {
  fail_built_without_avx512("half_arithmetic_avx512");
}
void half_arithmetic_avx512(HalfArithmetic, const BFloat16*, bool, const BFloat16*, bool, BFloat16*,
                            int64_t) {
  fail_built_without_avx512("half_arithmetic_avx512");
}
void half_arithmetic_avx512_bf16(HalfArithmetic, const BFloat16*, bool, const BFloat16*, bool,
                                 BFloat16*, int64_t) {
  fail_built_without_avx512("half_arithmetic_avx512_bf16");
}

}  // namespace graft::kernels::cpu

#endif
