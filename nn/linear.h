// Linear, Flatten and Embedding: the dense layers of an MLP or a language model's input.
//
// Initialisation is PyTorch's: Linear's weight kaiming_uniform(a = sqrt(5)), i.e.
// U(-1/sqrt(in), 1/sqrt(in)), and its bias U(-1/sqrt(in), 1/sqrt(in)); Embedding's weight
// N(0, 1) with the padding row zeroed. Parameters are created in the default dtype (float32
// unless set_default_dtype changed it) on the CPU; to() moves them.
#pragma once

#include <optional>

#include "graft/nn/module.h"

namespace graft::nn {

// y = x W^T + b: (*, in_features) -> (*, out_features).
class Linear : public Module {
 public:
  Linear(int64_t in_features, int64_t out_features, bool bias = true);
  Tensor forward(const Tensor& input) override;

  int64_t in_features, out_features;
  Tensor weight;  // (out_features, in_features)
  Tensor bias;    // (out_features); undefined with bias = false
};

// Flattens dims start_dim..end_dim into one: (N, C, H, W) -> (N, C * H * W) by default.
class Flatten : public Module {
 public:
  explicit Flatten(int64_t start_dim = 1, int64_t end_dim = -1)
      : Module("Flatten"), start_dim(start_dim), end_dim(end_dim) {}
  Tensor forward(const Tensor& input) override { return input.flatten(start_dim, end_dim); }

  int64_t start_dim, end_dim;
};

// A lookup table: integer indices (*) -> rows of weight (*, embedding_dim).
class Embedding : public Module {
 public:
  // padding_idx (negative counts from the end): that row starts at zero and gets no gradient.
  Embedding(int64_t num_embeddings, int64_t embedding_dim,
            std::optional<int64_t> padding_idx = std::nullopt);
  Tensor forward(const Tensor& indices) override;

  int64_t num_embeddings, embedding_dim;
  std::optional<int64_t> padding_idx;
  Tensor weight;  // (num_embeddings, embedding_dim)
};

}  // namespace graft::nn
