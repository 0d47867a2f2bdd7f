// Registry rows of joining and indexing: cat, stack, nn::functional::pad, gather,
// index_select, scatter_add (out of place, in place, through a view). Inputs are (2, 3, 4); index
// tensors are inputs of their own (made as is, never differentiated) so the references see them. A
// 0-d input has only dim 0 and the index of its only element.
#include <algorithm>

#include "op_info.h"
#include "test_util.h"

namespace graft::testing {
namespace {

Tensor index64(const std::vector<double>& values, const Shape& shape) {
  return make_tensor(values, shape, kInt64);
}

// Indices into dim 1 (size 3) of a (2, 3, 4) input, shaped (2, 2, 4), with repeats.
Tensor rows_index() {
  return index64({0, 2, 1, 1, 2, 2, 0, 1, /**/ 1, 0, 0, 2, 2, 1, 1, 0}, {2, 2, 4});
}

// An index input: `index` itself, or for a 0-d sample the index of the only element.
InputSpec index_input(std::function<Tensor()> index) {
  InputSpec spec;
  spec.make = [index = std::move(index)](Layout layout) {
    return layout == Layout::zero_dim ? index64({0}, {}) : index();
  };
  return spec;
}

int64_t dim_for(const Tensor& x, int64_t dim) { return x.dim() == 0 ? 0 : dim; }
int64_t wrap(int64_t dim, int64_t rank) { return rank == 0 ? 0 : (dim + rank) % rank; }

// ---- references

RefTensor concat(const std::vector<RefTensor>& parts, int64_t dim) {
  RefTensor out{parts[0].shape, {}};
  const int64_t d = wrap(dim, out.shape.size());
  out.shape[d] = 0;
  for (const RefTensor& p : parts) out.shape[d] += p.shape[d];
  for (int64_t i = 0; i < out.shape.numel(); ++i) {
    Shape index = unravel(i, out.shape);
    for (const RefTensor& p : parts) {
      if (index[d] < p.shape[d]) {
        out.values.push_back(p.at(index));
        break;
      }
      index[d] -= p.shape[d];
    }
  }
  return out;
}

RefTensor unsqueezed(RefTensor t, int64_t dim) {
  t.shape.insert(wrap(dim, t.shape.size() + 1), 1);
  return t;
}

// out[p] = x[p with p[dim] = index[p]]
RefTensor gathered(const RefTensor& x, int64_t dim, const RefTensor& index) {
  RefTensor out{index.shape, {}};
  const int64_t d = wrap(dim, x.shape.size());
  for (int64_t i = 0; i < index.shape.numel(); ++i) {
    Shape p = unravel(i, index.shape);
    if (!p.empty()) p[d] = static_cast<int64_t>(index.values[static_cast<size_t>(i)]);
    out.values.push_back(x.at(p));
  }
  return out;
}

// out = x; out[p with p[dim] = index[p]] += src[p] for every p of index.
RefTensor scattered(RefTensor x, int64_t dim, const RefTensor& index, const RefTensor& src) {
  const int64_t d = wrap(dim, x.shape.size());
  const Shape strides = row_major_strides(x.shape);
  for (int64_t i = 0; i < index.shape.numel(); ++i) {
    Shape p = unravel(i, index.shape);
    const double v = src.at(p);
    if (!p.empty()) p[d] = static_cast<int64_t>(index.values[static_cast<size_t>(i)]);
    int64_t offset = 0;
    for (int64_t k = 0; k < p.size(); ++k) offset += p[k] * strides[k];
    x.values[static_cast<size_t>(offset)] += v;
  }
  return x;
}

RefTensor selected(const RefTensor& x, int64_t dim, const RefTensor& index) {
  RefTensor out{x.shape, {}};
  const int64_t d = wrap(dim, x.shape.size());
  if (!out.shape.empty()) out.shape[d] = index.shape.numel();
  for (int64_t i = 0; i < out.shape.numel(); ++i) {
    Shape p = unravel(i, out.shape);
    if (!p.empty()) p[d] = static_cast<int64_t>(index.values[static_cast<size_t>(p[d])]);
    out.values.push_back(x.at(p));
  }
  return out;
}

// x padded with `value` by (before, after) pairs for its last dims, the last dim's first;
// a negative amount crops. Each output element reads x at its index less `before`.
RefTensor padded(const RefTensor& x, const std::vector<int64_t>& pad, double value) {
  RefTensor out{x.shape, {}};
  const int64_t last = x.shape.size() - 1;
  for (size_t p = 0; p < pad.size() / 2; ++p)
    out.shape[last - static_cast<int64_t>(p)] += pad[2 * p] + pad[2 * p + 1];
  for (int64_t i = 0; i < out.shape.numel(); ++i) {
    Shape at = unravel(i, out.shape);
    bool inside = true;
    for (size_t p = 0; p < pad.size() / 2; ++p) {
      const int64_t dim = last - static_cast<int64_t>(p);
      at[dim] -= pad[2 * p];
      inside = inside && at[dim] >= 0 && at[dim] < x.shape[dim];
    }
    out.values.push_back(inside ? x.at(at) : value);
  }
  return out;
}

}  // namespace

std::vector<OpInfo> index_rows() {
  const InputSpec x{{2, 3, 4}};
  const std::vector<Layout> all(std::begin(kAllLayouts), std::end(kAllLayouts));
  const std::vector<Layout> no_zero_dim = {Layout::contiguous, Layout::transposed, Layout::sliced,
                                           Layout::broadcast, Layout::empty};
  const std::vector<Layout> filled = {Layout::contiguous, Layout::transposed, Layout::sliced,
                                      Layout::broadcast, Layout::zero_dim};
  const std::vector<Layout> filled_no_zero_dim = {Layout::contiguous, Layout::transposed,
                                                  Layout::sliced, Layout::broadcast};
  using Refs = const std::vector<RefTensor>&;
  std::vector<OpInfo> rows = {
      row_of(
          "cat", "cat", {x, {{2, 2, 4}}},
          [](const TensorList& in) {
            return cat({in[0], in[1]}, 1);
          },
          [](Refs in) {
            return concat({in[0], in[1]}, 1);
          },
          no_zero_dim),
      row_of(
          "cat_negative_dim_with_skipped_empty", "cat", {x},
          [](const TensorList& in) {
            return cat({in[0], zeros({0}, TensorOptions(in[0].dtype()).device(in[0].device())),
                        in[0] * in[0]},
                       -1);
          },
          [](Refs in) {
            RefTensor squared = in[0];
            for (double& v : squared.values) v *= v;
            return concat({in[0], squared}, -1);
          },
          no_zero_dim),
      row_of(
          "stack", "stack", {x, x},
          [](const TensorList& in) {
            return stack({in[0], in[1]});
          },
          [](Refs in) {
            return concat({unsqueezed(in[0], 0), unsqueezed(in[1], 0)}, 0);
          },
          all),
      row_of(
          "stack_last_dim", "stack", {x},
          [](const TensorList& in) {
            return stack({in[0], in[0] * in[0]}, -1);
          },
          [](Refs in) {
            RefTensor squared = in[0];
            for (double& v : squared.values) v *= v;
            return concat({unsqueezed(in[0], -1), unsqueezed(squared, -1)}, -1);
          },
          all),
      // Padding on both sides of the last dim and cropping dim 1 from its end, then
      // cropping the last dim's front; whole values, which an integer input holds exactly.
      row_of(
          "pad", "pad", {x},
          [](const TensorList& in) {
            return nn::functional::pad(in[0], {2, 1, 0, -1}, -1.0);
          },
          [](Refs in) {
            return padded(in[0], {2, 1, 0, -1}, -1.0);
          },
          no_zero_dim),
      row_of(
          "pad_crops_and_pads_one_dim", "pad", {x},
          [](const TensorList& in) {
            return nn::functional::pad(in[0], {-1, 2}, 3.0);
          },
          [](Refs in) {
            return padded(in[0], {-1, 2}, 3.0);
          },
          filled_no_zero_dim),
      row_of(
          "gather", "gather", {x, index_input(rows_index)},
          [](const TensorList& in) { return gather(in[0], dim_for(in[0], 1), in[1]); },
          [](Refs in) { return gathered(in[0], 1, in[1]); }, filled),
      row_of(
          "gather_method_last_dim", "gather", {x, index_input([] {
                                                 return index64({3, 3, 0, 1, 2, 0}, {2, 1, 3});
                                               })},
          [](const TensorList& in) { return in[0].gather(-1, in[1]); },
          [](Refs in) { return gathered(in[0], -1, in[1]); }, filled_no_zero_dim),
      row_of(
          "index_select", "index_select", {x, index_input([] {
                                             return index64({3, 0, 3}, {3});
                                           })},
          [](const TensorList& in) { return index_select(in[0], dim_for(in[0], 2), in[1]); },
          [](Refs in) { return selected(in[0], 2, in[1]); }, filled),
      row_of(
          "index_select_int32_index", "index_select", {x, index_input([] {
                                                         return make_tensor({1, 1, 0}, {3}, kInt32);
                                                       })},
          [](const TensorList& in) { return in[0].index_select(0, in[1]); },
          [](Refs in) { return selected(in[0], 0, in[1]); }, filled_no_zero_dim),
      row_of(
          "scatter_add", "scatter_add", {x, index_input(rows_index), {{2, 2, 4}}},
          [](const TensorList& in) { return scatter_add(in[0], 1, in[1], in[2]); },
          [](Refs in) { return scattered(in[0], 1, in[1], in[2]); }, filled_no_zero_dim),
      // The index covers only part of src: the rest of src gets no gradient.
      row_of(
          "scatter_add_src_larger_than_index", "scatter_add",
          {x, index_input([] {
             return index64({3, 0, 3, 1, 2, 2}, {1, 2, 3});
           }),
           x},
          [](const TensorList& in) { return in[0].scatter_add(2, in[1], in[2]); },
          [](Refs in) { return scattered(in[0], 2, in[1], in[2]); }, filled_no_zero_dim),
      row_of(
          "scatter_add_zero_dim", "scatter_add", {x, index_input(rows_index)},
          [](const TensorList& in) {
            return scatter_add(in[0], dim_for(in[0], 1), in[1], in[0] * in[0]);
          },
          [](Refs in) {
            RefTensor squared = in[0];
            for (double& v : squared.values) v *= v;
            return scattered(in[0], 1, in[1], squared);
          },
          filled),
      row_of(
          "scatter_add_", "scatter_add", {x, index_input(rows_index), {{2, 2, 4}}},
          [](const TensorList& in) {
            const Tensor y = writable(in[0]);
            return y.scatter_add_(1, in[1], in[2]);
          },
          [](Refs in) { return scattered(in[0], 1, in[1], in[2]); }, filled_no_zero_dim),
      // Into columns 1..3 of y: the index and src cover 3 of the 4 columns.
      row_of(
          "scatter_add_through_a_view", "scatter_add",
          {x, index_input([] { return rows_index().narrow(2, 0, 3); }), {{2, 2, 3}}},
          [](const TensorList& in) {
            const Tensor y = writable(in[0]);
            y.narrow(2, 1, 3).scatter_add_(1, in[1], in[2]);
            return y;
          },
          [](Refs in) {
            RefTensor shifted = in[1];  // the view's column c is y's column c + 1
            RefTensor out = in[0];
            const Shape strides = row_major_strides(out.shape);
            for (int64_t i = 0; i < shifted.shape.numel(); ++i) {
              const Shape p = unravel(i, shifted.shape);
              const int64_t row = static_cast<int64_t>(shifted.values[static_cast<size_t>(i)]);
              out.values[static_cast<size_t>(p[0] * strides[0] + row * strides[1] +
                                             (p[2] + 1) * strides[2])] += in[2].at(p);
            }
            return out;
          },
          filled_no_zero_dim),
  };
  for (OpInfo& row : rows)
    row.in_place = row.name == "scatter_add_" || row.name == "scatter_add_through_a_view";
  return rows;
}

}  // namespace graft::testing
