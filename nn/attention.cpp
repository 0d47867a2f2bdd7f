// scaled_dot_product_attention and MultiheadAttention.
//
// Two paths, as PyTorch's SDPA has backends. The fused kernels (kernels/attention.h: tiles
// and an online softmax, memory linear in the length) take calls without a mask other than
// the causal one and with q, k, v of one batch shape, on a device that has them, with
// dropout where the kernels draw it (the CPU's). Everything else takes the math path: the
// (..., L, S) scores as one matmul, the masks, a softmax along the keys, dropout, and a
// second matmul, which autograd differentiates through its parts; the tests check the fused
// path against it. The two paths draw dropout masks from the generator differently (as
// PyTorch's backends do): the same seed gives each its own mask.
#include "graft/nn/attention.h"

#include <cmath>
#include <limits>
#include <memory>
#include <optional>
#include <utility>
#include <vector>

#include "graft/autograd/autocast.h"
#include "graft/autograd/op_utils.h"
#include "graft/autograd/record.h"
#include "graft/core/op_context.h"
#include "graft/kernels/attention.h"
#include "graft/kernels/dispatch.h"
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
  // Before the fused kernels, which would read every pointer on the query's device.
  ops::check_same_device(kSdpa, {&query, &key, &value});
  if (attn_mask.defined()) ops::check_same_device(kSdpa, {&query, &attn_mask});
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
      kSdpa, "(): expected attn_mask of dtype bool, float32 or the query's ", query.dtype(),
      ", but got ", attn_mask.dtype());
}

// The mask as the scores take it: a float32 one next to a 16-bit query (an additive mask
// made in the default dtype, which PyTorch accepts) in the query's dtype, as autocast casts
// it; any other as it is, for check_attention_inputs to judge.
Tensor mask_for(const Tensor& attn_mask, const Tensor& query) {
  const bool cast = attn_mask.defined() && attn_mask.dtype() == kFloat32 &&
                    is_reduced_floating_point(query.dtype());
  return cast ? attn_mask.to(query.dtype()) : attn_mask;
}

}  // namespace

