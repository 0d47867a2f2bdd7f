// Registry rows of the layers' functions in nn::functional: linear (with and without a bias),
// embedding (repeated indices, whose gradients add up), batch_norm (with the batch's
// statistics, and with running ones) and one_hot. x is (2, 3, 4); indices are inputs made as
// they are (never differentiated), in the sample's layout; running statistics too, as
// PyTorch's buffers are. The references are the layers' formulas in double.
#include <cmath>

#include "op_info.h"
#include "test_util.h"

namespace graft::testing {
namespace {

namespace F = nn::functional;
using Refs = const std::vector<RefTensor>&;

constexpr double kEps = 1e-5;
constexpr int64_t kEmbeddings = 5;

// Per-channel values (3), converted to x's dtype and device by the call.
InputSpec channel_values(std::vector<double> values) {
  return fixed_values(std::move(values), {3});
}

// x (..., in) times weight (out, in) transposed, plus bias (out) when given.
RefTensor linear_reference(Refs in) {
  const RefTensor &x = in[0], &w = in[1];
  const int64_t features = w.shape[1], outputs = w.shape[0];
  Shape shape = x.shape;
  shape[shape.size() - 1] = outputs;
  RefTensor out{shape, {}};
  for (int64_t row = 0; row < x.shape.numel() / features; ++row)
    for (int64_t o = 0; o < outputs; ++o) {
      double acc = in.size() > 2 ? in[2].values[o] : 0.0;
      for (int64_t f = 0; f < features; ++f) acc += x.values[row * features + f] * w.at({o, f});
      out.values.push_back(acc);
    }
  return out;
}

// Normalizes each channel c of x (N, C, L) by `mean(c)` and `variance(c)`, then
// * weight + bias.
RefTensor batch_norm_reference(const RefTensor& x, const std::function<double(int64_t)>& mean,
                               const std::function<double(int64_t)>& variance,
                               const RefTensor& weight, const RefTensor& bias) {
  RefTensor out{x.shape, {}};
  for (int64_t i = 0; i < x.shape.numel(); ++i) {
    const int64_t c = unravel(i, x.shape)[1];
    out.values.push_back((x.values[i] - mean(c)) / std::sqrt(variance(c) + kEps) *
                             weight.values[c] +
                         bias.values[c]);
  }
  return out;
}

// The mean and biased variance of channel c of x (N, C, L) over N and L.
std::pair<double, double> channel_moments(const RefTensor& x, int64_t c) {
  std::vector<double> values;
  for (int64_t i = 0; i < x.shape.numel(); ++i)
    if (unravel(i, x.shape)[1] == c) values.push_back(x.values[i]);
  double mean = 0, variance = 0;
  for (double v : values) mean += v;
  mean /= static_cast<double>(values.size());
  for (double v : values) variance += (v - mean) * (v - mean);
  return {mean, variance / static_cast<double>(values.size())};
}

}  // namespace

std::vector<OpInfo> layer_rows() {
  const InputSpec x{{2, 3, 4}};
  // Layers take batched inputs and weights of their own shape: no 0-d layout, and the
  // weights keep their shape in an empty sample (x loses its rows).
  const std::vector<Layout> batched = {Layout::contiguous, Layout::transposed, Layout::sliced,
                                       Layout::broadcast, Layout::empty};
  const InputSpec weight{{5, 4}, kAny, std::nullopt, Shape{5, 4}};
  const InputSpec bias{{5}, kAny, std::nullopt, Shape{5}};
  const InputSpec channel{{3}, kAny, std::nullopt, Shape{3}};
  std::vector<OpInfo> rows = {
      row_of(
          "linear", "linear", {x, weight, bias},
          [](const TensorList& in) { return F::linear(in[0], in[1], in[2]); }, linear_reference,
          batched),
      row_of(
          "linear_no_bias", "linear", {x, weight},
          [](const TensorList& in) { return F::linear(in[0], in[1]); }, linear_reference, batched),
      // Rows of a (5, 4) table picked by (2, 3) indices, some more than once.
      row_of(
          "embedding", "embedding",
          {{{kEmbeddings, 4}, kAny, std::nullopt, Shape{kEmbeddings, 4}},
           random_indices({2, 3}, kEmbeddings, 11)},
          [](const TensorList& in) { return F::embedding(in[1], in[0]); },
          [](Refs in) {
            const RefTensor &table = in[0], &index = in[1];
            const int64_t dim = table.shape[table.shape.size() - 1];
            Shape shape = index.shape;
            shape.push_back(dim);
            RefTensor out{shape, {}};
            for (double row : index.values)
              for (int64_t d = 0; d < dim; ++d)
                out.values.push_back(table.at({static_cast<int64_t>(row), d}));
            return out;
          },
          batched),
      row_of(
          "batch_norm_training", "batch_norm", {x, channel, channel},
          [](const TensorList& in) {
            return F::batch_norm(in[0], Tensor(), Tensor(), in[1], in[2], /*training=*/true);
          },
          [](Refs in) {
            const auto mean = [&](int64_t c) { return channel_moments(in[0], c).first; };
            const auto variance = [&](int64_t c) { return channel_moments(in[0], c).second; };
            return batch_norm_reference(in[0], mean, variance, in[1], in[2]);
          },
          batched),
      row_of(
          "batch_norm_running_statistics", "batch_norm",
          {x, channel, channel, channel_values({0.25, -0.5, 1.0}), channel_values({0.5, 2.0, 1.5})},
          [](const TensorList& in) {
            return F::batch_norm(in[0], like(in[3], in[0]), like(in[4], in[0]), in[1], in[2]);
          },
          [](Refs in) {
            return batch_norm_reference(
                in[0], [&](int64_t c) { return in[3].values[c]; },
                [&](int64_t c) { return in[4].values[c]; }, in[1], in[2]);
          },
          batched),
  };
  // linear on integers computes as matmul does, exactly (as torch.nn.functional.linear), and
  // embedding looks integer tables up as they are; batch_norm asks for a floating input.
  // Normalising by the standard deviation of a few values magnifies the 16-bit roundings.
  for (OpInfo& row : rows)
    if (row.op == "batch_norm") {
      row.integers = Integers::refuse;
      row.float32 = {1e-4, 1e-4};
      row.float16 = {4e-3, 4e-3};
      row.bfloat16 = {3.2e-2, 3.2e-2};
    }

  // one_hot: int64 out of integer indices in every layout; not differentiable, and the
  // sample's dtype plays no part (the indices are made as they are).
  OpInfo one_hot = row_of(
      "one_hot", "one_hot", {random_indices({2, 3}, 4, 13)},
      [](const TensorList& in) { return F::one_hot(in[0], 4); },
      [](Refs in) {
        Shape shape = in[0].shape;
        shape.push_back(4);
        RefTensor out{shape, {}};
        for (double index : in[0].values)
          for (int64_t c = 0; c < 4; ++c)
            out.values.push_back(static_cast<double>(c) == index ? 1 : 0);
        return out;
      },
      {std::begin(kAllLayouts), std::end(kAllLayouts)});
  one_hot.differentiable = false;
  one_hot.result_dtype = [](DType) { return kInt64; };
  rows.push_back(std::move(one_hot));
  return rows;
}

}  // namespace graft::testing
