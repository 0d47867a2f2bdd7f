// Tensor's view methods: new sizes, strides and offset over the same Storage, and the
// backward of each, written beside it.
//
// A view copies nothing; when a view is impossible the error says so and names the way out
// (reshape, contiguous). Every view hands its result to autograd's finish_view (through
// core's hook, core/hooks.h), which remembers the tensor whose memory it shows (so in-place
// writes through the view reach that tensor's graph) and, when the input requires grad,
// records the backward given here. A view's gradient is the inverse movement (permute back,
// reshape back) or, for a view that picks some of its input's elements (narrow, select, a
// slice, a diagonal), zeros of the input's shape with the gradient written into the same
// view of them. The formulas use views and the op layer's calls in core's hook table (core
// cannot link the op layer), so they are differentiable themselves and create_graph works
// through views.
#include <algorithm>
#include <cassert>
#include <functional>
#include <utility>
#include <vector>

#include "graft/core/hooks.h"
#include "graft/core/tensor.h"

namespace graft {

namespace {
// A new TensorImpl over t's storage, without t's autograd history. Strides are never
// negative in graft: every kernel's indexing and storage_span rely on it, so
// builds with assertions check it here, where every view is made.
Tensor make_view(const Tensor& t, const Shape& shape, const Shape& strides, int64_t offset) {
  assert(std::ranges::all_of(strides, [](int64_t s) { return s >= 0; }));
  auto out = std::make_shared_for_overwrite<TensorImpl>();
  out->storage = t.storage();
  out->shape = shape;
  out->strides = strides;
  out->offset = offset;
  out->dtype = t.dtype();
  return Tensor(std::move(out));
}

// The view `op` made of `self` with this geometry, registered with autograd. The backward
// is only wrapped when self requires grad: most views are made outside any graph.
template <class Backward>
Tensor finish(const char* op, const Tensor& self, const Shape& shape, const Shape& strides,
              int64_t offset, Backward backward) {
  const hooks::AutogradHooks& autograd_hooks = hooks::autograd();
  return autograd_hooks.finish_view(
      op, self, make_view(self, shape, strides, offset),
      autograd_hooks.requires_grad(self) ? autograd::ViewBackward(std::move(backward)) : nullptr);
}

// The gradient of a view that picks elements of an input of `shape`: zeros with `g` written
// into the view `pick` makes of them (elements the view skipped get no gradient). Under
// create_graph the write is recorded like any write through a view (a CopySlices on the
// zeros), so this formula is differentiable too.
Tensor into_zeros(const Shape& shape, const Tensor& g,
                  const std::function<Tensor(const Tensor&)>& pick) {
  const hooks::AutogradHooks& ops = hooks::autograd();
  const Tensor grad = empty(shape, TensorOptions(g.dtype()).device(g.device()));
  ops.fill_(grad, 0);
  ops.copy_(pick(grad), g);
  return grad;
}

auto reshape_back(const Shape& shape) {
  return [shape](const Tensor& g) { return g.reshape(shape); };
}
Tensor identity(const Tensor& g) { return g; }

// One past the last storage position a (shape, strides, offset) geometry reaches.
int64_t reach(const Shape& shape, const Shape& strides, int64_t offset) {
  return offset + storage_span(shape, strides);
}
}  // namespace

Tensor Tensor::alias() const {
  return finish("alias", *this, shape(), strides(), storage_offset(), identity);
}

Tensor Tensor::detach() const { return make_view(*this, shape(), strides(), storage_offset()); }

namespace {

// Fills a single -1 in `shape` so that it has `numel` elements.
Shape infer_size(Shape shape, int64_t numel, const char* op) {
  int64_t known = 1, infer_at = -1;
  for (int64_t i = 0; i < shape.size(); ++i) {
    if (shape[i] == -1) {
      GRAFT_CHECK(infer_at < 0, op, "(): only one dimension can be inferred (-1) in ", shape);
      infer_at = i;
    } else {
      GRAFT_CHECK(shape[i] >= 0, op, "(): invalid size ", shape[i], " in shape ", shape);
      known *= shape[i];
    }
  }
  if (infer_at >= 0) {
    GRAFT_CHECK(known != 0 && numel % known == 0, op, "(): shape ", shape,
                " is invalid for input of size ", numel);
    shape[infer_at] = numel / known;
  }
  GRAFT_CHECK(shape.numel() == numel, op, "(): shape ", shape, " is invalid for input of size ",
              numel);
  return shape;
}

// Strides that view a tensor of (old_shape, old_strides) as new_shape, or nullopt when the
// memory layout cannot express it. Walks groups of old dims that are contiguous among
// themselves and splits each group over new dims (the algorithm of PyTorch's computeStride).
std::optional<Shape> view_strides(const Shape& old_shape, const Shape& old_strides,
                                  const Shape& new_shape) {
  Shape strides = Shape::filled(new_shape.size(), 1);
  // Empty and 0-d tensors have no layout to respect.
  if (old_shape.numel() == 0 || old_shape.empty()) return contiguous_strides(new_shape);
  int64_t new_dim = new_shape.size() - 1;
  int64_t chunk_base_stride = old_strides.empty() ? 1 : old_strides.back();
  int64_t tensor_numel = 1, view_numel = 1;
  for (int64_t old_dim = old_shape.size() - 1; old_dim >= 0; --old_dim) {
    tensor_numel *= old_shape[old_dim];
    // A chunk ends where the old dims stop being contiguous with each other.
    if (old_dim == 0 || (old_shape[old_dim - 1] != 1 &&
                         old_strides[old_dim - 1] != tensor_numel * chunk_base_stride)) {
      while (new_dim >= 0 && (view_numel < tensor_numel || new_shape[new_dim] == 1)) {
        strides[new_dim] = view_numel * chunk_base_stride;
        view_numel *= new_shape[new_dim];
        --new_dim;
      }
      if (view_numel != tensor_numel) return std::nullopt;
      if (old_dim > 0) {
        chunk_base_stride = old_strides[old_dim - 1];
        tensor_numel = 1;
        view_numel = 1;
      }
    }
  }
  if (new_dim != -1) return std::nullopt;
  return strides;
}

}  // namespace

Tensor Tensor::view(const Shape& shape) const {
  const Shape sizes = infer_size(shape, numel(), "view");
  auto strides = view_strides(this->shape(), this->strides(), sizes);
  GRAFT_CHECK(strides.has_value(), "view(): view size ", sizes,
              " is not compatible with input tensor's size ", this->shape(), " and stride ",
              this->strides(),
              " (at least one dimension spans across two contiguous subspaces)."
              " Use .reshape(...) instead, or call .contiguous() first");
  return finish("view", *this, sizes, *strides, storage_offset(), reshape_back(this->shape()));
}

Tensor Tensor::reshape(const Shape& shape) const {
  const Shape sizes = infer_size(shape, numel(), "reshape");
  if (view_strides(this->shape(), this->strides(), sizes)) return view(sizes);
  return hooks::autograd().contiguous(*this).view(sizes);
}

Tensor Tensor::flatten(int64_t start_dim, int64_t end_dim) const {
  if (dim() == 0) return reshape({1});
  start_dim = wrap_dim(start_dim, dim(), "flatten");
  end_dim = wrap_dim(end_dim, dim(), "flatten");
  GRAFT_CHECK(start_dim <= end_dim, "flatten(): start_dim (", start_dim,
              ") cannot come after end_dim (", end_dim, ")");
  Shape sizes;
  for (int64_t i = 0; i < start_dim; ++i) sizes.push_back(shape()[i]);
  int64_t flat = 1;
  for (int64_t i = start_dim; i <= end_dim; ++i) flat *= shape()[i];
  sizes.push_back(flat);
  for (int64_t i = end_dim + 1; i < dim(); ++i) sizes.push_back(shape()[i]);
  return reshape(sizes);
}

Tensor Tensor::permute(const Dims& dims) const {
  GRAFT_CHECK(dims.size() == dim(), "permute(): number of dims in ", dims,
              " doesn't match the tensor's ", dim(), " dims (shape ", shape(), ")");
  Shape sizes, strides, inverse = Shape::filled(dim(), 0);
  bool seen[kMaxDims] = {};
  for (int64_t i = 0; i < dim(); ++i) {
    const int64_t w = wrap_dim(dims[i], dim(), "permute", false);
    GRAFT_CHECK(!seen[w], "permute(): dim ", w, " appears twice in ", dims);
    seen[w] = true;
    sizes.push_back(shape()[w]);
    strides.push_back(this->strides()[w]);
    inverse[w] = i;
  }
  return finish("permute", *this, sizes, strides, storage_offset(),
                [inverse](const Tensor& g) { return g.permute(inverse); });
}

Tensor Tensor::transpose(int64_t dim0, int64_t dim1) const {
  if (dim() == 0) return alias();
  dim0 = wrap_dim(dim0, dim(), "transpose");
  dim1 = wrap_dim(dim1, dim(), "transpose");
  Shape sizes = shape(), strides = this->strides();
  std::swap(sizes[dim0], sizes[dim1]);
  std::swap(strides[dim0], strides[dim1]);
  return finish("transpose", *this, sizes, strides, storage_offset(),
                [dim0, dim1](const Tensor& g) { return g.transpose(dim0, dim1); });
}

Tensor Tensor::t() const {
  GRAFT_CHECK(dim() <= 2, "t(): expects a tensor with <= 2 dimensions, but got ", dim(), " (shape ",
              shape(), "); use transpose(dim0, dim1) or permute");
  return dim() < 2 ? alias() : transpose(0, 1);
}

Tensor Tensor::unsqueeze(int64_t dim) const {
  dim = wrap_dim(dim, this->dim() + 1, "unsqueeze");
  Shape sizes = shape(), strides = this->strides();
  // The new dim's stride only matters for contiguity checks: make it look contiguous.
  const int64_t stride = dim < this->dim() ? sizes[dim] * strides[dim] : 1;
  sizes.insert(dim, 1);
  strides.insert(dim, stride);
  return finish("unsqueeze", *this, sizes, strides, storage_offset(),
                [dim](const Tensor& g) { return g.squeeze(dim); });
}

Tensor Tensor::squeeze() const {
  Shape sizes, strides;
  for (int64_t i = 0; i < dim(); ++i) {
    if (shape()[i] == 1) continue;
    sizes.push_back(shape()[i]);
    strides.push_back(this->strides()[i]);
  }
  return finish("squeeze", *this, sizes, strides, storage_offset(), reshape_back(shape()));
}

Tensor Tensor::squeeze(int64_t dim) const {
  if (this->dim() == 0) return alias();
  dim = wrap_dim(dim, this->dim(), "squeeze");
  if (shape()[dim] != 1) return alias();
  Shape sizes = shape(), strides = this->strides();
  sizes.erase(dim);
  strides.erase(dim);
  return finish("squeeze", *this, sizes, strides, storage_offset(),
                [dim](const Tensor& g) { return g.unsqueeze(dim); });
}

// Backward: the gradient comes back at the expanded shape and the engine sums it over the
// expanded dims (sum_to), as it does for every broadcast, so the formula is the identity.
Tensor Tensor::expand(const Shape& shape) const {
  GRAFT_CHECK(shape.size() >= dim(), "expand(): the number of sizes provided (", shape.size(),
              ") must be greater or equal to the number of dimensions in the tensor (", dim(),
              "); shape ", this->shape(), " cannot expand to ", shape);
  Shape strides = Shape::filled(shape.size(), 0), sizes = shape;
  const int64_t lead = shape.size() - dim();
  for (int64_t i = 0; i < shape.size(); ++i) {
    if (i < lead) {
      GRAFT_CHECK(shape[i] >= 0, "expand(): -1 is not allowed in a leading, new dimension (", shape,
                  ")");
      continue;
    }
    const int64_t have = this->shape()[i - lead];
    if (shape[i] == -1) sizes[i] = have;
    GRAFT_CHECK(sizes[i] == have || have == 1, "expand(): the expanded size of the tensor (",
                sizes[i], ") must match the existing size (", have, ") at non-singleton dimension ",
                i, ". Target sizes: ", shape, ". Tensor sizes: ", this->shape());
    strides[i] = sizes[i] == have ? this->strides()[i - lead] : 0;
  }
  return finish("expand", *this, sizes, strides, storage_offset(), identity);
}

Tensor Tensor::narrow(int64_t dim, int64_t start, int64_t length) const {
  GRAFT_CHECK(this->dim() > 0, "narrow(): cannot be applied to a 0-dim tensor");
  dim = wrap_dim(dim, this->dim(), "narrow");
  const int64_t n = shape()[dim];
  if (start < 0) start += n;
  GRAFT_CHECK(length >= 0, "narrow(): length must be non-negative, got ", length);
  GRAFT_CHECK(start >= 0 && start + length <= n, "narrow(): start (", start, ") + length (", length,
              ") exceeds dimension size (", n, ") of dim ", dim);
  Shape sizes = shape();
  sizes[dim] = length;
  return finish("narrow", *this, sizes, strides(), storage_offset() + start * strides()[dim],
                [in = shape(), dim, start, length](const Tensor& g) {
                  return into_zeros(in, g,
                                    [&](const Tensor& t) { return t.narrow(dim, start, length); });
                });
}

Tensor Tensor::select(int64_t dim, int64_t index) const {
  GRAFT_CHECK(this->dim() > 0, "select(): cannot be applied to a 0-dim tensor");
  dim = wrap_dim(dim, this->dim(), "select");
  const int64_t n = shape()[dim];
  if (index < -n || index >= n) detail::fail_index("select", index, dim, n);
  if (index < 0) index += n;
  Shape sizes = shape(), strides = this->strides();
  sizes.erase(dim);
  strides.erase(dim);
  return finish("select", *this, sizes, strides, storage_offset() + index * this->strides()[dim],
                [in = shape(), dim, index](const Tensor& g) {
                  return into_zeros(in, g, [&](const Tensor& t) { return t.select(dim, index); });
                });
}

namespace {
// t[..., start:stop:step, ...] along `dim`, bounds clamped to the dim as Python does.
Tensor slice(const Tensor& t, int64_t dim, const Slice& s) {
  const int64_t n = t.shape()[dim];
  const int64_t step = s.step.value_or(1);
  GRAFT_CHECK(step > 0, "index(): slice step must be positive, got ", step);
  auto clamp_bound = [n](std::optional<int64_t> b, int64_t fallback) {
    if (!b) return fallback;
    const int64_t x = *b < 0 ? *b + n : *b;
    return std::clamp<int64_t>(x, 0, n);
  };
  const int64_t start = clamp_bound(s.start, 0);
  const int64_t stop = std::max(start, clamp_bound(s.stop, n));
  Shape sizes = t.shape(), strides = t.strides();
  sizes[dim] = (stop - start + step - 1) / step;
  strides[dim] *= step;
  return finish("slice", t, sizes, strides, t.storage_offset() + start * t.strides()[dim],
                [in = t.shape(), dim, s](const Tensor& g) {
                  return into_zeros(in, g, [&](const Tensor& z) { return slice(z, dim, s); });
                });
}
}  // namespace

namespace {
// A tensor index of a dtype that masks (bool, uint8): it covers as many dims as it has.
bool is_mask(const Tensor& t) { return t.dtype() == kBool || t.dtype() == kUInt8; }
}  // namespace

// A chain of select (integers), slice and unsqueeze (None) views, so each step records its
// own backward; tensor indices are collected for advanced indexing, placed at the dim of
// the view they apply to. As in libtorch, a 0-d integer tensor is an integer (its value is
// read, a sync on CUDA) and a 0-d mask is a mask over a new dim of size 1 (NumPy's rule:
// x[True] is x[None], x[False] that with 0 rows).
detail::SlicedIndex detail::apply_slicing(const Tensor& self,
                                          const std::vector<TensorIndex>& indices) {
  // Count the dims the index consumes, to know how many an Ellipsis stands for.
  int64_t consumed = 0, ellipses = 0;
  for (const TensorIndex& i : indices) {
    const auto& v = i.value();
    if (std::holds_alternative<EllipsisIndex>(v))
      ++ellipses;
    else if (const Tensor* t = std::get_if<Tensor>(&v)) {
      GRAFT_CHECK(t->defined(), "index(): an undefined Tensor is not an index");
      consumed += is_mask(*t) ? t->dim() : 1;
    } else if (!std::holds_alternative<NoneIndex>(v))
      ++consumed;
  }
  GRAFT_CHECK(ellipses <= 1, "index(): an index can only have a single ellipsis ('...')");
  GRAFT_CHECK(consumed <= self.dim(), "index(): too many indices for tensor of dimension ",
              self.dim(), " (shape ", self.shape(), ", got ", consumed, " indices)");
  SlicedIndex out{self, {}};
  Tensor& view = out.view;
  int64_t d = 0;        // the dim of `view` the next index applies to
  int64_t covered = 0;  // the dims of `view` that out.tensors' entries cover
  auto record = [&](const Tensor& t) {
    for (; covered < d; ++covered) out.tensors.emplace_back();
    out.tensors.push_back(t);
    const int64_t k = is_mask(t) ? t.dim() : 1;
    covered += k;
    d += k;
  };
  for (const TensorIndex& i : indices) {
    const auto& v = i.value();
    if (const int64_t* k = std::get_if<int64_t>(&v)) {
      view = view.select(d, *k);
    } else if (const Slice* s = std::get_if<Slice>(&v)) {
      view = slice(view, d++, *s);
    } else if (std::holds_alternative<NoneIndex>(v)) {
      view = view.unsqueeze(d++);
    } else if (std::holds_alternative<EllipsisIndex>(v)) {
      d += self.dim() - consumed;
    } else {
      const Tensor& t = std::get<Tensor>(v);
      if (t.dim() == 0 && is_mask(t)) {
        view = view.unsqueeze(d);
        record(t.unsqueeze(0));
      } else if (t.dim() == 0 && is_integral(t.dtype())) {
        view = view.select(d, t.item<int64_t>());
      } else {
        record(t);
      }
    }
  }
  return out;
}

Tensor Tensor::index(std::initializer_list<TensorIndex> indices) const {
  return index(std::vector<TensorIndex>(indices));
}

Tensor Tensor::index(const std::vector<TensorIndex>& indices) const {
  const auto [view, tensors] = detail::apply_slicing(*this, indices);
  if (!tensors.empty()) return hooks::autograd().advanced_index(view, tensors);
  // An index of only Ellipsis still returns a new view, as x[...] does in PyTorch.
  return view.is_same(*this) ? alias() : view;
}

Tensor Tensor::operator[](const Tensor& index) const { return this->index({index}); }

Tensor Tensor::diagonal(int64_t offset, int64_t dim1, int64_t dim2) const {
  GRAFT_CHECK(dim() >= 2, "diagonal(): expects a tensor with at least 2 dims, got shape ", shape());
  dim1 = wrap_dim(dim1, dim(), "diagonal");
  dim2 = wrap_dim(dim2, dim(), "diagonal");
  GRAFT_CHECK(dim1 != dim2, "diagonal(): dim1 and dim2 cannot be identical, got ", dim1);
  int64_t start = storage_offset(), length;
  if (offset >= 0) {
    length = std::max<int64_t>(std::min(shape()[dim1], shape()[dim2] - offset), 0);
    if (length > 0) start += offset * strides()[dim2];
  } else {
    length = std::max<int64_t>(std::min(shape()[dim1] + offset, shape()[dim2]), 0);
    if (length > 0) start -= offset * strides()[dim1];
  }
  Shape sizes, strides;
  for (int64_t i = 0; i < dim(); ++i) {
    if (i == dim1 || i == dim2) continue;
    sizes.push_back(shape()[i]);
    strides.push_back(this->strides()[i]);
  }
  sizes.push_back(length);
  strides.push_back(this->strides()[dim1] + this->strides()[dim2]);
  return finish("diagonal", *this, sizes, strides, start,
                [in = shape(), offset, dim1, dim2](const Tensor& g) {
                  return into_zeros(
                      in, g, [&](const Tensor& t) { return t.diagonal(offset, dim1, dim2); });
                });
}

namespace {
// Where each element of a (shape, strides, offset) geometry lies in its storage: an int64
// tensor of `shape`, row-major, on `device`.
Tensor storage_positions(const Shape& shape, const Shape& strides, int64_t offset, Device device) {
  Tensor positions = empty(shape, kInt64);
  int64_t* out = positions.data_ptr<int64_t>();
  Shape index = Shape::filled(shape.size(), 0);
  for (int64_t i = 0; i < shape.numel(); ++i) {
    int64_t at = offset;
    for (int64_t d = 0; d < shape.size(); ++d) at += index[d] * strides[d];
    out[i] = at;
    for (int64_t d = shape.size() - 1; d >= 0 && ++index[d] == shape[d]; --d) index[d] = 0;
  }
  return hooks::autograd().to(positions, device);
}

// True when two elements of the geometry may share a storage position (an expanded dim,
// or dims whose strides interleave).
bool may_overlap(const Shape& shape, const Shape& strides) {
  std::vector<std::pair<int64_t, int64_t>> dims;  // (stride, size) of dims with size > 1
  for (int64_t d = 0; d < shape.size(); ++d)
    if (shape[d] > 1) dims.emplace_back(strides[d], shape[d]);
  std::sort(dims.begin(), dims.end());
  int64_t span = 0;  // the storage the smaller-stride dims cover, minus one
  for (const auto& [stride, size] : dims) {
    if (stride <= span) return true;
    span += (size - 1) * stride;
  }
  return false;
}
}  // namespace

// as_strided works on storage positions, not on the input's elements, so its backward
// does too: the gradient of every storage position the view reads (a position read twice
// gets both), read back at the input's positions; positions outside the input (a view read
// past its own elements) give it nothing. An input whose elements share positions (an
// expanded tensor) splits each position's gradient evenly among them, as PyTorch does.
Tensor Tensor::as_strided(const Shape& shape, const Shape& strides, int64_t offset) const {
  GRAFT_CHECK(shape.size() == strides.size(), "as_strided(): shape ", shape, " and strides ",
              strides, " must have the same length");
  for (int64_t d = 0; d < shape.size(); ++d)
    GRAFT_CHECK(shape[d] >= 0 && strides[d] >= 0, "as_strided(): negative size or stride in ",
                shape, " / ", strides);
  const int64_t storage_numel = static_cast<int64_t>(storage()->nbytes()) / element_size();
  // An empty view reads nothing, so any offset will do (narrow(d, n, 0) makes one).
  GRAFT_CHECK(offset >= 0 && (shape.numel() == 0 || reach(shape, strides, offset) <= storage_numel),
              "as_strided(): size ", shape, ", stride ", strides, " and storage offset ", offset,
              " reach past the end of the storage (", storage_numel,
              " elements); every element must lie inside the tensor's memory");
  return finish(
      "as_strided", *this, shape, strides, offset,
      [in = this->shape(), in_strides = this->strides(), in_offset = storage_offset(), shape,
       strides, offset](const Tensor& g) {
        const hooks::AutogradHooks& ops = hooks::autograd();
        // Positions counted from the lowest one either geometry reaches.
        const int64_t low = std::min(in_offset, offset);
        const int64_t positions =
            std::max(reach(in, in_strides, in_offset), reach(shape, strides, offset)) - low;
        auto zeros = [&] {
          const Tensor z = empty({positions}, TensorOptions(g.dtype()).device(g.device()));
          ops.fill_(z, 0);
          return z;
        };
        const Tensor read =
            storage_positions(shape, strides, offset - low, g.device()).reshape({-1});
        const Tensor own =
            storage_positions(in, in_strides, in_offset - low, g.device()).reshape({-1});
        Tensor grad = ops.gather(ops.scatter_add(zeros(), 0, read, g.reshape({-1})), 0, own);
        if (may_overlap(in, in_strides)) {
          const Tensor ones = empty(own.shape(), TensorOptions(g.dtype()).device(g.device()));
          ops.fill_(ones, 1);
          grad = ops.div(grad, ops.gather(ops.scatter_add(zeros(), 0, own, ones), 0, own));
        }
        return grad.reshape(in);
      });
}

}  // namespace graft
