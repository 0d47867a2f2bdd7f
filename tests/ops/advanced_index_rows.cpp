// Registry rows of advanced indexing (t.index, t[...], t.index_put_ with tensor indices) and
// nonzero. Inputs are (2, 3, 4) ((0, 3, 4) in the empty layout); index tensors and masks are
// inputs of their own, made as is and never differentiated, so the references read them.
//
// Each reference spells out, per output element, the coordinates of x it comes from (or,
// for index_put_, the element each value goes to): NumPy's and libtorch's rules written as
// plain loops, one row per rule: negative values, a 2-D index with repeats (whose gradient
// must add up), int32 indices, bool and uint8 masks of one and two dims, integers, slices,
// None and Ellipsis mixed in, adjacent tensor indices (B stays in place) and separated ones
// (B goes first). Repeated positions without accumulate keep the last value on the CPU only
// and have no gradient for the values they lose, so they are tested in
// tests/core/advanced_indexing_test.cpp rather than here (a row must pass CUDA parity and
// gradcheck).
#include <functional>

#include "op_info.h"
#include "test_util.h"

namespace graft::testing {
namespace {

using Refs = const std::vector<RefTensor>&;
using Coords = std::function<Shape(const Shape&)>;

Tensor index64(const std::vector<double>& values, const Shape& shape) {
  return make_tensor(values, shape, kInt64);
}
Tensor mask(const std::vector<double>& values, const Shape& shape, DType dtype = kBool) {
  return make_tensor(values, shape, dtype);
}

// An index or mask input: the same tensor in every layout, or `for_empty` in the empty one
// (a mask over dim 0 must have dim 0's size, 0 there).
InputSpec given(Tensor t, std::optional<Tensor> for_empty = std::nullopt) {
  InputSpec spec;
  spec.make = [t = std::move(t), for_empty = std::move(for_empty)](Layout layout) {
    return layout == Layout::empty && for_empty ? *for_empty : t;
  };
  return spec;
}

// A values input of `shape` in every layout (so it broadcasts to the indexed shape).
InputSpec values_of(const Shape& shape) { return InputSpec(shape, kAny, shape, shape); }

// Index value v on a dim of size n, negative values counting from the end.
int64_t wrap(double v, int64_t n) {
  const auto k = static_cast<int64_t>(v);
  return k < 0 ? k + n : k;
}
int64_t at(const RefTensor& index, int64_t i) {
  return static_cast<int64_t>(index.values[static_cast<size_t>(i)]);
}

// The coordinates of a mask's true elements, row-major: what nonzero() returns.
std::vector<Shape> true_coords(const RefTensor& m) {
  std::vector<Shape> out;
  for (int64_t i = 0; i < m.shape.numel(); ++i)
    if (m.values[static_cast<size_t>(i)] != 0) out.push_back(unravel(i, m.shape));
  return out;
}

// out of `shape`, out[p] = x[source(p)].
RefTensor read_at(const RefTensor& x, const Shape& shape, const Coords& source) {
  RefTensor out{shape, {}};
  for (int64_t i = 0; i < shape.numel(); ++i) out.values.push_back(x.at(source(unravel(i, shape))));
  return out;
}

// x with, for each p of `over` in row-major order, x[target(p)] = value(p), or += with
// accumulate.
RefTensor write_at(RefTensor x, const Shape& over, const Coords& target,
                   const std::function<double(const Shape&)>& value, bool accumulate) {
  const Shape strides = row_major_strides(x.shape);
  for (int64_t i = 0; i < over.numel(); ++i) {
    const Shape p = unravel(i, over), t = target(p);
    int64_t offset = 0;
    for (int64_t k = 0; k < t.size(); ++k) offset += t[k] * strides[k];
    double& dst = x.values[static_cast<size_t>(offset)];
    dst = accumulate ? dst + value(p) : value(p);
  }
  return x;
}

}  // namespace

std::vector<OpInfo> advanced_index_rows() {
  const InputSpec x{{2, 3, 4}};
  const std::vector<Layout> filled = {Layout::contiguous, Layout::transposed, Layout::sliced,
                                      Layout::broadcast};
  std::vector<Layout> with_empty = filled;
  with_empty.push_back(Layout::empty);
  std::vector<Layout> all(std::begin(kAllLayouts), std::end(kAllLayouts));
  // x[[[1, 0, 1], [0, 1, 1]]] as a mask of x's first two dims: four true, row-major
  // (0, 0), (0, 2), (1, 1), (1, 2).
  const Tensor mask_2x3 = mask({1, 0, 1, 0, 1, 1}, {2, 3});
  const Tensor mask_0x3 = mask({}, {0, 3});

  std::vector<OpInfo> rows = {
      // x[:, [-1, 2, 0, -3]]: (s0, 4, 4)
      row_of(
          "index_negative_values", "index", {x, given(index64({-1, 2, 0, -3}, {4}))},
          [](const TensorList& in) {
            return in[0].index({Slice(), in[1]});
          },
          [](Refs in) {
            const Shape& s = in[0].shape;
            return read_at(in[0], {s[0], 4, s[2]}, [&](const Shape& p) {
              return Shape{p[0], wrap(at(in[1], p[1]), s[1]), p[2]};
            });
          },
          with_empty),
      // x[..., idx] with idx (2, 3) naming column 3 four times (-1 is 3): (s0, s1, 2, 3); the
      // gradient of x[..., 3] is the sum of four.
      row_of(
          "index_repeated_2d_index", "index", {x, given(index64({3, 0, 3, 1, 3, -1}, {2, 3}))},
          [](const TensorList& in) {
            return in[0].index({Ellipsis, in[1]});
          },
          [](Refs in) {
            const Shape& s = in[0].shape;
            return read_at(in[0], {s[0], s[1], 2, 3}, [&](const Shape& p) {
              return Shape{p[0], p[1], wrap(at(in[1], p[2] * 3 + p[3]), 4)};
            });
          },
          with_empty),
      // x[idx] with an int32 idx: (3, 3, 4)
      row_of(
          "index_int32_index", "index", {x, given(make_tensor({1, 0, -1}, {3}, kInt32))},
          [](const TensorList& in) { return in[0].index({in[1]}); },
          [](Refs in) {
            return read_at(in[0], {3, 3, 4}, [&](const Shape& p) {
              return Shape{wrap(at(in[1], p[0]), 2), p[1], p[2]};
            });
          },
          filled),
      // x[mask] with a mask of dims 0 and 1: (4, 4), rows in the mask's row-major order.
      row_of(
          "index_bool_mask_of_two_dims", "index", {x, given(mask_2x3, mask_0x3)},
          [](const TensorList& in) { return in[0].index({in[1]}); },
          [](Refs in) {
            const std::vector<Shape> hits = true_coords(in[1]);
            return read_at(in[0], {static_cast<int64_t>(hits.size()), 4}, [&](const Shape& p) {
              return Shape{hits[p[0]][0], hits[p[0]][1], p[1]};
            });
          },
          with_empty),
      // x[:, mask] with a uint8 mask of dims 1 and 2: (s0, 5)
      row_of(
          "index_uint8_mask_after_a_slice", "index",
          {x, given(mask({0, 1, 0, 0, 1, 0, 0, 1, 0, 0, 1, 1}, {3, 4}, kUInt8))},
          [](const TensorList& in) {
            return in[0].index({Slice(), in[1]});
          },
          [](Refs in) {
            const std::vector<Shape> hits = true_coords(in[1]);
            return read_at(in[0], {in[0].shape[0], static_cast<int64_t>(hits.size())},
                           [&](const Shape& p) {
                             return Shape{p[0], hits[p[1]][0], hits[p[1]][1]};
                           });
          },
          with_empty),
      // x[0, :, idx]: the integer is a select first, so idx's dim stays where it stands:
      // (3, 2), as libtorch (NumPy's (2, 3) counts the 0 as an index tensor).
      row_of(
          "index_integer_slice_tensor_in_libtorch_order", "index",
          {x, given(index64({3, -4}, {2}))},
          [](const TensorList& in) {
            return in[0].index({0, Slice(), in[1]});
          },
          [](Refs in) {
            return read_at(in[0], {3, 2}, [&](const Shape& p) {
              return Shape{0, p[0], wrap(at(in[1], p[1]), 4)};
            });
          },
          filled),
      // x[a, :, b] with a (2, 1) and b (3,): separated, so B = (2, 3) goes first: (2, 3, s1)
      row_of(
          "index_separated_tensors_go_first", "index",
          {x, given(index64({1, 0}, {2, 1})), given(index64({0, 3, -1}, {3}))},
          [](const TensorList& in) {
            return in[0].index({in[1], Slice(), in[2]});
          },
          [](Refs in) {
            return read_at(in[0], {2, 3, in[0].shape[1]}, [&](const Shape& p) {
              return Shape{at(in[1], p[0]), p[2], wrap(at(in[2], p[1]), 4)};
            });
          },
          filled),
      // x[:, a, b] with a (2, 1) and b (3,): adjacent, so B = (2, 3) stays in place: (s0, 2, 3)
      row_of(
          "index_adjacent_tensors_keep_their_place", "index",
          {x, given(index64({2, 0}, {2, 1})), given(index64({1, -1, 0}, {3}))},
          [](const TensorList& in) {
            return in[0].index({Slice(), in[1], in[2]});
          },
          [](Refs in) {
            return read_at(in[0], {in[0].shape[0], 2, 3}, [&](const Shape& p) {
              return Shape{p[0], at(in[1], p[1]), wrap(at(in[2], p[2]), 4)};
            });
          },
          with_empty),
      // x[None, mask]: None adds a dim, the mask covers x's dims 0 and 1: (1, 4, 4)
      row_of(
          "index_none_then_mask", "index", {x, given(mask_2x3, mask_0x3)},
          [](const TensorList& in) {
            return in[0].index({None, in[1]});
          },
          [](Refs in) {
            const std::vector<Shape> hits = true_coords(in[1]);
            return read_at(in[0], {1, static_cast<int64_t>(hits.size()), 4}, [&](const Shape& p) {
              return Shape{hits[p[1]][0], hits[p[1]][1], p[2]};
            });
          },
          with_empty),
      // x[..., None, idx]: the Ellipsis covers dims 0 and 1: (s0, s1, 1, 2)
      row_of(
          "index_ellipsis_none_tensor", "index", {x, given(index64({2, 2}, {2}))},
          [](const TensorList& in) {
            return in[0].index({Ellipsis, None, in[1]});
          },
          [](Refs in) {
            const Shape& s = in[0].shape;
            return read_at(in[0], {s[0], s[1], 1, 2}, [&](const Shape& p) {
              return Shape{p[0], p[1], at(in[1], p[3])};
            });
          },
          with_empty),
      // x[True]: a 0-d mask is a mask over a new dim of size 1: (1, *x.shape)
      row_of(
          "index_zero_dim_mask", "index", {x, given(mask({1}, {}))},
          [](const TensorList& in) { return in[0].index({in[1]}); },
          [](Refs in) {
            Shape shape = in[0].shape;
            shape.insert(0, 1);
            return read_at(in[0], shape, [](const Shape& p) {
              Shape q = p;
              q.erase(0);
              return q;
            });
          },
          all),
      // x[idx] through operator[]: advanced indexing on dim 0
      row_of(
          "subscript_tensor", "operator[]", {x, given(index64({1, -2, 1}, {3}))},
          [](const TensorList& in) { return in[0][in[1]]; },
          [](Refs in) {
            return read_at(in[0], {3, 3, 4}, [&](const Shape& p) {
              return Shape{wrap(at(in[1], p[0]), 2), p[1], p[2]};
            });
          },
          filled),
      // x[1][-1]: two selects (views)
      row_of(
          "subscript_integers", "operator[]", {x},
          [](const TensorList& in) { return in[0][1][-1]; },
          [](Refs in) {
            return read_at(in[0], {4}, [](const Shape& p) { return Shape{1, 2, p[0]}; });
          },
          filled),
      // ---- index_put_ (in place; `writable` copies inputs that cannot be written)
      // y[:, [2, -3]] = v, v (2, 4) broadcast over dim 0
      row_of(
          "index_put_", "index_put", {x, given(index64({2, -3}, {2})), values_of({2, 4})},
          [](const TensorList& in) {
            const Tensor y = writable(in[0]);
            return y.index_put_({Slice(), in[1]}, in[2]);
          },
          [](Refs in) {
            return write_at(
                in[0], {in[0].shape[0], 2, 4},
                [&](const Shape& p) {
                  return Shape{p[0], wrap(at(in[1], p[1]), 3), p[2]};
                },
                [&](const Shape& p) { return broadcast_at(in[2], p); }, false);
          },
          with_empty),
      // y[..., idx] += v with idx (2, 2) naming column 1 three times: all three add.
      row_of(
          "index_put_accumulate_repeated", "index_put",
          {x, given(index64({1, 3, 1, -3}, {2, 2})), values_of({3, 1, 2})},
          [](const TensorList& in) {
            const Tensor y = writable(in[0]);
            return y.index_put_({Ellipsis, in[1]}, in[2], /*accumulate=*/true);
          },
          [](Refs in) {
            const Shape& s = in[0].shape;
            return write_at(
                in[0], {s[0], s[1], 2, 2},
                [&](const Shape& p) {
                  return Shape{p[0], p[1], wrap(at(in[1], p[2] * 2 + p[3]), 4)};
                },
                [&](const Shape& p) { return broadcast_at(in[2], p); }, true);
          },
          with_empty),
      // y[mask] = 3 (a Scalar)
      row_of(
          "index_put_mask_scalar", "index_put", {x, given(mask_2x3, mask_0x3)},
          [](const TensorList& in) {
            const Tensor y = writable(in[0]);
            return y.index_put_({in[1]}, 3);
          },
          [](Refs in) {
            const std::vector<Shape> hits = true_coords(in[1]);
            return write_at(
                in[0], {static_cast<int64_t>(hits.size()), 4},
                [&](const Shape& p) {
                  return Shape{hits[p[0]][0], hits[p[0]][1], p[1]};
                },
                [](const Shape&) { return 3.0; }, false);
          },
          with_empty),
      // y[a, :, b] += v: separated, B = (2, 3) first, every (a, b) pair names y[1, :, 3].
      row_of(
          "index_put_separated_accumulate", "index_put",
          {x, given(index64({1, -1}, {2, 1})), given(index64({3, 3, -1}, {3})), values_of({3, 1})},
          [](const TensorList& in) {
            const Tensor y = writable(in[0]);
            return y.index_put_({in[1], Slice(), in[2]}, in[3], /*accumulate=*/true);
          },
          [](Refs in) {
            return write_at(
                in[0], {2, 3, 3},
                [&](const Shape& p) {
                  return Shape{wrap(at(in[1], p[0]), 2), p[2], wrap(at(in[2], p[1]), 4)};
                },
                [&](const Shape& p) { return broadcast_at(in[3], p); }, true);
          },
          filled),
      // y[0, mask] = v: the integer selects, the mask covers what was dim 1: (2, 4) written
      row_of(
          "index_put_select_then_mask", "index_put",
          {x, given(mask({1, 0, 1}, {3})), values_of({4})},
          [](const TensorList& in) {
            const Tensor y = writable(in[0]);
            return y.index_put_({0, in[1]}, in[2]);
          },
          [](Refs in) {
            const std::vector<Shape> hits = true_coords(in[1]);
            return write_at(
                in[0], {static_cast<int64_t>(hits.size()), 4},
                [&](const Shape& p) {
                  return Shape{0, hits[p[0]][0], p[1]};
                },
                [&](const Shape& p) { return broadcast_at(in[2], p); }, false);
          },
          filled),
      // y[:, 1] += v: basic indices only, accumulate is an add_ through the view
      row_of(
          "index_put_basic_accumulate", "index_put", {x, values_of({4})},
          [](const TensorList& in) {
            const Tensor y = writable(in[0]);
            return y.index_put_({Slice(), 1}, in[1], /*accumulate=*/true);
          },
          [](Refs in) {
            return write_at(
                in[0], {in[0].shape[0], 4},
                [](const Shape& p) {
                  return Shape{p[0], 1, p[1]};
                },
                [&](const Shape& p) { return broadcast_at(in[1], p); }, true);
          },
          with_empty),
  };
  for (OpInfo& row : rows) row.in_place = row.op == "index_put";

  // nonzero: the coordinates of x's positive elements (relu zeroes the rest), row-major.
  auto nonzero_reference = [](Refs in) {
    const std::vector<Shape> hits = true_coords(in[0]);
    const int64_t rank = in[0].shape.size();
    RefTensor out{{static_cast<int64_t>(hits.size()), rank}, {}};
    for (const Shape& h : hits)
      for (int64_t d = 0; d < rank; ++d) out.values.push_back(static_cast<double>(h[d]));
    return out;
  };
  OpInfo nz = row_of(
      "nonzero", "nonzero", {x}, [](const TensorList& in) { return nonzero(relu(in[0])); },
      [nonzero_reference](Refs in) {
        RefTensor positive = in[0];
        for (double& v : positive.values) v = v > 0 ? 1 : 0;
        return nonzero_reference({positive});
      },
      all);
  OpInfo nz_mask = row_of(
      "nonzero_method_of_a_mask", "nonzero", {x},
      [](const TensorList& in) { return (in[0] > 0.5).nonzero(); },
      [nonzero_reference](Refs in) {
        RefTensor over = in[0];
        for (double& v : over.values) v = v > 0.5 ? 1 : 0;
        return nonzero_reference({over});
      },
      all);
  for (OpInfo* row : {&nz, &nz_mask}) {
    row->differentiable = false;
    row->result_dtype = [](DType) { return kInt64; };
    rows.push_back(*row);
  }
  return rows;
}

}  // namespace graft::testing
