// float_products.h: float products of leaves, and whether they lost bits to float's range.
#include "graft/kernels/cpu/float_products.h"

#include <algorithm>
#include <bit>
#include <cfenv>
#include <cmath>
#include <cstdint>

#include "graft/core/error.h"
#include "graft/kernels/cpu/reduce_avx512.h"
#include "graft/kernels/cpu/reduce_run.h"
#include "graft/kernels/cpu/reduce_v3.h"

namespace graft::kernels::cpu {
namespace {

// m[k] becomes its mantissa in [1, 2) and its exponent is added to e[k], in the lanes where
// m[k] is a normal float (zeros, subnormals, infinities and NaN stay as they are), by the
// bits and without a branch: a loop the compiler vectorises, as product_leaves_avx512's
// vgetmantps and vgetexpps do the same.
void take_exponents(float (&m)[kProductLanes], int32_t (&e)[kProductLanes]) {
  for (int k = 0; k < kProductLanes; ++k) {
    const auto bits = std::bit_cast<uint32_t>(m[k]);
    const uint32_t biased = bits >> 23 & 0xffu;
    const uint32_t normal = 0u - static_cast<uint32_t>(biased - 1u < 254u);  // all ones or none
    e[k] += static_cast<int32_t>(normal & (biased - 127u));
    m[k] = std::bit_cast<float>((bits & ~(normal & 0x7f800000u)) | (normal & 0x3f800000u));
  }
}

// product_leaves_avx512's arithmetic in a loop the compiler vectorises, for builds without
// AVX2. Not inlined: see float_products.h.
[[gnu::noinline]] void product_leaves_portable(const float* p, int64_t stride, int64_t rows,
                                               int64_t n, float* mantissa, int32_t* exponent) {
  constexpr int64_t kSpan = kProductStepsPerExponent * kProductLanes;
  for (int64_t j = 0; j < rows; ++j) {
    const float* row = p + j * stride;
    float m[kProductLanes];
    int32_t e[kProductLanes] = {};
    std::fill_n(m, kProductLanes, 1.0f);
    for (int64_t first = 0; first < n; first += kSpan) {
      const int64_t end = std::min(n, first + kSpan);
      int64_t i = first;
      for (; i + kProductLanes <= end; i += kProductLanes)
        for (int k = 0; k < kProductLanes; ++k) m[k] *= row[i + k];
      for (int k = 0; i + k < end; ++k) m[k] *= row[i + k];
      take_exponents(m, e);
    }
    mantissa[j] = merged_by_halving(m, [](float a, float b) { return a * b; });
    exponent[j] = merged_by_halving(e, [](int32_t a, int32_t b) { return a + b; });
  }
}

// m * 2^e, rounded once (exact where that is a normal double): where 2^e is a normal double,
// m times that power of two built from its bits; std::ldexp, a library call, took an eighth
// of the time of a leaf of 1024.
double times_two_to(float m, int32_t e) {
  if (e < -1022 || e > 1023) return std::ldexp(static_cast<double>(m), e);
  return static_cast<double>(m) * std::bit_cast<double>(static_cast<uint64_t>(e + 1023) << 52);
}

}  // namespace

ProductLeaves widest_product_leaves() {
  if (cpu_runs_avx512()) return ProductLeaves::kSixteenLanes;
  return GRAFT_REDUCE_V3 ? ProductLeaves::kEightLanes : ProductLeaves::kPortable;
}

bool float_product_leaves(const float* p, int64_t stride, int64_t rows, int64_t n, double* out,
                          ProductLeaves form) {
  GRAFT_CHECK(rows <= kProductLeavesAtOnce, "float_product_leaves(): ", rows, " rows, at most ",
              kProductLeavesAtOnce, " at once");
  constexpr int kRangeFlags = FE_OVERFLOW | FE_UNDERFLOW;
  // Flags raised before (a tiny product rounded to a float result, say) are cleared first:
  // reading them is cheap, clearing them is not.
  if (std::fetestexcept(kRangeFlags) != 0) std::feclearexcept(kRangeFlags);
  float mantissa[kProductLeavesAtOnce];
  int32_t exponent[kProductLeavesAtOnce];
  switch (form) {
    case ProductLeaves::kSixteenLanes:
      product_leaves_avx512(p, stride, rows, n, mantissa, exponent);
      break;
    case ProductLeaves::kEightLanes:
      product_leaves_v3(p, stride, rows, n, mantissa, exponent);
      break;
    case ProductLeaves::kPortable:
      product_leaves_portable(p, stride, rows, n, mantissa, exponent);
      break;
  }
  // Read before the leaves are put together: a leaf below double's normal numbers raises the
  // underflow flag there, losing what a double product would lose too.
  const bool in_range = std::fetestexcept(kRangeFlags) == 0;
  for (int64_t j = 0; j < rows; ++j) out[j] = times_two_to(mantissa[j], exponent[j]);
  return in_range;
}

}  // namespace graft::kernels::cpu
