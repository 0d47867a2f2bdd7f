// DirectConv's transposes (direct_conv.h) in AVX2, graft's build target, for CPUs without
// AVX-512: the product of a forward or grad_input turned into NCHW planes, and grad_output's
// planes turned into the weight gradient's operand. The GEMM tiles themselves are the packed
// GEMM's AVX2 kernel (packed_gemm.h). Without these those CPUs took im2col and Eigen's GEMM
// for every convolution, and the Fashion-MNIST CNN's second layer ran at 1.26 times PyTorch's
// time there (oneDNN's own AVX2 convolution).
#pragma once

#include <cstdint>

#include "graft/kernels/cpu/ymm_tiles.h"

namespace graft::kernels::cpu {

// planes (n, out_plane) = product (out_plane, n), its rows `stride` apart, transposed, plus
// bias[c] on plane c when bias is not null: 8 pixels by 8 channels at a time, transposed in
// registers. Only where GRAFT_YMM_KERNELS, elsewhere an error (as below).
void to_planes_v3(const float* product, int64_t stride, int64_t out_plane, int64_t n,
                  const float* bias, float* planes);

// product (pixels, stride) = planes (n, out_h, out_w) transposed, for the weight gradient's b:
// output pixel (oh, ow) at flat position oh * width + ow, zeros at the positions past each
// row's end (ow from out_w to width) and in the columns from n to stride (a multiple of 8).
// pixels = (out_h - 1) * width + out_w.
void from_planes_v3(const float* planes, int64_t n, int64_t out_h, int64_t out_w, int64_t width,
                    int64_t stride, float* product);

}  // namespace graft::kernels::cpu
