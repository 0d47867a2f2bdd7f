// exp (and the functions built on it and on erf) of float32 8 lanes at a time in AVX2, graft's
// build target, for CPUs without AVX-512:
// math_avx512.h's exp16 at half the width, its constants (math_constants.h) in the same order,
// so every x86-64-v3 CPU gives the same bits. vscalefps, which scales the result by 2^n with
// one rounding, is AVX-512's: here p 2^n is built in the exponent field where it is a normal
// float, and in two exact steps where it is not, the second rounding once, as vscalefps does.
// Eigen's 8-lane exp, which this replaced, gave other bits and needed the C library's expf below
// float's normal range. Checked on all 2^32 floats against exp16: the same bits. On a million
// floats, two threads of the 2-core EPYC under GRAFT_CPU_CAPABILITY=avx2, old and new builds in
// turns: float32 489 -> 199 us (PyTorch at AVX2: 469), float16 499 -> 266 and bfloat16 490 ->
// 300; softmax over the rows of (16384, 1024) 11.0 -> 6.9 ms.
#pragma once

#include <cstdint>

#include "graft/core/half.h"

#if GRAFT_F16C_CONVERSIONS && defined(__AVX2__) && defined(__FMA__)
#define GRAFT_MATH_V3 1
#else
#define GRAFT_MATH_V3 0
#endif

namespace graft::kernels::cpu {

// out[i] = exp(in[i]) for i < n; out may be in. Only where GRAFT_MATH_V3, elsewhere an error.
void exp_v3(const float* in, float* out, int64_t n);

// out[i] = e^in[i] - 1, math_avx512.h's expm1 in 4-double halves: the same bits.
void expm1_v3(const float* in, float* out, int64_t n);

// The sum of exp(in[i] - shift) for i < n (log_softmax's, without storing the exps), in eight
// lanes summed at the end.
float shifted_exp_sum_v3(const float* in, float shift, int64_t n);

// erf, the GELU and its tanh form, the sigmoid and SiLU, and the fused gradients, as
// math_avx512.h's, step for step: the same bits.
void erf_v3(const float* in, float* out, int64_t n);
void gelu_v3(const float* in, float* out, int64_t n);
void gelu_backward_v3(const float* g, const float* x, float* out, int64_t n);
void sigmoid_v3(const float* in, float* out, int64_t n);
void silu_v3(const float* in, float* out, int64_t n);
void silu_backward_v3(const float* g, const float* x, float* out, int64_t n);
void gelu_tanh_v3(const float* in, float* out, int64_t n);
void gelu_tanh_backward_v3(const float* g, const float* x, float* out, int64_t n);

}  // namespace graft::kernels::cpu
