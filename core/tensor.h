// Tensor: a handle to an n-dimensional strided view of a Storage.
//
// A Tensor is cheap to copy: copies share the same TensorImpl (like libtorch's Tensor or a
// Python reference). A *view* (view, permute, narrow, index, ...) gets its own
// TensorImpl with new sizes/strides/offset over the *same* Storage, so writes through one
// are seen through the other: the zero-copy sharing the seed article is about.
//
// This header declares the whole method surface. Metadata and views are computed here in
// core/ (pure stride arithmetic); methods that compute on the data are one-line forwards to
// the free functions of the op layer (autograd/ops.h), which dispatch to the kernels.
#pragma once

#include <concepts>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <memory>
#include <optional>
#include <ostream>
#include <tuple>
#include <type_traits>
#include <vector>

#include "graft/core/device.h"
#include "graft/core/dtype.h"
#include "graft/core/op_list.h"
#include "graft/core/scalar.h"
#include "graft/core/shape.h"
#include "graft/core/storage.h"
#include "graft/core/tensor_options.h"

namespace graft {

class Tensor;
class TensorIndex;  // core/tensor_index.h, included at the end of this header

// Autograd's side of a tensor lives in autograd/ (node.h); core only holds a pointer to it.
namespace autograd {
struct AutogradMeta;
class Node;
// A view op's backward: the gradient of its input from the gradient of the view
// (core/tensor_views.cpp writes each one beside its op; core/hooks.h hands it to autograd).
using ViewBackward = std::function<Tensor(const Tensor& grad)>;
}  // namespace autograd

// Dims lists the dims a reduction or permute works on; negative dims count from the end.
using Dims = Shape;
// One dim given bare where Dims are taken (t.sum(1)): any integer but bool.
template <class T>
concept DimIndex = std::integral<T> && !std::same_as<T, bool>;

// Every member has its own initializer, so a TensorImpl is made by
// std::make_shared_for_overwrite: the same object as make_shared's, without the zeroing of
// all of it that value-initialization does first (a rep stos of 300 bytes per tensor).
struct TensorImpl {
  std::shared_ptr<Storage> storage;
  Shape shape;
  Shape strides;       // in elements, not bytes
  int64_t offset = 0;  // in elements, from storage->data()
  DType dtype = kFloat32;
  // Null until the tensor takes part in autograd (requires_grad_, or an op's output).
  std::shared_ptr<autograd::AutogradMeta> autograd_meta;
};

class Tensor {
 public:
  Tensor() = default;
  explicit Tensor(std::shared_ptr<TensorImpl> impl) : impl_(std::move(impl)) {}

  // ---- metadata
  bool defined() const { return impl_ != nullptr; }
  const Shape& shape() const { return impl().shape; }
  const Shape& sizes() const { return impl().shape; }
  int64_t size(int64_t dim) const;
  const Shape& strides() const { return impl().strides; }
  int64_t stride(int64_t dim) const;
  int64_t dim() const { return impl().shape.size(); }
  int64_t numel() const { return impl().shape.numel(); }
  DType dtype() const { return impl().dtype; }
  Device device() const { return impl().storage->device(); }
  bool is_cpu() const { return device().is_cpu(); }
  bool is_cuda() const { return device().is_cuda(); }
  int64_t element_size() const { return graft::element_size(dtype()); }
  int64_t nbytes() const { return numel() * element_size(); }
  int64_t storage_offset() const { return impl().offset; }
  bool is_contiguous() const;
  // True when both handles view the same memory with the same layout.
  bool is_same(const Tensor& other) const { return impl_ == other.impl_; }
  const std::shared_ptr<Storage>& storage() const { return impl().storage; }
  // How many handles share this tensor (0 when undefined), as at::Tensor::use_count: 1
  // means no one else can see it, so it may be reused rather than copied (AccumulateGrad).
  long use_count() const { return impl_.use_count(); }

