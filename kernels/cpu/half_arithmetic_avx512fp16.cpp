// half_arithmetic.h's kernel: a loop of AVX512-FP16 instructions, the operands' 16-bit patterns
// loaded as they are.
#include "graft/kernels/cpu/half_arithmetic.h"

#include <bit>

#include "graft/kernels/cpu/cpu_features.h"
#include "graft/kernels/cpu/lane_masks.h"
#include "graft/kernels/cpu/prefetch.h"

#if GRAFT_AVX512FP16_KERNELS
#include "graft/kernels/cpu/avx512_file.h"

#define GRAFT_FP16_TARGET target("avx512f,avx512bw,avx512vl,avx512fp16")
#define GRAFT_FP16 __attribute__((GRAFT_FP16_TARGET, always_inline)) inline

namespace graft::kernels::cpu {
namespace {

constexpr int64_t kLanes = 32;
constexpr int64_t kAhead = 1024;

// x op y in 32 float16 lanes.
template <HalfArithmetic kOp>
GRAFT_FP16 __m512h lanes(__m512h x, __m512h y) {
  if constexpr (kOp == HalfArithmetic::kAdd) return _mm512_add_ph(x, y);
  if constexpr (kOp == HalfArithmetic::kSub) return _mm512_sub_ph(x, y);
  if constexpr (kOp == HalfArithmetic::kMul) return _mm512_mul_ph(x, y);
  return _mm512_div_ph(x, y);
}

// A scalar operand's one value in every lane (nothing read for any other).
template <bool kScalar>
GRAFT_FP16 __m512h splat(const Half* p) {
  if constexpr (kScalar)
    return _mm512_castsi512_ph(_mm512_set1_epi16(std::bit_cast<short>(p->bits())));
  return _mm512_setzero_ph();
}

// The 32 lanes of an operand at element i: its values there, or its one value in every lane
// (`splat`) for a scalar. The tail's lanes past n are zeros, loaded from nothing.
template <bool kScalar>
GRAFT_FP16 __m512h operand_lanes(const Half* p, int64_t i, __m512h splat) {
  if constexpr (kScalar) return splat;
  return _mm512_castsi512_ph(_mm512_loadu_si512(p + i));
}
template <bool kScalar>
GRAFT_FP16 __m512h operand_tail(const Half* p, int64_t i, __mmask32 tail, __m512h splat) {
  if constexpr (kScalar) return splat;
  return _mm512_castsi512_ph(_mm512_maskz_loadu_epi16(tail, p + i));
}

template <HalfArithmetic kOp, bool kAScalar, bool kBScalar>
__attribute__((GRAFT_FP16_TARGET)) void combine(const Half* a, const Half* b, Half* out,
                                                int64_t n) {
  const __m512h a_splat = splat<kAScalar>(a);
  const __m512h b_splat = splat<kBScalar>(b);
  int64_t i = 0;
  // Two vectors a step: two independent chains of loads for each store.
  for (; i + 2 * kLanes <= n; i += 2 * kLanes) {
    if constexpr (!kAScalar) prefetch_lines(a, (i + kAhead) * 2, 128);
    if constexpr (!kBScalar) prefetch_lines(b, (i + kAhead) * 2, 128);
    prefetch_lines<true>(out, (i + kAhead) * 2, 128);
    const __m512h low =
        lanes<kOp>(operand_lanes<kAScalar>(a, i, a_splat), operand_lanes<kBScalar>(b, i, b_splat));
    const __m512h high = lanes<kOp>(operand_lanes<kAScalar>(a, i + kLanes, a_splat),
                                    operand_lanes<kBScalar>(b, i + kLanes, b_splat));
    _mm512_storeu_si512(out + i, _mm512_castph_si512(low));
    _mm512_storeu_si512(out + i + kLanes, _mm512_castph_si512(high));
  }
  for (; i < n; i += kLanes) {
    const __mmask32 tail = first_lanes32(n - i);
    const __m512h result = lanes<kOp>(operand_tail<kAScalar>(a, i, tail, a_splat),
                                      operand_tail<kBScalar>(b, i, tail, b_splat));
    _mm512_mask_storeu_epi16(out + i, tail, _mm512_castph_si512(result));
  }
}

}  // namespace

void half_arithmetic_avx512fp16(HalfArithmetic op, const Half* a, bool a_is_scalar, const Half* b,
                                bool b_is_scalar, Half* out, int64_t n) {
  with_choices_as_types(op, a_is_scalar, b_is_scalar, [&](auto kind, auto a_scalar, auto b_scalar) {
    combine<decltype(kind)::value, decltype(a_scalar)::value, decltype(b_scalar)::value>(a, b, out,
                                                                                         n);
  });
}

}  // namespace graft::kernels::cpu

#else

namespace graft::kernels::cpu {

void half_arithmetic_avx512fp16(HalfArithmetic, const Half*, bool, const Half*, bool, Half*,
                                int64_t) {
  fail_built_without_avx512("half_arithmetic_avx512fp16");
}

}  // namespace graft::kernels::cpu

#endif
