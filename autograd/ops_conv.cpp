// conv2d and its backward: checks, output shape, and the call into the conv kernels.
//
// The kernels see contiguous NCHW arrays described by one Conv2dGeometry (kernels/conv.h):
// inputs are made contiguous here (a no-op for the usual layout), an unbatched (C, H, W)
// image becomes a batch of one and its result loses that dim again. Every check runs
// before anything is allocated, and each message names the shapes involved and the fix,
// after PyTorch's (its "expected input[1, 3, 28, 28] to have 1 channels" check among them).
#include <tuple>

#include "graft/autograd/autocast.h"
#include "graft/autograd/op_utils.h"
#include "graft/autograd/record.h"
#include "graft/core/op_context.h"
#include "graft/kernels/conv.h"

namespace graft {

using kernels::Conv2dGeometry;
using kernels::kernel_table;
using kernels::lookup;

std::ostream& operator<<(std::ostream& out, IntPair pair) {
  return out << "(" << pair.h << ", " << pair.w << ")";
}

namespace {

// The checked geometry of conv2d(x, weight) and whether x came without a batch dim.
struct ConvPlan {
  Conv2dGeometry geometry;
  bool batched = true;

  Shape output_shape() const {
    const Conv2dGeometry& g = geometry;
    if (!batched) return {g.out_channels, g.out_h, g.out_w};
    return {g.batch, g.out_channels, g.out_h, g.out_w};
  }
};

ConvPlan plan_conv2d(const char* op, const Tensor& x, const Tensor& weight, const Tensor& bias,
                     IntPair stride, IntPair padding, IntPair dilation, int64_t groups) {
  ops::check_same_device(op, {&x, &weight});
  if (bias.defined()) ops::check_same_device(op, {&x, &bias});
  GRAFT_CHECK(is_floating_point(x.dtype()), op,
              "(): expected a floating-point input, but got input of dtype ", x.dtype(),
              "; convert it with .to(graft::kFloat32)");
  GRAFT_CHECK(weight.dtype() == x.dtype() && (!bias.defined() || bias.dtype() == x.dtype()), op,
              "(): expected input, weight and bias to have the same dtype, but got input ",
              x.dtype(), ", weight ", weight.dtype(), bias.defined() ? ", bias " : "",
              bias.defined() ? dtype_name(bias.dtype()) : "", "; convert them with .to(", x.dtype(),
              ")");
  GRAFT_CHECK(x.dim() == 3 || x.dim() == 4, op,
              "(): expected a 3-D (unbatched C, H, W) or 4-D (batched N, C, H, W) input, but got "
              "input of shape ",
              x.shape());
  GRAFT_CHECK(weight.dim() == 4, op,
              "(): expected a 4-D weight (out_channels, in_channels / groups, kernel_h, "
              "kernel_w), but got weight of shape ",
              weight.shape());
  GRAFT_CHECK(groups > 0, op, "(): groups must be positive, but got groups=", groups);
  GRAFT_CHECK(stride.h > 0 && stride.w > 0, op,
              "(): stride must be positive, but got stride=", stride);
  GRAFT_CHECK(dilation.h > 0 && dilation.w > 0, op,
              "(): dilation must be positive, but got dilation=", dilation);
  GRAFT_CHECK(padding.h >= 0 && padding.w >= 0, op,
              "(): padding must be non-negative, but got padding=", padding);

  ConvPlan plan;
  plan.batched = x.dim() == 4;
  Conv2dGeometry& g = plan.geometry;
  const int64_t first = plan.batched ? 1 : 0;
  g.batch = plan.batched ? x.shape()[0] : 1;
  g.in_channels = x.shape()[first];
  g.in_h = x.shape()[first + 1];
  g.in_w = x.shape()[first + 2];
  g.out_channels = weight.shape()[0];
  g.kernel_h = weight.shape()[2];
  g.kernel_w = weight.shape()[3];
  g.stride_h = stride.h, g.stride_w = stride.w;
  g.pad_h = padding.h, g.pad_w = padding.w;
  g.dilation_h = dilation.h, g.dilation_w = dilation.w;
  g.groups = groups;

  GRAFT_CHECK(g.out_channels % groups == 0, op, "(): out_channels (", g.out_channels,
              ", weight's dim 0) must be divisible by groups=", groups,
              ", but got weight of shape ", weight.shape());
  GRAFT_CHECK(weight.shape()[1] * groups == g.in_channels, op, "(): given groups=", groups,
              ", weight of shape ", weight.shape(), " expects input of shape ", x.shape(),
              " to have ", weight.shape()[1] * groups,
              " channels (weight's dim 1 x groups), but got ", g.in_channels, " channels instead");
  GRAFT_CHECK(!bias.defined() || (bias.dim() == 1 && bias.shape()[0] == g.out_channels), op,
              "(): expected bias of shape (", g.out_channels,
              ",) (one value per output channel), but got bias of shape ",
              bias.defined() ? bias.shape() : Shape{});

  const int64_t padded_h = g.in_h + 2 * g.pad_h, padded_w = g.in_w + 2 * g.pad_w;
  const int64_t span_h = g.dilation_h * (g.kernel_h - 1) + 1;
  const int64_t span_w = g.dilation_w * (g.kernel_w - 1) + 1;
  GRAFT_CHECK(span_h <= padded_h && span_w <= padded_w, op, "(): the padded input (", padded_h,
              " x ", padded_w, " per channel, from input of shape ", x.shape(),
              " and padding=", padding, ") is smaller than the dilated kernel (", span_h, " x ",
              span_w, " from weight of shape ", weight.shape(), " and dilation=", dilation,
              "); the kernel can't be larger than the padded input: pad more or use a smaller "
              "kernel");
  g.out_h = (padded_h - span_h) / g.stride_h + 1;
  g.out_w = (padded_w - span_w) / g.stride_w + 1;
  return plan;
}

// `t` as a contiguous 4-D batch: unbatched tensors get a batch dim of one.
Tensor as_batch(const Tensor& t, bool batched) {
  return (batched ? t : t.unsqueeze(0)).contiguous();
}

// conv2d's kernel on checked operands; records nothing.
Tensor conv2d_values(const ConvPlan& plan, const Tensor& x, const Tensor& weight,
                     const Tensor& bias) {
  autograd::NoGradGuard no_grad;
  const Tensor input = as_batch(x, plan.batched), w = weight.contiguous();
  const Tensor b = bias.defined() ? bias.contiguous() : bias;
  Tensor out = empty(plan.output_shape(), TensorOptions(x.dtype()).device(x.device()));

  kernels::Conv2dArgs args;
  args.dtype = x.dtype();
  args.device = x.device();
  args.geometry = plan.geometry;
  args.input = input.data_ptr();
  args.weight = w.data_ptr();
  args.bias = b.defined() ? b.data_ptr() : nullptr;
  args.output = out.data_ptr();
  lookup(kernel_table().conv2d, x.device(), "conv2d")(args);
  return out;
}

}  // namespace

Tensor conv2d(const Tensor& x_in, const Tensor& weight_in, const Tensor& bias_in, IntPair stride,
              IntPair padding, IntPair dilation, int64_t groups) {
  const Tensor x = autocast::to_low_precision(x_in);
  const Tensor weight = autocast::to_low_precision(weight_in);
  const Tensor bias = autocast::to_low_precision(bias_in);
  const OpContext context("conv2d");
  const ConvPlan plan = plan_conv2d("conv2d", x, weight, bias, stride, padding, dilation, groups);
  const Tensor out = conv2d_values(plan, x, weight, bias);

  // Autograd: the gradients come from conv2d_backward's kernels, for the inputs that
  // require grad. Those kernels record nothing, so a create_graph backward (grad mode on
  // inside backward) is refused rather than given silently wrong higher-order gradients.
  if (!autograd::needs_grad({&x, &weight, &bias})) return out;
  const std::array<bool, 3> mask = {x.requires_grad(), weight.requires_grad(),
                                    bias.defined() && bias.requires_grad()};
  auto backward = [sx = autograd::save(x), sw = autograd::save(weight), stride, padding, dilation,
                   groups, mask, with_bias = bias.defined()](const Tensor& g) {
    GRAFT_CHECK(!autograd::GradMode::is_enabled(),
                "conv2d(): double backward is not supported (its backward is not "
                "differentiable); call backward() without create_graph=true");
    auto [grad_x, grad_weight, grad_bias] =
        conv2d_backward(g, sx.get(), sw.get(), stride, padding, dilation, groups, mask);
    if (!with_bias) return autograd::TensorList{grad_x, grad_weight};
    return autograd::TensorList{grad_x, grad_weight, grad_bias};
  };
  if (bias.defined()) return autograd::record(out, "Conv2dBackward", {x, weight, bias}, backward);
  return autograd::record(out, "Conv2dBackward", {x, weight}, backward);
}

std::tuple<Tensor, Tensor, Tensor> conv2d_backward(const Tensor& grad_out, const Tensor& x,
                                                   const Tensor& weight, IntPair stride,
                                                   IntPair padding, IntPair dilation,
                                                   int64_t groups,
                                                   std::array<bool, 3> output_mask) {
  constexpr const char* kOp = "conv2d_backward";
  const ConvPlan plan = plan_conv2d(kOp, x, weight, {}, stride, padding, dilation, groups);
  ops::check_same_device(kOp, {&x, &grad_out});
  GRAFT_CHECK(grad_out.shape() == plan.output_shape() && grad_out.dtype() == x.dtype(), kOp,
              "(): expected grad_out of shape ", plan.output_shape(), " and dtype ", x.dtype(),
              " (conv2d's output for input of shape ", x.shape(), " and weight of shape ",
              weight.shape(), "), but got shape ", grad_out.shape(), " and dtype ",
              grad_out.dtype());
  const TensorOptions options = TensorOptions(x.dtype()).device(x.device());
  const Conv2dGeometry& g = plan.geometry;
  const Tensor dy = as_batch(grad_out, plan.batched);
  // Each operand only when a wanted gradient reads it.
  const Tensor input = output_mask[1] ? as_batch(x, plan.batched) : Tensor();
  const Tensor w = output_mask[0] ? weight.contiguous() : Tensor();
  Tensor grad_x = output_mask[0] ? empty(x.shape(), options) : Tensor();
  Tensor grad_weight = output_mask[1] ? empty(weight.shape(), options) : Tensor();
  Tensor grad_bias = output_mask[2] ? empty({g.out_channels}, options) : Tensor();

  kernels::Conv2dBackwardArgs args;
  args.dtype = x.dtype();
  args.device = x.device();
  args.geometry = g;
  args.grad_output = dy.data_ptr();
  args.input = input.defined() ? input.data_ptr() : nullptr;
  args.weight = w.defined() ? w.data_ptr() : nullptr;
  args.grad_input = grad_x.defined() ? grad_x.data_ptr() : nullptr;
  args.grad_weight = grad_weight.defined() ? grad_weight.data_ptr() : nullptr;
  args.grad_bias = grad_bias.defined() ? grad_bias.data_ptr() : nullptr;
  lookup(kernel_table().conv2d_backward, x.device(), kOp)(args);
  return {grad_x, grad_weight, grad_bias};
}

}  // namespace graft
