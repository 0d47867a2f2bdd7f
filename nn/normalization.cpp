// BatchNorm and LayerNorm: parameters, buffers and the mode logic around
// nn::functional::batch_norm / layer_norm (PyTorch's _BatchNorm.forward).
#include "graft/nn/normalization.h"

#include "graft/autograd/grad_mode.h"
#include "graft/nn/functional.h"

namespace graft::nn {

BatchNorm::BatchNorm(const char* type_name, const char* input_shapes, int64_t min_dim,
                     int64_t max_dim, int64_t num_features, double eps,
                     std::optional<double> momentum, bool affine, bool track_running_stats)
    : Module(type_name),
      num_features(num_features),
      eps(eps),
      momentum(momentum),
      affine(affine),
      track_running_stats(track_running_stats),
      input_shapes_(input_shapes),
      min_dim_(min_dim),
      max_dim_(max_dim) {
  GRAFT_CHECK(num_features > 0, type_name, ": num_features must be positive, but got ",
              num_features);
  if (affine) {
    weight = register_parameter("weight", ones({num_features}));
    bias = register_parameter("bias", zeros({num_features}));
  }
  if (track_running_stats) {
    running_mean = register_buffer("running_mean", zeros({num_features}));
    running_var = register_buffer("running_var", ones({num_features}));
    num_batches_tracked = register_buffer("num_batches_tracked", zeros({}, kInt64));
  }
}

Tensor BatchNorm::forward(const Tensor& input) {
  GRAFT_CHECK(input.dim() >= min_dim_ && input.dim() <= max_dim_, type_name(), ": expected ",
              input_shapes_, " input, but got input of shape ", input.shape());
  GRAFT_CHECK(input.size(1) == num_features, type_name(), ": expected ", num_features,
              " channels (dim 1) for num_features=", num_features, ", but got input of shape ",
              input.shape());
  int64_t batches = 0;
  if (is_training() && track_running_stats) {
    NoGradGuard no_grad;
    num_batches_tracked.add_(1);
    // Only the cumulative average reads the count: no device sync otherwise.
    if (!momentum) batches = num_batches_tracked.item<int64_t>();
  }
  return functional::batch_norm(input, running_mean, running_var, weight, bias,
                                is_training() || !track_running_stats, momentum, eps, batches);
}

LayerNorm::LayerNorm(Shape normalized_shape, double eps, bool elementwise_affine, bool bias)
    : Module("LayerNorm"), normalized_shape(normalized_shape), eps(eps) {
  GRAFT_CHECK(!normalized_shape.empty(), "LayerNorm: normalized_shape must not be empty");
  if (elementwise_affine) {
    weight = register_parameter("weight", ones(normalized_shape));
    if (bias) this->bias = register_parameter("bias", zeros(normalized_shape));
  }
}

Tensor LayerNorm::forward(const Tensor& input) {
  return functional::layer_norm(input, normalized_shape, weight, bias, eps);
}

}  // namespace graft::nn
