// Registry rows of matmul (every rank combination of torch.matmul's rules), mm, bmm,
// softmax and log_softmax. The matmul reference is the triple loop in double after
// matmul's own rules: 1-D operands get a dim that is removed again, batch dims broadcast.
#include <algorithm>
#include <cmath>

#include "op_info.h"

namespace graft::testing {
namespace {

std::vector<RefTensor> matmul_reference(const std::vector<RefTensor>& in) {
  RefTensor a = in[0], b = in[1];
  const bool a_vector = a.shape.size() == 1, b_vector = b.shape.size() == 1;
  if (a_vector) a.shape = Shape{1, a.shape[0]};
  if (b_vector) b.shape = Shape{b.shape[0], 1};
  const int64_t n = a.shape[a.shape.size() - 2], k = a.shape[a.shape.size() - 1];
  const int64_t m = b.shape[b.shape.size() - 1];
  // Broadcast the batch dims (all but the last two).
  const Shape a_batch(std::vector<int64_t>(a.shape.begin(), a.shape.end() - 2));
  const Shape b_batch(std::vector<int64_t>(b.shape.begin(), b.shape.end() - 2));
  const int64_t rank = std::max(a_batch.size(), b_batch.size());
  Shape batch(std::vector<int64_t>(static_cast<size_t>(rank)));
  for (int64_t i = 0; i < rank; ++i) {
    const int64_t ai = i - (rank - a_batch.size()), bi = i - (rank - b_batch.size());
    const int64_t as = ai >= 0 ? a_batch[ai] : 1, bs = bi >= 0 ? b_batch[bi] : 1;
    batch[i] = as == 1 ? bs : as;  // a size 1 stretches, even to 0
  }
  auto element = [](const RefTensor& t, const Shape& batch_index, int64_t r, int64_t c) {
    Shape index;
    const int64_t own = t.shape.size() - 2;
    for (int64_t i = 0; i < own; ++i) {
      const int64_t d = batch_index.size() - own + i;
      index.push_back(t.shape[i] == 1 ? 0 : batch_index[d]);
    }
    index.push_back(r);
    index.push_back(c);
    return t.at(index);
  };
  RefTensor out;
  for (int64_t s = 0; s < batch.numel(); ++s) {
    const Shape bi = unravel(s, batch);
    for (int64_t r = 0; r < n; ++r)
      for (int64_t c = 0; c < m; ++c) {
        double acc = 0;
        for (int64_t j = 0; j < k; ++j) acc += element(a, bi, r, j) * element(b, bi, j, c);
        out.values.push_back(acc);
      }
  }
  out.shape = batch;
  if (!a_vector) out.shape.push_back(n);
  if (!b_vector) out.shape.push_back(m);
  return {out};
}

OpInfo matmul_row(std::string name, std::string op, Shape a, Shape b,
                  std::function<Tensor(const TensorList&)> call, Shape empty_a, Shape empty_b) {
  OpInfo row;
  row.name = std::move(name);
  row.op = std::move(op);
  row.inputs = {{a, kAny, std::nullopt, empty_a}, {b, kAny, std::nullopt, empty_b}};
  row.call = single(std::move(call));
  row.reference = matmul_reference;
  // matmul needs at least 1-D operands; a product of floats over k = 3 terms.
  row.layouts = {Layout::contiguous, Layout::transposed, Layout::sliced, Layout::broadcast,
                 Layout::empty};
  return row;
}

Tensor matmul_of(const TensorList& in) { return matmul(in[0], in[1]); }

std::vector<double> softmax_lane(const std::vector<double>& lane) {
  if (lane.empty()) return lane;
  const double m = *std::max_element(lane.begin(), lane.end());
  std::vector<double> out;
  double s = 0;
  for (double x : lane) s += std::exp(x - m);
  for (double x : lane) out.push_back(std::exp(x - m) / s);
  return out;
}
std::vector<double> log_softmax_lane(const std::vector<double>& lane) {
  std::vector<double> out = softmax_lane(lane);
  for (double& x : out) x = std::log(x);
  return out;
}

OpInfo softmax_row(std::string name, std::string op, int64_t dim,
                   std::function<Tensor(const TensorList&)> call, bool on_zero_dim) {
  OpInfo row;
  row.name = std::move(name);
  row.op = std::move(op);
  row.inputs = {{{2, 3, 4}, kAny}};
  row.call = single(std::move(call));
  row.reference = along_dim(dim, row.op == "softmax" ? softmax_lane : log_softmax_lane);
  row.integers = Integers::refuse;
  if (!on_zero_dim)  // a 0-d tensor has only dims 0 and -1
    row.layouts = {Layout::contiguous, Layout::transposed, Layout::sliced, Layout::broadcast,
                   Layout::empty};
  return row;
}

}  // namespace

std::vector<OpInfo> linalg_rows() {
  std::vector<OpInfo> rows = {
      matmul_row("matmul_matrix_matrix", "matmul", {2, 3}, {3, 4}, matmul_of, {0, 3}, {3, 4}),
      matmul_row("matmul_vector_vector", "matmul", {3}, {3}, matmul_of, {0}, {0}),  // 0-d result
      matmul_row("matmul_vector_matrix", "matmul", {3}, {3, 4}, matmul_of, {3}, {3, 0}),
      matmul_row("matmul_matrix_vector", "matmul", {2, 3}, {3}, matmul_of, {0, 3}, {3}),
      matmul_row("matmul_vector_batch", "matmul", {3}, {2, 3, 4}, matmul_of, {3}, {0, 3, 4}),
      matmul_row("matmul_batch_vector", "matmul", {2, 2, 3}, {3}, matmul_of, {0, 2, 3}, {3}),
      matmul_row("matmul_batch_batch", "matmul", {2, 2, 3}, {2, 3, 4}, matmul_of, {0, 2, 3},
                 {0, 3, 4}),
      matmul_row("matmul_batch_matrix", "matmul", {2, 2, 3}, {3, 4}, matmul_of, {2, 0, 3},
                 {3, 4}),  // x @ weight
      matmul_row("matmul_matrix_batch", "matmul", {2, 3}, {2, 3, 4}, matmul_of, {2, 3}, {0, 3, 4}),
      matmul_row("matmul_broadcast_batches", "matmul", {2, 1, 2, 3}, {3, 3, 4}, matmul_of,
                 {2, 1, 0, 3}, {3, 3, 4}),
      matmul_row("method_matmul", "matmul", {2, 3}, {3, 4},
                 [](const TensorList& in) { return in[0].matmul(in[1]); }, {2, 0}, {0, 4}),
      matmul_row("mm", "mm", {2, 3}, {3, 4}, [](const TensorList& in) { return mm(in[0], in[1]); },
                 {0, 3}, {3, 4}),
      matmul_row("bmm", "bmm", {2, 2, 3}, {2, 3, 4},
                 [](const TensorList& in) { return bmm(in[0], in[1]); }, {0, 2, 3}, {0, 3, 4}),
  };
  // A weighted sum of the outputs would hide nothing: gradcheck takes the full Jacobian.
  for (const char* op : {"softmax", "log_softmax"}) {
    const std::string name = op;
    auto fn = name == "softmax" ? &graft::softmax : &graft::log_softmax;
    rows.push_back(softmax_row(
        name + "_dim0", name, 0, [fn](const TensorList& in) { return fn(in[0], 0); }, true));
    rows.push_back(softmax_row(
        name + "_dim1", name, 1, [fn](const TensorList& in) { return fn(in[0], 1); }, false));
    rows.push_back(softmax_row(
        name + "_last", name, -1, [fn](const TensorList& in) { return fn(in[0], -1); }, true));
  }
  rows.push_back(softmax_row(
      "method_softmax", "softmax", -1, [](const TensorList& in) { return in[0].softmax(-1); },
      true));
  rows.push_back(softmax_row(
      "method_log_softmax", "log_softmax", -1,
      [](const TensorList& in) { return in[0].log_softmax(-1); }, true));
  return rows;
}

}  // namespace graft::testing
