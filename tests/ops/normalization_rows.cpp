// Registry rows of layer_norm: over the last dim and the last two, with weight and bias,
// weight alone and neither. The reference normalises each group in double with the biased
// variance, as torch.nn.functional.layer_norm does.
#include <cmath>

#include "op_info.h"

namespace graft::testing {
namespace {

constexpr double kEps = 1e-5;

// layer_norm of in[0] over its last `k` dims, then * in[1] (weight) and + in[2] (bias) when
// given, in double.
RefTensor layer_norm_reference(const std::vector<RefTensor>& in, int64_t k) {
  const RefTensor& x = in[0];
  int64_t cols = 1;
  for (int64_t d = x.shape.size() - k; d < x.shape.size(); ++d) cols *= x.shape[d];
  RefTensor out{x.shape, std::vector<double>(x.values.size())};
  for (size_t start = 0; start < x.values.size(); start += static_cast<size_t>(cols)) {
    double mean = 0, var = 0;
    for (int64_t j = 0; j < cols; ++j) mean += x.values[start + j];
    mean /= static_cast<double>(cols);
    for (int64_t j = 0; j < cols; ++j) var += std::pow(x.values[start + j] - mean, 2);
    var /= static_cast<double>(cols);
    for (int64_t j = 0; j < cols; ++j) {
      double y = (x.values[start + j] - mean) / std::sqrt(var + kEps);
      if (in.size() > 1) y *= in[1].values[j];
      if (in.size() > 2) y += in[2].values[j];
      out.values[start + j] = y;
    }
  }
  return out;
}

// `affine` inputs after x: 0 (none), 1 (weight) or 2 (weight and bias).
OpInfo layer_norm_row(std::string name, Shape normalized_shape, int affine) {
  OpInfo row;
  row.name = std::move(name);
  row.op = "layer_norm";
  // The per-element tensors keep their shape in the empty layout (x loses its rows).
  row.inputs = {{{2, 3, 4}, kAny}};
  for (int i = 0; i < affine; ++i)
    row.inputs.push_back({normalized_shape, kAny, std::nullopt, normalized_shape});
  row.call = single([normalized_shape](const TensorList& in) {
    return layer_norm(in[0], normalized_shape, in.size() > 1 ? in[1] : Tensor(),
                      in.size() > 2 ? in[2] : Tensor(), kEps);
  });
  const auto k = static_cast<int64_t>(normalized_shape.size());
  row.reference = [k](const std::vector<RefTensor>& in) {
    return std::vector<RefTensor>{layer_norm_reference(in, k)};
  };
  // A 0-d input has no dims to normalise.
  row.layouts = {Layout::contiguous, Layout::transposed, Layout::sliced, Layout::broadcast,
                 Layout::empty};
  row.integers = Integers::refuse;  // "expected a floating-point input"
  // Dividing by a standard deviation of a few values in [-2, 2] magnifies float32 rounding.
  row.float32 = {1e-4, 1e-4};
  return row;
}

}  // namespace

std::vector<OpInfo> normalization_rows() {
  return {
      layer_norm_row("layer_norm_last_dim", {4}, 2),
      layer_norm_row("layer_norm_last_two_dims", {3, 4}, 2),
      layer_norm_row("layer_norm_weight_only", {4}, 1),
      layer_norm_row("layer_norm_no_affine", {3, 4}, 0),
  };
}

}  // namespace graft::testing
