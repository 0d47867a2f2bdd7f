// The float32 leaves of the CPU reductions (reduce_run.h) 16 lanes wide, for CPUs with
// AVX-512, chosen at run time as math_avx512.h's functions are, a block of rows a call. Over
// the rows of a (1024, 1024) float32 on the 2-core Xeon, each core's half in its own L2, the
// 8-lane leaves of graft's x86-64-v3 build, one row a call, read 43-56 us; these 29-34 (one
// loop of raw AVX-512 over the rows: 25-32). One thread reading from L3, all run at 30 GB/s.
//
// The sum (and product) is the 8-lane leaf lane for lane: element j of the leaf goes to
// accumulator j mod 64 (four registers of 16), the last partial step included (masked), and
// the accumulators merge by the same halving, so both paths give the same bits. The max and min
// keep 64 accumulators to the 8-lane leaf's 32, and give the same value.
#pragma once

#include <cstdint>

#include "graft/core/half.h"

namespace graft::kernels::cpu {

enum class FloatLeaf { kSum, kMax, kMin };

// out[j] = the leaf of p[j * stride, j * stride + n), for j < rows: its sum in float; its max
// (or min), NaN if any element is NaN; the identity when n is 0 (0, -inf for max, inf for
// min).
// Only where cpu_runs_avx512() (cpu_features.h).
void float_leaves_avx512(FloatLeaf leaf, const float* p, int64_t stride, int64_t rows, int64_t n,
                         float* out);

// mantissa[j] * 2^exponent[j] = the product of p[j * stride, j * stride + n) multiplied in
// float, each lane's exponent kept apart (1 * 2^0 when n is 0): the float product's bits
// where that stays in float's range, and where it does not, a float mantissa in range
// (float_products.h). Only where cpu_runs_avx512().
void product_leaves_avx512(const float* p, int64_t stride, int64_t rows, int64_t n, float* mantissa,
                           int32_t* exponent);

// out[j] = the float sum of the 16-bit floats p[j * stride, j * stride + n), for j < rows: the
// same sum, bit for bit, as float_leaves_avx512's of the widened values, without widening
// them into memory first. Only where cpu_runs_avx512().
void sum_leaves_avx512(const Half* p, int64_t stride, int64_t rows, int64_t n, float* out);
void sum_leaves_avx512(const BFloat16* p, int64_t stride, int64_t rows, int64_t n, float* out);

}  // namespace graft::kernels::cpu
