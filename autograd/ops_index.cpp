// Joining and indexing: cat, stack, gather, index_select, scatter_add, scatter_add_ and
// nonzero (advanced indexing, t.index({idx}), has its own file: ops_advanced_index.cpp).
//
// cat and stack need no kernel of their own: the output is allocated once and each input is
// copied into its slice (out.narrow), so strided inputs and dtype conversion come from the
// copy kernel. gather, index_select and scatter_add check shapes as PyTorch does and hand
// one argument block (kernels/index.h) to the device's kernel, which checks the index values
// before writing. A 0-d tensor takes part as a (1,) tensor, as PyTorch's ensure_nonempty_dim
// has it, so gather(x0d, 0, i0d) and friends work and kernels always see ndim >= 1.
//
// Backward: cat hands each input its slice of the gradient; gather and scatter_add are each
// other's adjoints (gather's gradient is scattered back into zeros, scatter_add's source
// gets the gradient gathered at its index), and index_select is a gather along one dim, so
// every formula here is differentiable again. Index tensors are saved with their version,
// so rewriting one in place before backward is caught.
#include <algorithm>

#include "graft/autograd/op_utils.h"
#include "graft/core/op_context.h"
#include "graft/kernels/index.h"

namespace graft {

using kernels::kernel_table;
using kernels::lookup;
using ops::strided_operand;

namespace {

Tensor at_least_1d(const Tensor& t) { return t.dim() == 0 ? t.view({1}) : t; }

// Zeros of `shape` in g's dtype and device: where a gradient is scattered into.
Tensor zeros_for(const Shape& shape, const Tensor& g) {
  return zeros(shape, TensorOptions(g.dtype()).device(g.device()));
}

void check_int64_index(const char* op, const Tensor& index) {
  GRAFT_CHECK(index.dtype() == kInt64, op, "(): Expected dtype int64 for index, got ",
              index.dtype(), "; convert it with index.to(graft::kInt64)");
}

// index and `other` have the same number of dims once 0-d counts as 1-D.
void check_same_ndim(const char* op, const Tensor& index, const Tensor& other, const char* name) {
  GRAFT_CHECK(std::max<int64_t>(index.dim(), 1) == std::max<int64_t>(other.dim(), 1), op,
              "(): Index tensor must have the same number of dimensions as ", name,
              " tensor (index shape ", index.shape(), ", ", name, " shape ", other.shape(), ")");
}

// Runs the scatter_add kernel on `self` in place; `op` names the caller in errors.
void scatter_add_into(const char* op, const Tensor& self, int64_t dim, const Tensor& index,
                      const Tensor& src) {
  ops::check_same_device(op, {&self, &index, &src});
  check_int64_index(op, index);
  GRAFT_CHECK(self.dtype() == src.dtype(), op, "(): Expected self.dtype to be equal to src.dtype (",
              self.dtype(), " and ", src.dtype(), "); convert src with .to(", self.dtype(), ")");
  dim = wrap_dim(dim, self.dim(), op);
  check_same_ndim(op, index, self, "self");
  check_same_ndim(op, index, src, "src");
  const Tensor out = at_least_1d(self), idx = at_least_1d(index), from = at_least_1d(src);
  for (int64_t d = 0; d < idx.dim(); ++d)
    GRAFT_CHECK(idx.size(d) <= from.size(d) && (d == dim || idx.size(d) <= out.size(d)), op,
                "(): Expected index ", index.shape(), " to be no larger than self ", self.shape(),
                " apart from dimension ", dim, " and to be no larger than src ", src.shape());
  if (index.numel() == 0) return;
  kernels::ScatterArgs args;
  args.ndim = static_cast<int>(idx.dim());
  args.dim = static_cast<int>(dim);
  std::copy(idx.shape().begin(), idx.shape().end(), args.sizes);
  args.self_dim_size = out.size(dim);
  args.self = strided_operand(out);
  args.index = strided_operand(idx);
  args.src = strided_operand(from);
  lookup(kernel_table().scatter, self.device(), op)(args);
}

}  // namespace

// Result dtype: every input is a tensor with dims (0-d ones are refused), so result_type's
// priorities reduce to promote_types over all of them, skipped ones included (as PyTorch).
Tensor cat(const std::vector<Tensor>& tensors, int64_t dim) {
  const OpContext context("cat");
  GRAFT_CHECK(!tensors.empty(), "cat(): expected a non-empty list of Tensors");
  // PyTorch's legacy rule: 1-D empty tensors, of shape (0,), sit out the shape checks.
  auto skipped = [](const Tensor& t) { return t.dim() == 1 && t.size(0) == 0; };
  const Tensor* ref = nullptr;  // the first tensor that takes part; it fixes the shape
  DType dtype = tensors.front().dtype();
  for (size_t i = 0; i < tensors.size(); ++i) {
    const Tensor& t = tensors[i];
    GRAFT_CHECK(t.defined(), "cat(): the tensor at position ", i, " is undefined");
    GRAFT_CHECK(t.dim() > 0, "cat(): zero-dimensional tensor (at position ", i,
                ") cannot be concatenated; unsqueeze it or use stack()");
    ops::check_same_device("cat", {&tensors.front(), &t});
    dtype = promote_types(dtype, t.dtype());
    if (ref == nullptr && !skipped(t)) ref = &t;
  }
  if (ref == nullptr) ref = &tensors.front();
  dim = wrap_dim(dim, ref->dim(), "cat");
  Shape shape = ref->shape();
  shape[dim] = 0;
  for (size_t i = 0; i < tensors.size(); ++i) {
    const Tensor& t = tensors[i];
    if (skipped(t)) continue;
    GRAFT_CHECK(t.dim() == ref->dim(), "cat(): Tensors must have same number of dimensions: got ",
                ref->dim(), " and ", t.dim(), " (shapes ", ref->shape(), " and ", t.shape(),
                " at position ", i, ")");
    for (int64_t d = 0; d < t.dim(); ++d)
      GRAFT_CHECK(d == dim || t.size(d) == ref->size(d),
                  "cat(): Sizes of tensors must match except in dimension ", dim,
                  ". Expected size ", ref->size(d), " but got size ", t.size(d),
                  " for tensor number ", i, " in the list (shapes ", ref->shape(), " and ",
                  t.shape(), ")");
    shape[dim] += t.size(dim);
  }
  Tensor out = empty(shape, TensorOptions(dtype).device(ref->device()));
  std::vector<int64_t> sizes;  // each input's extent along dim; -1 for a skipped one
  {
    autograd::NoGradGuard no_grad;  // the copies are this one op, not a node each
    int64_t offset = 0;
    for (const Tensor& t : tensors) {
      sizes.push_back(skipped(t) ? -1 : t.size(dim));
      if (skipped(t)) continue;
      out.narrow(dim, offset, t.size(dim)).copy_(t);
      offset += t.size(dim);
    }
  }
  return autograd::record(out, "CatBackward", tensors, [dim, sizes](const Tensor& g) {
    autograd::TensorList grads;
    int64_t offset = 0;
    for (int64_t size : sizes) {
      grads.push_back(size < 0 ? Tensor() : g.narrow(dim, offset, size));
      offset += std::max<int64_t>(size, 0);
    }
    return grads;
  });
}

// Differentiable through unsqueeze and cat.
Tensor stack(const std::vector<Tensor>& tensors, int64_t dim) {
  GRAFT_CHECK(!tensors.empty(), "stack(): expected a non-empty list of Tensors");
  const Shape& shape = tensors.front().shape();
  for (size_t i = 1; i < tensors.size(); ++i)
    GRAFT_CHECK(tensors[i].shape() == shape,
                "stack(): expects each tensor to be equal size, but got ", shape,
                " at entry 0 and ", tensors[i].shape(), " at entry ", i);
  dim = wrap_dim(dim, shape.size() + 1, "stack");
  std::vector<Tensor> parts;
  parts.reserve(tensors.size());
  for (const Tensor& t : tensors) parts.push_back(t.unsqueeze(dim));
  return cat(parts, dim);
}

Tensor gather(const Tensor& x, int64_t dim, const Tensor& index) {
  ops::check_same_device("gather", {&x, &index});
  check_int64_index("gather", index);
  dim = wrap_dim(dim, x.dim(), "gather");
  check_same_ndim("gather", index, x, "input");
  const Tensor self = at_least_1d(x), idx = at_least_1d(index);
  for (int64_t d = 0; d < idx.dim(); ++d)
    GRAFT_CHECK(d == dim || idx.size(d) <= self.size(d),
                "gather(): Size does not match at dimension ", d, " expected index ", index.shape(),
                " to be no larger than self ", x.shape(), " apart from dimension ", dim);
  Tensor out = empty(index.shape(), TensorOptions(x.dtype()).device(x.device()));
  if (out.numel() == 0) return out;
  kernels::GatherArgs args;
  args.ndim = static_cast<int>(idx.dim());
  args.dim = static_cast<int>(dim);
  std::copy(idx.shape().begin(), idx.shape().end(), args.sizes);
  args.self_dim_size = self.size(dim);
  args.out = strided_operand(at_least_1d(out));
  args.self = strided_operand(self);
  args.index = strided_operand(idx);
  lookup(kernel_table().gather, x.device(), "gather")(args);
  return autograd::record(out, "GatherBackward", {x},
                          [shape = x.shape(), dim, si = autograd::save(index)](const Tensor& g) {
                            return scatter_add(zeros_for(shape, g), dim, si.get(), g);
                          });
}

Tensor index_select(const Tensor& x, int64_t dim, const Tensor& index) {
  ops::check_same_device("index_select", {&x, &index});
  GRAFT_CHECK(index.dtype() == kInt64 || index.dtype() == kInt32,
              "index_select(): Expected dtype int32 or int64 for index, got ", index.dtype());
  GRAFT_CHECK(index.dim() <= 1,
              "index_select(): Index is supposed to be a vector (0-d or 1-D), "
              "got shape ",
              index.shape());
  dim = wrap_dim(dim, x.dim(), "index_select");
  GRAFT_CHECK(x.dim() > 0 || index.numel() == 1,
              "index_select(): Index to scalar can have only 1 value, got ", index.numel(),
              " value(s)");
  Shape shape = x.shape();
  if (x.dim() > 0) shape[dim] = index.numel();
  Tensor out = empty(shape, TensorOptions(x.dtype()).device(x.device()));
  if (index.numel() == 0) return out;
  const Tensor self = at_least_1d(x), flat_out = at_least_1d(out);
  kernels::IndexSelectArgs args;
  args.ndim = static_cast<int>(self.dim());
  args.dim = static_cast<int>(dim);
  std::copy(flat_out.shape().begin(), flat_out.shape().end(), args.sizes);
  args.self_dim_size = self.size(dim);
  args.out = strided_operand(flat_out);
  args.self = strided_operand(self);
  args.index = index.data_ptr();
  args.index_dtype = index.dtype();
  args.index_stride = index.dim() == 0 ? 1 : index.stride(0);
  lookup(kernel_table().index_select, x.device(), "index_select")(args);
  // The gradient rows go back to the rows they were selected from, added up when a row was
  // selected more than once: a scatter_add along dim with the index spread over g's shape.
  return autograd::record(out, "IndexSelectBackward", {x},
                          [shape = x.shape(), dim, si = autograd::save(index)](const Tensor& g) {
                            if (shape.empty()) return g;  // a 0-d input: its one element
                            Shape along = Shape::filled(g.dim(), 1);
                            along[dim] = g.size(dim);
                            const Tensor spread =
                                si.get().to(kInt64).reshape(along).expand(g.shape());
                            return scatter_add(zeros_for(shape, g), dim, spread, g);
                          });
}

// Backward: x's gradient is g; src's is g gathered at the index, which covers only the
// leading part of src along each dim when the index is smaller than src (the rest of src
// was never added, so gets zeros).
Tensor scatter_add(const Tensor& x, int64_t dim, const Tensor& index, const Tensor& src) {
  Tensor out;
  {
    autograd::NoGradGuard no_grad;
    out = x.clone();
    scatter_add_into("scatter_add", out, dim, index, src);
  }
  return autograd::record(
      out, "ScatterAddBackward", {x, src},
      [dim = wrap_dim(dim, x.dim(), "scatter_add"), si = autograd::save(index),
       src_shape = src.shape(), need_src = src.requires_grad()](const Tensor& g) {
        if (!need_src) return autograd::TensorList{g, Tensor()};
        const Tensor index = si.get();
        const Tensor picked = gather(g, dim, index);
        if (index.shape() == src_shape) return autograd::TensorList{g, picked};
        const Tensor dsrc = zeros_for(src_shape, g), idx = at_least_1d(index);
        Tensor covered = at_least_1d(dsrc);
        for (int64_t d = 0; d < idx.dim(); ++d) covered = covered.narrow(d, 0, idx.size(d));
        covered.copy_(picked);
        return autograd::TensorList{g, dsrc};
      });
}

const Tensor& scatter_add_(const Tensor& self, int64_t dim, const Tensor& index,
                           const Tensor& src) {
  if (autograd::needs_grad({&self, &src}))
    return ops::assign_in_place("scatter_add", self, {&src},
                                [&](const Tensor& s) { return scatter_add(s, dim, index, src); });
  ops::check_writable("scatter_add_", self);
  autograd::check_inplace("scatter_add_", self);
  scatter_add_into("scatter_add_", self, dim, index, src);
  self.storage()->bump_version();
  return self;
}

// The count of nonzero elements sizes the output, so it is read back first (a sync on
// CUDA, as in PyTorch); the kernel then writes the coordinates of each from a contiguous
// bool copy of x != 0 (a bool x itself, where contiguous: x != 0 would widen it to int64
// first, to compare with the integer 0), which also gives every dtype the same kernel. Not
// differentiable (int64 output).
Tensor nonzero(const Tensor& x) {
  Tensor flags;
  int64_t count = 0;
  {
    autograd::NoGradGuard no_grad;
    flags = (x.dtype() == kBool ? x : ne(x, 0)).contiguous();
    count = flags.sum().item<int64_t>();
  }
  Tensor out = empty({count, x.dim()}, TensorOptions(kInt64).device(x.device()));
  if (out.numel() == 0) return out;
  kernels::NonzeroArgs args;
  args.ndim = static_cast<int>(x.dim());
  std::copy(x.shape().begin(), x.shape().end(), args.sizes);
  args.numel = x.numel();
  args.flags = flags.data_ptr<bool>();
  args.out = out.data_ptr<int64_t>();
  lookup(kernel_table().nonzero, x.device(), "nonzero")(args);
  return out;
}

}  // namespace graft
