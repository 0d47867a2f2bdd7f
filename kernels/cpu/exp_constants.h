// The constants of graft's float32 exp (math_avx512.h has the method): its clamps, n's rounding,
// ln 2 in two parts and the polynomial's coefficients, highest degree first. The 16-lane form
// (math_avx512.cpp) and the 8-lane one (math_v3.cpp) take them from here, in the same order of
// operations, and so give the same bits on every CPU.
#pragma once

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
