// DirectConv's kernels (direct_conv.h) in AVX2, graft's build target, for CPUs without
// AVX-512: the window tile that multiplies a piece of an output row's windows by a panel of
// the repacked weight, the weight gradient's product of the windows transposed, and the
// transposes between products and NCHW planes. Without them those CPUs took im2col and Eigen's
// GEMM for every convolution, and the Fashion-MNIST CNN's second layer ran at 1.26 times
// PyTorch's time there (oneDNN's own AVX2 convolution).
//
// The tile is ymm_tiles.h's 6 x 16; a 32-column panel is two passes, each over all of k.
#pragma once

#include <cstdint>

#include "graft/kernels/cpu/packed_gemm.h"
#include "graft/kernels/cpu/ymm_tiles.h"

#define GRAFT_DIRECT_CONV_V3 GRAFT_YMM_KERNELS

namespace graft::kernels::cpu {

// Pixels (rows) of window_tile_v3's tile at most.
inline constexpr int64_t kWindowTileRowsV3 = kYmmTileRows;

// packed_gemm.h's window_tile in 8 lanes: out (rows, 32), its rows `out_stride` apart, = rows
// [0, rows) of the untransposed window operand a times b's 32 columns, word w's at
// b + w * b_word; 1 <= rows <= kWindowTileRowsV3. Only where GRAFT_DIRECT_CONV_V3, elsewhere
// an error.
void window_tile_v3(WindowMatrix a, int64_t rows, const float* b, int64_t b_word, int64_t words,
                    float* out, int64_t out_stride);

// out (m, n) += a (m, k) x b (k, n), a a transposed window operand (the weight gradient's:
// taps down, pixels along k), b's rows b_stride apart, b_stride a multiple of 16 and b's
// columns from n to it zeros (read, never stored); out's rows n apart. In tiles of
// kWindowTileRowsV3 taps by 16 columns over the whole of k, on the calling thread.
void window_weight_grad_v3(WindowMatrix a, const float* b, int64_t b_stride, float* out, int64_t m,
                           int64_t k, int64_t n);

// product (pixels, stride) = planes (n, out_h, out_w) transposed, for the weight gradient's b:
// output pixel (oh, ow) at flat position oh * width + ow, zeros at the positions past each
// row's end (ow from out_w to width) and in the columns from n to stride (a multiple of 8).
// pixels = (out_h - 1) * width + out_w.
void from_planes_v3(const float* planes, int64_t n, int64_t out_h, int64_t out_w, int64_t width,
                    int64_t stride, float* product);

// planes (n, out_plane) = product (out_plane, n), its rows `stride` apart, transposed, plus
// bias[c] on plane c when bias is not null: 8 pixels by 8 channels at a time, transposed in
// registers.
void to_planes_v3(const float* product, int64_t stride, int64_t out_plane, int64_t n,
                  const float* bias, float* planes);

}  // namespace graft::kernels::cpu
