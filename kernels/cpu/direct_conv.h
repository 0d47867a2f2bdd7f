// DirectConv: a stride-1 float32 convolution computed from the zero-padded image itself, with no
// im2col, by graft's GEMM tiles (packed_gemm.h) reading the image's windows where they lie:
// AVX-512's where the CPU has it, else AVX2's (with the transposes of direct_conv_v3.h).
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
// (oh, ow) is q = oh * width + ow. The forward (and grad_input) takes its tiles along output
// rows, each a piece of one row of up to 14 pixels (window_tile; 6 in AVX2's): the width - out_w
// positions past a row's end are never computed, and a 14-pixel row of the CNN is one tile. (Tiles
// of the GEMM's 12 rows over all the flat positions computed those 1 in 15 and a partial last tile:
// 216 rows for 196 pixels, and conv2's forward ran at 1.12 times PyTorch's time.) It needs out_w <=
// width, i.e. pad_w <= dilation_w * (kernel_w - 1): every "valid" or "same" conv.
//
// The backward's grad_input is a stride-1 convolution too: of grad_output, by the kernel
// flipped with its channels swapped, padded by dilation * (kernel - 1) - pad (the same
// condition), so one class serves both (an object's Product). And grad_weight takes the same
// windows transposed, times grad_output laid out as (flat positions, out_channels), zeros at
// the positions past each row's end:
//   grad_W^T (taps, out_channels) += windows^T (taps, pixels) x grad_out^T (pixels, out_channels),
// the images summed in the GEMM's own accumulators.
#pragma once

#include <cstdint>
#include <vector>

#include "graft/kernels/conv.h"
#include "graft/kernels/cpu/cache_aligned.h"
#include "graft/kernels/cpu/packed_gemm.h"

namespace graft::kernels::cpu {

class DirectConv {
 public:
  // What an object computes for a convolution g: its output, its grad_input, its grad_weight.
  enum class Product { kOutput, kGradInput, kGradWeight };

  // Whether the direct path serves `product` of g on this machine: stride 1, padding within
  // the kernel's reach as above, not pointwise (whose columns are the input already), and at
  // least one whole tile of the GEMM's output per group; on every x86-64-v3 CPU, in AVX-512
  // where it has it.
  static bool serves(const Conv2dGeometry& g, Product product);

  // An object for `product` of g, which it must serve. The output and grad_input need `weight`
  // (out_channels, in_channels / groups, kernel_h, kernel_w), repacked here once for all the
  // images of a batch; grad_weight needs none.
  DirectConv(const Conv2dGeometry& g, Product product, const float* weight = nullptr);

  // For kOutput and kGradInput: out (out channels, out_h, out_w) of one image (channels, h, w)
  // (for kGradInput: grad_input from grad_output), plus bias[c] on channel c when bias is not
  // null. `workspace` holds the padded image and the transposed product; pass the same one
  // again to reuse its memory.
  void run(const float* image, const float* bias, float* out, std::vector<float>& workspace) const;

  // For kGradWeight: accumulator += one image's share of grad_weight, laid out as the
  // packed weight (per group W^T: the taps of its channels down, its out channels across), as
  // many floats as the weight. image (channels, h, w); grad_out (out_channels, out_h, out_w).
  void add_weight_grad(const float* image, const float* grad_out, float* accumulator,
                       std::vector<float>& workspace) const;
  // grad_weight (out_channels, in_channels / groups, kernel_h, kernel_w) from the accumulator.
  void unpack_weight_grad(const float* accumulator, float* grad_weight) const;

 private:
  // Where element (row (c, i, j), column o) of the packed weight of `group` lies in g's weight.
  int64_t weight_index(int64_t group, int64_t c, int64_t i, int64_t j, int64_t o) const;
  // Fills workspace with the image zero-padded and flattened (channels_ planes of plane_
  // floats), followed by room for `product` floats, each starting on a cache line (the tiles
  // store the product's rows, and the weight gradient loads them, in whole vectors).
  struct Padded {
    const float* image;
    float* product;
  };
  Padded pad(const float* image, int64_t product, std::vector<float>& workspace) const;

  Product product_;
  PackedGemm kernel_;  // the GEMM's float32 kernel: AVX-512's, else AVX2's
  // The correlation this object runs, in its own terms (for grad_input: channels are g's
  // output channels, the image is g's output, the result g's input).
  int64_t channels_, in_h_, in_w_, out_channels_, out_h_, out_w_, groups_;
  int64_t kernel_h_, kernel_w_, pad_h_, pad_w_;
  int64_t group_channels_, group_out_;  // channels and out channels per group
  int64_t words_;                       // the GEMMs' k: (channel, tap) of one group
  int64_t width_;                       // a padded row's floats: in_w + pad_w
  int64_t plane_;                       // a padded channel's floats
  int64_t pixels_;                      // flat positions from the first output pixel to the last
  int64_t out_columns_;                 // group_out_ rounded up to whole tiles' columns
  std::vector<int64_t> offsets_;        // of word (c, i, j) of one group, from pixel q's position
  // per group: W^T (taps, out_columns_: the group's out channels, zeros), its rows read in
  // whole vectors
  CacheAlignedVector<float> weights_;
};

}  // namespace graft::kernels::cpu