  // Pointer to the first element; data_ptr<T>() checks that T matches the dtype.
  void* data_ptr() const;
  template <class T>
  T* data_ptr() const;
  // The single element of a one-element tensor, converted to T (copies from the device).
  template <class T>
  T item() const;
  // All elements in row-major order, converted to T (copies from the device).
  template <class T>
  std::vector<T> to_vector() const;
  // A zero-copy Eigen::Map over a 0-, 1- or 2-D CPU tensor, strides kept (eigen_view.h).
  template <class T>
  auto eigen() const;

  // ---- views: share storage, never copy (errors say when a view is impossible); each one
  // is differentiable, and in-place writes through a view reach its base's graph
  Tensor view(const Shape& shape) const;
  Tensor reshape(const Shape& shape) const;  // a view when possible, else a copy
  Tensor flatten(int64_t start_dim = 0, int64_t end_dim = -1) const;
  Tensor permute(const Dims& dims) const;
  Tensor transpose(int64_t dim0, int64_t dim1) const;
  Tensor t() const;  // transpose of a <= 2-D tensor
  Tensor unsqueeze(int64_t dim) const;
  Tensor squeeze() const;
  Tensor squeeze(int64_t dim) const;
  Tensor expand(const Shape& shape) const;  // -1 keeps a size; new dims go in front
  Tensor expand_as(const Tensor& other) const { return expand(other.shape()); }
  Tensor narrow(int64_t dim, int64_t start, int64_t length) const;
  Tensor select(int64_t dim, int64_t index) const;
  Tensor index(std::initializer_list<TensorIndex> indices) const;
  Tensor index(const std::vector<TensorIndex>& indices) const;
  Tensor operator[](int64_t index) const { return select(0, index); }  // t[i]: a view
  Tensor operator[](const Tensor& index) const;  // index({index}): advanced indexing, a copy
  Tensor diagonal(int64_t offset = 0, int64_t dim1 = 0, int64_t dim2 = 1) const;
  Tensor as_strided(const Shape& shape, const Shape& strides, int64_t offset) const;
  Tensor alias() const;   // a new handle to the same view
  Tensor detach() const;  // shares memory (and its version counter); no autograd history
  // Points this handle at data's memory and layout (shape, dtype and device may change) and
  // keeps its identity and autograd state, as PyTorch's `param.data = data`: whatever holds
  // this handle (an optimizer) sees the new data. nn::Module::to() moves parameters this way.
  void set_data(const Tensor& data) const {
    impl().storage = data.impl().storage;
    impl().shape = data.impl().shape;
    impl().strides = data.impl().strides;
    impl().offset = data.impl().offset;
    impl().dtype = data.impl().dtype;
  }

  // ---- copies and conversions
  Tensor contiguous() const;  // `*this` when already contiguous
  Tensor clone() const;
  const Tensor& copy_(const Tensor& src) const;  // broadcasts src, converts its dtype/device
  Tensor to(DType dtype) const;                  // `*this` when nothing changes
  Tensor to(Device device) const;
  Tensor to(DeviceType type) const { return to(Device(type)); }
  Tensor cpu() const { return to(Device::cpu()); }
  Tensor cuda(int index = 0) const { return to(Device::cuda(index)); }

  // ---- in-place writes
  const Tensor& fill_(Scalar value) const;
  const Tensor& zero_() const { return fill_(0); }
  // Writes `value` (broadcast) where index(indices) reads; with accumulate, adds it there,
  // every repeated position receiving each of its values (autograd/advanced_index.h).
  const Tensor& index_put_(std::initializer_list<TensorIndex> indices, const Tensor& value,
                           bool accumulate = false) const;
  const Tensor& index_put_(std::initializer_list<TensorIndex> indices, Scalar value,
                           bool accumulate = false) const;
  const Tensor& index_put_(const std::vector<TensorIndex>& indices, const Tensor& value,
                           bool accumulate = false) const;
  const Tensor& index_put_(const std::vector<TensorIndex>& indices, Scalar value,
                           bool accumulate = false) const;

