// MultiheadAttention: torch.nn.MultiheadAttention (batch first) over
// nn::functional::scaled_dot_product_attention.
//
// Parameters and their names are PyTorch's, so state dicts port both ways: in_proj_weight
// (3E, E) holds the query, key and value projections stacked (xavier_uniform), in_proj_bias
// (3E) starts at zero, out_proj is a Linear(E, E) whose bias starts at zero.
//
// Masks follow SDPA, not PyTorch's module: a bool attn_mask is true where a query MAY
// attend (nn.MultiheadAttention's is true where it may not; docs/porting.md), a float mask
// is added to the scores, and is_causal applies the causal mask itself (PyTorch's module
// takes it as a hint that attn_mask already is one).
#pragma once

#include <memory>

#include "graft/nn/linear.h"
#include "graft/nn/module.h"

namespace graft::nn {

class MultiheadAttention : public Module {
 public:
  // embed_dim must be a multiple of num_heads; dropout is the attention weights' dropout
  // probability in training.
  MultiheadAttention(int64_t embed_dim, int64_t num_heads, double dropout = 0.0, bool bias = true);

  // Self-attention: forward(x, x, x).
  Tensor forward(const Tensor& x) override;
  // query (N, L, E), key and value (N, S, E), or unbatched (L, E), (S, E) -> (N, L, E) or
  // (L, E). attn_mask: (L, S), (N * num_heads, L, S) as PyTorch's module takes it, or any
  // shape that broadcasts to (N, num_heads, L, S).
  Tensor forward(const Tensor& query, const Tensor& key, const Tensor& value,
                 const Tensor& attn_mask = {}, bool is_causal = false);

  int64_t embed_dim, num_heads, head_dim;
  double dropout;
  Tensor in_proj_weight;  // (3 * embed_dim, embed_dim)
  Tensor in_proj_bias;    // (3 * embed_dim); undefined with bias = false
  std::shared_ptr<Linear> out_proj;
};

}  // namespace graft::nn
