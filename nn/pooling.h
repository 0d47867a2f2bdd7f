// Pooling layers: MaxPool2d, AvgPool2d and AdaptiveAvgPool2d over NCHW images, holding
// the options of autograd/ops.h's pooling ops (which carry their own backward).
#pragma once

#include <optional>

#include "graft/autograd/ops.h"
#include "graft/nn/module.h"

namespace graft::nn {

class MaxPool2d : public Module {
 public:
  // stride defaults to the kernel size, as in PyTorch.
  explicit MaxPool2d(IntPair kernel_size, std::optional<IntPair> stride = std::nullopt,
                     IntPair padding = 0, IntPair dilation = 1, bool ceil_mode = false)
      : Module("MaxPool2d"),
        kernel_size(kernel_size),
        stride(stride),
        padding(padding),
        dilation(dilation),
        ceil_mode(ceil_mode) {}
  Tensor forward(const Tensor& input) override {
    return max_pool2d(input, kernel_size, stride, padding, dilation, ceil_mode);
  }

  IntPair kernel_size;
  std::optional<IntPair> stride;
  IntPair padding, dilation;
  bool ceil_mode;
};

class AvgPool2d : public Module {
 public:
  explicit AvgPool2d(IntPair kernel_size, std::optional<IntPair> stride = std::nullopt,
                     IntPair padding = 0, bool ceil_mode = false, bool count_include_pad = true)
      : Module("AvgPool2d"),
        kernel_size(kernel_size),
        stride(stride),
        padding(padding),
        ceil_mode(ceil_mode),
        count_include_pad(count_include_pad) {}
  Tensor forward(const Tensor& input) override {
    return avg_pool2d(input, kernel_size, stride, padding, ceil_mode, count_include_pad);
  }

  IntPair kernel_size;
  std::optional<IntPair> stride;
  IntPair padding;
  bool ceil_mode, count_include_pad;
};

// Averages over output_size windows whatever the input's size: (*, H, W) -> (*, oh, ow).
class AdaptiveAvgPool2d : public Module {
 public:
  explicit AdaptiveAvgPool2d(IntPair output_size)
      : Module("AdaptiveAvgPool2d"), output_size(output_size) {}
  Tensor forward(const Tensor& input) override { return adaptive_avg_pool2d(input, output_size); }

  IntPair output_size;
};

}  // namespace graft::nn
