// nn::functional losses: cross_entropy, nll_loss, mse_loss, l1_loss, smooth_l1_loss,
// huber_loss, binary_cross_entropy and binary_cross_entropy_with_logits, composed of graft ops
// (mse_loss's reduction and gradient fused, and binary_cross_entropy's gradient written out,
// below).
//
// Stability comes from never exponentiating a logit: cross_entropy works on log_softmax
// (whose kernel subtracts the row max), and BCE on log-sigmoid written as
// min(x, 0) - log(1 + exp(-|x|)), where exp only sees values <= 0. At x = 0 the minimum's
// tie splits its gradient in halves, which gives log-sigmoid's exact slope 1/2 there.
//
// Class-index targets are read through gather on the class dim, with ignored positions
// pointed at class 0 and then masked out (where), so their loss and gradient are exactly 0.
// A per-class weight is gathered the same way (weight[target] per position) and, for label
// smoothing and class probabilities, broadcast along the class dim.
#include <algorithm>
#include <utility>

#include "graft/autograd/autocast.h"
#include "graft/autograd/grad_mode.h"
#include "graft/autograd/op_utils.h"
#include "graft/autograd/record.h"
#include "graft/nn/functional.h"

namespace graft::nn::functional {

namespace {

Tensor reduce(const Tensor& loss, Reduction reduction) {
  switch (reduction) {
    case Reduction::kNone:
      return loss;
    case Reduction::kSum:
      return loss.sum();
    case Reduction::kMean:
      return loss.mean();
  }
  detail::fail("reduce(): unknown reduction");
}

void check_floating_input(const char* op, const Tensor& input) {
  GRAFT_CHECK(is_floating_point(input.dtype()), op,
              "(): expected a floating-point input, but got input of dtype ", input.dtype(),
              " and shape ", input.shape(), "; convert it with .to(graft::kFloat32)");
}

// input floating, and target on its device and of its shape.
void check_same_shape(const char* op, const Tensor& input, const Tensor& target) {
  check_floating_input(op, input);
  ops::check_same_device(op, {&input, &target});
  GRAFT_CHECK(input.shape() == target.shape(), op, "(): target of shape ", target.shape(),
              " must have the shape of input ", input.shape(),
              " (graft does not broadcast a loss's target)");
}

// An optional weight (per class, per element, pos_weight) must be on input's device.
void check_weight_device(const char* op, const char* name, const Tensor& weight,
                         const Tensor& input) {
  if (!weight.defined()) return;
  GRAFT_CHECK(weight.device() == input.device(), op, "(): ", name, " is on ", weight.device(),
              " but input is on ", input.device(), "; move it with ", name, ".to(input.device())");
}

// The class dim of input: 1 for batched (N, C, ...) input, 0 for unbatched (C).
int64_t class_dim(const Tensor& input) { return input.dim() == 1 ? 0 : 1; }

// `weight` (C values) in logp's dtype and shaped to broadcast along its class dim: (C) for
// unbatched input, (C, 1, ..., 1) with a 1 for each dim after the class dim otherwise.
Tensor class_weight(const char* op, const Tensor& weight, const Tensor& logp) {
  const int64_t cdim = class_dim(logp);
  const int64_t classes = logp.size(cdim);
  GRAFT_CHECK(weight.dim() == 1 && weight.size(0) == classes, op,
              "(): weight should hold one value for each of the ", classes,
              " classes of input of shape ", logp.shape(), ", but got weight of shape ",
              weight.shape());
  GRAFT_CHECK(is_floating_point(weight.dtype()), op,
              "(): expected a floating-point weight, but got ", weight.dtype());
  check_weight_device(op, "weight", weight, logp);
  std::vector<int64_t> along_class_dim(static_cast<size_t>(logp.dim() - cdim), 1);
  along_class_dim[0] = classes;
  return weight.to(logp.dtype()).reshape(Shape(along_class_dim));
}

// The per-position loss of log-probabilities `logp` against class indices, with
// label_smoothing of the uniform target mixed in and each class's terms scaled by
// `weight` (when defined); reduced as asked, the mean over the positions not ignored
// weighted by weight[target] (PyTorch's).
Tensor class_index_loss(const char* op, const Tensor& logp, const Tensor& target,
                        const Tensor& weight, int64_t ignore_index, Reduction reduction,
                        double label_smoothing) {
  const int64_t cdim = class_dim(logp);
  GRAFT_CHECK(is_integral(target.dtype()), op, "(): expected class indices of an integer ",
              "dtype, but got target of dtype ", target.dtype(), "; convert them with ",
              ".to(graft::kInt64)");
  Shape want = logp.shape();  // input's shape without the class dim
  want.erase(cdim);
  GRAFT_CHECK(target.shape() == want, op, "(): expected class-index target of shape ", want,
              " (input of shape ", logp.shape(), " without its class dim ", cdim,
              "), but got target of shape ", target.shape());
  const int64_t classes = logp.size(cdim);
  const Tensor index = target.to(kInt64);
  const Tensor valid = index != ignore_index;
  const Tensor safe = where(valid, index, 0);
  if (safe.numel() > 0) {
    const int64_t lo = safe.min().item<int64_t>(), hi = safe.max().item<int64_t>();
    GRAFT_CHECK(lo >= 0 && hi < classes, op, "(): target ", lo < 0 ? lo : hi,
                " is out of bounds for ", classes, " classes; targets must lie in [0, ", classes,
                ") or equal ignore_index=", ignore_index);
  }
  Tensor loss = -gather(logp, cdim, safe.unsqueeze(cdim)).squeeze(cdim);
  const Tensor w = weight.defined() ? class_weight(op, weight, logp) : Tensor();
  // weight[target] at each position (unbatched input has one, a 0-d tensor).
  const Tensor target_weight =
      w.defined() ? index_select(w.reshape({-1}), 0, safe.reshape({-1})).reshape(safe.shape())
                  : Tensor();
  if (w.defined()) loss = loss * target_weight;
  if (label_smoothing > 0) {
    const Tensor log_likelihood = w.defined() ? (logp * w).sum({cdim}) : logp.sum({cdim});
    loss = loss * (1 - label_smoothing) - log_likelihood * (label_smoothing / classes);
  }
  loss = where(valid, loss, 0.0);
  if (reduction != Reduction::kMean) return reduce(loss, reduction);
  // All positions ignored: 0 / 0 = NaN, as PyTorch.
  const Tensor total_weight =
      w.defined() ? where(valid, target_weight, 0.0).sum() : valid.sum().to(loss.dtype());
  return loss.sum() / total_weight;
}

}  // namespace

Tensor cross_entropy(const Tensor& input_in, const Tensor& target_in,
                     const CrossEntropyOptions& options) {
  const Tensor input = autocast::to_float32(input_in);
  const Tensor target = autocast::to_float32(target_in);
  constexpr const char* kOp = "cross_entropy";
  check_floating_input(kOp, input);
  ops::check_same_device(kOp, {&input, &target});
  GRAFT_CHECK(input.dim() >= 1, kOp, "(): expected logits of shape (C), (N, C) or (N, C, *), ",
              "but got a 0-d input");
  GRAFT_CHECK(options.label_smoothing >= 0 && options.label_smoothing <= 1, kOp,
              "(): label_smoothing must be between 0.0 and 1.0, but got ", options.label_smoothing);
  const int64_t cdim = class_dim(input);
  const Tensor logp = graft::log_softmax(input, cdim);
  if (!is_floating_point(target.dtype()))
    return class_index_loss(kOp, logp, target, options.weight, options.ignore_index,
                            options.reduction, options.label_smoothing);
  // Class probabilities: -sum_c q_c log p_c with q smoothed towards uniform.
  GRAFT_CHECK(target.shape() == input.shape(), kOp,
              "(): expected a floating-point (class probabilities) target of input's shape ",
              input.shape(), ", but got target of shape ", target.shape(),
              "; class indices must have an integer dtype");
  const double s = options.label_smoothing;
  Tensor q = s > 0 ? target * (1 - s) + s / static_cast<double>(input.size(cdim)) : target;
  if (options.weight.defined()) q = q * class_weight(kOp, options.weight, logp);
  return reduce(-(q * logp).sum({cdim}), options.reduction);
}

Tensor nll_loss(const Tensor& input_in, const Tensor& target, const NllLossOptions& options) {
  const Tensor input = autocast::to_float32(input_in);
  constexpr const char* kOp = "nll_loss";
  check_floating_input(kOp, input);
  ops::check_same_device(kOp, {&input, &target});
  GRAFT_CHECK(input.dim() >= 1, kOp, "(): expected log-probabilities of shape (C), (N, C) or ",
              "(N, C, *), but got a 0-d input");
  GRAFT_CHECK(!is_floating_point(target.dtype()), kOp,
              "(): expected class indices of an integer dtype as target, but got ", target.dtype(),
              "; convert them with .to(graft::kInt64)");
  return class_index_loss(kOp, input, target, options.weight, options.ignore_index,
                          options.reduction, 0.0);
}

Tensor mse_loss(const Tensor& input_in, const Tensor& target_in, Reduction reduction) {
  const Tensor input = autocast::to_float32(input_in);
  const Tensor target = autocast::to_float32(target_in);
  check_same_shape("mse_loss", input, target);
  const Tensor diff = input - target;
  if (reduction == Reduction::kNone) return diff * diff;
  // The sum of squares in one pass over diff (norm's reduction without its root, summed in
  // double), its gradient 2 scale g diff in one more: squaring diff into a tensor of its own
  // and then reducing it made three passes forward, where PyTorch makes two.
  const double scale =
      reduction == Reduction::kMean ? 1.0 / static_cast<double>(diff.numel()) : 1.0;
  Tensor loss;
  {
    const NoGradGuard no_grad;
    // A 16-bit sum of squares would overflow its dtype (65504 for float16) where the mean
    // need not: it is taken in float32 and the loss rounded back.
    const Tensor summed = ops::computes_in_float32(diff) ? ops::widened(diff) : diff;
    loss = ops::norm_reduction(summed, 2, {}, /*root=*/false).reshape({});
    if (reduction == Reduction::kMean) loss = loss * scale;
    loss = loss.to(diff.dtype());
  }
  return autograd::record(loss, "MseLossBackward", {diff},
                          [saved = autograd::save(diff), scale](const Tensor& g) {
                            return saved.get() * (g * (2 * scale));
                          });
}

Tensor l1_loss(const Tensor& input_in, const Tensor& target_in, Reduction reduction) {
  const Tensor input = autocast::to_float32(input_in);
  const Tensor target = autocast::to_float32(target_in);
  check_same_shape("l1_loss", input, target);
  return reduce(abs(input - target), reduction);
}

namespace {

// smooth_l1 and huber: d^2 * quadratic where |d| < threshold, (|d| - threshold / 2) * linear
// elsewhere, with d = input - target.
Tensor quadratic_then_linear(const char* op, const Tensor& input_in, const Tensor& target_in,
                             Reduction reduction, double threshold, double quadratic,
                             double linear) {
  const Tensor input = autocast::to_float32(input_in);
  const Tensor target = autocast::to_float32(target_in);
  check_same_shape(op, input, target);
  const Tensor diff = input - target;
  const Tensor size = abs(diff);
  return reduce(where(size < threshold, diff * diff * quadratic, (size - 0.5 * threshold) * linear),
                reduction);
}

}  // namespace

Tensor smooth_l1_loss(const Tensor& input, const Tensor& target, Reduction reduction, double beta) {
  GRAFT_CHECK(beta >= 0, "smooth_l1_loss(): beta must be non-negative, but got ", beta);
  // beta = 0 is L1 exactly; the quadratic branch would divide by 0 (and its unused gradient,
  // 0 / 0, would still reach the input through where's backward).
  if (beta == 0) {
    check_same_shape("smooth_l1_loss", input, target);
    return l1_loss(input, target, reduction);
  }
  return quadratic_then_linear("smooth_l1_loss", input, target, reduction, beta, 0.5 / beta, 1.0);
}

Tensor huber_loss(const Tensor& input, const Tensor& target, Reduction reduction, double delta) {
  GRAFT_CHECK(delta > 0, "huber_loss(): delta must be positive, but got ", delta);
  return quadratic_then_linear("huber_loss", input, target, reduction, delta, 0.5, delta);
}

namespace {

// PyTorch's floor for binary_cross_entropy's logs, and for the denominator of its gradient.
constexpr double kLogFloor = -100, kEpsilon = 1e-12;

// log x and log(1 - x), each clamped at kLogFloor.
std::pair<Tensor, Tensor> clamped_logs(const Tensor& x) {
  return {clamp(log(x), kLogFloor), clamp(log1p(-x), kLogFloor)};
}

// -[y log x + (1 - y) log(1 - x)] per element with PyTorch's gradients written out: through
// the clamped logs, x = 0 or 1 would give 0 * inf = NaN, where d/dx = (x - y) /
// max(x (1 - x), 1e-12) stays finite. d/dy is the difference of the clamped logs.
Tensor binary_cross_entropy_elements(const Tensor& x, const Tensor& y) {
  Tensor loss;
  {
    const NoGradGuard no_grad;
    const auto [log_x, log_1mx] = clamped_logs(x);
    loss = -(y * log_x + (1 - y) * log_1mx);
  }
  return autograd::record(loss, "BinaryCrossEntropyBackward", {x, y},
                          [sx = autograd::save(x), sy = autograd::save(y)](const Tensor& g) {
                            const Tensor x = sx.get(), y = sy.get();
                            const auto [log_x, log_1mx] = clamped_logs(x);
                            return autograd::TensorList{g * (x - y) / clamp(x * (1 - x), kEpsilon),
                                                        g * (log_1mx - log_x)};
                          });
}

}  // namespace

Tensor binary_cross_entropy(const Tensor& input_in, const Tensor& target_in,
                            const BceOptions& options) {
  const Tensor input = autocast::to_float32(input_in);
  const Tensor target = autocast::to_float32(target_in);
  constexpr const char* kOp = "binary_cross_entropy";
  check_same_shape(kOp, input, target);
  if (input.numel() > 0) {
    const NoGradGuard no_grad;
    // NaN fails both comparisons, as PyTorch's check.
    const double lo = input.min().item<double>(), hi = input.max().item<double>();
    GRAFT_CHECK(lo >= 0 && hi <= 1, kOp, "(): all elements of input should be between 0 and 1, ",
                "but got values in [", lo, ", ", hi,
                "]; pass probabilities (a sigmoid's output), or logits to "
                "binary_cross_entropy_with_logits");
  }
  check_weight_device(kOp, "weight", options.weight, input);
  Tensor loss = binary_cross_entropy_elements(input, target);
  if (options.weight.defined()) loss = loss * options.weight;
  return reduce(loss, options.reduction);
}

Tensor binary_cross_entropy_with_logits(const Tensor& input_in, const Tensor& target_in,
                                        const BceWithLogitsOptions& options) {
  const Tensor input = autocast::to_float32(input_in);
  const Tensor target = autocast::to_float32(target_in);
  constexpr const char* kOp = "binary_cross_entropy_with_logits";
  check_same_shape(kOp, input, target);
  check_weight_device(kOp, "weight", options.weight, input);
  check_weight_device(kOp, "pos_weight", options.pos_weight, input);
  const Tensor log_sigmoid = minimum(input, 0.0) - log(1 + exp(-abs(input)));
  // loss = -[w_pos y log s(x) + (1 - y) log s(-x)], with log s(-x) = log s(x) - x.
  const Tensor positive = options.pos_weight.defined() ? options.pos_weight * target : target;
  Tensor loss = (1 - target) * input - (positive + 1 - target) * log_sigmoid;
  if (options.weight.defined()) loss = loss * options.weight;
  return reduce(loss, options.reduction);
}

}  // namespace graft::nn::functional
