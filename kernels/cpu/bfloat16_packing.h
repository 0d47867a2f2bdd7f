// Packing bfloat16 GEMM operands into the words the AVX512-BF16 and AMX kernels read
// (packed_gemm.cpp): two bfloat16 of consecutive k in one 32-bit word, the first in the low
// half. Element by element, through bounds checks, packing took four times as long as the AMX
// tiles themselves in graft-gpt's bfloat16 step (2026-12-05); here whole vectors are moved:
//   - a word of a row-major a, or of a column-major b, is two adjacent elements: the bytes are
//     copied as they are (AMX's a panels: 64 bytes a row a time), or transposed 16 x 16 as
//     32-bit words where the panel wants them across;
//   - a word of a column-major a, or of a row-major b, pairs elements of two k-rows: 16 of each
//     widened to 32 bits and the second shifted into the high half.
// Elements past the operand's m, k or n are zeros, as the kernels' padding needs. Only where
// the CPU runs AVX-512 (the bfloat16 kernels need it anyway); other layouts keep the element
// by element path.
#pragma once

#include <cstdint>

#include "graft/core/half.h"

namespace graft::kernels::cpu {

// The row panels [first, last) of a (m x k, rows `row_stride` and columns `col_stride`
// elements apart), `rows` rows a panel, each panel `words` words (k / 2 rounded up, then to a
// multiple of `group`), word w of row i at (w / group * rows + i) * group + w % group. False,
// having packed nothing, unless one of a's strides is 1.
bool pack_bfloat16_a(const BFloat16* a, int64_t row_stride, int64_t col_stride, int64_t m,
                     int64_t k, int64_t first, int64_t last, int64_t rows, int64_t group,
                     int64_t words, uint32_t* packed);

// The column panels [first, last) of b (k x n), 32 columns a panel, word w of column c at
// w * 32 + c. False, having packed nothing, unless one of b's strides is 1.
bool pack_bfloat16_b(const BFloat16* b, int64_t row_stride, int64_t col_stride, int64_t k,
                     int64_t n, int64_t first, int64_t last, int64_t words, uint32_t* packed);

}  // namespace graft::kernels::cpu
