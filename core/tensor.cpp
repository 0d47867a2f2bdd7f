// Tensor metadata, views and the kernel-free factories (empty, from_blob).
//
// Every view here is pure stride arithmetic over the same Storage; nothing is copied.
// When a view is impossible the error says so and names the way out (reshape, contiguous).
// Views have no backward yet: each one refuses a tensor that requires grad while grad mode is
// on (autograd::check_no_backward_yet) rather than hand back a view cut from the graph.
#include "graft/core/tensor.h"

#include <algorithm>

namespace graft {

TensorImpl& Tensor::impl() const {
  GRAFT_CHECK(impl_ != nullptr,
              "this Tensor is undefined (default-constructed); "
              "create it with a factory such as graft::zeros first");
  return *impl_;
}

int64_t Tensor::size(int64_t dim) const {
  return shape()[wrap_dim(dim, this->dim(), "size", false)];
}

int64_t Tensor::stride(int64_t dim) const {
  return strides()[wrap_dim(dim, this->dim(), "stride", false)];
}

bool Tensor::is_contiguous() const {
  // Sizes of 1 may have any stride; an empty tensor is contiguous whatever its strides.
  int64_t expected = 1;
  for (int64_t i = dim() - 1; i >= 0; --i) {
    if (shape()[i] == 0) return true;
    if (shape()[i] != 1 && strides()[i] != expected) return false;
    expected *= shape()[i];
  }
  return true;
}

void* Tensor::data_ptr() const {
  return static_cast<char*>(storage()->data()) + storage_offset() * element_size();
}

namespace {
// A new TensorImpl over t's storage, without t's autograd history (views start clean).
Tensor make_view(const Tensor& t, const Shape& shape, const Shape& strides, int64_t offset) {
  auto out = std::make_shared<TensorImpl>();
  out->storage = t.storage();
  out->shape = shape;
  out->strides = strides;
  out->offset = offset;
  out->dtype = t.dtype();
  return Tensor(std::move(out));
}
}  // namespace

namespace detail {
void check_data_ptr_dtype(const Tensor& t, DType requested) {
  GRAFT_CHECK(t.dtype() == requested, "data_ptr<", requested, ">(): the tensor's dtype is ",
              t.dtype(), "; use data_ptr<T>() with the matching T, or convert with .to(", requested,
              ") first");
}
}  // namespace detail

Tensor Tensor::as_strided(const Shape& shape, const Shape& strides, int64_t offset) const {
  GRAFT_CHECK(shape.size() == strides.size(), "as_strided(): shape ", shape, " and strides ",
              strides, " must have the same length");
  autograd::check_no_backward_yet("as_strided", {this});
  return make_view(*this, shape, strides, offset);
}

Tensor Tensor::alias() const {
  autograd::check_no_backward_yet("alias", {this});
  return make_view(*this, shape(), strides(), storage_offset());
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
  autograd::check_no_backward_yet("view", {this});
  const Shape sizes = infer_size(shape, numel(), "view");
  auto strides = view_strides(this->shape(), this->strides(), sizes);
  GRAFT_CHECK(strides.has_value(), "view(): view size ", sizes,
              " is not compatible with input tensor's size ", this->shape(), " and stride ",
              this->strides(),
              " (at least one dimension spans across two contiguous subspaces)."
              " Use .reshape(...) instead, or call .contiguous() first");
  return as_strided(sizes, *strides, storage_offset());
}

Tensor Tensor::reshape(const Shape& shape) const {
  autograd::check_no_backward_yet("reshape", {this});
  const Shape sizes = infer_size(shape, numel(), "reshape");
  if (auto strides = view_strides(this->shape(), this->strides(), sizes))
    return as_strided(sizes, *strides, storage_offset());
  return contiguous().view(sizes);
}

Tensor Tensor::flatten(int64_t start_dim, int64_t end_dim) const {
  autograd::check_no_backward_yet("flatten", {this});
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
  autograd::check_no_backward_yet("permute", {this});
  GRAFT_CHECK(dims.size() == dim(), "permute(): number of dims in ", dims,
              " doesn't match the tensor's ", dim(), " dims (shape ", shape(), ")");
  Shape sizes, strides;
  bool seen[kMaxDims] = {};
  for (int64_t d : dims) {
    const int64_t w = wrap_dim(d, dim(), "permute", false);
    GRAFT_CHECK(!seen[w], "permute(): dim ", w, " appears twice in ", dims);
    seen[w] = true;
    sizes.push_back(shape()[w]);
    strides.push_back(this->strides()[w]);
  }
  return as_strided(sizes, strides, storage_offset());
}

Tensor Tensor::transpose(int64_t dim0, int64_t dim1) const {
  autograd::check_no_backward_yet("transpose", {this});
  if (dim() == 0) return alias();
  dim0 = wrap_dim(dim0, dim(), "transpose");
  dim1 = wrap_dim(dim1, dim(), "transpose");
  Shape sizes = shape(), strides = this->strides();
  std::swap(sizes[dim0], sizes[dim1]);
  std::swap(strides[dim0], strides[dim1]);
  return as_strided(sizes, strides, storage_offset());
}

Tensor Tensor::t() const {
  autograd::check_no_backward_yet("t", {this});
  GRAFT_CHECK(dim() <= 2, "t(): expects a tensor with <= 2 dimensions, but got ", dim(), " (shape ",
              shape(), "); use transpose(dim0, dim1) or permute");
  return dim() < 2 ? alias() : transpose(0, 1);
}

Tensor Tensor::unsqueeze(int64_t dim) const {
  autograd::check_no_backward_yet("unsqueeze", {this});
  dim = wrap_dim(dim, this->dim() + 1, "unsqueeze");
  Shape sizes = shape(), strides = this->strides();
  // The new dim's stride only matters for contiguity checks: make it look contiguous.
  const int64_t stride = dim < this->dim() ? sizes[dim] * strides[dim] : 1;
  sizes.insert(dim, 1);
  strides.insert(dim, stride);
  return as_strided(sizes, strides, storage_offset());
}

Tensor Tensor::squeeze() const {
  autograd::check_no_backward_yet("squeeze", {this});
  Shape sizes, strides;
  for (int64_t i = 0; i < dim(); ++i) {
    if (shape()[i] == 1) continue;
    sizes.push_back(shape()[i]);
    strides.push_back(this->strides()[i]);
  }
  return as_strided(sizes, strides, storage_offset());
}

Tensor Tensor::squeeze(int64_t dim) const {
  autograd::check_no_backward_yet("squeeze", {this});
  if (this->dim() == 0) return alias();
  dim = wrap_dim(dim, this->dim(), "squeeze");
  if (shape()[dim] != 1) return alias();
  Shape sizes = shape(), strides = this->strides();
  sizes.erase(dim);
  strides.erase(dim);
  return as_strided(sizes, strides, storage_offset());
}

Tensor Tensor::expand(const Shape& shape) const {
  autograd::check_no_backward_yet("expand", {this});
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
  return as_strided(sizes, strides, storage_offset());
}

Tensor Tensor::narrow(int64_t dim, int64_t start, int64_t length) const {
  autograd::check_no_backward_yet("narrow", {this});
  GRAFT_CHECK(this->dim() > 0, "narrow(): cannot be applied to a 0-dim tensor");
  dim = wrap_dim(dim, this->dim(), "narrow");
  const int64_t n = shape()[dim];
  if (start < 0) start += n;
  GRAFT_CHECK(length >= 0, "narrow(): length must be non-negative, got ", length);
  GRAFT_CHECK(start >= 0 && start + length <= n, "narrow(): start (", start,
              ") + length (", length, ") exceeds dimension size (", n, ") of dim ", dim);
  Shape sizes = shape();
  sizes[dim] = length;
  return as_strided(sizes, strides(), storage_offset() + start * strides()[dim]);
}

Tensor Tensor::select(int64_t dim, int64_t index) const {
  autograd::check_no_backward_yet("select", {this});
  GRAFT_CHECK(this->dim() > 0, "select(): cannot be applied to a 0-dim tensor");
  dim = wrap_dim(dim, this->dim(), "select");
  const int64_t n = shape()[dim];
  GRAFT_CHECK(index >= -n && index < n, "select(): index ", index,
              " is out of bounds for dimension ", dim, " with size ", n);
  if (index < 0) index += n;
  Shape sizes = shape(), strides = this->strides();
  sizes.erase(dim);
  strides.erase(dim);
  return as_strided(sizes, strides, storage_offset() + index * this->strides()[dim]);
}

Tensor Tensor::index(std::initializer_list<TensorIndex> indices) const {
  return index(std::vector<TensorIndex>(indices));
}

Tensor Tensor::index(const std::vector<TensorIndex>& indices) const {
  autograd::check_no_backward_yet("index", {this});
  // Count the dims the index consumes, to know how many an Ellipsis stands for.
  int64_t consumed = 0, ellipses = 0;
  for (const TensorIndex& i : indices) {
    if (std::holds_alternative<EllipsisIndex>(i.value()))
      ++ellipses;
    else if (!std::holds_alternative<NoneIndex>(i.value()))
      ++consumed;
  }
  GRAFT_CHECK(ellipses <= 1, "index(): an index can only have a single ellipsis ('...')");
  GRAFT_CHECK(consumed <= dim(), "index(): too many indices for tensor of dimension ", dim(),
              " (shape ", shape(), ", got ", consumed, " indices)");
  Tensor out = alias();
  int64_t d = 0;  // the dim of `out` the next index applies to
  for (const TensorIndex& i : indices) {
    const auto& v = i.value();
    if (const int64_t* k = std::get_if<int64_t>(&v)) {
      out = out.select(d, *k);
    } else if (const Slice* s = std::get_if<Slice>(&v)) {
      const int64_t n = out.shape()[d];
      const int64_t step = s->step.value_or(1);
      GRAFT_CHECK(step > 0, "index(): slice step must be positive, got ", step);
      auto clamp_bound = [n](std::optional<int64_t> b, int64_t fallback) {
        if (!b) return fallback;
        const int64_t x = *b < 0 ? *b + n : *b;
        return std::clamp<int64_t>(x, 0, n);
      };
      const int64_t start = clamp_bound(s->start, 0);
      const int64_t stop = std::max(start, clamp_bound(s->stop, n));
      Shape sizes = out.shape(), strides = out.strides();
      sizes[d] = (stop - start + step - 1) / step;
      strides[d] *= step;
      out = out.as_strided(sizes, strides, out.storage_offset() + start * out.strides()[d]);
      ++d;
    } else if (std::holds_alternative<NoneIndex>(v)) {
      out = out.unsqueeze(d);
      ++d;
    } else {
      d += dim() - consumed;
    }
  }
  return out;
}

Tensor Tensor::diagonal(int64_t offset, int64_t dim1, int64_t dim2) const {
  autograd::check_no_backward_yet("diagonal", {this});
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
  return as_strided(sizes, strides, start);
}

// ---- kernel-free factories

Tensor empty(const Shape& shape, TensorOptions options) {
  for (int64_t s : shape)
    GRAFT_CHECK(s >= 0, "empty(): trying to create a tensor with negative dimension ", s, ": ",
                shape);
  const DType dtype = options.dtype_or(kDefaultFloat);
  auto impl = std::make_shared<TensorImpl>();
  impl->storage = Storage::allocate(shape.numel() * element_size(dtype), options.device());
  impl->shape = shape;
  impl->strides = contiguous_strides(shape);
  impl->dtype = dtype;
  return Tensor(std::move(impl));
}

Tensor empty_like(const Tensor& t) {
  return empty(t.shape(), TensorOptions(t.dtype()).device(t.device()));
}
Tensor empty_like(const Tensor& t, TensorOptions options) {
  return empty(t.shape(),
               options.dtype(options.dtype_or(t.dtype())).device(options.device_or(t.device())));
}

namespace {
Tensor wrap_blob(void* data, const Shape& shape, const Shape& strides, TensorOptions options,
                 Storage::Deleter deleter) {
  GRAFT_CHECK(data != nullptr || shape.numel() == 0, "from_blob(): data is a null pointer");
  GRAFT_CHECK(shape.size() == strides.size(), "from_blob(): shape ", shape, " and strides ",
              strides, " must have the same length");
  const DType dtype = options.dtype_or(kDefaultFloat);
  // The storage spans every element the strides can reach (all strides >= 0 here).
  int64_t extent = shape.numel() == 0 ? 0 : 1;
  for (int64_t i = 0; i < shape.size(); ++i) {
    GRAFT_CHECK(shape[i] >= 0 && strides[i] >= 0, "from_blob(): negative size or stride in ", shape,
                " / ", strides);
    if (shape.numel() > 0) extent += (shape[i] - 1) * strides[i];
  }
  auto impl = std::make_shared<TensorImpl>();
  impl->storage = std::make_shared<Storage>(data, extent * element_size(dtype), options.device(),
                                            std::move(deleter));
  impl->shape = shape;
  impl->strides = strides;
  impl->dtype = dtype;
  return Tensor(std::move(impl));
}
}  // namespace

Tensor from_blob(void* data, const Shape& shape, TensorOptions options) {
  return wrap_blob(data, shape, contiguous_strides(shape), options, nullptr);
}
Tensor from_blob(void* data, const Shape& shape, const Shape& strides, TensorOptions options) {
  return wrap_blob(data, shape, strides, options, nullptr);
}
Tensor from_blob(void* data, const Shape& shape, TensorOptions options,
                 std::function<void(void*)> deleter) {
  return wrap_blob(data, shape, contiguous_strides(shape), options, std::move(deleter));
}
Tensor from_blob(void* data, const Shape& shape, DType dtype, std::function<void(void*)> deleter) {
  return wrap_blob(data, shape, contiguous_strides(shape), dtype, std::move(deleter));
}

}  // namespace graft
