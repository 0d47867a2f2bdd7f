// Conv2d: a 2-D convolution layer over NCHW images (autograd/ops.h's conv2d).
//
// Initialisation is PyTorch's: weight kaiming_uniform(a = sqrt(5)) and bias
// U(-1/sqrt(fan_in), 1/sqrt(fan_in)), fan_in = in_channels / groups * kernel_h * kernel_w.
#pragma once

#include "graft/autograd/ops.h"
#include "graft/nn/module.h"

namespace graft::nn {

class Conv2d : public Module {
 public:
  Conv2d(int64_t in_channels, int64_t out_channels, IntPair kernel_size, IntPair stride = 1,
         IntPair padding = 0, IntPair dilation = 1, int64_t groups = 1, bool bias = true);
  // (N, in_channels, H, W) or (in_channels, H, W) -> (N, out_channels, H', W') or unbatched.
  Tensor forward(const Tensor& input) override;

  int64_t in_channels, out_channels;
  IntPair kernel_size, stride, padding, dilation;
  int64_t groups;
  Tensor weight;  // (out_channels, in_channels / groups, kernel_h, kernel_w)
  Tensor bias;    // (out_channels); undefined with bias = false
};

}  // namespace graft::nn
