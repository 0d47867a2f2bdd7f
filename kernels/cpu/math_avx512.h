// exp, expm1, log, log1p, pow, sin, cos, tan, erf, the exact GELU and its tanh form, the sigmoid
// and SiLU (and the GELUs' and SiLU's fused gradients) of float32 run 16 lanes at a time, for CPUs
// with AVX-512, chosen at run time as the packed GEMMs are (array_math.h calls them where
// cpu_runs_avx512()): graft's build target is x86-64-v3, where Eigen's vectorised functions are 8
// lanes wide. exp took 2.45 times PyTorch's time on a million floats; the GELU and its gradient,
// through Eigen's erf and exp, 1.5 and 1.7 times (a (768, 512) GPT activation, 2026-12-05). On a
// million floats, two threads of the 2-core Xeon: the sigmoid 357 -> 150 us against Eigen's 8
// lanes; SiLU 1257 -> 150 us (it had no vectorised form: a call to the C library's expf an
// element), its forward and backward 1810 -> 520 us.
//
// exp(x) = 2^n e^r with n = round(x / ln 2) and r = x - n ln 2 in [-ln 2 / 2, ln 2 / 2] (ln 2
// in two parts, so that n ln 2 is exact to float precision), e^r by a polynomial of degree 6
// in Horner's form, and the scaling by vscalefps, which rounds once, so that results in the
// denormal range are right and overflow gives inf without the exponent-field tricks Eigen's
// clamping needs. The polynomial is the minimax one for float: each coefficient rounded to
// float in turn, the later ones fitted again around it, its relative error 0.05 of 2^-24 on
// the interval; Cephes's degree 7 (1 + r + r^2 P(r)), which it replaced, is two instructions
// more for no accuracy a float keeps. Checked on every float from -110 to 95 against double's
// exp: at most 0.64 units of 2^-23 of the result (Cephes's 0.71), one step among denormals;
// 17% faster on the 2-core Xeon in L1, and the 16-bit exps, which this arithmetic bounds,
// float16 0.88 -> 0.91-0.93 of float32's GB/s, bfloat16 0.77-0.81 -> 0.81-0.84. NaN stays NaN,
// exp(-inf) = 0, exp(inf) = inf.
//
// log(x) = e ln 2 + log(m) with x = m 2^e, m in [sqrt(1/2), sqrt(2)), by vgetmantps and
// vgetexpps (which read subnormals right, where Eigen's log does not), and Cephes's logf
// polynomial. Checked on every positive float against double's log: at most 0.68 units of
// 2^-23 of the result; log(0) = -inf, negatives NaN. On a million floats, two threads of the
// 2-core Xeon: 1155 us through the C library, 950 through Eigen's log, 175-180 here (PyTorch
// 150-152).
//
// pow(x, y) and expm1(x) are computed in double, two halves of 8 lanes a step, and rounded
// once: log by vgetmantpd and vgetexppd and the atanh series, e^r - 1 by its series, 2^k by
// vscalefpd (pow is array_math.h's pow_block, step for step). log1p(x) is log16's log of 1 + x
// with Goldberg's correction; sin(x), cos(x) and tan(x) Cephes's sinf, cosf and tanf, their
// reduction in float by fused multiply-adds.
//
// erf(x) is Eigen's rational approximation, the same coefficients in the same order (so the
// same values as the 8-lane path): x P(x^2) / Q(x^2) on [-4, 4], where float's erf reaches
// +-1; within 6 ulp. tests/kernels/array_math_test.cpp sweeps all of them through array_math.h.
#pragma once

#include <cstdint>

namespace graft::kernels::cpu {

// Each: out[i] = f(in[i]) for i < n; out may be in. Only where cpu_runs_avx512()
// (cpu_features.h).
void exp_avx512(const float* in, float* out, int64_t n);
void log_avx512(const float* in, float* out, int64_t n);
// out[i] = x[i]^y[i * y_step] (y_step 0: one exponent) for i < n, by array_math.h's pow_block
// method in double, 8 lanes at a time: correct for a positive normal x, a finite y and a result
// in float's normal range, which the caller checks; other lanes hold what they hold.
void pow_avx512(const float* x, const float* y, int64_t y_step, float* out, int64_t n);
// e^x - 1 in double, rounded once to float; log(1 + x) in float.
void expm1_avx512(const float* in, float* out, int64_t n);
void log1p_avx512(const float* in, float* out, int64_t n);
// sin, cos and tan by Cephes's sinf, cosf and tanf for |in[i]| < 8192, by the C library's
// beyond (and for inf and NaN).
void sin_avx512(const float* in, float* out, int64_t n);
void cos_avx512(const float* in, float* out, int64_t n);
void tan_avx512(const float* in, float* out, int64_t n);
// The sum of exp(in[i] - shift) for i < n (log_softmax's, without storing the exps).
float shifted_exp_sum_avx512(const float* in, float shift, int64_t n);
void erf_avx512(const float* in, float* out, int64_t n);
// x Phi(x) = x (1 + erf(x / sqrt 2)) / 2.
void gelu_avx512(const float* in, float* out, int64_t n);
// out[i] = g[i] GELU'(x[i]) = g (Phi(x) + x phi(x)).
void gelu_backward_avx512(const float* g, const float* x, float* out, int64_t n);
// 1 / (1 + e^-x); SiLU's x / (1 + e^-x); and out[i] = g[i] SiLU'(x[i]) = g s (1 + x (1 - s)),
// s the sigmoid of x.
void sigmoid_avx512(const float* in, float* out, int64_t n);
void silu_avx512(const float* in, float* out, int64_t n);
void silu_backward_avx512(const float* g, const float* x, float* out, int64_t n);
// GELU's tanh approximation x / (1 + e^(-2u)), u = sqrt(2 / pi) (x + 0.044715 x^3), and
// out[i] = g[i] s (1 + x (1 - s) 2u'), s = sigmoid(2u).
void gelu_tanh_avx512(const float* in, float* out, int64_t n);
void gelu_tanh_backward_avx512(const float* g, const float* x, float* out, int64_t n);

}  // namespace graft::kernels::cpu
