// Linear and Embedding: parameter creation with PyTorch's initialisation; the computation
// is nn::functional's.
#include "graft/nn/linear.h"

#include <cmath>

#include "graft/nn/functional.h"
#include "graft/nn/init.h"

namespace graft::nn {

Linear::Linear(int64_t in_features, int64_t out_features, bool bias)
    : Module("Linear"), in_features(in_features), out_features(out_features) {
  GRAFT_CHECK(in_features >= 0 && out_features >= 0,
              "Linear: in_features and out_features must be non-negative, but got in_features=",
              in_features, " and out_features=", out_features);
  Tensor w = empty({out_features, in_features});
  init::kaiming_uniform_(w, std::sqrt(5.0));
  weight = register_parameter("weight", w);
  if (bias) {
    const double bound = in_features > 0 ? 1 / std::sqrt(static_cast<double>(in_features)) : 0.0;
    Tensor b = empty({out_features});
    init::uniform_(b, -bound, bound);
    this->bias = register_parameter("bias", b);
  }
}

Tensor Linear::forward(const Tensor& input) { return functional::linear(input, weight, bias); }

Embedding::Embedding(int64_t num_embeddings, int64_t embedding_dim,
                     std::optional<int64_t> padding_idx)
    : Module("Embedding"), num_embeddings(num_embeddings), embedding_dim(embedding_dim) {
  GRAFT_CHECK(num_embeddings >= 0 && embedding_dim >= 0,
              "Embedding: num_embeddings and embedding_dim must be non-negative, but got ",
              num_embeddings, " and ", embedding_dim);
  if (padding_idx) {
    GRAFT_CHECK(*padding_idx >= -num_embeddings && *padding_idx < num_embeddings,
                "Embedding: padding_idx must be within num_embeddings (", num_embeddings,
                "), but got padding_idx=", *padding_idx);
    this->padding_idx = *padding_idx < 0 ? *padding_idx + num_embeddings : *padding_idx;
  }
  Tensor w = empty({num_embeddings, embedding_dim});
  init::normal_(w);
  if (this->padding_idx) w.select(0, *this->padding_idx).zero_();
  weight = register_parameter("weight", w);
}

Tensor Embedding::forward(const Tensor& indices) {
  return functional::embedding(indices, weight, padding_idx);
}

}  // namespace graft::nn
