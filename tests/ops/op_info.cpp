// The registry's building blocks: sample inputs in every layout, and the naive
// double-precision references the rows compose (see op_info.h).
#include "op_info.h"

#include <algorithm>
#include <cmath>
#include <utility>

#include "test_util.h"

namespace graft::testing {

std::string layout_name(Layout layout) {
  switch (layout) {
    case Layout::contiguous:
      return "contiguous";
    case Layout::transposed:
      return "transposed";
    case Layout::sliced:
      return "sliced";
    case Layout::broadcast:
      return "broadcast";
    case Layout::zero_dim:
      return "zero_dim";
    case Layout::empty:
      return "empty";
  }
  return "";
}

const std::vector<OpInfo>& op_registry() {
  static const std::vector<OpInfo> rows = [] {
    std::vector<OpInfo> all;
    for (auto family :
         {elementwise_rows, reduction_rows, linalg_rows, index_rows, advanced_index_rows, sort_rows,
          scan_rows, conv_pool_rows, normalization_rows, attention_rows, loss_rows, layer_rows}) {
      std::vector<OpInfo> part = family();
      all.insert(all.end(), std::make_move_iterator(part.begin()),
                 std::make_move_iterator(part.end()));
    }
    return all;
  }();
  return rows;
}

// ---- sample inputs

Tensor make_input(const Shape& shape, Layout layout, Range range, uint32_t seed, DType dtype) {
  auto values = [&](const Shape& s) {
    std::vector<double> v = sample_values(s.numel(), range.lo, range.hi, seed);
    if (!is_floating_point(dtype))
      for (double& x : v) x = std::round(x);
    return make_tensor(v, s, dtype);
  };
  if (layout == Layout::transposed && shape.size() < 2) layout = Layout::sliced;
  if (shape.size() == 0 && layout != Layout::empty) layout = Layout::zero_dim;
  switch (layout) {
    case Layout::contiguous:
      return values(shape);
    case Layout::transposed: {
      Shape swapped = shape;
      std::swap(swapped[swapped.size() - 1], swapped[swapped.size() - 2]);
      return values(swapped).transpose(-2, -1);
    }
    case Layout::sliced: {
      Shape wide = shape;
      wide[wide.size() - 1] *= 2;
      return values(wide).index({Ellipsis, Slice(None, None, 2)});
    }
    case Layout::broadcast: {
      Shape one_row = shape;
      one_row[0] = 1;
      return values(one_row).expand(shape);
    }
    case Layout::zero_dim:
      return values({});
    case Layout::empty: {
      Shape none = shape.size() == 0 ? Shape{0} : shape;
      none[0] = 0;
      return values(none);
    }
  }
  return {};
}

Tensor make_sample_input(const OpInfo& row, size_t k, Layout layout, DType dtype,
                         bool requires_grad) {
  const InputSpec& spec = row.inputs[k];
  if (spec.make) return spec.make(layout);
  const auto seed = static_cast<uint32_t>(k + 1);
  Tensor t;
  if (layout == Layout::broadcast && spec.broadcast_shape)
    t = make_input(*spec.broadcast_shape, Layout::contiguous, spec.range, seed, dtype);
  else if (layout == Layout::empty && spec.empty_shape)
    t = make_input(*spec.empty_shape, Layout::contiguous, spec.range, seed, dtype);
  else
    t = make_input(spec.shape, layout, spec.range, seed, dtype);
  return requires_grad && is_floating_point(dtype) ? t.requires_grad_() : t;
}

InputSpec random_indices(Shape shape, int64_t count, uint32_t seed) {
  InputSpec spec;
  spec.make = [shape = std::move(shape), count, seed](Layout layout) {
    return make_input(shape, layout, {-0.49, static_cast<double>(count) - 0.51}, seed, kInt64);
  };
  return spec;
}

InputSpec fixed_values(std::vector<double> values, Shape shape) {
  InputSpec spec;
  spec.make = [values = std::move(values), shape = std::move(shape)](Layout) {
    return make_tensor(values, shape, kFloat64);
  };
  return spec;
}

Tensor like(const Tensor& t, const Tensor& x) { return t.to(x.dtype()).to(x.device()); }

RefTensor to_ref(const Tensor& t) { return {t.shape(), t.to_vector<double>()}; }

// ---- references

Shape row_major_strides(const Shape& shape) {
  Shape strides(std::vector<int64_t>(static_cast<size_t>(shape.size())));
  int64_t stride = 1;
  for (int64_t i = shape.size() - 1; i >= 0; --i) {
    strides[i] = stride;
    stride *= shape[i];
  }
  return strides;
}

Shape unravel(int64_t offset, const Shape& shape) {
  Shape index(std::vector<int64_t>(static_cast<size_t>(shape.size())));
  for (int64_t i = shape.size() - 1; i >= 0; --i) {
    index[i] = offset % shape[i];
    offset /= shape[i];
  }
  return index;
}

double RefTensor::at(const Shape& index) const {
  int64_t offset = 0;
  const Shape strides = row_major_strides(shape);
  for (int64_t i = 0; i < shape.size(); ++i) offset += index[i] * strides[i];
  return values[static_cast<size_t>(offset)];
}

Tensor writable(const Tensor& t) {
  bool broadcast = false;
  for (int64_t d = 0; d < t.dim(); ++d) broadcast |= t.stride(d) == 0 && t.size(d) > 1;
  return t.requires_grad() || broadcast ? t * 1 : t;
}

std::function<TensorList(const TensorList&)> single(std::function<Tensor(const TensorList&)> fn) {
  return [fn = std::move(fn)](const TensorList& in) { return TensorList{fn(in)}; };
}

OpInfo row_of(std::string name, std::string op, std::vector<InputSpec> inputs,
              std::function<Tensor(const TensorList&)> call,
              std::function<RefTensor(const std::vector<RefTensor>&)> reference,
              std::vector<Layout> layouts) {
  OpInfo row;
  row.name = std::move(name);
  row.op = std::move(op);
  row.inputs = std::move(inputs);
  row.call = single(std::move(call));
  row.reference = [reference = std::move(reference)](const std::vector<RefTensor>& in) {
    return std::vector<RefTensor>{reference(in)};
  };
  row.layouts = std::move(layouts);
  return row;
}

namespace {

// NumPy's broadcasting, written out: dims align at the right, a size 1 stretches.
Shape broadcast_all(const std::vector<RefTensor>& in) {
  int64_t rank = 0;
  for (const RefTensor& t : in) rank = std::max<int64_t>(rank, t.shape.size());
  Shape out(std::vector<int64_t>(static_cast<size_t>(rank)));
  for (int64_t i = 0; i < rank; ++i) out[i] = 1;
  for (const RefTensor& t : in)
    for (int64_t i = 0; i < t.shape.size(); ++i) {
      const int64_t d = rank - t.shape.size() + i;
      if (t.shape[i] != 1) out[d] = t.shape[i];
    }
  return out;
}

Reference pointwise_n(std::function<double(const std::vector<double>&)> fn) {
  return [fn = std::move(fn)](const std::vector<RefTensor>& in) {
    RefTensor out{broadcast_all(in), {}};
    std::vector<double> args(in.size());
    for (int64_t i = 0; i < out.shape.numel(); ++i) {
      const Shape index = unravel(i, out.shape);
      for (size_t k = 0; k < in.size(); ++k) args[k] = broadcast_at(in[k], index);
      out.values.push_back(fn(args));
    }
    return std::vector<RefTensor>{out};
  };
}

}  // namespace

double broadcast_at(const RefTensor& t, const Shape& index) {
  Shape own(std::vector<int64_t>(static_cast<size_t>(t.shape.size())));
  for (int64_t i = 0; i < t.shape.size(); ++i) {
    const int64_t d = index.size() - t.shape.size() + i;
    own[i] = t.shape[i] == 1 ? 0 : index[d];
  }
  return t.at(own);
}

Reference pointwise(std::function<double(double)> fn) {
  return pointwise_n([fn = std::move(fn)](const std::vector<double>& a) { return fn(a[0]); });
}
Reference pointwise(std::function<double(double, double)> fn) {
  return pointwise_n([fn = std::move(fn)](const std::vector<double>& a) { return fn(a[0], a[1]); });
}
Reference pointwise(std::function<double(double, double, double)> fn) {
  return pointwise_n(
      [fn = std::move(fn)](const std::vector<double>& a) { return fn(a[0], a[1], a[2]); });
}

Reference reduction(Dims dims, bool keepdim,
                    std::function<double(const std::vector<double>&)> fold) {
  return [dims, keepdim, fold = std::move(fold)](const std::vector<RefTensor>& in) {
    const RefTensor& x = in[0];
    const int64_t rank = x.shape.size();
    std::vector<bool> reduced(rank, dims.size() == 0);
    for (int64_t d : dims)
      if (rank > 0) reduced[(d + rank) % rank] = true;
    Shape kept_shape, out_shape;
    for (int64_t i = 0; i < rank; ++i) {
      kept_shape.push_back(reduced[i] ? 1 : x.shape[i]);
      if (!reduced[i] || keepdim) out_shape.push_back(kept_shape[i]);
    }
    std::vector<std::vector<double>> groups(static_cast<size_t>(kept_shape.numel()));
    for (int64_t i = 0; i < x.shape.numel(); ++i) {
      Shape index = unravel(i, x.shape);
      for (int64_t d = 0; d < rank; ++d)
        if (reduced[d]) index[d] = 0;
      int64_t group = 0;
      const Shape strides = row_major_strides(kept_shape);
      for (int64_t d = 0; d < rank; ++d) group += index[d] * strides[d];
      groups[static_cast<size_t>(group)].push_back(x.values[static_cast<size_t>(i)]);
    }
    RefTensor out{out_shape, {}};
    for (const auto& group : groups) out.values.push_back(fold(group));
    return std::vector<RefTensor>{out};
  };
}

Reference along_dim(int64_t dim,
                    std::function<std::vector<double>(const std::vector<double>&)> fn) {
  return [dim, fn = std::move(fn)](const std::vector<RefTensor>& in) {
    const RefTensor& x = in[0];
    RefTensor out{x.shape, std::vector<double>(x.values.size())};
    if (x.shape.size() == 0) {
      out.values = fn(x.values);
      return std::vector<RefTensor>{out};
    }
    const int64_t d = (dim + x.shape.size()) % x.shape.size();
    const Shape strides = row_major_strides(x.shape);
    for (int64_t i = 0; i < x.shape.numel(); ++i) {
      if (unravel(i, x.shape)[d] != 0) continue;  // i starts a lane
      std::vector<double> lane;
      for (int64_t j = 0; j < x.shape[d]; ++j)
        lane.push_back(x.values[static_cast<size_t>(i + j * strides[d])]);
      const std::vector<double> mapped = fn(lane);
      for (int64_t j = 0; j < x.shape[d]; ++j)
        out.values[static_cast<size_t>(i + j * strides[d])] = mapped[static_cast<size_t>(j)];
    }
    return std::vector<RefTensor>{out};
  };
}

}  // namespace graft::testing
