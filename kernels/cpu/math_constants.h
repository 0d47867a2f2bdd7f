// The constants of graft's vectorised float32 exp, expm1 and erf (math_avx512.h has the
// methods). The 16-lane forms (math_avx512.cpp) and the 8-lane ones (math_v3.cpp) take them
// from here, in the same order of operations, and so give the same bits on every CPU.
#pragma once

// exp: its clamps, n's rounding, ln 2 in two parts and the polynomial's coefficients, highest
// degree first.
namespace graft::kernels::cpu::exp_constants {

// Beyond these, the result is inf or rounds to 0 anyway; clamping keeps n ln 2 finite.
inline constexpr float kHighest = 89.0f, kLowest = -104.0f;
// n = x / ln 2 rounded to the nearest integer: adding 1.5 * 2^23 leaves no bits below the
// units, and subtracting it back is exact.
inline constexpr float kShifter = 0x1.8p23f, kLog2E = 1.44269504088896341f;
// r = x - n ln 2: ln 2's leading bits (n times them exact) and the rest.
inline constexpr float kLn2High = 0.693359375f, kLn2Low = -2.12194440e-4f;
// e^r = ((((((c0 r + c1) r + c2) r + c3) r + c4) r + c5) r + c6), from
// scripts/fit_exp_polynomial.py.
inline constexpr float kPolynomial[] = {
    0x1.6a3d04p-10f, 0x1.123856p-7f, 0x1.5558bep-5f, 0x1.555494p-3f, 0x1.fffffcp-2f, 1.0f, 1.0f};

}  // namespace graft::kernels::cpu::exp_constants

// e^t - 1 in double (expm1, and pow's e^(y log x)): t = k ln 2 + r, k = t / ln 2 rounded,
// |r| <= ln 2 / 2, and e^r - 1 = r (c0 + c1 r + ...), the series to r^11, highest degree first.
namespace graft::kernels::cpu::exp_series_constants {

inline constexpr double kLn2 = 0.6931471805599453, kLog2E = 1.4426950408889634;
inline constexpr double kSeries[] = {1.0 / 39916800, 1.0 / 3628800, 1.0 / 362880, 1.0 / 40320,
                                     1.0 / 5040,     1.0 / 720,     1.0 / 120,    1.0 / 24,
                                     1.0 / 6,        0.5,           1.0};
// expm1's clamps: beyond them the float result is -1 or inf either way.
inline constexpr double kLowest = -110.0, kHighest = 89.0;

}  // namespace graft::kernels::cpu::exp_series_constants

// erf: Eigen's generic_fast_erf_float, x P(x^2) / Q(x^2) on [-4, 4], the coefficients highest
// degree first; and the normal distribution's constants of the GELU.
namespace graft::kernels::cpu::erf_constants {

inline constexpr float kClamp = 4.0f;
inline constexpr float kP[] = {
    -2.72614225801306e-10f, 2.77068142495902e-08f,  -2.10102402082508e-06f, -5.69250639462346e-05f,
    -7.34990630326855e-04f, -2.95459980854025e-03f, -1.60960333262415e-02f};
inline constexpr float kQ[] = {-1.45660718464996e-05f, -2.13374055278905e-04f,
                               -1.68282697438203e-03f, -7.37332916720468e-03f,
                               -1.42647390514189e-02f};
inline constexpr float kSqrtHalf = 0.70710678118654752f, kInvSqrtTwoPi = 0.39894228040143267794f;

}  // namespace graft::kernels::cpu::erf_constants