  // ---- math (forwards to autograd/ops.h; see there for semantics)
#define GRAFT_DECLARE_UNARY(name, ...) \
  Tensor name() const;                 \
  const Tensor& name##_() const;
  GRAFT_UNARY_OPS(GRAFT_DECLARE_UNARY)
#undef GRAFT_DECLARE_UNARY

#define GRAFT_DECLARE_BINARY(name, ...)             \
  Tensor name(const Tensor& other) const;           \
  Tensor name(Scalar other) const;                  \
  const Tensor& name##_(const Tensor& other) const; \
  const Tensor& name##_(Scalar other) const;
  GRAFT_BINARY_OPS(GRAFT_DECLARE_BINARY)
#undef GRAFT_DECLARE_BINARY

#define GRAFT_DECLARE_COMPARISON(name, ...) \
  Tensor name(const Tensor& other) const;   \
  Tensor name(Scalar other) const;
  GRAFT_COMPARISON_OPS(GRAFT_DECLARE_COMPARISON)
#undef GRAFT_DECLARE_COMPARISON

  Tensor clamp(std::optional<Scalar> min, std::optional<Scalar> max = std::nullopt) const;
  const Tensor& clamp_(std::optional<Scalar> min, std::optional<Scalar> max = std::nullopt) const;
  Tensor masked_fill(const Tensor& mask, Scalar value) const;
  const Tensor& masked_fill_(const Tensor& mask, Scalar value) const;
  // This tensor where condition holds, other elsewhere: graft::where(condition, *this, other).
  Tensor where(const Tensor& condition, const Tensor& other) const;
  Tensor where(const Tensor& condition, Scalar other) const;

  // Reductions: no arguments reduce everything to a 0-d tensor; one dim may be given bare,
  // t.sum(1) as t.sum({1}) (libtorch's IntArrayRef takes both). The bare form is a template
  // so that a braced list, which deduces nothing, still means dims: t.sum({}) all of them.
#define GRAFT_DECLARE_REDUCTION(name)                        \
  Tensor name() const;                                       \
  Tensor name(const Dims& dims, bool keepdim = false) const; \
  template <DimIndex Dim>                                    \
  Tensor name(Dim dim, bool keepdim = false) const {         \
    return name(Dims{static_cast<int64_t>(dim)}, keepdim);   \
  }
  GRAFT_DIMS_REDUCTIONS(GRAFT_DECLARE_REDUCTION)
#undef GRAFT_DECLARE_REDUCTION
  // var/std in libtorch's order, (dims, correction, keepdim), Bessel's correction (1) by
  // default as PyTorch. t.var(0) is the population variance of every element; the
  // correction-only form is a template so that t.var({1}) cannot bind to it (a braced list
  // deduces nothing) and means dims {1}. A bool after dims does not compile: Note [var/std
  // take no bool] in autograd/ops.h.
  Tensor var() const;
  template <std::integral Correction>
  Tensor var(Correction correction) const {
    return var(Dims{}, static_cast<int64_t>(correction));
  }
  Tensor var(const Dims& dims, int64_t correction = 1, bool keepdim = false) const;
  template <std::same_as<bool> BoolIsNotACorrection, class... Rest>
  Tensor var(const Dims& dims, BoolIsNotACorrection, Rest...) const = delete;
  Tensor std() const;
  template <std::integral Correction>
  Tensor std(Correction correction) const {
    return std(Dims{}, static_cast<int64_t>(correction));
  }
  Tensor std(const Dims& dims, int64_t correction = 1, bool keepdim = false) const;
  template <std::same_as<bool> BoolIsNotACorrection, class... Rest>
  Tensor std(const Dims& dims, BoolIsNotACorrection, Rest...) const = delete;
  // Index of the extreme element of the flattened tensor, or along one dim (int64).
  Tensor argmax() const;
  Tensor argmax(int64_t dim, bool keepdim = false) const;
  Tensor argmin() const;
  Tensor argmin(int64_t dim, bool keepdim = false) const;

