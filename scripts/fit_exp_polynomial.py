#!/usr/bin/env python3
"""The coefficients of the AVX-512 exp's polynomial (kernels/cpu/math_avx512.cpp).

    python3 scripts/fit_exp_polynomial.py

e^r ~ 1 + c1 r + ... + c6 r^6 on [-ln 2 / 2, ln 2 / 2], fitted for the least largest
relative error (minimax, by Lawson's iteration: weighted least squares whose weights grow
where the error is largest). c1 is 1; each coefficient is then rounded to float32 in turn
and the later ones fitted again around it, which keeps the error of the float coefficients
near that of the exact ones (rounding all six at once would give six times as much).
NumPy only; prints each coefficient as the C++ hex-float literal the kernel uses.
"""
import numpy as np

DEGREE = 6
HALF_LN2 = np.log(2) / 2
R = np.cos(np.linspace(0, np.pi, 8001)) * HALF_LN2  # Chebyshev nodes: dense at the ends


def fit_rest(fixed):
    """Minimax fit of the coefficients after `fixed` (c1 ... ck), and its relative error."""
    target = np.exp(R) - 1 - sum(c * R ** (i + 1) for i, c in enumerate(fixed))
    powers = np.stack([R ** j for j in range(len(fixed) + 1, DEGREE + 1)], axis=1)
    weights = np.ones_like(R)
    for _ in range(300):
        scale = np.sqrt(weights) / np.exp(R)
        coefficients, *_ = np.linalg.lstsq(powers * scale[:, None], target * scale, rcond=None)
        error = (powers @ coefficients - target) / np.exp(R)
        weights = weights * np.abs(error) + 1e-300
        weights /= weights.sum()
    return coefficients, np.abs(error).max()


def hex_float(value):
    """value as a C++ float literal in hex, without trailing zeros: 0x1.fffffcp-2f."""
    mantissa, exponent = float(np.float32(value)).hex().split("p")
    return f"{mantissa.rstrip('0').rstrip('.')}p{int(exponent)}f"


def main():
    fixed = [1.0]
    while len(fixed) < DEGREE:
        coefficients, _ = fit_rest(fixed)
        fixed.append(float(np.float32(coefficients[0])))
    polynomial = 1 + sum(c * R ** (i + 1) for i, c in enumerate(fixed))
    error = np.abs(polynomial / np.exp(R) - 1).max()
    print(f"largest relative error {error:.3g} ({error / 2**-24:.3f} units of 2^-24)")
    for i, c in enumerate(fixed, 1):
        print(f"c{i} = {hex_float(c)}")


if __name__ == "__main__":
    main()
