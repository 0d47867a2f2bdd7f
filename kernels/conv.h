// Conv2dArgs / Conv2dBackwardArgs: a 2-D convolution as the op layer hands it to a kernel.
//
// Every tensor is contiguous NCHW (the op layer copies the rare strided input), so the
// kernels see plain arrays and one Conv2dGeometry describes them all:
//   input  (batch, in_channels, in_h, in_w)
//   weight (out_channels, in_channels / groups, kernel_h, kernel_w)
//   bias   (out_channels)
//   output (batch, out_channels, out_h, out_w)
// Both backends compute a convolution as GEMMs over "columns" (im2col): for one image and
// one group, column_rows() rows indexed (c, i, j) by input channel and kernel tap, and
// out_plane() columns indexed (oh, ow), holding
//   x[c, oh * stride_h - pad_h + i * dilation_h, ow * stride_w - pad_w + j * dilation_w]
// (0 where that falls in the padding), so that out[g] = weight[g] (group_out, column_rows)
// x columns[g]. docs/conv.md draws the picture. Plain C++ (no Eigen, no Tensor) so that
// the CUDA backend fills the same structs.
#pragma once

#include <cstdint>

#include "graft/core/device.h"
#include "graft/core/dtype.h"
#include "graft/core/host_device.h"

namespace graft::kernels {

struct Conv2dGeometry {
  int64_t batch = 0, in_channels = 0, in_h = 0, in_w = 0;
  int64_t out_channels = 0, out_h = 0, out_w = 0;
  int64_t kernel_h = 1, kernel_w = 1;
  int64_t stride_h = 1, stride_w = 1;
  int64_t pad_h = 0, pad_w = 0;
  int64_t dilation_h = 1, dilation_w = 1;
  int64_t groups = 1;

  GRAFT_HOST_DEVICE int64_t group_in_channels() const { return in_channels / groups; }
  GRAFT_HOST_DEVICE int64_t group_out_channels() const { return out_channels / groups; }
  GRAFT_HOST_DEVICE int64_t kernel_size() const { return kernel_h * kernel_w; }
  // Rows of one group's column matrix: (c, i, j) over its input channels and kernel taps.
  GRAFT_HOST_DEVICE int64_t column_rows() const { return group_in_channels() * kernel_size(); }
  GRAFT_HOST_DEVICE int64_t in_plane() const { return in_h * in_w; }
  GRAFT_HOST_DEVICE int64_t out_plane() const { return out_h * out_w; }
  // A 1x1 kernel with stride 1 and no padding: the columns are the input itself.
  GRAFT_HOST_DEVICE bool is_pointwise() const {
    return kernel_h == 1 && kernel_w == 1 && stride_h == 1 && stride_w == 1 && pad_h == 0 &&
           pad_w == 0;
  }
};

// output = conv2d(input, weight) + bias.
struct Conv2dArgs {
  DType dtype = kFloat32;  // a floating dtype, of every tensor alike (16-bit ones computed in
                           // float32 on both backends)
  Device device;           // where the tensors live (the CUDA backend allocates workspace there)
  Conv2dGeometry geometry;
  const void* input = nullptr;
  const void* weight = nullptr;
  const void* bias = nullptr;  // nullptr: no bias
  void* output = nullptr;
};

// The gradients of conv2d with respect to each of its inputs, from grad_output (the output's
// shape). A null grad_* pointer means that gradient is not wanted; the others are
// overwritten (not accumulated into).
struct Conv2dBackwardArgs {
  DType dtype = kFloat32;  // as Conv2dArgs
  Device device;
  Conv2dGeometry geometry;
  const void* grad_output = nullptr;
  const void* input = nullptr;   // read for grad_weight only
  const void* weight = nullptr;  // read for grad_input only
  void* grad_input = nullptr;
  void* grad_weight = nullptr;
  void* grad_bias = nullptr;
};

}  // namespace graft::kernels