  Tensor matmul(const Tensor& other) const;
  Tensor mm(const Tensor& other) const;
  Tensor bmm(const Tensor& other) const;
  Tensor softmax(int64_t dim) const;
  Tensor log_softmax(int64_t dim) const;

  Tensor cumsum(int64_t dim) const;
  Tensor cumprod(int64_t dim) const;
  Tensor tril(int64_t diagonal = 0) const;
  Tensor triu(int64_t diagonal = 0) const;
  Tensor norm(double p = 2, const Dims& dims = {}, bool keepdim = false) const;

  Tensor gather(int64_t dim, const Tensor& index) const;
  Tensor index_select(int64_t dim, const Tensor& index) const;
  Tensor scatter_add(int64_t dim, const Tensor& index, const Tensor& src) const;
  const Tensor& scatter_add_(int64_t dim, const Tensor& index, const Tensor& src) const;
  Tensor nonzero() const;

  // Sorting and sampling: graft::sort, argsort, topk, multinomial (autograd/ops.h).
  std::tuple<Tensor, Tensor> sort(int64_t dim = -1, bool descending = false) const;
  Tensor argsort(int64_t dim = -1, bool descending = false) const;
  std::tuple<Tensor, Tensor> topk(int64_t k, int64_t dim = -1, bool largest = true,
                                  bool sorted = true) const;
  Tensor multinomial(int64_t num_samples, bool replacement = false) const;

  const Tensor& operator+=(const Tensor& o) const { return add_(o); }
  const Tensor& operator-=(const Tensor& o) const { return sub_(o); }
  const Tensor& operator*=(const Tensor& o) const { return mul_(o); }
  const Tensor& operator/=(const Tensor& o) const { return div_(o); }
  const Tensor& operator+=(Scalar o) const { return add_(o); }
  const Tensor& operator-=(Scalar o) const { return sub_(o); }
  const Tensor& operator*=(Scalar o) const { return mul_(o); }
  const Tensor& operator/=(Scalar o) const { return div_(o); }

  // ---- autograd (autograd/tensor_autograd.cpp; docs/autograd.md tells the whole story)
  // Only a leaf (a tensor no recorded op produced) of floating dtype can be flagged.
  const Tensor& requires_grad_(bool requires_grad = true) const;
  bool requires_grad() const;
  // The gradient accumulated by backward() into a leaf (or a non-leaf that retains it);
  // undefined before the first one.
  Tensor grad() const;
  Tensor& mutable_grad() const;  // to reset it (optimizers' zero_grad)
  // The node that produced this tensor (name() like "MulBackward"); null for leaves.
  std::shared_ptr<autograd::Node> grad_fn() const;
  bool is_leaf() const;
  // Makes backward() keep this non-leaf tensor's gradient in grad() too, accumulated as a
  // leaf's (what it sees is the gradient after this tensor's hooks). A no-op on a leaf.
  void retain_grad() const;
  bool retains_grad() const;  // true after retain_grad() on a non-leaf
  // Gradient of this tensor with respect to the leaves, added into their grad(). Without
  // `gradient` the tensor must hold one element (the gradient is then 1). retain_graph
  // defaults to create_graph, as in PyTorch.
  void backward(const Tensor& gradient = {}, std::optional<bool> retain_graph = std::nullopt,
                bool create_graph = false) const;
  // `hook(grad)` runs when this tensor's gradient is computed; a defined return value
  // replaces the gradient. A hook that returns nothing only looks (as libtorch allows).
  void register_hook(std::function<Tensor(const Tensor&)> hook) const;
  template <class Hook>
  requires std::is_void_v<std::invoke_result_t<Hook&, const Tensor&>>
  void register_hook(Hook hook) const {
    register_hook(
        std::function<Tensor(const Tensor&)>([hook = std::move(hook)](const Tensor& grad) mutable {
          hook(grad);
          return Tensor();
        }));
  }
  // `hook(leaf)` runs after backward() has added this leaf's gradient into grad(), so it sees
  // the accumulated value (PyTorch's register_post_accumulate_grad_hook). Data-parallel
  // training starts a gradient's all-reduce from here. Leaves only.
  void register_post_accumulate_grad_hook(std::function<void(const Tensor&)> hook) const;
  // How many in-place writes this tensor's memory has seen (shared by all its views).
  uint64_t _version() const { return storage()->version(); }

