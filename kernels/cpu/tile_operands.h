// Where a GEMM tile finds its operand a's values: value (i, w), row i and word (k-step) w, at
// a[row[i] + word[w]], each of row and word one of these. The same tile code then reads a
// strided matrix, a packed panel, or a convolution's windows (packed_gemm.h's WindowMatrix)
// in place, each compiled to its own addressing.
#pragma once

#include <cstdint>

namespace graft::kernels::cpu {

// i * stride: a strided matrix's rows or words, a packed panel's.
struct Strided {
  int64_t stride;
  int64_t operator[](int64_t i) const { return i * stride; }
};

// A stride known when the tile is compiled: its addresses are the base plus constants, where a
// runtime stride takes a register for each of the tile's rows (GCC spills some) and conv2's
// forward ran 3-5% slower.
template <int64_t kStride>
struct Fixed {
  int64_t operator[](int64_t i) const { return i * kStride; }
};

// offsets[i]: a window operand's words, or its rows when transposed.
struct Offsets {
  const int64_t* offsets;
  int64_t operator[](int64_t i) const { return offsets[i]; }
};

}  // namespace graft::kernels::cpu
