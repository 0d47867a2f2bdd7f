// DirectConv: a stride-1 float32 convolution computed from the zero-padded image itself, with no
// im2col, by graft's AVX-512 GEMM (packed_gemm.h) reading the image's windows where they lie.
//
// im2col copies each input element kernel_h * kernel_w times into a column matrix as large as
// the GEMM's operand (288 x 196 floats an image for the Fashion-MNIST CNN's second layer), and
// that copy was a third of the layer's forward. Yet at stride 1 the column matrix is the image
// seen through shifted windows: with the image zero-padded and flattened, output pixel q and
// word (c, i, j) of the columns (input channel c, kernel tap (i, j)) meet at
//   padded[q + c * plane + i * dilation_h * width + j * dilation_w],
// one offset per word whatever the pixel: a WindowMatrix. The product is taken transposed,
//   out^T (pixels, out_channels) = windows (pixels, taps) x W^T (taps, out_channels),
// so that output channels run along the vector lanes (the CNN's 32 and 64 fill whole tiles,
// where its 64 rows of pixels per image would not) and 16 x 16 register transposes turn the
// result back into NCHW planes, adding the bias on the way.
//
// The flattening: each padded row is width = in_w + pad_w floats, its first pad_w zeros also
// serving as the right padding of the row before (pad_w more follow the last row). Output pixel
// (oh, ow) is q = oh * width + ow, so the width - out_w pixels past each output row's end are
// computed and dropped: 1 in 15 for the CNN's 3x3 convolutions of 14 x 14 images. It needs
// out_w <= width, i.e. pad_w <= dilation_w * (kernel_w - 1): every "valid" or "same" conv.
//
// The backward's grad_input is a stride-1 convolution too: of grad_output, by the kernel
// flipped with its channels swapped, padded by dilation * (kernel - 1) - pad (the same
// condition), so one class serves both (the `adjoint` flag).
#pragma once

#include <cstdint>
#include <vector>

#include "graft/kernels/conv.h"

namespace graft::kernels::cpu {

class DirectConv {
 public:
  // Whether the direct path serves the forward of g (or, with adjoint, its grad_input) on this
  // machine: the AVX-512 GEMM present, stride 1, padding within the kernel's reach as above,
  // not pointwise (whose columns are the input already), and whole tiles of output channels
  // and pixels per group.
  static bool serves(const Conv2dGeometry& g, bool adjoint);

  // The forward of g with `weight` (out_channels, in_channels / groups, kernel_h, kernel_w),
  // or with adjoint the map from one image's grad_output to its grad_input. Repacks the weight
  // once, for all the images of a batch.
  DirectConv(const Conv2dGeometry& g, const float* weight, bool adjoint);

  // out (out channels, out_h, out_w) of one image (channels, h, w): the correlation, plus
  // bias[c] on channel c when bias is not null. `workspace` holds the padded image and the
  // transposed product; pass the same one again to reuse its memory.
  void run(const float* image, const float* bias, float* out, std::vector<float>& workspace) const;

 private:
  // The correlation this object runs, in its own terms (for the adjoint: channels are g's
  // output channels, the image is g's output, the result g's input).
  int64_t channels_, in_h_, in_w_, out_channels_, out_h_, out_w_, groups_;
  int64_t pad_h_, pad_w_;
  int64_t width_;                 // a padded row's floats: in_w + pad_w
  int64_t plane_;                 // a padded channel's floats
  std::vector<int64_t> offsets_;  // of word (c, i, j) of one group, from pixel q's position
  std::vector<float> weights_;    // per group: W^T (taps, group's out channels), row-major
};

}  // namespace graft::kernels::cpu
