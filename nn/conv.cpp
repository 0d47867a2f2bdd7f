// Conv2d: parameter creation and the checks PyTorch makes at construction.
#include "graft/nn/conv.h"

#include <cmath>

#include "graft/nn/init.h"

namespace graft::nn {

Conv2d::Conv2d(int64_t in_channels, int64_t out_channels, IntPair kernel_size, IntPair stride,
               IntPair padding, IntPair dilation, int64_t groups, bool bias)
    : Module("Conv2d"),
      in_channels(in_channels),
      out_channels(out_channels),
      kernel_size(kernel_size),
      stride(stride),
      padding(padding),
      dilation(dilation),
      groups(groups) {
  GRAFT_CHECK(groups > 0, "Conv2d: groups must be a positive integer, but got groups=", groups);
  GRAFT_CHECK(in_channels > 0 && out_channels > 0 && in_channels % groups == 0 &&
                  out_channels % groups == 0,
              "Conv2d: in_channels (", in_channels, ") and out_channels (", out_channels,
              ") must be positive and divisible by groups=", groups);
  GRAFT_CHECK(kernel_size.h > 0 && kernel_size.w > 0,
              "Conv2d: kernel_size must be positive, but got kernel_size=", kernel_size);
  Tensor w = empty({out_channels, in_channels / groups, kernel_size.h, kernel_size.w});
  init::kaiming_uniform_(w, std::sqrt(5.0));
  weight = register_parameter("weight", w);
  if (bias) {
    const auto fan_in = static_cast<double>(init::calculate_fan_in_and_fan_out(w).first);
    const double bound = 1 / std::sqrt(fan_in);
    Tensor b = empty({out_channels});
    init::uniform_(b, -bound, bound);
    this->bias = register_parameter("bias", b);
  }
}

Tensor Conv2d::forward(const Tensor& input) {
  return conv2d(input, weight, bias, stride, padding, dilation, groups);
}

}  // namespace graft::nn
