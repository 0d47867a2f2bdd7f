// float_products.h: float products of leaves, and whether they lost bits to float's range.
#include "graft/kernels/cpu/float_products.h"

#include <bit>
#include <cfenv>
#include <cmath>
#include <cstdint>

#include "graft/core/error.h"
#include "graft/kernels/cpu/reduce_avx512.h"
#include "graft/kernels/cpu/reduce_run.h"

namespace graft::kernels::cpu {
namespace {

// m * 2^e: where 2^e is a normal double, m times that power of two built from its bits (exact
// when m is a nonzero finite float: |m| >= 1 here); std::ldexp, a library call, took an eighth
// of the time of a leaf of 1024.
double times_two_to(float m, int32_t e) {
  if (e < -1022 || e > 1023) return std::ldexp(static_cast<double>(m), e);
  return static_cast<double>(m) * std::bit_cast<double>(static_cast<uint64_t>(e + 1023) << 52);
}

}  // namespace

bool float_product_leaves(const float* p, int64_t stride, int64_t rows, int64_t n, double* out,
                          bool sixteen_lanes) {
  GRAFT_CHECK(rows <= kProductLeavesAtOnce, "float_product_leaves(): ", rows, " rows, at most ",
              kProductLeavesAtOnce, " at once");
  constexpr int kRangeFlags = FE_OVERFLOW | FE_UNDERFLOW;
  // Flags raised before (a tiny product rounded to a float result, say) are cleared first:
  // reading them is cheap, clearing them is not.
  if (std::fetestexcept(kRangeFlags) != 0) std::feclearexcept(kRangeFlags);
  if (!sixteen_lanes) {
    for (int64_t j = 0; j < rows; ++j) out[j] = float_arithmetic_leaf<true>(p + j * stride, n);
    return std::fetestexcept(kRangeFlags) == 0;
  }
  float mantissa[kProductLeavesAtOnce];
  int32_t exponent[kProductLeavesAtOnce];
  product_leaves_avx512(p, stride, rows, n, mantissa, exponent);
  // Read before the leaves are put together: a leaf below double's normal numbers raises the
  // underflow flag there, losing what a double product would lose too.
  const bool in_range = std::fetestexcept(kRangeFlags) == 0;
  for (int64_t j = 0; j < rows; ++j) out[j] = times_two_to(mantissa[j], exponent[j]);
  return in_range;
}

}  // namespace graft::kernels::cpu
