// Normalization layers: BatchNorm1d, BatchNorm2d and LayerNorm.
//
// Batch norm keeps running_mean, running_var and num_batches_tracked as buffers (in the
// state dict under PyTorch's names). In training it normalizes with the batch's statistics
// and updates the running ones (momentum 0.1 by default; nullopt: a cumulative average);
// in eval(), or with track_running_stats = false never, it uses the running ones.
#pragma once

#include <optional>

#include "graft/nn/module.h"

namespace graft::nn {

// The batch norm of both arities; the subclasses fix the input dims they accept.
class BatchNorm : public Module {
 public:
  Tensor forward(const Tensor& input) override;

  int64_t num_features;
  double eps;
  std::optional<double> momentum;
  bool affine, track_running_stats;
  Tensor weight, bias;               // (num_features), ones and zeros; affine only
  Tensor running_mean, running_var;  // (num_features), zeros and ones; tracking only
  Tensor num_batches_tracked;        // 0-d int64; tracking only

 protected:
  BatchNorm(const char* type_name, const char* input_shapes, int64_t min_dim, int64_t max_dim,
            int64_t num_features, double eps, std::optional<double> momentum, bool affine,
            bool track_running_stats);

 private:
  const char* input_shapes_;  // "(N, C) or (N, C, L)", for the error message
  int64_t min_dim_, max_dim_;
};

// Over (N, C) or (N, C, L) input.
class BatchNorm1d : public BatchNorm {
 public:
  explicit BatchNorm1d(int64_t num_features, double eps = 1e-5,
                       std::optional<double> momentum = 0.1, bool affine = true,
                       bool track_running_stats = true)
      : BatchNorm("BatchNorm1d", "(N, C) or (N, C, L)", 2, 3, num_features, eps, momentum, affine,
                  track_running_stats) {}
};

// Over (N, C, H, W) input.
class BatchNorm2d : public BatchNorm {
 public:
  explicit BatchNorm2d(int64_t num_features, double eps = 1e-5,
                       std::optional<double> momentum = 0.1, bool affine = true,
                       bool track_running_stats = true)
      : BatchNorm("BatchNorm2d", "(N, C, H, W)", 4, 4, num_features, eps, momentum, affine,
                  track_running_stats) {}
};

// Normalizes over the trailing normalized_shape dims of each sample, the same in training
// and eval.
class LayerNorm : public Module {
 public:
  explicit LayerNorm(Shape normalized_shape, double eps = 1e-5, bool elementwise_affine = true,
                     bool bias = true);
  // Over the last dim alone, as nn.LayerNorm(128) in PyTorch. One argument only: with
  // options, write LayerNorm({128}, eps, ...). (Options here too would make LayerNorm({2, 3})
  // ambiguous: a Shape, or LayerNorm(2, eps = 3) to move from.)
  explicit LayerNorm(int64_t normalized_shape) : LayerNorm(Shape{normalized_shape}) {}
  Tensor forward(const Tensor& input) override;

  Shape normalized_shape;
  double eps;
  Tensor weight, bias;  // normalized_shape, ones and zeros; elementwise_affine only
};

}  // namespace graft::nn
