// The float32 leaves of the CPU reductions (reduce_run.h) 8 lanes wide in AVX2, graft's build
// target, for CPUs without AVX-512: reduce_avx512.h's leaves at half the width, a block of rows
// a call, where the portable leaves of reduce_run.h, which the compiler vectorises, take one
// row a call and keep their accumulators in memory between the calls (GCC spilled a product
// leaf's lanes to the stack at every step, and took two extra instructions a vector for a
// max's NaN test). Over the rows of a (1024, 1024) float32, two threads of the 2-core EPYC
// under GRAFT_CPU_CAPABILITY=avx2, old and new builds in turns on a busy host: sum 39 -> 33 us,
// max 50 -> 35, prod 78 -> 48; float16 and bfloat16 sums 97 -> 56 and 91 -> 56 (widened in
// registers, where the portable path widened each leaf into memory first).
//
// The same contract as reduce_avx512.h's, with the same bits: element j of a sum's or
// product's leaf goes to accumulator j mod 64 (eight registers of 8), the last partial step
// included, the accumulators merged by the same halving; maxima and minima give the same
// value. Only where the build has AVX2 and F16C (GRAFT_REDUCE_V3), elsewhere an error.
#pragma once

#include <cstdint>

#include "graft/core/half.h"
#include "graft/kernels/cpu/reduce_avx512.h"

#if GRAFT_F16C_CONVERSIONS && defined(__AVX2__)
#define GRAFT_REDUCE_V3 1
#else
#define GRAFT_REDUCE_V3 0
#endif

namespace graft::kernels::cpu {

void float_leaves_v3(FloatLeaf leaf, const float* p, int64_t stride, int64_t rows, int64_t n,
                     float* out);
void product_leaves_v3(const float* p, int64_t stride, int64_t rows, int64_t n, float* mantissa,
                       int32_t* exponent);
void sum_leaves_v3(const Half* p, int64_t stride, int64_t rows, int64_t n, float* out);
void sum_leaves_v3(const BFloat16* p, int64_t stride, int64_t rows, int64_t n, float* out);

}  // namespace graft::kernels::cpu
