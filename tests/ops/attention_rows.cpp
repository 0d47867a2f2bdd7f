// Registry rows of nn::functional::scaled_dot_product_attention: without a mask and causal
// (the fused kernels on the CPU), and with a bool or a float mask (the math path). q (2, 3, 4),
// k (2, 5, 4), v (2, 5, 3): fewer queries than keys, values of another width. The reference
// is the softmax of the scaled dot products in double, per batch, a row that may attend to
// nothing giving zeros.
#include <cmath>
#include <limits>

#include "op_info.h"
#include "test_util.h"

namespace graft::testing {
namespace {

constexpr int64_t kQueries = 3, kKeys = 5, kFeatures = 4, kValueFeatures = 3;
constexpr double kMinusInf = -std::numeric_limits<double>::infinity();

// What row i may add to key j's score: 0, a float mask's value, or -inf where it may not
// attend.
using MaskAt = std::function<double(const std::vector<RefTensor>& in, int64_t i, int64_t j)>;

RefTensor attention_reference(const std::vector<RefTensor>& in, const MaskAt& mask) {
  const RefTensor &q = in[0], &k = in[1], &v = in[2];
  const int64_t batch = q.shape[0];
  RefTensor out{{batch, kQueries, kValueFeatures}, {}};
  for (int64_t b = 0; b < batch; ++b)
    for (int64_t i = 0; i < kQueries; ++i) {
      std::vector<double> p(kKeys);
      double max = kMinusInf;
      for (int64_t j = 0; j < kKeys; ++j) {
        double dot = 0;
        for (int64_t e = 0; e < kFeatures; ++e) dot += q.at({b, i, e}) * k.at({b, j, e});
        p[j] = dot / std::sqrt(double(kFeatures)) + mask(in, i, j);
        max = std::max(max, p[j]);
      }
      double total = 0;
      for (double& x : p) total += (x = max == kMinusInf ? 0.0 : std::exp(x - max));
      for (int64_t e = 0; e < kValueFeatures; ++e) {
        double acc = 0;
        for (int64_t j = 0; j < kKeys; ++j) acc += total > 0 ? p[j] / total * v.at({b, j, e}) : 0;
        out.values.push_back(acc);
      }
    }
  return out;
}

OpInfo attention_row(std::string name, std::vector<InputSpec> extra,
                     std::function<Tensor(const TensorList&)> call, MaskAt mask) {
  OpInfo row;
  row.name = std::move(name);
  row.op = "scaled_dot_product_attention";
  row.inputs = {{{2, kQueries, kFeatures}}, {{2, kKeys, kFeatures}}, {{2, kKeys, kValueFeatures}}};
  for (InputSpec& spec : extra) row.inputs.push_back(std::move(spec));
  row.call = single(std::move(call));
  row.reference = [mask = std::move(mask)](const std::vector<RefTensor>& in) {
    return std::vector<RefTensor>{attention_reference(in, mask)};
  };
  // Attention needs (..., length, features) operands: no 0-d layout.
  row.layouts = {Layout::contiguous, Layout::transposed, Layout::sliced, Layout::broadcast,
                 Layout::empty};
  row.integers = Integers::refuse;  // "expected a floating-point query"
  row.float32 = {1e-5, 1e-4};
  return row;
}

// Key j is hidden from query i where (i + 2 j) % 3 == 0, and query 1 sees no key at all.
bool allowed(int64_t i, int64_t j) { return i != 1 && (i + 2 * j) % 3 != 0; }

}  // namespace

std::vector<OpInfo> attention_rows() {
  namespace F = nn::functional;
  InputSpec bool_mask;
  bool_mask.make = [](Layout) {
    std::vector<double> values;
    for (int64_t i = 0; i < kQueries; ++i)
      for (int64_t j = 0; j < kKeys; ++j) values.push_back(allowed(i, j) ? 1 : 0);
    return make_tensor(values, {kQueries, kKeys}, kBool);
  };
  return {
      attention_row(
          "sdpa_fused", {},
          [](const TensorList& in) { return F::scaled_dot_product_attention(in[0], in[1], in[2]); },
          [](const std::vector<RefTensor>&, int64_t, int64_t) { return 0.0; }),
      attention_row(
          "sdpa_fused_causal", {},
          [](const TensorList& in) {
            return F::scaled_dot_product_attention(in[0], in[1], in[2], {}, 0.0, true);
          },
          [](const std::vector<RefTensor>&, int64_t i, int64_t j) {
            return j <= i ? 0.0 : kMinusInf;
          }),
      attention_row(
          "sdpa_bool_mask", {bool_mask},
          [](const TensorList& in) {
            return F::scaled_dot_product_attention(in[0], in[1], in[2], in[3]);
          },
          [](const std::vector<RefTensor>&, int64_t i, int64_t j) {
            return allowed(i, j) ? 0.0 : kMinusInf;
          }),
      attention_row(
          "sdpa_float_mask", {{{kQueries, kKeys}, kAny, std::nullopt, Shape{kQueries, kKeys}}},
          [](const TensorList& in) {
            return F::scaled_dot_product_attention(in[0], in[1], in[2], in[3]);
          },
          [](const std::vector<RefTensor>& in, int64_t i, int64_t j) {
            return in[3].at({i, j});
          }),
  };
}

}  // namespace graft::testing
