// Registry rows of sorting and sampling: sort, argsort, topk (every form of their
// arguments) and multinomial. The sorting rows' inputs are (2, 3, 4); integer samples are
// rounded from [-2, 2), so they hold many ties, which the stable order must keep in index
// order, and the broadcast layout repeats rows along dim 0, which gives ties along dim 0 in
// every dtype. A 0-d input has only dim 0 (or -1), of size 1. multinomial's inputs are rows
// of weights in [0.5, 2), (4, 6) or (7).
//
// The references are naive: an insertion sort of each lane in double that moves an element
// left only past elements it strictly goes before (so ties keep their order), with NaN the
// largest value; multinomial's replays the documented draws (kernels/multinomial.h) from
// the Philox stream in plain loops.
#include <algorithm>
#include <cmath>
#include <string>
#include <tuple>
#include <vector>

#include "graft/core/random.h"
#include "op_info.h"

namespace graft::testing {
namespace {

// ---- sort and topk

int64_t dim_for(const Tensor& x, int64_t dim) { return x.dim() == 0 ? 0 : dim; }
// k for a row's lanes: at most the lane length, which is 1 for a 0-d input.
int64_t k_for(const Tensor& x, int64_t k) { return x.dim() == 0 ? 1 : k; }

// a < b with NaN above everything; -0.0 and 0.0 are equal.
bool less_nan_largest(double a, double b) {
  if (std::isnan(a)) return false;
  if (std::isnan(b)) return true;
  return a < b;
}

// The positions of `lane` in the op's order, by insertion sort: each element moves left
// past the elements it strictly goes before, never past an equal one.
std::vector<int64_t> stable_order(const std::vector<double>& lane, bool descending) {
  const auto before = [descending](double a, double b) {
    return descending ? less_nan_largest(b, a) : less_nan_largest(a, b);
  };
  std::vector<int64_t> order;
  for (int64_t j = 0; j < static_cast<int64_t>(lane.size()); ++j) {
    auto at = order.end();
    while (at != order.begin() && before(lane[j], lane[*(at - 1)])) --at;
    order.insert(at, j);
  }
  return order;
}

// For every lane along `dim` of x: the first k positions of its order (all of them when
// k < 0), put back in index order when `index_order`; {values, indices} with k along dim.
std::vector<RefTensor> ordered_lanes(const RefTensor& x, int64_t dim, int64_t k, bool descending,
                                     bool index_order = false) {
  const Shape& shape = x.shape;
  const int64_t rank = shape.size();
  const int64_t d = rank == 0 ? 0 : (dim + rank) % rank;
  int64_t outer = 1, inner = 1;
  for (int64_t i = 0; i < rank; ++i) {
    if (i < d) outer *= shape[i];
    if (i > d) inner *= shape[i];
  }
  const int64_t n = rank == 0 ? 1 : shape[d];
  if (k < 0) k = n;
  Shape out_shape = shape;
  if (rank > 0) out_shape[d] = k;
  RefTensor values{out_shape, std::vector<double>(static_cast<size_t>(outer * k * inner))};
  RefTensor indices = values;
  for (int64_t o = 0; o < outer; ++o) {
    for (int64_t i = 0; i < inner; ++i) {
      std::vector<double> lane;
      for (int64_t j = 0; j < n; ++j)
        lane.push_back(x.values[static_cast<size_t>((o * n + j) * inner + i)]);
      std::vector<int64_t> kept = stable_order(lane, descending);
      kept.resize(static_cast<size_t>(k));
      if (index_order) std::sort(kept.begin(), kept.end());
      for (int64_t j = 0; j < k; ++j) {
        const auto at = static_cast<size_t>((o * k + j) * inner + i);
        values.values[at] = lane[static_cast<size_t>(kept[static_cast<size_t>(j)])];
        indices.values[at] = static_cast<double>(kept[static_cast<size_t>(j)]);
      }
    }
  }
  return {values, indices};
}

OpInfo sort_row(std::string name, std::string op, std::function<TensorList(const TensorList&)> call,
                Reference reference) {
  OpInfo row;
  row.name = std::move(name);
  row.op = std::move(op);
  row.inputs = {InputSpec{{2, 3, 4}}};
  row.call = std::move(call);
  row.reference = std::move(reference);
  return row;
}

TensorList pair(const std::tuple<Tensor, Tensor>& t) { return {std::get<0>(t), std::get<1>(t)}; }

std::vector<OpInfo> sort_and_topk_rows() {
  using Refs = const std::vector<RefTensor>&;
  std::vector<OpInfo> rows = {
      sort_row(
          "sort", "sort", [](const TensorList& in) { return pair(sort(in[0])); },
          [](Refs in) { return ordered_lanes(in[0], -1, -1, false); }),
      sort_row(
          "sort_method_dim1_descending", "sort",
          [](const TensorList& in) { return pair(in[0].sort(dim_for(in[0], 1), true)); },
          [](Refs in) { return ordered_lanes(in[0], 1, -1, true); }),
      sort_row(
          "sort_dim0", "sort", [](const TensorList& in) { return pair(sort(in[0], 0)); },
          [](Refs in) { return ordered_lanes(in[0], 0, -1, false); }),
      sort_row(
          "argsort", "argsort", single([](const TensorList& in) { return argsort(in[0]); }),
          [](Refs in) { return std::vector<RefTensor>{ordered_lanes(in[0], -1, -1, false)[1]}; }),
      sort_row(
          "argsort_method_dim0_descending", "argsort",
          single([](const TensorList& in) { return in[0].argsort(0, true); }),
          [](Refs in) { return std::vector<RefTensor>{ordered_lanes(in[0], 0, -1, true)[1]}; }),
      sort_row(
          "topk", "topk", [](const TensorList& in) { return pair(topk(in[0], k_for(in[0], 2))); },
          [](Refs in) { return ordered_lanes(in[0], -1, in[0].shape.size() == 0 ? 1 : 2, true); }),
      sort_row(
          "topk_method_smallest_dim1", "topk",
          [](const TensorList& in) {
            return pair(in[0].topk(k_for(in[0], 2), dim_for(in[0], 1), false));
          },
          [](Refs in) { return ordered_lanes(in[0], 1, in[0].shape.size() == 0 ? 1 : 2, false); }),
      sort_row(
          "topk_unsorted_in_index_order", "topk",
          [](const TensorList& in) { return pair(topk(in[0], k_for(in[0], 3), -1, true, false)); },
          [](Refs in) {
            return ordered_lanes(in[0], -1, in[0].shape.size() == 0 ? 1 : 3, true, true);
          }),
      sort_row(
          "topk_smallest_unsorted_dim0_k_is_size", "topk",
          [](const TensorList& in) {
            return pair(topk(in[0], in[0].dim() == 0 ? 1 : in[0].size(0), 0, false, false));
          },
          [](Refs in) { return ordered_lanes(in[0], 0, -1, false, true); }),
  };
  for (OpInfo& row : rows) {
    // Sorted along dim 0, the broadcast layout's equal rows tie everywhere: a kink, where
    // central differences see half of each one-sided slope. The ties' forward order is
    // checked by the argsort and topk rows along dim 0.
    if (row.name == "sort_dim0")
      row.layouts.erase(std::find(row.layouts.begin(), row.layouts.end(), Layout::broadcast));
    if (row.op == "argsort") {
      row.result_dtype = [](DType) { return kInt64; };
      row.differentiable = false;
    }
  }
  return rows;
}

// ---- multinomial

constexpr uint64_t kSeed = 20240607;

// The uniform of draw e of a call right after manual_seed(kSeed): 53 bits from words
// 2 (e % 2) and 2 (e % 2) + 1 of block e / 2, times 2^-53.
double uniform_of_draw(int64_t e) {
  const PhiloxBlock block = philox_block(kSeed, static_cast<uint64_t>(e / 2));
  const int w = 2 * static_cast<int>(e % 2);
  const uint64_t bits = ((static_cast<uint64_t>(block.words[w]) << 32) | block.words[w + 1]) >> 11;
  return static_cast<double>(bits) * 0x1p-53;
}

// multinomial(x, samples, replacement) drawn by hand: per row, the first category whose
// running sum (of the weights not yet taken, without replacement) exceeds u * total.
RefTensor multinomial_reference(const RefTensor& x, int64_t samples, bool replacement) {
  const int64_t n = x.shape[x.shape.size() - 1];
  const int64_t rows = x.shape.size() == 2 ? x.shape[0] : 1;
  RefTensor out{x.shape.size() == 2 ? Shape{rows, samples} : Shape{samples}, {}};
  for (int64_t r = 0; r < rows; ++r) {
    std::vector<double> w(x.values.begin() + r * n, x.values.begin() + (r + 1) * n);
    for (int64_t s = 0; s < samples; ++s) {
      double total = 0;
      for (double v : w) total += v;
      const double target = uniform_of_draw(r * samples + s) * total;
      double running = 0;
      int64_t chosen = -1;
      for (int64_t i = 0; i < n && !(running > target); ++i) {
        if (w[i] == 0) continue;
        running += w[i];
        chosen = i;
      }
      if (!replacement) w[static_cast<size_t>(chosen)] = 0;
      out.values.push_back(static_cast<double>(chosen));
    }
  }
  return out;
}

// A row of multinomial(x, samples, replacement) on rows of weights drawn from [0.5, 2);
// with `with_zeros`, the weights below 1 are zeroed first (categories that must never come
// out). masked_fill keeps the dtype, so integer inputs still reach multinomial and are refused.
OpInfo multinomial_row(std::string name, Shape shape, int64_t samples, bool replacement,
                       bool with_zeros) {
  OpInfo row;
  row.name = std::move(name);
  row.op = "multinomial";
  row.inputs = {InputSpec{std::move(shape), kPositive}};
  row.call = single([=](const TensorList& in) {
    manual_seed(kSeed);
    const Tensor w = with_zeros ? masked_fill(in[0], in[0] < 1.0, 0) : in[0];
    return replacement ? multinomial(w, samples, true) : w.multinomial(samples);
  });
  row.reference = [=](const std::vector<RefTensor>& in) {
    RefTensor w = in[0];
    if (with_zeros)
      for (double& v : w.values) v = v < 1.0 ? 0.0 : v;
    return std::vector<RefTensor>{multinomial_reference(w, samples, replacement)};
  };
  row.layouts = {Layout::contiguous, Layout::transposed, Layout::sliced, Layout::broadcast,
                 Layout::empty};
  row.integers = Integers::refuse;
  row.result_dtype = [](DType) { return kInt64; };
  row.differentiable = false;
  return row;
}

}  // namespace

std::vector<OpInfo> sort_rows() {
  std::vector<OpInfo> rows = sort_and_topk_rows();
  rows.push_back(multinomial_row("multinomial_with_replacement", {4, 6}, 5, true, true));
  rows.push_back(
      multinomial_row("multinomial_method_without_replacement", {4, 6}, 4, false, false));
  // A 1-D distribution of 7 categories, all of them drawn; no empty layout (no categories
  // is an error, tested in tests/kernels/multinomial_test.cpp).
  OpInfo one_d = multinomial_row("multinomial_1d_without_replacement", {7}, 7, false, false);
  one_d.layouts.pop_back();
  rows.push_back(std::move(one_d));
  return rows;
}

}  // namespace graft::testing
