// scaled_dot_product_attention and MultiheadAttention.
//
// Attention here is the composition PyTorch calls its math path: the (..., L, S) scores as
// one matmul, the masks, a softmax along the keys, dropout, and a second matmul; autograd
// differentiates it through its parts (twice, if asked). It materialises the L x S scores,
// so its memory grows as T^2: the fused, tiled kernels that never do (online softmax, as
// FlashAttention) are the next step of issue 14 and will be checked against this path.
#include "graft/nn/attention.h"

#include <cmath>
#include <limits>

#include "graft/core/op_context.h"
#include "graft/nn/functional.h"
#include "graft/nn/init.h"

namespace graft::nn {

namespace functional {

namespace {

constexpr const char* kSdpa = "scaled_dot_product_attention";

void check_attention_inputs(const Tensor& query, const Tensor& key, const Tensor& value,
                            const Tensor& attn_mask, double dropout_p, bool is_causal) {
  for (const Tensor* t : {&query, &key, &value}) {
    const char* name = t == &query ? "query" : t == &key ? "key" : "value";
    GRAFT_CHECK(is_floating_point(t->dtype()), kSdpa, "(): expected a floating-point ", name,
                ", but got ", name, " of dtype ", t->dtype(), "; convert it with .to(",
                "graft::kFloat32)");
    GRAFT_CHECK(t->dim() >= 2, kSdpa, "(): expected ", name,
                " of at least 2 dims (..., length, features), but got shape ", t->shape());
  }
  GRAFT_CHECK(key.dtype() == query.dtype() && value.dtype() == query.dtype(), kSdpa,
              "(): expected query, key and value of one dtype, but got ", query.dtype(), ", ",
              key.dtype(), " and ", value.dtype());
  GRAFT_CHECK(key.size(-1) == query.size(-1), kSdpa, "(): query of shape ", query.shape(),
              " and key of shape ", key.shape(), " must have the same last dim (the features ",
              "a query is compared on)");
  GRAFT_CHECK(value.size(-2) == key.size(-2), kSdpa, "(): key of shape ", key.shape(),
              " and value of shape ", value.shape(),
              " must have the same length (dim -2): one value per key");
  GRAFT_CHECK(dropout_p >= 0 && dropout_p <= 1, kSdpa,
              "(): dropout_p has to be between 0 and 1, but got ", dropout_p);
  GRAFT_CHECK(!(is_causal && attn_mask.defined()), kSdpa,
              "(): an explicit attn_mask cannot be combined with is_causal = true; put the "
              "causal triangle into attn_mask instead");
  GRAFT_CHECK(
      !attn_mask.defined() || attn_mask.dtype() == kBool || attn_mask.dtype() == query.dtype(),
      kSdpa, "(): expected attn_mask of dtype bool or the query's ", query.dtype(), ", but got ",
      attn_mask.dtype());
}

}  // namespace

Tensor scaled_dot_product_attention(const Tensor& query, const Tensor& key, const Tensor& value,
                                    const Tensor& attn_mask, double dropout_p, bool is_causal,
                                    std::optional<double> scale) {
  const OpContext context(kSdpa);
  check_attention_inputs(query, key, value, attn_mask, dropout_p, is_causal);
  const int64_t length = query.size(-2), keys = key.size(-2);
  const double factor =
      scale ? *scale : 1.0 / std::sqrt(static_cast<double>(std::max<int64_t>(1, query.size(-1))));
  Tensor scores = matmul(query, key.transpose(-2, -1)) * factor;  // (..., L, S)
  constexpr double kMinusInf = -std::numeric_limits<double>::infinity();
  Tensor allowed;  // bool, true where a query may attend
  if (is_causal)
    allowed = tril(ones({length, keys}, TensorOptions(kBool).device(query.device())));
  else if (attn_mask.defined() && attn_mask.dtype() == kBool)
    allowed = attn_mask;
  if (allowed.defined()) scores = where(allowed, scores, kMinusInf);
  if (attn_mask.defined() && attn_mask.dtype() != kBool) scores = scores + attn_mask;
  Tensor weights = graft::softmax(scores, -1);
  if (allowed.defined() || attn_mask.defined()) {
    // Rows whose every score is -inf: zeros instead of the softmax's NaN (the where sends
    // them no gradient either).
    const Tensor attends_nothing = all(scores == kMinusInf, {-1}, true);
    weights = where(attends_nothing, 0.0, weights);
  }
  if (dropout_p > 0) weights = dropout(weights, dropout_p, true);
  return matmul(weights, value);
}

}  // namespace functional

MultiheadAttention::MultiheadAttention(int64_t embed_dim, int64_t num_heads, double dropout,
                                       bool bias)
    : Module("MultiheadAttention"),
      embed_dim(embed_dim),
      num_heads(num_heads),
      head_dim(num_heads > 0 ? embed_dim / num_heads : 0),
      dropout(dropout) {
  GRAFT_CHECK(embed_dim > 0 && num_heads > 0, "MultiheadAttention: embed_dim and num_heads ",
              "must be positive, but got embed_dim=", embed_dim, " and num_heads=", num_heads);
  GRAFT_CHECK(embed_dim % num_heads == 0, "MultiheadAttention: embed_dim (", embed_dim,
              ") must be divisible by num_heads (", num_heads, ")");
  GRAFT_CHECK(dropout >= 0 && dropout <= 1,
              "MultiheadAttention: dropout has to be between 0 and 1, but got ", dropout);
  Tensor w = empty({3 * embed_dim, embed_dim});
  init::xavier_uniform_(w);
  in_proj_weight = register_parameter("in_proj_weight", w);
  if (bias) in_proj_bias = register_parameter("in_proj_bias", zeros({3 * embed_dim}));
  out_proj = register_module("out_proj", Linear(embed_dim, embed_dim, bias));
  if (bias) init::zeros_(out_proj->bias);
}

Tensor MultiheadAttention::forward(const Tensor& x) { return forward(x, x, x); }

Tensor MultiheadAttention::forward(const Tensor& query, const Tensor& key, const Tensor& value,
                                   const Tensor& attn_mask, bool is_causal) {
  const bool batched = query.dim() == 3;
  GRAFT_CHECK(
      (query.dim() == 2 || batched) && key.dim() == query.dim() && value.dim() == query.dim(),
      "MultiheadAttention: expected query, key and value all batched (N, L, E) or all "
      "unbatched (L, E), but got shapes ",
      query.shape(), ", ", key.shape(), " and ", value.shape());
  const Tensor q = batched ? query : query.unsqueeze(0);
  const Tensor k = batched ? key : key.unsqueeze(0);
  const Tensor v = batched ? value : value.unsqueeze(0);
  GRAFT_CHECK(q.size(2) == embed_dim && k.size(2) == embed_dim && v.size(2) == embed_dim,
              "MultiheadAttention: expected query, key and value with embed_dim ", embed_dim,
              " features (the last dim), but got shapes ", query.shape(), ", ", key.shape(),
              " and ", value.shape());
  GRAFT_CHECK(k.size(0) == q.size(0) && v.size(0) == q.size(0) && v.size(1) == k.size(1),
              "MultiheadAttention: key and value must have the query's batch size and one "
              "length, but got shapes ",
              query.shape(), ", ", key.shape(), " and ", value.shape());
  const int64_t batch = q.size(0), length = q.size(1), keys = k.size(1);
  // Projection `which` (0 query, 1 key, 2 value) of t, split into heads: (N, H, len, head_dim).
  auto heads = [&](const Tensor& t, int64_t which) {
    const Tensor w = in_proj_weight.narrow(0, which * embed_dim, embed_dim);
    const Tensor b =
        in_proj_bias.defined() ? in_proj_bias.narrow(0, which * embed_dim, embed_dim) : Tensor();
    return functional::linear(t, w, b)
        .reshape({batch, t.size(1), num_heads, head_dim})
        .transpose(1, 2);
  };
  Tensor mask = attn_mask;
  if (mask.defined() && mask.dim() == 3) {
    GRAFT_CHECK(mask.size(0) == batch * num_heads, "MultiheadAttention: a 3-D attn_mask must ",
                "be (N * num_heads, L, S) = (", batch * num_heads, ", ", length, ", ", keys,
                "), but got shape ", mask.shape());
    mask = mask.reshape({batch, num_heads, mask.size(1), mask.size(2)});
  }
  const Tensor attended = functional::scaled_dot_product_attention(
      heads(q, 0), heads(k, 1), heads(v, 2), mask, is_training() ? dropout : 0.0, is_causal);
  const Tensor out = (*out_proj)(attended.transpose(1, 2).reshape({batch, length, embed_dim}));
  return batched ? out : out.squeeze(0);
}

}  // namespace graft::nn
