// nn::functional layers: linear, activations, dropout, batch norm, embedding, one_hot, pad,
// each a composition of graft ops (autograd differentiates them through their parts), and
// layer_norm, graft's fused op (autograd/ops_layer_norm.cpp).
//
// batch_norm computes (x - mean) * rsqrt(var + eps) directly: more passes than a fused
// kernel would make, but every piece is an op with a tested backward, and in float32 the
// two-pass mean/var of the reduction kernels is as accurate as PyTorch's Welford.
#include "graft/nn/functional.h"

#include <algorithm>

#include "graft/autograd/autocast.h"
#include "graft/autograd/grad_mode.h"
#include "graft/core/op_context.h"

namespace graft::nn::functional {

namespace {

void check_floating(const char* op, const char* name, const Tensor& t) {
  GRAFT_CHECK(is_floating_point(t.dtype()), op, "(): expected a floating-point ", name,
              ", but got ", name, " of dtype ", t.dtype(), " and shape ", t.shape(),
              "; convert it with .to(graft::kFloat32)");
}

// An optional per-channel tensor (weight, bias, running stats) must have shape (C).
void check_per_channel(const char* op, const char* name, const Tensor& t, int64_t channels,
                       const Tensor& x) {
  if (!t.defined()) return;
  GRAFT_CHECK(t.dim() == 1 && t.size(0) == channels, op, "(): expected ", name, " of shape (",
              channels, ",) (one value per channel of input of shape ", x.shape(), "), but got ",
              name, " of shape ", t.shape());
}

}  // namespace

Tensor linear(const Tensor& x_in, const Tensor& weight_in, const Tensor& bias_in) {
  const Tensor x = autocast::to_low_precision(x_in);
  const Tensor weight = autocast::to_low_precision(weight_in);
  const Tensor bias = autocast::to_low_precision(bias_in);
  const OpContext context("linear");
  GRAFT_CHECK(weight.dim() == 2, "linear(): expected a 2-D weight (out_features, in_features), ",
              "but got weight of shape ", weight.shape());
  GRAFT_CHECK(x.dim() >= 1 && x.size(-1) == weight.size(1), "linear(): input of shape ", x.shape(),
              " must have in_features = ", weight.size(1),
              " elements in its last dim (weight of shape ", weight.shape(),
              " is (out_features, in_features))");
  GRAFT_CHECK(!bias.defined() || (bias.dim() == 1 && bias.size(0) == weight.size(0)),
              "linear(): expected bias of shape (", weight.size(0), ",) (out_features), but got ",
              "bias of shape ", bias.defined() ? bias.shape() : Shape{});
  const Tensor y = matmul(x, weight.t());  // (*, in) @ (in, out) -> (*, out)
  return bias.defined() ? y + bias : y;
}

Tensor relu(const Tensor& x) { return graft::relu(x); }

Tensor gelu(const Tensor& x, const std::string& approximate) {
  if (approximate == "none") return graft::gelu(x);
  GRAFT_CHECK(approximate == "tanh", "gelu(): approximate must be \"none\" or \"tanh\", but got \"",
              approximate, "\"");
  return graft::gelu_tanh(x);
}

Tensor silu(const Tensor& x) { return graft::silu(x); }
Tensor softmax(const Tensor& x, int64_t dim) { return graft::softmax(x, dim); }
Tensor log_softmax(const Tensor& x, int64_t dim) { return graft::log_softmax(x, dim); }

Tensor dropout(const Tensor& x, double p, bool training) {
  GRAFT_CHECK(p >= 0 && p <= 1, "dropout(): probability has to be between 0 and 1, but got p=", p);
  if (!training || p == 0) return x;
  check_floating("dropout", "input", x);
  if (p == 1) return x * 0.0;
  // Keep an element when u >= p (probability 1 - p), scaled so the expectation stays x.
  const Tensor keep = rand(x.shape(), TensorOptions(x.dtype()).device(x.device())) >= p;
  return where(keep, x * (1 / (1 - p)), 0.0);
}

Tensor batch_norm(const Tensor& x, const Tensor& running_mean, const Tensor& running_var,
                  const Tensor& weight, const Tensor& bias, bool training,
                  std::optional<double> momentum, double eps, int64_t num_batches_tracked) {
  constexpr const char* kOp = "batch_norm";
  check_floating(kOp, "input", x);
  GRAFT_CHECK(x.dim() >= 2, kOp, "(): expected an input of shape (N, C) or (N, C, *), but got ",
              "input of shape ", x.shape());
  const int64_t channels = x.size(1);
  check_per_channel(kOp, "running_mean", running_mean, channels, x);
  check_per_channel(kOp, "running_var", running_var, channels, x);
  check_per_channel(kOp, "weight", weight, channels, x);
  check_per_channel(kOp, "bias", bias, channels, x);
  GRAFT_CHECK(running_mean.defined() == running_var.defined(), kOp,
              "(): running_mean and running_var must be both given or both undefined");
  // Per-channel values broadcast against x: (C) -> (1, C, 1, ...).
  Shape channel_shape = Shape::filled(x.dim(), 1);
  channel_shape[1] = channels;
  Dims dims;  // every dim but the channel's
  for (int64_t d = 0; d < x.dim(); ++d)
    if (d != 1) dims.push_back(d);

  Tensor mean, var;
  if (training || !running_mean.defined()) {
    const int64_t count = x.numel() / std::max<int64_t>(channels, 1);
    // One value per channel has no variance to speak of; no value at all is an empty batch,
    // which gives an empty result and leaves the running statistics alone (as PyTorch).
    GRAFT_CHECK(!training || count != 1, kOp,
                "(): expected more than 1 value per channel when training, but got input of "
                "shape ",
                x.shape(), "; use a batch of at least 2 or call eval()");
    mean = x.mean(dims, true);
    var = x.var(dims, /*correction=*/0, /*keepdim=*/true);
    if (training && running_mean.defined() && count > 0) {
      NoGradGuard no_grad;
      const double m = momentum ? *momentum : 1.0 / static_cast<double>(num_batches_tracked);
      const double unbias = static_cast<double>(count) / static_cast<double>(count - 1);
      running_mean.mul_(1 - m).add_(mean.detach().reshape({channels}) * m);
      running_var.mul_(1 - m).add_(var.detach().reshape({channels}) * (m * unbias));
    }
  } else {
    mean = running_mean.reshape(channel_shape);
    var = running_var.reshape(channel_shape);
  }
  Tensor y = (x - mean) * rsqrt(var + eps);
  if (weight.defined()) y = y * weight.reshape(channel_shape);
  if (bias.defined()) y = y + bias.reshape(channel_shape);
  return y;
}

Tensor layer_norm(const Tensor& x, const Shape& normalized_shape, const Tensor& weight,
                  const Tensor& bias, double eps) {
  return graft::layer_norm(x, normalized_shape, weight, bias, eps);
}

Tensor embedding(const Tensor& indices, const Tensor& weight, std::optional<int64_t> padding_idx) {
  GRAFT_CHECK(indices.dtype() == kInt64 || indices.dtype() == kInt32,
              "embedding(): expected indices of dtype int64 or int32, but got ", indices.dtype(),
              "; convert them with .to(graft::kInt64)");
  GRAFT_CHECK(weight.dim() == 2, "embedding(): expected a 2-D weight (num_embeddings, ",
              "embedding_dim), but got weight of shape ", weight.shape());
  const Tensor flat = indices.reshape({-1});
  Shape shape = indices.shape();
  shape.push_back(weight.size(1));
  Tensor rows = index_select(weight, 0, flat);  // (n, dim)
  if (padding_idx) {
    // Same values, but the padding positions take their rows from a detached weight.
    const Tensor keep = (flat != *padding_idx).unsqueeze(1);
    rows = where(keep, rows, rows.detach());
  }
  return rows.reshape(shape);
}

Tensor one_hot(const Tensor& indices, int64_t num_classes) {
  GRAFT_CHECK(is_integral(indices.dtype()), "one_hot(): expected class indices of an integer ",
              "dtype, but got ", indices.dtype(), "; convert them with .to(graft::kInt64)");
  GRAFT_CHECK(num_classes >= -1, "one_hot(): num_classes must be -1 (inferred) or ",
              "non-negative, but got ", num_classes);
  const Tensor index = indices.to(kInt64);
  if (index.numel() > 0) {
    const int64_t lo = index.min().item<int64_t>(), hi = index.max().item<int64_t>();
    GRAFT_CHECK(lo >= 0, "one_hot(): class values must be non-negative, but got ", lo);
    GRAFT_CHECK(num_classes == -1 || hi < num_classes, "one_hot(): class value ", hi,
                " is not smaller than num_classes=", num_classes);
    if (num_classes == -1) num_classes = hi + 1;
  }
  GRAFT_CHECK(num_classes != -1, "one_hot(): cannot infer the number of classes from an empty ",
              "tensor; pass num_classes");
  return eq(index.unsqueeze(-1), arange(num_classes, TensorOptions(kInt64).device(index.device())))
      .to(kInt64);
}

Tensor pad(const Tensor& x, const std::vector<int64_t>& pad, double value) {
  const auto pairs = static_cast<int64_t>(pad.size() / 2);
  GRAFT_CHECK(pad.size() % 2 == 0, "pad(): the padding must hold (before, after) pairs, but ",
              "got ", pad.size(), " values");
  GRAFT_CHECK(pairs <= x.dim(), "pad(): ", pairs, " pairs pad ", pairs,
              " dims, but the input of shape ", x.shape(), " has ", x.dim());
  // Crop where an amount is negative, then write what is left into a tensor of `value`, at
  // the positive amounts' offsets.
  Tensor kept = x;
  Shape shape = x.shape();
  for (int64_t p = 0; p < pairs; ++p) {
    const int64_t dim = x.dim() - 1 - p, before = pad[2 * p], after = pad[2 * p + 1];
    const int64_t n = x.size(dim);
    shape[dim] = n + before + after;
    GRAFT_CHECK(shape[dim] >= 0, "pad(): padding (", before, ", ", after, ") of dim ", dim,
                " of size ", n, " leaves size ", shape[dim], "; it must not be negative");
    const int64_t first = std::clamp<int64_t>(-before, 0, n);
    const int64_t end = std::clamp<int64_t>(n + after, first, n);
    kept = kept.narrow(dim, first, end - first);
  }
  Tensor out = full(shape, value, TensorOptions(x.dtype()).device(x.device()));
  Tensor region = out;
  for (int64_t p = 0; p < pairs; ++p) {
    const int64_t dim = x.dim() - 1 - p;
    region = region.narrow(dim, std::max<int64_t>(pad[2 * p], 0), kept.size(dim));
  }
  region.copy_(kept);  // recorded: the gradient of out's region flows back to x
  return out;
}

}  // namespace graft::nn::functional
