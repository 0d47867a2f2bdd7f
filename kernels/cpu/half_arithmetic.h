// float16 add, subtract, multiply and divide in float16's own instructions, where the CPU has
// AVX512-FP16 (chosen at run time, as the other AVX-512 kernels are): 32 lanes an instruction
// and nothing to convert, where cpu_elementwise_loop otherwise widens each block to float32,
// computes and narrows it back (loops.h).
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

}  // namespace graft::kernels::cpu
