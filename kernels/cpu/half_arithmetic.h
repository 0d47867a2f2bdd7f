// Add, subtract, multiply and divide of 16-bit floats in one pass over memory, chosen at run
// time as the other AVX-512 kernels are, where cpu_elementwise_loop otherwise widens each block
// to float32 in a buffer, computes there and narrows it back (loops.h), three passes:
//   - float16 in float16's own instructions where the CPU has AVX512-FP16: 32 lanes an
//     instruction and nothing to convert;
//   - float16 elsewhere, and bfloat16, on any AVX-512 CPU: 16 values widened in registers,
//     the operation in float32, the result rounded in registers (half_lanes_avx512.h) and
//     stored: the block path's bits, without its buffers. A million-element add, two threads
//     of the 2-core EPYC VM (Zen 4: AVX-512 and AVX512-BF16, no AVX512-FP16), old and new
//     builds in turns: float16 134-164 -> 53-59 us, bfloat16 117-175 -> 87-89 (PyTorch's
//     100 and 134). bfloat16 is rounded by AVX512-BF16's vcvtneps2bf16 where the CPU has
//     it, and by integer steps elsewhere (half_lanes_avx512.h): on the EPYC, in turns, a
//     median of 127 -> 77 us (the fastest runs 103 -> 67).
//
// The results are the same bits. Each of the four operations is correctly rounded, in float16
// here as in float32 there, and a float32 result rounded again to float16 is the correctly
// rounded float16 result whenever float32 carries at least 2p + 2 bits for float16's p = 11
// (24 >= 24: Figueroa, "When is double rounding innocuous?", 1995): so rounding once in
// float16 equals rounding in float32 and then in float16. Subnormal float16 values are full
// members of both (AVX512-FP16 ignores MXCSR's flush-to-zero and denormals-are-zero); NaN stays
// NaN. tests/kernels/half_arithmetic_test.cpp checks every float16 against a spread of others.
//
// A float16 add of a million elements, two threads of the 2-core Xeon: 146-184 -> 115-131 us;
// of 16M, 0.92-0.94 -> 1.13-1.17 of float32's GB/s (docs/performance.md, "float16 arithmetic in
// float16's own instructions").
#pragma once

#include <cstdint>
#include <optional>
#include <type_traits>

#include "graft/core/half.h"
#include "graft/kernels/functors.h"

namespace graft::kernels::cpu {

enum class HalfArithmetic { kAdd, kSub, kMul, kDiv };

// The HalfArithmetic of an elementwise functor, for the four that have one.
template <class Op>
inline constexpr std::optional<HalfArithmetic> half_arithmetic_of =
    std::is_same_v<Op, AddOp>   ? std::optional(HalfArithmetic::kAdd)
    : std::is_same_v<Op, SubOp> ? std::optional(HalfArithmetic::kSub)
    : std::is_same_v<Op, MulOp> ? std::optional(HalfArithmetic::kMul)
    : std::is_same_v<Op, DivOp> ? std::optional(HalfArithmetic::kDiv)
                                : std::nullopt;

// out[i] = a[i] op b[i] for i < n, where an operand marked scalar is its one value a[0] (or
// b[0]) for every i. Only where cpu_runs_avx512_fp16().
void half_arithmetic_avx512fp16(HalfArithmetic op, const Half* a, bool a_is_scalar, const Half* b,
                                bool b_is_scalar, Half* out, int64_t n);

// The same in float32, rounded once: Half(float(a[i]) op float(b[i])), and so for bfloat16.
// Only where cpu_runs_avx512().
void half_arithmetic_avx512(HalfArithmetic op, const Half* a, bool a_is_scalar, const Half* b,
                            bool b_is_scalar, Half* out, int64_t n);
void half_arithmetic_avx512(HalfArithmetic op, const BFloat16* a, bool a_is_scalar,
                            const BFloat16* b, bool b_is_scalar, BFloat16* out, int64_t n);
// The bfloat16 form rounded by vcvtneps2bf16, the same bits. Only where
// cpu_runs_avx512_bf16().
void half_arithmetic_avx512_bf16(HalfArithmetic op, const BFloat16* a, bool a_is_scalar,
                                 const BFloat16* b, bool b_is_scalar, BFloat16* out, int64_t n);

// The same in 8 float32 lanes of graft's build target, x86-64-v3 (AVX2 and F16C), for CPUs
// without AVX-512: float16 widened and rounded by F16C's vcvtph2ps and vcvtps2ph, bfloat16 by
// shifts and integer steps. Only where the build has them (GRAFT_HALF_ARITHMETIC_V3: not where
// GRAFT_CPU_ARCH leaves out AVX2, nor off x86-64), elsewhere an error.
#if GRAFT_F16C_CONVERSIONS && defined(__AVX2__)
#define GRAFT_HALF_ARITHMETIC_V3 1
#else
#define GRAFT_HALF_ARITHMETIC_V3 0
#endif
void half_arithmetic_v3(HalfArithmetic op, const Half* a, bool a_is_scalar, const Half* b,
                        bool b_is_scalar, Half* out, int64_t n);
void half_arithmetic_v3(HalfArithmetic op, const BFloat16* a, bool a_is_scalar, const BFloat16* b,
                        bool b_is_scalar, BFloat16* out, int64_t n);

// The kernels' one dispatch: their loops are instantiated for each operation and arrangement
// of scalar operands, and this calls combine(kind, a_scalar, b_scalar) with the run-time
// choices as types: std::integral_constant<HalfArithmetic, op> and two std::bool_constant.
template <HalfArithmetic kOp, class Combine>
void with_scalars_as_types(bool a_is_scalar, bool b_is_scalar, const Combine& combine) {
  const std::integral_constant<HalfArithmetic, kOp> kind;
  if (a_is_scalar && b_is_scalar) return combine(kind, std::true_type{}, std::true_type{});
  if (a_is_scalar) return combine(kind, std::true_type{}, std::false_type{});
  if (b_is_scalar) return combine(kind, std::false_type{}, std::true_type{});
  combine(kind, std::false_type{}, std::false_type{});
}
template <class Combine>
void with_choices_as_types(HalfArithmetic op, bool a_is_scalar, bool b_is_scalar,
                           const Combine& combine) {
  switch (op) {
    case HalfArithmetic::kAdd:
      return with_scalars_as_types<HalfArithmetic::kAdd>(a_is_scalar, b_is_scalar, combine);
    case HalfArithmetic::kSub:
      return with_scalars_as_types<HalfArithmetic::kSub>(a_is_scalar, b_is_scalar, combine);
    case HalfArithmetic::kMul:
      return with_scalars_as_types<HalfArithmetic::kMul>(a_is_scalar, b_is_scalar, combine);
    case HalfArithmetic::kDiv:
      return with_scalars_as_types<HalfArithmetic::kDiv>(a_is_scalar, b_is_scalar, combine);
  }
}

}  // namespace graft::kernels::cpu
