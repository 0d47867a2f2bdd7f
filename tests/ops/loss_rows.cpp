// Registry rows of the losses of nn::functional: the elementwise ones (mse, l1, smooth L1,
// Huber, binary cross-entropy on probabilities and on logits) on an input and a target of
// (2, 3, 4), each reduction at least once, and the classification ones (cross_entropy over
// class indices and over class probabilities, nll_loss) on logits (N, C, d) = (2, 3, 4) with
// targets (2, 4). Class indices and the weights (per class, per element, pos_weight) are
// inputs made as they are and never differentiated, as PyTorch differentiates none of them;
// the indices come in the sample's layout too. The references are PyTorch's
// formulas in double: the weighted mean divides by the sum of the weights of the targets
// counted, a mean over nothing is NaN (0 / 0), as in PyTorch.
#include <cmath>

#include "op_info.h"
#include "test_util.h"

namespace graft::testing {
namespace {

namespace F = nn::functional;
using F::Reduction;
using Refs = const std::vector<RefTensor>&;

constexpr int64_t kClasses = 3;

// Per-element losses folded as `reduction` says.
RefTensor reduced(const Shape& shape, const std::vector<double>& losses, Reduction reduction,
                  double mean_divisor) {
  if (reduction == Reduction::kNone) return {shape, losses};
  double total = 0;
  for (double v : losses) total += v;
  return {{}, {reduction == Reduction::kSum ? total : total / mean_divisor}};
}

// The reference of a loss of input and target, elementwise, with in[2] (if given)
// broadcast over the elements as a weight of each.
using ElementLoss = std::function<double(double input, double target, const Shape& index,
                                         const std::vector<RefTensor>& in)>;
RefTensor elementwise_loss(Refs in, Reduction reduction, const ElementLoss& loss) {
  const RefTensor &x = in[0], &t = in[1];
  std::vector<double> losses;
  for (int64_t i = 0; i < x.shape.numel(); ++i)
    losses.push_back(loss(x.values[i], t.values[i], unravel(i, x.shape), in));
  return reduced(x.shape, losses, reduction, static_cast<double>(x.shape.numel()));
}

double log_sigmoid(double x) {
  return x < 0 ? x - std::log1p(std::exp(x)) : -std::log1p(std::exp(-x));
}

// Class indices of (2, 4) in the sample's layout (0-d for a 0-d sample, (0, 4) for an empty
// one), drawn from [0, kClasses).
InputSpec class_indices() { return random_indices({2, 4}, kClasses, 7); }

// A weight of each element, broadcast from the last dim (4), positive (0-d for a 0-d
// sample); made as it is, since PyTorch's binary cross-entropies do not differentiate their
// weights, and converted to the input's dtype and device by the call.
InputSpec element_weight(std::vector<double> values) {
  InputSpec spec;
  spec.make = [values = std::move(values)](Layout layout) {
    return layout == Layout::zero_dim ? make_tensor({values[0]}, {}, kFloat64)
                                      : make_tensor(values, {4}, kFloat64);
  };
  return spec;
}

// Per-class weights (kClasses), positive; made as they are (PyTorch does not differentiate
// them either) and converted as element_weight's.
InputSpec class_weights() { return fixed_values({0.5, 2.0, 1.25}, {kClasses}); }

// log softmax over the classes (dim 1) of logits (N, C, d) at (n, s).
std::vector<double> log_probabilities(const RefTensor& x, int64_t n, int64_t s) {
  double max = -INFINITY;
  for (int64_t c = 0; c < kClasses; ++c) max = std::max(max, x.at({n, c, s}));
  double total = 0;
  for (int64_t c = 0; c < kClasses; ++c) total += std::exp(x.at({n, c, s}) - max);
  std::vector<double> out;
  for (int64_t c = 0; c < kClasses; ++c) out.push_back(x.at({n, c, s}) - max - std::log(total));
  return out;
}

// cross_entropy (or with log-probabilities, nll_loss) over class indices in[1], per-class
// weights in[2] when `weighted`: PyTorch's
//   loss = (1 - eps) w[y] (-logp[y]) + eps / C sum_c w[c] (-logp[c])
// at each position whose target is not ignore_index; the mean divides by the sum of w[y]
// over those positions.
RefTensor class_index_loss(Refs in, bool weighted, bool log_softmax_first, int64_t ignore_index,
                           double smoothing, Reduction reduction) {
  const RefTensor &x = in[0], &y = in[1];
  const int64_t batch = x.shape[0], positions = x.shape[2];
  const auto weight = [&](int64_t c) { return weighted ? in[2].values[c] : 1.0; };
  std::vector<double> losses;
  double counted = 0;
  for (int64_t n = 0; n < batch; ++n)
    for (int64_t s = 0; s < positions; ++s) {
      const auto target = static_cast<int64_t>(y.at({n, s}));
      if (target == ignore_index) {
        losses.push_back(0);
        continue;
      }
      std::vector<double> logp;
      for (int64_t c = 0; c < kClasses; ++c) logp.push_back(x.at({n, c, s}));
      if (log_softmax_first) logp = log_probabilities(x, n, s);
      double smooth = 0;
      for (int64_t c = 0; c < kClasses; ++c) smooth -= weight(c) * logp[c];
      losses.push_back((1 - smoothing) * weight(target) * -logp[target] +
                       smoothing / kClasses * smooth);
      counted += weight(target);
    }
  return reduced({batch, positions}, losses, reduction, counted);
}

// The classification rows take logits (N, C, d): no 0-d layout.
const std::vector<Layout> kBatched = {Layout::contiguous, Layout::transposed, Layout::sliced,
                                      Layout::broadcast, Layout::empty};

OpInfo classification_row(std::string name, std::string op, std::vector<InputSpec> inputs,
                          std::function<Tensor(const TensorList&)> call,
                          std::function<RefTensor(Refs)> reference) {
  OpInfo row = row_of(std::move(name), std::move(op), std::move(inputs), std::move(call),
                      std::move(reference), kBatched);
  row.integers = Integers::refuse;  // "expected a floating-point input"
  // A log-sum-exp of three logits, then sums: a few roundings of float32 (and far more of
  // the 16-bit types, whose every intermediate is rounded).
  row.float32 = {1e-5, 1e-4};
  row.float16 = {4e-3, 4e-3};
  row.bfloat16 = {3.2e-2, 3.2e-2};
  return row;
}

OpInfo elementwise_row(std::string name, std::string op, std::vector<InputSpec> inputs,
                       std::function<Tensor(const TensorList&)> call,
                       std::function<RefTensor(Refs)> reference) {
  const std::vector<Layout> all(std::begin(kAllLayouts), std::end(kAllLayouts));
  OpInfo row = row_of(std::move(name), std::move(op), std::move(inputs), std::move(call),
                      std::move(reference), all);
  row.integers = Integers::refuse;  // "expected a floating-point input"
  // A mean of 24 rounded terms.
  row.float16 = {4e-3, 4e-3};
  row.bfloat16 = {3.2e-2, 3.2e-2};
  return row;
}

}  // namespace

std::vector<OpInfo> loss_rows() {
  const InputSpec x{{2, 3, 4}};
  const InputSpec target{{2, 3, 4}, kAny};
  const InputSpec probability{{2, 3, 4}, {0.1, 0.9}};
  const InputSpec label{{2, 3, 4}, {0.0, 1.0}};
  const ElementLoss squared = [](double a, double b, const Shape&, Refs) {
    return (a - b) * (a - b);
  };
  // beta = 0.5 and delta = 0.7: the kinks at |d| = beta / delta lie among the samples' d.
  const auto smooth_l1 = [](double d, double beta) {
    return std::abs(d) < beta ? 0.5 * d * d / beta : std::abs(d) - 0.5 * beta;
  };
  std::vector<OpInfo> rows = {
      elementwise_row(
          "mse_loss", "mse_loss", {x, target},
          [](const TensorList& in) { return F::mse_loss(in[0], in[1]); },
          [squared](Refs in) { return elementwise_loss(in, Reduction::kMean, squared); }),
      elementwise_row(
          "mse_loss_sum", "mse_loss", {x, target},
          [](const TensorList& in) { return F::mse_loss(in[0], in[1], Reduction::kSum); },
          [squared](Refs in) { return elementwise_loss(in, Reduction::kSum, squared); }),
      elementwise_row(
          "mse_loss_none", "mse_loss", {x, target},
          [](const TensorList& in) { return F::mse_loss(in[0], in[1], Reduction::kNone); },
          [squared](Refs in) { return elementwise_loss(in, Reduction::kNone, squared); }),
      elementwise_row(
          "l1_loss", "l1_loss", {x, target},
          [](const TensorList& in) { return F::l1_loss(in[0], in[1]); },
          [](Refs in) {
            return elementwise_loss(
                in, Reduction::kMean,
                [](double a, double b, const Shape&, Refs) { return std::abs(a - b); });
          }),
      elementwise_row(
          "smooth_l1_loss", "smooth_l1_loss", {x, target},
          [](const TensorList& in) {
            return F::smooth_l1_loss(in[0], in[1], Reduction::kMean, 0.5);
          },
          [smooth_l1](Refs in) {
            return elementwise_loss(in, Reduction::kMean,
                                    [smooth_l1](double a, double b, const Shape&, Refs) {
                                      return smooth_l1(a - b, 0.5);
                                    });
          }),
      elementwise_row(
          "huber_loss_sum", "huber_loss", {x, target},
          [](const TensorList& in) { return F::huber_loss(in[0], in[1], Reduction::kSum, 0.7); },
          [smooth_l1](Refs in) {
            return elementwise_loss(in, Reduction::kSum,
                                    [smooth_l1](double a, double b, const Shape&, Refs) {
                                      return 0.7 * smooth_l1(a - b, 0.7);
                                    });
          }),
      elementwise_row(
          "binary_cross_entropy", "binary_cross_entropy", {probability, label},
          [](const TensorList& in) { return F::binary_cross_entropy(in[0], in[1]); },
          [](Refs in) {
            return elementwise_loss(in, Reduction::kMean,
                                    [](double p, double y, const Shape&, Refs) {
                                      return -(y * std::log(p) + (1 - y) * std::log(1 - p));
                                    });
          }),
      elementwise_row(
          "binary_cross_entropy_weighted_sum", "binary_cross_entropy",
          {probability, label, element_weight({0.5, 1.5, 1.0, 2.0})},
          [](const TensorList& in) {
            return F::binary_cross_entropy(
                in[0], in[1], {.weight = like(in[2], in[0]), .reduction = Reduction::kSum});
          },
          [](Refs in) {
            return elementwise_loss(in, Reduction::kSum,
                                    [](double p, double y, const Shape& index, Refs all) {
                                      return -broadcast_at(all[2], index) *
                                             (y * std::log(p) + (1 - y) * std::log(1 - p));
                                    });
          }),
      elementwise_row(
          "binary_cross_entropy_with_logits", "binary_cross_entropy_with_logits",
          {x, label, element_weight({0.5, 1.5, 1.0, 2.0}), element_weight({3.0, 0.25, 1.0, 0.5})},
          [](const TensorList& in) {
            return F::binary_cross_entropy_with_logits(
                in[0], in[1], {.weight = like(in[2], in[0]), .pos_weight = like(in[3], in[0])});
          },
          [](Refs in) {
            return elementwise_loss(in, Reduction::kMean,
                                    [](double z, double y, const Shape& index, Refs all) {
                                      return -broadcast_at(all[2], index) *
                                             (broadcast_at(all[3], index) * y * log_sigmoid(z) +
                                              (1 - y) * log_sigmoid(-z));
                                    });
          }),
      classification_row(
          "cross_entropy", "cross_entropy", {x, class_indices()},
          [](const TensorList& in) { return F::cross_entropy(in[0], in[1]); },
          [](Refs in) { return class_index_loss(in, false, true, -100, 0.0, Reduction::kMean); }),
      // Class 1 ignored, weights, label smoothing: the weighted mean's denominator.
      classification_row(
          "cross_entropy_weighted_smoothed", "cross_entropy", {x, class_indices(), class_weights()},
          [](const TensorList& in) {
            return F::cross_entropy(
                in[0], in[1],
                {.ignore_index = 1, .label_smoothing = 0.2, .weight = like(in[2], in[0])});
          },
          [](Refs in) { return class_index_loss(in, true, true, 1, 0.2, Reduction::kMean); }),
      classification_row(
          "cross_entropy_probabilities", "cross_entropy", {x, {{2, 3, 4}, {0.0, 1.0}}},
          [](const TensorList& in) {
            return F::cross_entropy(in[0], in[1], {.reduction = Reduction::kSum});
          },
          [](Refs in) {
            const RefTensor &logits = in[0], &p = in[1];
            double total = 0;
            for (int64_t n = 0; n < logits.shape[0]; ++n)
              for (int64_t s = 0; s < logits.shape[2]; ++s) {
                const std::vector<double> logp = log_probabilities(logits, n, s);
                for (int64_t c = 0; c < kClasses; ++c) total -= p.at({n, c, s}) * logp[c];
              }
            return RefTensor{{}, {total}};
          }),
      classification_row(
          "nll_loss_weighted_none", "nll_loss", {x, class_indices(), class_weights()},
          [](const TensorList& in) {
            return F::nll_loss(in[0], in[1],
                               {.reduction = Reduction::kNone, .weight = like(in[2], in[0])});
          },
          [](Refs in) { return class_index_loss(in, true, false, -100, 0.0, Reduction::kNone); }),
  };
  return rows;
}

}  // namespace graft::testing
