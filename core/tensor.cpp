// Tensor metadata and the kernel-free factories (empty, from_blob). The view methods live
// in tensor_views.cpp.
#include "graft/core/tensor.h"

#include "graft/core/hooks.h"
#include "graft/core/op_context.h"

namespace graft {

void Tensor::fail_undefined() {
  detail::fail(
      "this Tensor is undefined (default-constructed); "
      "create it with a factory such as graft::zeros first");
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

namespace detail {
// requires_grad_ lives in autograd/: reached through its hook.
Tensor with_requires_grad(Tensor t, const TensorOptions& options) {
  if (options.requires_grad_or(false)) hooks::autograd().requires_grad_(t);
  return t;
}

void check_data_ptr_dtype(const Tensor& t, DType requested) {
  GRAFT_CHECK(t.dtype() == requested, "data_ptr<", requested, ">(): the tensor's dtype is ",
              t.dtype(), "; use data_ptr<T>() with the matching T, or convert with .to(", requested,
              ") first");
}

// The copy goes through the op layer (core/hooks.h): a CUDA tensor comes back by the
// backend's transfer, a strided one by the copy kernel.
Tensor host_contiguous(const Tensor& t) {
  const hooks::AutogradHooks& ops = hooks::autograd();
  return ops.contiguous(ops.to(t, Device::cpu()));
}
}  // namespace detail

// ---- kernel-free factories

// Every factory ends here, so this is where a shape from anywhere (a user, a file header)
// is checked before its byte size reaches the allocator.
Tensor empty(const Shape& shape, TensorOptions options) {
  // Errors here name the op that asked for the tensor (zeros, matmul, ...), or empty itself.
  for (int64_t s : shape)
    GRAFT_CHECK(s >= 0, OpContext::describe("empty"),
                "trying to create a tensor with negative dimension ", s, ": ", shape);
  const DType dtype = options.dtype_or(get_default_dtype());
  const std::optional<int64_t> nbytes = contiguous_nbytes(shape, element_size(dtype));
  GRAFT_CHECK(nbytes.has_value(), OpContext::describe("empty"), "a tensor of shape ", shape,
              " and dtype ", dtype,
              " would hold more bytes than a 64-bit size can count; no machine can allocate it");
  auto impl = std::make_shared_for_overwrite<TensorImpl>();
  try {
    impl->storage = Storage::allocate(static_cast<size_t>(*nbytes), options.device());
  } catch (const OutOfMemoryError& e) {
    throw OutOfMemoryError(detail::make_message(OpContext::describe("empty"), "a ", dtype,
                                                " tensor of shape ", shape, ": ", e.what()));
  }
  impl->shape = shape;
  impl->strides = contiguous_strides(shape);
  impl->dtype = dtype;
  return detail::with_requires_grad(Tensor(std::move(impl)), options);
}

Tensor empty_like(const Tensor& t) {
  return empty(t.shape(), TensorOptions(t.dtype()).device(t.device()));
}
Tensor empty_like(const Tensor& t, TensorOptions options) {
  return empty(t.shape(),
               options.dtype(options.dtype_or(t.dtype())).device(options.device_or(t.device())));
}

namespace {
Tensor wrap_blob(void* data, const Shape& shape, Shape strides, TensorOptions options,
                 Storage::Deleter deleter) {
  GRAFT_CHECK(data != nullptr || shape.numel() == 0, "from_blob(): data is a null pointer");
  GRAFT_CHECK(shape.size() == strides.size(), "from_blob(): shape ", shape, " and strides ",
              strides, " must have the same length");
  const DType dtype = options.dtype_or(get_default_dtype());
  // The storage spans every element the strides can reach (all strides >= 0 here); the
  // arithmetic is checked because the caller's numbers may describe no real buffer.
  for (int64_t i = 0; i < shape.size(); ++i) {
    // A dim of size 0 or 1 is never stepped along, so its stride is free: a negative one
    // there (NumPy and PyTorch make them) describes the same memory as 0.
    if (shape[i] <= 1 && strides[i] < 0) strides[i] = 0;
    GRAFT_CHECK(shape[i] >= 0 && strides[i] >= 0, "from_blob(): negative size or stride in ", shape,
                " / ", strides);
  }
  const bool is_empty = shape.numel() == 0;
  int64_t extent = is_empty ? 0 : 1, nbytes = 0;
  bool overflow = false;
  for (int64_t i = 0; i < shape.size() && !is_empty; ++i) {
    int64_t reach = 0;
    overflow = overflow || __builtin_mul_overflow(shape[i] - 1, strides[i], &reach) ||
               __builtin_add_overflow(extent, reach, &extent);
  }
  overflow = overflow || __builtin_mul_overflow(extent, element_size(dtype), &nbytes);
  GRAFT_CHECK(!overflow, "from_blob(): shape ", shape, " with strides ", strides,
              " reaches further than a 64-bit byte offset can count");
  auto impl = std::make_shared_for_overwrite<TensorImpl>();
  impl->storage = std::make_shared<Storage>(data, static_cast<size_t>(nbytes), options.device(),
                                            std::move(deleter));
  impl->shape = shape;
  impl->strides = strides;
  impl->dtype = dtype;
  return detail::with_requires_grad(Tensor(std::move(impl)), options);
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
Tensor from_blob(void* data, const Shape& shape, const Shape& strides, TensorOptions options,
                 std::function<void(void*)> deleter) {
  return wrap_blob(data, shape, strides, options, std::move(deleter));
}

}  // namespace graft
