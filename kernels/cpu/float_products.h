// Products of float leaves in float, in double's range, checked by the CPU's IEEE flags.
//
// A float32 (or 16-bit) product reduces its pairwise leaves in float, as a sum does
// (reducers.h): 16 lanes a multiply where double took two conversions and two multiplies, and
// what PyTorch does. But float's range is narrow: the product of a thousand numbers near 0.5
// underflows a float, not a double, and a later leaf of numbers near 2 would bring it back.
// So each lane's exponent is kept apart, taken out every few steps (16 lanes an instruction
// where the CPU has AVX-512: reduce_avx512.h's product_leaves_avx512; otherwise by the bits,
// in a loop the compiler vectorises): only a few elements in a row far from 1 can still leave
// float's range between two takings. Testing each step for that would cost more than
// the multiply; the CPU already does it: every IEEE operation that overflows, or rounds a
// result too small for a normal float, raises a sticky flag (FE_OVERFLOW, FE_UNDERFLOW). So
// the flags are read once for a block of rows, and only when one is raised is the block
// multiplied again, in double, by the caller (reduce_run.h's float_leaves). An exact tiny
// result raises no flag: it lost nothing.
//
// The flags are read after the leaves are computed by a function the compiler may not inline
// (compiled apart, or marked so): it may not move the multiplies past the library call that
// reads them.
#pragma once

#include <cstdint>

#include "graft/kernels/cpu/cpu_features.h"

namespace graft::kernels::cpu {

// The most rows float_product_leaves takes at once.
inline constexpr int64_t kProductLeavesAtOnce = 256;
// A product leaf's lanes, element j multiplied into lane j mod kProductLanes as in a sum's leaf
// (reduce_run.h), and the steps of kProductLanes elements between two takings of each lane's
// exponent: a lane's mantissa multiplies four elements, which leave float's range only if
// they average about 2^32 or 2^-32 in magnitude.
inline constexpr int kProductLanes = 64;
inline constexpr int64_t kProductStepsPerExponent = 4;

// out[j] = the product of p[j * stride, j * stride + n), for j < rows <= kProductLeavesAtOnce,
// multiplied in float, lane by lane, each lane's exponent kept apart and the lanes merged by
// halving (mantissas multiplied, exponents added): the bits of the plain float product
// wherever that stays in float's range, and a double's range. Whether no float multiplication
// lost bits to float's range; when one did, out is not to be used. `form` chooses how (the
// same bits; the tests run each): 16 lanes where the CPU has AVX-512 (reduce_avx512.h), 8 in
// AVX2, graft's build target (reduce_v3.h), or a loop the compiler vectorises, for builds
// without AVX2.
enum class ProductLeaves { kPortable, kEightLanes, kSixteenLanes };
bool float_product_leaves(const float* p, int64_t stride, int64_t rows, int64_t n, double* out,
                          ProductLeaves form);
// The widest form this build and CPU run.
ProductLeaves widest_product_leaves();
inline bool float_product_leaves(const float* p, int64_t stride, int64_t rows, int64_t n,
                                 double* out) {
  return float_product_leaves(p, stride, rows, n, out, widest_product_leaves());
}

}  // namespace graft::kernels::cpu
