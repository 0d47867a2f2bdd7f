// layer_norm: one fused kernel forward (saving each row's mean and rstd) and one backward,
// where the composition of generic ops it replaces made about ten passes over the input each
// way (mean, var, subtract, rsqrt, multiply, affine; and their backwards).
//
// The input is made contiguous and viewed as (rows, cols), cols = normalized_shape.numel().
// The backward node calls the backward kernel, with the formulas of kernels/layer_norm.h.
// A create_graph backward (grad mode on inside it) instead writes the same gradients with
// graft ops from statistics recomputed from x, so they differentiate again: PyTorch's
// layer_norm has a double backward, and so does graft's (the registry's gradgradcheck runs
// it).
#include <array>

#include "graft/autograd/autocast.h"
#include "graft/autograd/op_utils.h"
#include "graft/autograd/record.h"
#include "graft/core/op_context.h"
#include "graft/kernels/layer_norm.h"

namespace graft {

using kernels::kernel_table;
using kernels::lookup;

namespace {

constexpr const char* kOp = "layer_norm";

// The checks of torch.nn.functional.layer_norm, naming the shapes.
void check_layer_norm(const Tensor& x, const Shape& normalized_shape, const Tensor& weight,
                      const Tensor& bias) {
  GRAFT_CHECK(is_floating_point(x.dtype()), kOp, "(): expected a floating-point input, but got ",
              "input of dtype ", x.dtype(), " and shape ", x.shape(),
              "; convert it with .to(graft::kFloat32)");
  const auto k = static_cast<int64_t>(normalized_shape.size());
  bool matches = k > 0 && x.dim() >= k;
  for (int64_t i = 0; matches && i < k; ++i)
    matches = x.size(x.dim() - k + i) == normalized_shape[i];
  GRAFT_CHECK(matches, kOp, "(): input of shape ", x.shape(), " must end with normalized_shape ",
              normalized_shape, " (a non-empty shape)");
  for (const Tensor* t : {&weight, &bias}) {
    if (!t->defined()) continue;
    const char* name = t == &weight ? "weight" : "bias";
    GRAFT_CHECK(t->shape() == normalized_shape, kOp, "(): expected ", name, " of normalized_shape ",
                normalized_shape, ", but got shape ", t->shape());
    GRAFT_CHECK(t->dtype() == x.dtype(), kOp, "(): expected ", name, " of the input's dtype ",
                x.dtype(), ", but got ", t->dtype(), "; convert it with .to(", x.dtype(), ")");
  }
  if (weight.defined()) ops::check_same_device(kOp, {&x, &weight});
  if (bias.defined()) ops::check_same_device(kOp, {&x, &bias});
}

// The dims of x that are normalized, and the others.
struct Rows {
  Dims normalized;  // the last k dims
  Dims leading;     // the others
};
Rows rows_of(const Tensor& x, const Shape& normalized_shape) {
  Rows rows;
  const int64_t first = x.dim() - static_cast<int64_t>(normalized_shape.size());
  for (int64_t d = 0; d < x.dim(); ++d) (d < first ? rows.leading : rows.normalized).push_back(d);
  return rows;
}

// The gradients for create_graph, in graft ops from x itself (so mean and rstd are functions
// of x in the graph): the formulas of kernels/layer_norm.h.
autograd::TensorList differentiable_backward(const Tensor& g, const Tensor& x,
                                             const Shape& normalized_shape, const Tensor& weight,
                                             bool with_bias, double eps) {
  const Rows rows = rows_of(x, normalized_shape);
  const Tensor mean = x.mean(rows.normalized, true);
  const Tensor rstd = rsqrt(x.var(rows.normalized, /*correction=*/0, /*keepdim=*/true) + eps);
  const Tensor xhat = (x - mean) * rstd;
  const Tensor gw = weight.defined() ? g * weight : g;
  const Tensor dx =
      rstd * (gw - gw.mean(rows.normalized, true) - xhat * (gw * xhat).mean(rows.normalized, true));
  // Over the leading dims (an empty list would mean every dim to sum()).
  auto over_rows = [&](const Tensor& t) {
    return rows.leading.empty() ? t : sum(t, rows.leading).reshape(normalized_shape);
  };
  autograd::TensorList grads{dx};
  if (weight.defined()) grads.push_back(over_rows(g * xhat));
  if (with_bias) grads.push_back(over_rows(g));
  return grads;
}

// {dx, dweight, dbias} from the backward kernel, each only when `wanted`.
autograd::TensorList kernel_backward(const Tensor& g, const Tensor& x,
                                     const Shape& normalized_shape, const Tensor& weight,
                                     const Tensor& mean, const Tensor& rstd,
                                     std::array<bool, 3> wanted, bool with_bias) {
  const Tensor dy = g.contiguous(), input = x.contiguous();
  const Tensor w = weight.defined() ? weight.contiguous() : weight;
  const TensorOptions options = TensorOptions(x.dtype()).device(x.device());
  const int64_t cols = normalized_shape.numel();
  Tensor dx = wanted[0] ? empty(x.shape(), options) : Tensor();
  Tensor dweight = wanted[1] ? empty(normalized_shape, options) : Tensor();
  Tensor dbias = wanted[2] ? empty(normalized_shape, options) : Tensor();
  kernels::LayerNormBackwardArgs args;
  args.dtype = x.dtype();
  args.device = x.device();
  args.grad_output = dy.data_ptr();
  args.input = input.data_ptr();
  args.mean = static_cast<const double*>(mean.data_ptr());
  args.rstd = static_cast<const double*>(rstd.data_ptr());
  args.weight = w.defined() ? w.data_ptr() : nullptr;
  args.grad_input = dx.defined() ? dx.data_ptr() : nullptr;
  args.grad_weight = dweight.defined() ? dweight.data_ptr() : nullptr;
  args.grad_bias = dbias.defined() ? dbias.data_ptr() : nullptr;
  args.rows = mean.numel();
  args.cols = cols;
  if (cols > 0) lookup(kernel_table().layer_norm_backward, x.device(), "layer_norm_backward")(args);
  autograd::TensorList grads{dx};
  if (weight.defined()) grads.push_back(dweight);
  if (with_bias) grads.push_back(dbias);
  return grads;
}

}  // namespace

Tensor layer_norm(const Tensor& x_in, const Shape& normalized_shape, const Tensor& weight_in,
                  const Tensor& bias_in, double eps) {
  const Tensor x = autocast::to_float32(x_in);
  const Tensor weight = autocast::to_float32(weight_in);
  const Tensor bias = autocast::to_float32(bias_in);
  const OpContext context(kOp);
  // A 16-bit input with float32 parameters (an nn::LayerNorm's, outside autocast), as
  // PyTorch's CPU kernel takes it: computed in float32, the result rounded once to the
  // input's dtype; the casts are recorded, so the gradients come back in each one's dtype.
  const auto is_float32 = [](const Tensor& t) { return t.defined() && t.dtype() == kFloat32; };
  if (is_reduced_floating_point(x.dtype()) && (is_float32(weight) || is_float32(bias)))
    return layer_norm(x.to(kFloat32), normalized_shape, weight, bias, eps).to(x.dtype());
  check_layer_norm(x, normalized_shape, weight, bias);
  const int64_t cols = normalized_shape.numel();
  const int64_t rows = cols == 0 ? 0 : x.numel() / cols;
  const TensorOptions options = TensorOptions(x.dtype()).device(x.device());
  Tensor input, w, b;
  {
    autograd::NoGradGuard no_grad;  // the copies are part of this one op
    input = x.contiguous();
    w = weight.defined() ? weight.contiguous() : weight;
    b = bias.defined() ? bias.contiguous() : bias;
  }
  Tensor out = empty(x.shape(), options);
  // The statistics in double whatever x's dtype (kernels/layer_norm.h says why).
  const TensorOptions stat_options = TensorOptions(kFloat64).device(x.device());
  const Tensor mean = empty({rows}, stat_options), rstd = empty({rows}, stat_options);
  if (out.numel() > 0) {
    kernels::LayerNormArgs args;
    args.dtype = x.dtype();
    args.device = x.device();
    args.input = input.data_ptr();
    args.weight = w.defined() ? w.data_ptr() : nullptr;
    args.bias = b.defined() ? b.data_ptr() : nullptr;
    args.output = out.data_ptr();
    args.mean = static_cast<double*>(mean.data_ptr());
    args.rstd = static_cast<double*>(rstd.data_ptr());
    args.rows = rows;
    args.cols = cols;
    args.eps = eps;
    lookup(kernel_table().layer_norm, x.device(), kOp)(args);
  }

  if (!autograd::needs_grad({&x, &weight, &bias})) return out;
  const std::array<bool, 3> wanted = {x.requires_grad(), weight.defined() && weight.requires_grad(),
                                      bias.defined() && bias.requires_grad()};
  // x and weight themselves are saved (not their contiguous copies), so that a create_graph
  // backward records its ops on them.
  auto backward = [sx = autograd::save(x), sw = autograd::save(weight), mean, rstd,
                   normalized_shape, eps, wanted, with_bias = bias.defined()](const Tensor& g) {
    if (autograd::GradMode::is_enabled())
      return differentiable_backward(g, sx.get(), normalized_shape, sw.get(), with_bias, eps);
    return kernel_backward(g, sx.get(), normalized_shape, sw.get(), mean, rstd, wanted, with_bias);
  };
  autograd::TensorList inputs{x};
  if (weight.defined()) inputs.push_back(weight);
  if (bias.defined()) inputs.push_back(bias);
  return autograd::record(out, "LayerNormBackward", inputs, backward);
}

}  // namespace graft
