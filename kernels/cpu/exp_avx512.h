// exp of a float32 run 16 lanes at a time, for CPUs with AVX-512 (chosen at run time, as the
// packed GEMMs are: graft's build target is x86-64-v3, where Eigen's exp is 8 lanes wide and
// took 2.45 times PyTorch's time on a million floats).
//
// exp(x) = 2^n e^r with n = round(x / ln 2) and r = x - n ln 2 in [-ln 2 / 2, ln 2 / 2] (ln 2
// in two parts, so that n ln 2 is exact to float precision), e^r by Cephes's degree-7
// polynomial (1 + r + r^2 P(r)), and the scaling by vscalefps, which rounds once, so that
// results in the denormal range are right and overflow gives inf without the exponent-field
// tricks Eigen's clamping needs. Within 2 ulp of the correctly rounded result
// (tests/kernels/array_math_test.cpp sweeps it through array_math.h); NaN stays NaN,
// exp(-inf) = 0, exp(inf) = inf.
#pragma once

#include <cstdint>

namespace graft::kernels::cpu {

// out[i] = exp(in[i]) for i < n; out may be in. Only where cpu_runs_avx512() (cpu_features.h).
void exp_avx512(const float* in, float* out, int64_t n);

}  // namespace graft::kernels::cpu
