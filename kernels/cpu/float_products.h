// Products of float leaves in float, in double's range, checked by the CPU's IEEE flags.
//
// A float32 (or 16-bit) product reduces its pairwise leaves in float, as a sum does
// (reducers.h): 16 lanes a multiply where double took two conversions and two multiplies, and
// what PyTorch does. But float's range is narrow: the product of a thousand numbers near 0.5
// underflows a float, not a double, and a later leaf of numbers near 2 would bring it back.
// So where the CPU has AVX-512 each lane's exponent is kept apart, taken out every few steps
// (reduce_avx512.h's product_leaves_avx512): only a few elements in a row far from 1 can still
// leave float's range between two takings. Testing each step for that would cost more than
// the multiply; the CPU already does it: every IEEE operation that overflows, or rounds a
// result too small for a normal float, raises a sticky flag (FE_OVERFLOW, FE_UNDERFLOW). So
// the flags are read once for a block of rows, and only when one is raised is the block
// multiplied again, in double, by the caller (reduce_run.h's float_leaves). An exact tiny
// result raises no flag: it lost nothing. Without AVX-512 the lanes are plain float products,
// which fall back whenever the product leaves float's range.
//
// The flags are read after the leaves are computed by a separately compiled function (with
// AVX-512) or stored through `out`, in this separately compiled one: either way the compiler
// may not move the multiplies past the library call that reads them.
#pragma once

#include <cstdint>

#include "graft/kernels/cpu/cpu_features.h"

namespace graft::kernels::cpu {

// The most rows float_product_leaves takes at once.
inline constexpr int64_t kProductLeavesAtOnce = 256;

// out[j] = the product of p[j * stride, j * stride + n), for j < rows <= kProductLeavesAtOnce,
// multiplied in float as reduce_run.h's float_arithmetic_leaf<true> (16 lanes, and in double's
// range, where the CPU has AVX-512: the same bits wherever the float product stays in range).
// Whether no float multiplication lost bits to float's range; when one did, out is not to be
// used. `sixteen_lanes` chooses the form (the tests run both).
bool float_product_leaves(const float* p, int64_t stride, int64_t rows, int64_t n, double* out,
                          bool sixteen_lanes);
inline bool float_product_leaves(const float* p, int64_t stride, int64_t rows, int64_t n,
                                 double* out) {
  return float_product_leaves(p, stride, rows, n, out, cpu_runs_avx512());
}

}  // namespace graft::kernels::cpu