  // Inline, as every accessor above goes through it: only the error is out of line.
  TensorImpl& impl() const {
    if (impl_ == nullptr) [[unlikely]]
      fail_undefined();
    return *impl_;
  }

 private:
  [[noreturn]] static void fail_undefined();

  std::shared_ptr<TensorImpl> impl_;
};

// ---- the handful of factories core/ builds without kernels (the rest: autograd/ops.h)

// Uninitialised memory of the given shape.
Tensor empty(const Shape& shape, TensorOptions options = {});
Tensor empty_like(const Tensor& t);
Tensor empty_like(const Tensor& t, TensorOptions options);
// A tensor over memory graft does not own. Without a deleter the caller keeps `data` alive
// for as long as any view of it lives; with one, graft calls it when the last view dies.
Tensor from_blob(void* data, const Shape& shape, TensorOptions options = {});
Tensor from_blob(void* data, const Shape& shape, const Shape& strides, TensorOptions options);
Tensor from_blob(void* data, const Shape& shape, TensorOptions options,
                 std::function<void(void*)> deleter);
Tensor from_blob(void* data, const Shape& shape, DType dtype, std::function<void(void*)> deleter);
// Strided memory another library owns (a NumPy array, a DLPack tensor): strides count
// elements and must not be negative.
Tensor from_blob(void* data, const Shape& shape, const Shape& strides, TensorOptions options,
                 std::function<void(void*)> deleter);

std::ostream& operator<<(std::ostream& out, const Tensor& t);  // NumPy-like repr (print.cpp)

// ---- template definitions

namespace detail {
void check_data_ptr_dtype(const Tensor& t, DType requested);
// A factory's tensor t, a leaf that requires grad where the options ask. Factories that write
// their values in place make t without the flag (options.requires_grad(false)) and set it
// here last, as an in-place write into a leaf that requires grad is refused.
Tensor with_requires_grad(Tensor t, const TensorOptions& options);
// A contiguous CPU float64/int64 copy used by item/to_vector.
Tensor host_contiguous(const Tensor& t);
}  // namespace detail

template <class T>
T* Tensor::data_ptr() const {
  detail::check_data_ptr_dtype(*this, dtype_of_v<T>);
  return static_cast<T*>(data_ptr());
}

template <class T>
std::vector<T> Tensor::to_vector() const {
  const Tensor host = detail::host_contiguous(*this);
  std::vector<T> out(static_cast<size_t>(host.numel()));
  visit_dtype(host.dtype(), [&](auto tag) {
    using S = decltype(tag);
    const S* src = static_cast<const S*>(host.data_ptr());
    for (size_t i = 0; i < out.size(); ++i) out[i] = static_cast<T>(src[i]);
  });
  return out;
}

template <class T>
T Tensor::item() const {
  GRAFT_CHECK(numel() == 1, "item(): a Tensor with ", numel(),
              " elements cannot be converted to a scalar (shape ", shape(), ")");
  return to_vector<T>()[0];
}

}  // namespace graft

#include "graft/core/tensor_index.h"  // NOLINT(misc-header-include-cycle): needs Tensor
