// Strips of a transposed operand turned into rows, for the elementwise loop's tiled walk
// (loops.h, run_in_tiles).
//
// Why: in a.t() + b, a's elements along an output row lie a whole row of a apart. The walk in
// 64 x 64 tiles reads them one at a time and counts on the 64 lines each output row touches
// staying in L1 for the tile's next rows; on the Xeon (48 KB of L1, 12 ways) they do, on Zen 4
// (32 KB, 8 ways, and the 64 lines, 16 KB apart, all in the same sets) they do not, and the
// (4096, 4096) add took 28-35 ms there against 16-17 on the Xeon. Here 16 rows of the operand's
// strip are loaded 16 elements of a column at a time, transposed in AVX-512 registers into a
// small row-major buffer, and the tile's rows then run as dense rows; a copy between tensors of
// one type transposes straight into the output's rows.
#pragma once

#include <cstdint>

namespace graft::kernels::cpu {

// Whether transpose_strip takes elements of `bytes` bytes on this CPU: 4 where it runs
// AVX-512, 2 where it also has AVX-512 BW (16-bit lanes under masks).
bool strips_take(int64_t bytes);

// Rows [0, rows) x columns [0, cols) of an operand of `bytes`-byte elements whose rows are
// adjacent, element (i, j) at src[i + j * col_stride] (rows <= 16), into buf: row i at
// buf + i * buf_stride (in elements), its columns contiguous, by 16 x 16 transposes in
// registers; nothing else of buf is written, so buf may be a tensor's rows. Only where
// strips_take(bytes).
void transpose_strip(int64_t bytes, const void* src, int64_t col_stride, int64_t rows, int64_t cols,
                     void* buf, int64_t buf_stride);

}  // namespace graft::kernels::cpu