namespace {

constexpr double kMinusInf = -std::numeric_limits<double>::infinity();

// softmax(scale * q k^T + mask) over the keys, masked entries 0 and a row that may attend to
// nothing all zeros: the math path's attention weights (..., L, S).
Tensor attention_weights(const Tensor& query, const Tensor& key, const Tensor& attn_mask,
                         bool is_causal, double scale) {
  const int64_t length = query.size(-2), keys = key.size(-2);
  Tensor scores = matmul(query, key.transpose(-2, -1)) * scale;  // (..., L, S)
  Tensor allowed;  // bool, true where a query may attend
  if (is_causal)
    allowed = tril(ones({length, keys}, TensorOptions(kBool).device(query.device())));
  else if (attn_mask.defined() && attn_mask.dtype() == kBool)
    allowed = attn_mask;
  if (allowed.defined()) scores = where(allowed, scores, kMinusInf);
  if (attn_mask.defined() && attn_mask.dtype() != kBool) scores = scores + attn_mask;
  if (!allowed.defined() && !attn_mask.defined()) return graft::softmax(scores, -1);
  // Rows whose every score is -inf: zeros instead of the softmax's NaN. Their scores are made
  // zeros before the softmax too, not only its result after: the softmax's backward multiplies
  // by its output, and NaN times the zero gradient the last where sends is NaN, which an
  // additive mask (unlike a bool one, through its own where) passes on to q, k and the mask.
  const Tensor nothing_allowed = all(scores == kMinusInf, {-1}, true);
  const Tensor weights = graft::softmax(where(nothing_allowed, 0.0, scores), -1);
  return where(nothing_allowed, 0.0, weights);
}

Shape batch_shape(const Tensor& t) {
  Shape batch;
  for (int64_t d = 0; d + 2 < t.dim(); ++d) batch.push_back(t.size(d));
  return batch;
}

// The scale the scores are multiplied by: PyTorch's default 1 / sqrt(E) unless given.
double scale_of(const Tensor& query, std::optional<double> scale) {
  return scale ? *scale
               : 1.0 / std::sqrt(static_cast<double>(std::max<int64_t>(1, query.size(-1))));
}

// Whether the fused kernels (kernels/attention.h) take the call: no mask but the causal
// one (dropout is drawn inside the kernels), q, k and v of one batch shape
// (the kernels do not broadcast), a kernel for the device, and head dims it takes (on CUDA,
// tiles that fit a block's shared memory, the backward's too when a gradient will be asked
// for). Every floating dtype: the kernels compute float16 and bfloat16 in float32.
// Otherwise the math path runs.
bool fused_applies(const Tensor& query, const Tensor& key, const Tensor& value,
                   const Tensor& attn_mask) {
  const kernels::KernelTable& table = kernels::kernel_table();
  const auto device = static_cast<int>(query.device().type());
  if (table.attention[device] == nullptr) return false;
  const bool with_backward =
      autograd::GradMode::is_enabled() &&
      (query.requires_grad() || key.requires_grad() || value.requires_grad());
  const auto fits = table.attention_fits[device];
  const bool head_dims_fit = fits == nullptr || fits(query.device(), query.dtype(), query.size(-1),
                                                     value.size(-1), with_backward);
  return !attn_mask.defined() && batch_shape(key) == batch_shape(query) &&
         batch_shape(value) == batch_shape(query) && head_dims_fit;
}

// The fused kernels' dropout mask times 1 / (1 - p), (batch..., L, S) like the scores, drawn
// from the same Philox blocks as the kernels draw it (kernels/attention.h).
Tensor fused_dropout_mask(const kernels::AttentionArgs& args, const Shape& batch) {
  Shape shape = batch;
  shape.push_back(args.length);
  shape.push_back(args.keys);
  std::vector<double> mask(static_cast<size_t>(shape.numel()));
  const double kept = kernels::attention_keep_scale(args.dropout_p);
  const uint32_t threshold = kernels::attention_keep_threshold(args.dropout_p);
  for (int64_t e = 0; e < shape.numel(); ++e)
    mask[e] = kernels::attention_keeps_element(args.dropout_rng, e, threshold) ? kept : 0.0;
  return tensor(mask, TensorOptions(kFloat64)).reshape(shape).to(args.dtype).to(args.device);
}

// The gradients of the fused path for a create_graph backward: the math path's formulas in
// graft ops, so they differentiate again (the kernels' do not). P = attention_weights, M the
// dropout mask (ones without dropout):
//   dv = (P M)^T g,  ds = P (M g v^T - rowsum(P M g v^T)),  dq = scale ds k,  dk = scale ds^T q
autograd::TensorList differentiable_backward(const Tensor& g, const Tensor& q, const Tensor& k,
                                             const Tensor& v, const kernels::AttentionArgs& args) {
  const Tensor p = attention_weights(q, k, {}, args.causal, args.scale);
  Tensor dropped = p, dp = matmul(g, v.transpose(-2, -1));
  if (args.dropout_p > 0) {
    const Tensor mask = fused_dropout_mask(args, batch_shape(q));
    dropped = p * mask;
    dp = dp * mask;
  }
  const Tensor ds = p * (dp - sum(p * dp, {-1}, true));
  return {matmul(ds, k) * args.scale, matmul(ds.transpose(-2, -1), q) * args.scale,
          matmul(dropped.transpose(-2, -1), g)};
}

// How the kernels read x (batch..., rows, features): its last batch dim as the heads, the
// dims before it folded into one batch stride, features contiguous (kernels/attention.h).
// nullopt where x's strides do not fold so; the caller then passes a contiguous copy.
std::optional<kernels::AttentionLayout> attention_layout(const Tensor& x) {
  const int64_t dim = x.dim();
  if (x.size(-1) > 1 && x.stride(-1) != 1) return std::nullopt;
  kernels::AttentionLayout layout;
  layout.row_stride = x.size(-2) > 1 ? x.stride(-2) : x.size(-1);
  if (dim >= 3) {
    layout.heads = x.size(-3);
    layout.head_stride = x.stride(-3);
  }
  // The dims before the heads, size-1 dims aside, must each step over the next whole.
  int64_t inner = -1;
  for (int64_t d = dim - 4; d >= 0; --d) {
    if (x.size(d) == 1) continue;
    if (inner < 0)
      layout.batch_stride = x.stride(d);
    else if (x.stride(d) != x.stride(inner) * x.size(inner))
      return std::nullopt;
    inner = d;
  }
  return layout;
}

// x as the kernels may read it: itself, or a contiguous copy when its strides do not fold.
Tensor readable(const Tensor& x) {
  if (attention_layout(x)) return x;
  const autograd::NoGradGuard no_grad;  // the copy is part of this one op
  return x.contiguous();
}

// A new (batch..., rows, features) tensor with the heads innermost in memory, laid out as
// (batch[:-1]..., rows, heads, features): multi-head attention's merge of the heads
// (transpose(1, 2) then reshape) is then a view, and so is the split of its gradients (as
// PyTorch's flash attention lays out its outputs). Built as a tensor of its own over new
// memory, not as a transpose() view, so autograd records it as any op's output.
Tensor empty_heads_inner(const Shape& batch, int64_t rows, int64_t features,
                         const TensorOptions& options) {
  if (batch.empty()) return empty({rows, features}, options);
  Shape memory;
  for (int64_t d = 0; d + 1 < batch.size(); ++d) memory.push_back(batch[d]);
  for (const int64_t size : {rows, batch[batch.size() - 1], features}) memory.push_back(size);
  auto impl = std::make_shared<TensorImpl>(empty(memory, options).impl());
  const int64_t dim = impl->shape.size();
  std::swap(impl->shape[dim - 3], impl->shape[dim - 2]);
  std::swap(impl->strides[dim - 3], impl->strides[dim - 2]);
  return Tensor(std::move(impl));
}

// The gradient of input x, laid out as x is where x is contiguous (the autograd engine then
// takes it as the leaf's .grad as it is, where a heads-inner gradient of a contiguous leaf
// was copied: 16% of the versus harness's small attention), else heads innermost, as
// multi-head attention's views of its projections want theirs.
Tensor empty_grad_for(const Tensor& x, const TensorOptions& options) {
  if (x.is_contiguous()) return empty(x.shape(), options);
  return empty_heads_inner(batch_shape(x), x.size(-2), x.size(-1), options);
}

// One call of the fused forward: the kernels' arguments (sizes, layouts, scale, causal flag,
// dropout draws; the pointers as the forward set them), the tensors they read (the inputs,
// or contiguous copies of them) and what they wrote.
struct FusedCall {
  kernels::AttentionArgs args;
  Tensor q, k, v, out, lse;
};

// The fused forward kernel; `out` heads innermost.
FusedCall fused_forward(const Tensor& query, const Tensor& key, const Tensor& value, bool is_causal,
                        double scale, double dropout_p) {
  const Shape batch = batch_shape(query);
  FusedCall call;
  kernels::AttentionArgs& args = call.args;
  args.dtype = query.dtype();
  args.device = query.device();
  args.batch_heads = batch.numel();
  args.length = query.size(-2);
  args.keys = key.size(-2);
  args.features = query.size(-1);
  args.value_features = value.size(-1);
  args.scale = scale;
  args.causal = is_causal;
  if (dropout_p > 0) {
    args.dropout_p = dropout_p;
    args.dropout_rng = default_generator().reserve(
        kernels::attention_dropout_blocks(args.batch_heads, args.length, args.keys));
  }
  call.q = readable(query);
  call.k = readable(key);
  call.v = readable(value);
  const TensorOptions options = TensorOptions(query.dtype()).device(query.device());
  call.out = empty_heads_inner(batch, args.length, args.value_features, options);
  // float32 for float16 and bfloat16 inputs, which the kernels compute in float32.
  call.lse = empty({args.batch_heads, args.length},
                   options.dtype(is_reduced_floating_point(args.dtype) ? kFloat32 : args.dtype));
  args.q = call.q.data_ptr();
  args.k = call.k.data_ptr();
  args.v = call.v.data_ptr();
  args.out = call.out.data_ptr();
  args.lse = call.lse.data_ptr();
  args.q_layout = *attention_layout(call.q);
  args.k_layout = *attention_layout(call.k);
  args.v_layout = *attention_layout(call.v);
  args.out_layout = *attention_layout(call.out);
  if (args.batch_heads * args.length > 0)
    kernels::lookup(kernels::kernel_table().attention, query.device(), kSdpa)(args);
  return call;
}

// The fused backward kernel: the gradients of the forward `args` describes, whose inputs as
// the kernels read them are q, k, v, written into dq, dk and dv, laid out as the caller wants.
void fused_backward(const kernels::AttentionArgs& args, const Tensor& q, const Tensor& k,
                    const Tensor& v, const Tensor& out, const Tensor& lse, const Tensor& g,
                    const Tensor& dq, const Tensor& dk, const Tensor& dv) {
  const Tensor dout = readable(g);
  kernels::AttentionBackwardArgs b;
  b.forward = args;
  b.forward.q = q.data_ptr();
  b.forward.k = k.data_ptr();
  b.forward.v = v.data_ptr();
  b.forward.out = out.data_ptr();
  b.forward.lse = lse.data_ptr();
  b.grad_out = dout.data_ptr();
  b.grad_q = dq.data_ptr();
  b.grad_k = dk.data_ptr();
  b.grad_v = dv.data_ptr();
  b.grad_out_layout = *attention_layout(dout);
  b.grad_q_layout = *attention_layout(dq);
  b.grad_k_layout = *attention_layout(dk);
  b.grad_v_layout = *attention_layout(dv);
  if (args.batch_heads > 0)
    kernels::lookup(kernels::kernel_table().attention_backward, q.device(), kSdpa)(b);
}

// The fused forward, and a node whose backward is the fused backward kernel.
Tensor fused_attention(const Tensor& query, const Tensor& key, const Tensor& value, bool is_causal,
                       double scale, double dropout_p) {
  const FusedCall call = fused_forward(query, key, value, is_causal, scale, dropout_p);
  if (!autograd::needs_grad({&query, &key, &value})) return call.out;
  // The backward keeps the inputs (a create_graph backward differentiates through them) and
  // what the kernel read, which the backward kernel reads again (copying the inputs there
  // was 2% of a small GPT's training step).
  const TensorOptions options = TensorOptions(query.dtype()).device(query.device());
  auto backward = [sq = autograd::save(query), sk = autograd::save(key), sv = autograd::save(value),
                   rq = autograd::save(call.q), rk = autograd::save(call.k),
                   rv = autograd::save(call.v), lse = call.lse, args = call.args,
                   options](const Tensor& g, const Tensor& out) {
    if (autograd::GradMode::is_enabled())
      return differentiable_backward(g, sq.get(), sk.get(), sv.get(), args);
    autograd::TensorList grads{empty_grad_for(sq.get(), options), empty_grad_for(sk.get(), options),
                               empty_grad_for(sv.get(), options)};
    fused_backward(args, rq.get(), rk.get(), rv.get(), out, lse, g, grads[0], grads[1], grads[2]);
    return grads;
  };
  autograd::record(call.out, "ScaledDotProductAttentionBackward", {query, key, value}, backward);
  return call.out;
}

// Part `which` (0 query, 1 key, 2 value) of a (N, L, 3E) projection as (N, heads, L, E /
// heads): a view, rows 3E apart.
Tensor projected_heads(const Tensor& qkv, int64_t which, int64_t heads) {
  const int64_t embed = qkv.size(2) / 3;
  return qkv.narrow(2, which * embed, embed)
      .view({qkv.size(0), qkv.size(1), heads, embed / heads})
      .transpose(1, 2);
}

// Self-attention over one (N, L, 3E) projection, the fused kernels reading its thirds where
// they lie, and a node whose backward writes the three gradients into one (N, L, 3E) tensor:
// as three views the projection's gradient would be three zero-filled (N, L, 3E) tensors
// summed (narrow's backward), or three products where one serves.
Tensor fused_packed_attention(const Tensor& qkv, int64_t heads, bool is_causal, double scale,
                              double dropout_p) {
  const auto part = [heads](const Tensor& t, int64_t which) {
    return projected_heads(t, which, heads);
  };
  FusedCall call;
  {
    const autograd::NoGradGuard no_grad;  // the views are part of this one op
    call = fused_forward(part(qkv, 0), part(qkv, 1), part(qkv, 2), is_causal, scale, dropout_p);
  }
  if (!autograd::needs_grad({&qkv})) return call.out;
  auto backward = [sqkv = autograd::save(qkv), rq = autograd::save(call.q),
                   rk = autograd::save(call.k), rv = autograd::save(call.v), lse = call.lse,
                   args = call.args, part](const Tensor& g, const Tensor& out) {
    const Tensor qkv = sqkv.get();
    if (autograd::GradMode::is_enabled()) {
      // The math path's gradients, each (N, heads, L, E / heads), put back side by side.
      autograd::TensorList grads =
          differentiable_backward(g, part(qkv, 0), part(qkv, 1), part(qkv, 2), args);
      for (Tensor& grad : grads)
        grad = grad.transpose(1, 2).reshape({qkv.size(0), qkv.size(1), qkv.size(2) / 3});
      return autograd::TensorList{cat(grads, 2)};
    }
    const Tensor grad = empty(qkv.shape(), TensorOptions(qkv.dtype()).device(qkv.device()));
    fused_backward(args, rq.get(), rk.get(), rv.get(), out, lse, g, part(grad, 0), part(grad, 1),
                   part(grad, 2));
    return autograd::TensorList{grad};
  };
  autograd::record(call.out, "ScaledDotProductAttentionBackward", {qkv}, backward);
  return call.out;
}

}  // namespace

