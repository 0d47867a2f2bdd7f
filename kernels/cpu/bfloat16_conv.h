// A bfloat16 conv2d forward, with no im2col, on AMX's tile registers (Sapphire Rapids on) or,
// where the CPU has no AMX, AVX512-BF16's vdpbf16ps (Cooper Lake, Zen 4 on): the input is laid
// out once per image as channel-pair planes, and each tile of 16 pixels x 32 channels that a
// tap needs is one tile load straight out of it (or, for vdpbf16ps, 16 rows of two vectors).
//
// The output is computed on the grid of the padded input's width: output pixel (y, x) is grid
// pixel p = y * padded_w + x, and for kernel tap (i, j) it reads padded input pixel p + i *
// padded_w + j, so a run of 16 consecutive grid pixels reads 16 consecutive input pixels for
// every tap, rows crossed included. The grid's last kernel_w - 1 columns of each row are not
// output pixels: computed, and dropped. With stride 1 and dilation 1 only.
//
// Layout: a plane per pair of input channels, 32-bit words, word p holding channels 2q and 2q + 1
// of padded pixel p (AMX's pairs along k); 16 planes are the 32 channels one tdpbf16ps takes. The
// weights are packed once per call, for each block of 16 output channels, tap and step of 32
// input channels, into a 16 x 32 tile. An output tile is 32 channels x 32 grid pixels, in four
// accumulators (amx_tiles.h), summed in float32 over every tap and channel, the bias added and
// rounded once to bfloat16 as it is written out.
//
// The AVX512-BF16 engine computes the same products in the same layouts: an output tile as
// four blocks of 8 rows x 32 columns, each in 16 zmm accumulators, every step of 16 channel-pair
// words a row of the tile's b operand loaded as two vectors and each of a's 8 words broadcast
// (bfloat16_dot_rows, bfloat16_dot.h). Its sums run in another order than AMX's, so the two engines
// may differ in the last bit of a float sum before the rounding to bfloat16.
#pragma once

#include "graft/kernels/conv.h"

namespace graft::kernels::cpu {

// Whether bfloat16_conv2d computes a bfloat16 convolution of geometry g on this machine: AMX
// usable or AVX512-BF16 present, one group, stride 1, dilation 1, and at least 16 input channels
// (the channels are padded to a multiple of 32, which below 16 would more than double the
// work).
bool bfloat16_conv2d_takes(const Conv2dGeometry& g);

// args.output = conv2d(args.input, args.weight) + args.bias, all bfloat16. Only where
// bfloat16_conv2d_takes(args.geometry).
void bfloat16_conv2d(const Conv2dArgs& args);

// Whether bfloat16_conv2d_backward computes the gradients of a bfloat16 convolution of geometry g:
// where bfloat16_conv2d_takes it, with 16 output channels or more (the input's gradient is a
// convolution over them) and each padding below the kernel's size (that convolution's,
// kernel - 1 - padding, is not negative).
bool bfloat16_conv2d_backward_takes(const Conv2dGeometry& g);

// The gradients args asks for (bfloat16_conv_backward.cpp), bfloat16 each rounded once from float32
// sums. Only where bfloat16_conv2d_backward_takes(args.geometry).
void bfloat16_conv2d_backward(const Conv2dBackwardArgs& args);

}  // namespace graft::kernels::cpu
