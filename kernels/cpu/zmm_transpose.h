// transpose_16x16: a 16 x 16 block of floats transposed in AVX-512 registers, for the CPU
// kernels that turn rows into columns (packing a GEMM operand, a direct convolution's output
// back into planes). Compiled for AVX-512 by a per-function target, like the kernels that call
// it: only code that has checked the CPU runs AVX-512 may call it.
#pragma once

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>

namespace graft::kernels::cpu {

// GCC 12 warns that the undefined pass-through operand inside its own AVX-512 shuffle
// intrinsics "may be used uninitialized" once they are inlined (or, in the sanitized -O1 build,
// that it "is used uninitialized"): a false alarm about the header's code, silenced here and
// around the callers.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"

// The 64-bit halves of each 128-bit lane of a and b interleaved: low halves, or high.
__attribute__((target("avx512f"), always_inline)) inline __m512 interleave(__m512 a, __m512 b,
                                                                           bool high) {
  const __m512d x = _mm512_castps_pd(a), y = _mm512_castps_pd(b);
  return _mm512_castpd_ps(high ? _mm512_unpackhi_pd(x, y) : _mm512_unpacklo_pd(x, y));
}

// The 16 x 16 floats of rows[0..15] transposed in registers: rows[c] becomes column c.
// Three steps of shuffles: 32-bit pairs within 128-bit lanes, 64-bit pairs, then the lanes.
__attribute__((target("avx512f"))) inline void transpose_16x16(__m512 (&rows)[16]) {
  __m512 pairs[16];
  for (int i = 0; i < 16; i += 2) {
    pairs[i] = _mm512_unpacklo_ps(rows[i], rows[i + 1]);
    pairs[i + 1] = _mm512_unpackhi_ps(rows[i], rows[i + 1]);
  }
  // rows[4g + j], lane L: column 4L + j of rows 4g .. 4g + 3.
  for (int i = 0; i < 16; i += 4) {
    rows[i] = interleave(pairs[i], pairs[i + 2], false);
    rows[i + 1] = interleave(pairs[i], pairs[i + 2], true);
    rows[i + 2] = interleave(pairs[i + 1], pairs[i + 3], false);
    rows[i + 3] = interleave(pairs[i + 1], pairs[i + 3], true);
  }
  // Column 4L + j gathers lane L of rows j, 4 + j, 8 + j and 12 + j.
  __m512 columns[16];
  for (int j = 0; j < 4; ++j) {
    const __m512 low_a = _mm512_shuffle_f32x4(rows[j], rows[4 + j], 0x44);   // A0 A1 B0 B1
    const __m512 high_a = _mm512_shuffle_f32x4(rows[j], rows[4 + j], 0xEE);  // A2 A3 B2 B3
    const __m512 low_c = _mm512_shuffle_f32x4(rows[8 + j], rows[12 + j], 0x44);
    const __m512 high_c = _mm512_shuffle_f32x4(rows[8 + j], rows[12 + j], 0xEE);
    columns[j] = _mm512_shuffle_f32x4(low_a, low_c, 0x88);
    columns[4 + j] = _mm512_shuffle_f32x4(low_a, low_c, 0xDD);
    columns[8 + j] = _mm512_shuffle_f32x4(high_a, high_c, 0x88);
    columns[12 + j] = _mm512_shuffle_f32x4(high_a, high_c, 0xDD);
  }
  for (int c = 0; c < 16; ++c) rows[c] = columns[c];
}

#pragma GCC diagnostic pop

}  // namespace graft::kernels::cpu

#endif
