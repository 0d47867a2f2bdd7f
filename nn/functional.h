// nn::functional: the layers and losses as functions of tensors, PyTorch's
// torch.nn.functional. The modules (linear.h, conv.h, ...) hold parameters and call these.
//
// Every function here is composed of graft ops, so autograd differentiates it with no
// backward of its own (convolution and pooling are single ops with hand-written backwards).
// Arguments follow PyTorch's positional order; losses take an options struct for their
// keyword arguments: cross_entropy(logits, y, {.label_smoothing = 0.1}).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "graft/autograd/ops.h"

namespace graft::nn::functional {

// ---- layers

// x (*, in) @ weight (out, in)^T + bias (out) -> (*, out); bias may be undefined.
Tensor linear(const Tensor& x, const Tensor& weight, const Tensor& bias = {});
using graft::adaptive_avg_pool2d;
using graft::avg_pool2d;
using graft::conv2d;
using graft::max_pool2d;

// ---- activations
Tensor relu(const Tensor& x);
// approximate "none": x Phi(x) with the exact normal CDF (erf); "tanh": PyTorch's
// 0.5 x (1 + tanh(sqrt(2 / pi) (x + 0.044715 x^3))).
Tensor gelu(const Tensor& x, const std::string& approximate = "none");
Tensor silu(const Tensor& x);
Tensor softmax(const Tensor& x, int64_t dim);
Tensor log_softmax(const Tensor& x, int64_t dim);

// Zeroes each element with probability p and scales the rest by 1 / (1 - p) when training;
// the identity otherwise. The mask comes from graft's Philox stream (manual_seed).
Tensor dropout(const Tensor& x, double p = 0.5, bool training = true);

// Normalizes each channel (dim 1 of (N, C) or (N, C, *)) over the batch and other dims.
// training: with the batch's statistics, and running_mean / running_var (if defined) move
// towards them by `momentum` (the variance unbiased, as PyTorch); momentum nullopt makes
// them a cumulative average over `num_batches_tracked`, which the caller counts. Otherwise
// with the running statistics. weight and bias (C) may be undefined.
Tensor batch_norm(const Tensor& x, const Tensor& running_mean, const Tensor& running_var,
                  const Tensor& weight = {}, const Tensor& bias = {}, bool training = false,
                  std::optional<double> momentum = 0.1, double eps = 1e-5,
                  int64_t num_batches_tracked = 0);
// Normalizes over the last normalized_shape.size() dims, which must equal normalized_shape;
// weight and bias (normalized_shape) may be undefined.
Tensor layer_norm(const Tensor& x, const Shape& normalized_shape, const Tensor& weight = {},
                  const Tensor& bias = {}, double eps = 1e-5);
// torch.nn.functional.scaled_dot_product_attention: softmax(query key^T * scale + mask)
// value, over query (..., L, E), key (..., S, E) and value (..., S, Ev), batch dims
// broadcast (usually (B, H, T, D)); returns (..., L, Ev). attn_mask, broadcastable to
// (..., L, S): bool, true where a query may attend, or floating (the query's dtype), added
// to the scores. is_causal: query i attends to keys 0..i (the top-left triangle, as
// PyTorch; not together with attn_mask). A query that may attend to no key gets zeros, as
// PyTorch's math path (not the NaN of a softmax over -inf alone). dropout_p drops attention
// weights whenever it is > 0 (pass 0 in evaluation); scale defaults to 1 / sqrt(E).
Tensor scaled_dot_product_attention(const Tensor& query, const Tensor& key, const Tensor& value,
                                    const Tensor& attn_mask = {}, double dropout_p = 0.0,
                                    bool is_causal = false,
                                    std::optional<double> scale = std::nullopt);
// Integer class indices (*) -> int64 (*, num_classes), 1 at each index and 0 elsewhere;
// num_classes -1 takes the largest index + 1. Indices must lie in [0, num_classes).
Tensor one_hot(const Tensor& indices, int64_t num_classes = -1);
// x padded with `value`: pad holds (before, after) pairs for the last dims, the last dim
// first, as PyTorch's F.pad ({left, right, top, bottom} pads a 2-d image); a negative amount
// crops. Constant padding only. Differentiable in x.
Tensor pad(const Tensor& x, const std::vector<int64_t>& pad, double value = 0.0);

// Rows of weight (num_embeddings, dim) picked by the integer tensor indices (*) -> (*, dim).
// Positions equal to padding_idx get no gradient.
Tensor embedding(const Tensor& indices, const Tensor& weight,
                 std::optional<int64_t> padding_idx = std::nullopt);

// ---- losses

// How a loss folds its per-element values: kNone keeps them, kMean averages, kSum adds.
enum class Reduction { kNone, kMean, kSum };

// (`weight` comes last, where PyTorch puts it first, so that the positional form of the
// options written before it existed, {ignore_index, reduction}, keeps its meaning.)
struct CrossEntropyOptions {
  int64_t ignore_index = -100;  // class-index targets equal to it add nothing to the loss
  Reduction reduction = Reduction::kMean;
  // The target mixes (1 - label_smoothing) of itself with label_smoothing of the uniform
  // distribution over the classes, PyTorch's formula.
  double label_smoothing = 0.0;
  // Per-class rescaling, C values: class c's terms are multiplied by weight[c].
  Tensor weight{};
};

// input: logits (N, C), (N, C, d1, ...) or unbatched (C). target: class indices (N) /
// (N, d1, ...) / 0-d of an integer dtype, or class probabilities of input's shape and
// dtype. The mean over class indices divides by the number of targets not ignored, or with
// a weight by the sum of weight[target] over them (PyTorch's weighted mean); over class
// probabilities it divides by the number of positions.
Tensor cross_entropy(const Tensor& input, const Tensor& target,
                     const CrossEntropyOptions& options = {});

struct NllLossOptions {
  int64_t ignore_index = -100;
  Reduction reduction = Reduction::kMean;
  Tensor weight{};  // per-class rescaling, as cross_entropy's
};
// input: log-probabilities with cross_entropy's shapes; target: class indices.
Tensor nll_loss(const Tensor& input, const Tensor& target, const NllLossOptions& options = {});

// (input - target)^2 and |input - target|; the shapes must match.
Tensor mse_loss(const Tensor& input, const Tensor& target, Reduction reduction = Reduction::kMean);
Tensor l1_loss(const Tensor& input, const Tensor& target, Reduction reduction = Reduction::kMean);

// With d = input - target: 0.5 d^2 / beta where |d| < beta, else |d| - 0.5 beta (quadratic
// near 0, L1 beyond; beta = 0 is l1_loss). huber_loss is delta times smooth_l1_loss with
// beta = delta: 0.5 d^2 where |d| < delta, else delta (|d| - 0.5 delta).
Tensor smooth_l1_loss(const Tensor& input, const Tensor& target,
                      Reduction reduction = Reduction::kMean, double beta = 1.0);
Tensor huber_loss(const Tensor& input, const Tensor& target, Reduction reduction = Reduction::kMean,
                  double delta = 1.0);

struct BceOptions {
  Tensor weight{};  // rescales each element's loss (broadcast to the input's shape)
  Reduction reduction = Reduction::kMean;
};
// input: probabilities in [0, 1] (a sigmoid's output); target of its shape.
// -[y log x + (1 - y) log(1 - x)] with each log clamped at -100, as PyTorch, so that x = 0
// or 1 gives a finite loss. binary_cross_entropy_with_logits is the stable form to prefer.
Tensor binary_cross_entropy(const Tensor& input, const Tensor& target,
                            const BceOptions& options = {});

struct BceWithLogitsOptions {
  Tensor weight{};      // rescales each element's loss (broadcast to the input's shape)
  Tensor pos_weight{};  // weighs the positive term, one value per class (the last dim)
  Reduction reduction = Reduction::kMean;
};
// -[pos_weight y log sigmoid(x) + (1 - y) log(1 - sigmoid(x))], computed from log-sigmoid
// in a form that stays finite for logits of any size.
Tensor binary_cross_entropy_with_logits(const Tensor& input, const Tensor& target,
                                        const BceWithLogitsOptions& options = {});

}  // namespace graft::nn::functional