Tensor scaled_dot_product_attention(const Tensor& query_in, const Tensor& key_in,
                                    const Tensor& value_in, const Tensor& attn_mask_in,
                                    double dropout_p, bool is_causal, std::optional<double> scale) {
  const Tensor query = autocast::to_low_precision(query_in);
  const Tensor key = autocast::to_low_precision(key_in);
  const Tensor value = autocast::to_low_precision(value_in);
  const Tensor attn_mask = mask_for(autocast::to_low_precision(attn_mask_in), query);
  const OpContext context(kSdpa);
  check_attention_inputs(query, key, value, attn_mask, dropout_p, is_causal);
  const double factor = scale_of(query, scale);
  if (fused_applies(query, key, value, attn_mask))
    return fused_attention(query, key, value, is_causal, factor, dropout_p);
  Tensor weights = attention_weights(query, key, attn_mask, is_causal, factor);
  if (dropout_p > 0) weights = dropout(weights, dropout_p, true);
  return matmul(weights, value);
}

namespace {

// Self-attention over one (N, L, 3E) projection (MultiheadAttention's when query, key and
// value are one tensor): scaled_dot_product_attention of its thirds' heads, through the fused
// kernels' packed form where they take the call.
Tensor projected_self_attention(const Tensor& qkv_in, int64_t heads, const Tensor& attn_mask,
                                double dropout_p, bool is_causal) {
  const Tensor qkv = autocast::to_low_precision(qkv_in);
  const Tensor query = projected_heads(qkv, 0, heads), key = projected_heads(qkv, 1, heads);
  const Tensor value = projected_heads(qkv, 2, heads);
  if (!fused_applies(query, key, value, attn_mask))
    return scaled_dot_product_attention(query, key, value, attn_mask, dropout_p, is_causal);
  const OpContext context(kSdpa);
  check_attention_inputs(query, key, value, attn_mask, dropout_p, is_causal);
  return fused_packed_attention(qkv, heads, is_causal, scale_of(query, std::nullopt), dropout_p);
}

}  // namespace

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
  const double dropout_p = is_training() ? dropout : 0.0;
  // Self-attention projects once, (N, L, 3E), as PyTorch's module does when query, key and
  // value are one tensor: one product instead of three, forward and backward.
  const Tensor attended =
      query.is_same(key) && key.is_same(value)
          ? functional::projected_self_attention(
                functional::linear(q, in_proj_weight, in_proj_bias), num_heads, mask, dropout_p,
                is_causal)
          : functional::scaled_dot_product_attention(heads(q, 0), heads(k, 1), heads(v, 2), mask,
                                                     dropout_p, is_causal);
  const Tensor out = (*out_proj)(attended.transpose(1, 2).reshape({batch, length, embed_dim}));
  return batched ? out : out.squeeze(0);
}

}  // namespace graft::nn
