// Elementwise ops: unary, binary (with broadcasting and scalars), comparisons, where,
// clamp, masked_fill, and their in-place forms.
//
// Every op follows the same three steps: result dtype by promotion (core/dtype.h), result
// shape by broadcasting (core/shape.h), then one kernel call through the dispatch table.
// Inputs whose dtype differs from the compute dtype are converted first, so kernels see a
// single dtype (mixed-dtype arithmetic is rare enough that the extra copy is the better
// trade against kernels for every dtype pair).
#include <limits>

#include "graft/autograd/op_utils.h"
#include "graft/kernels/functors.h"

namespace graft {

using kernels::BinaryOp;
using kernels::ComparisonOp;
using kernels::kernel_table;
using kernels::lookup;
using kernels::UnaryOp;

namespace {

// Transcendental ops on integers compute in float32, as PyTorch's exp(int_tensor) does.
DType unary_compute_dtype(UnaryOp op, DType dtype) {
  if (op == UnaryOp::neg)
    GRAFT_CHECK(dtype != kBool,
                "neg(): negation, the `-` operator, on a bool tensor is not "
                "supported. Use logical not (x == false) instead");
  bool floating = false;
#define GRAFT_IS_FLOATING(name, Functor) \
  if (op == UnaryOp::name) floating = kernels::floating_only<kernels::Functor>;
  GRAFT_UNARY_OPS(GRAFT_IS_FLOATING)
#undef GRAFT_IS_FLOATING
  return floating && !is_floating_point(dtype) ? kDefaultFloat : dtype;
}

Tensor unary(UnaryOp op, const Tensor& x) {
  const DType dtype = unary_compute_dtype(op, x.dtype());
  const Tensor in = x.to(dtype);
  Tensor out = empty(x.shape(), TensorOptions(dtype).device(x.device()));
  ops::run_elementwise(
      lookup(kernel_table().unary[static_cast<int>(op)], x.device(), kernels::op_name(op)),
      {out, in});
  return out;
}

// A result of dtype `from` may be written into a tensor of dtype `to` when that does not
// lower its category (float -> int, int -> bool), as PyTorch's can_cast.
void check_can_cast(const char* op, DType from, DType to) {
  auto category = [](DType d) { return d == kBool ? 0 : (is_floating_point(d) ? 2 : 1); };
  GRAFT_CHECK(category(from) <= category(to), op, "_(): result type ", from,
              " can't be cast to the desired output type ", to, "; use the out-of-place ", op,
              "() or convert the tensor with .to(", from, ")");
}

// Writes `result` into self (the shared tail of every in-place op).
const Tensor& assign_result(const char* op, const Tensor& self, const Tensor& result) {
  check_can_cast(op, result.dtype(), self.dtype());
  GRAFT_CHECK(result.shape() == self.shape(), op, "_(): output with shape ", self.shape(),
              " doesn't match the broadcast shape ", result.shape());
  self.copy_(result);
  return self;
}

DType binary_dtype(BinaryOp op, Operand a, Operand b) {
  const DType dtype = result_type({a, b});
  // True division: int / int is float32, as in Python 3 and PyTorch.
  return op == BinaryOp::div && !is_floating_point(dtype) ? kDefaultFloat : dtype;
}

Tensor binary_tensors(BinaryOp op, const Tensor& a, const Tensor& b, DType dtype) {
  const char* name = kernels::op_name(op);
  ops::check_same_device(name, {&a, &b});
  const Shape shape = broadcast_shapes(a.shape(), b.shape(), name);
  Tensor out = empty(shape, TensorOptions(dtype).device(a.device()));
  ops::run_elementwise(lookup(kernel_table().binary[static_cast<int>(op)], a.device(), name),
                       {out, a.to(dtype), b.to(dtype)});
  return out;
}

Tensor binary(BinaryOp op, const Tensor& a, const Tensor& b) {
  return binary_tensors(op, a, b, binary_dtype(op, ops::operand(a), ops::operand(b)));
}
Tensor binary(BinaryOp op, const Tensor& a, Scalar b) {
  const DType dtype = binary_dtype(op, ops::operand(a), ops::operand(b));
  return binary_tensors(op, a, ops::scalar_tensor(b, dtype, a.device()), dtype);
}
Tensor binary(BinaryOp op, Scalar a, const Tensor& b) {
  const DType dtype = binary_dtype(op, ops::operand(a), ops::operand(b));
  return binary_tensors(op, ops::scalar_tensor(a, dtype, b.device()), b, dtype);
}

// self op= other. Runs the kernel straight into self when that is safe: the result dtype
// is self's and `other` does not share self's memory in a different layout (x += x.t()
// would read elements already overwritten). Otherwise computes out of place and copies.
const Tensor& binary_inplace(BinaryOp op, const Tensor& self, const Tensor& other, DType dtype) {
  const char* name = kernels::op_name(op);
  ops::check_writable(name, self);
  ops::check_same_device(name, {&self, &other});
  check_can_cast(name, dtype, self.dtype());
  const bool same_view = other.storage() == self.storage() &&
                         other.storage_offset() == self.storage_offset() &&
                         other.strides() == self.strides() && other.shape() == self.shape();
  const bool overlaps = other.storage() == self.storage() && !same_view;
  if (dtype != self.dtype() || overlaps)
    return assign_result(name, self, binary_tensors(op, self, other, dtype));
  GRAFT_CHECK(broadcast_shapes(self.shape(), other.shape(), name) == self.shape(), name,
              "_(): output with shape ", self.shape(), " doesn't match the broadcast shape ",
              broadcast_shapes(self.shape(), other.shape(), name));
  ops::run_elementwise(lookup(kernel_table().binary[static_cast<int>(op)], self.device(), name),
                       {self, self, other.to(dtype)});
  return self;
}

Tensor comparison_tensors(ComparisonOp op, const Tensor& a, const Tensor& b, DType dtype) {
  const char* name = kernels::op_name(op);
  ops::check_same_device(name, {&a, &b});
  const Shape shape = broadcast_shapes(a.shape(), b.shape(), name);
  Tensor out = empty(shape, TensorOptions(kBool).device(a.device()));
  ops::run_elementwise(lookup(kernel_table().comparison[static_cast<int>(op)], a.device(), name),
                       {out, a.to(dtype), b.to(dtype)});
  return out;
}

Tensor comparison(ComparisonOp op, const Tensor& a, const Tensor& b) {
  return comparison_tensors(op, a, b, result_type({ops::operand(a), ops::operand(b)}));
}
Tensor comparison(ComparisonOp op, const Tensor& a, Scalar b) {
  const DType dtype = result_type({ops::operand(a), ops::operand(b)});
  return comparison_tensors(op, a, ops::scalar_tensor(b, dtype, a.device()), dtype);
}
Tensor comparison(ComparisonOp op, Scalar a, const Tensor& b) {
  const DType dtype = result_type({ops::operand(a), ops::operand(b)});
  return comparison_tensors(op, ops::scalar_tensor(a, dtype, b.device()), b, dtype);
}

}  // namespace

// ---- unary

#define GRAFT_DEFINE_UNARY(name, ...)                              \
  Tensor name(const Tensor& x) { return unary(UnaryOp::name, x); } \
  const Tensor& name##_(const Tensor& self) {                      \
    ops::check_writable(#name "_", self);                          \
    return assign_result(#name, self, unary(UnaryOp::name, self)); \
  }
GRAFT_UNARY_OPS(GRAFT_DEFINE_UNARY)
#undef GRAFT_DEFINE_UNARY

// ---- binary

#define GRAFT_DEFINE_BINARY(name, ...)                                                            \
  Tensor name(const Tensor& a, const Tensor& b) { return binary(BinaryOp::name, a, b); }          \
  Tensor name(const Tensor& a, Scalar b) { return binary(BinaryOp::name, a, b); }                 \
  Tensor name(Scalar a, const Tensor& b) { return binary(BinaryOp::name, a, b); }                 \
  const Tensor& name##_(const Tensor& self, const Tensor& other) {                                \
    return binary_inplace(BinaryOp::name, self, other,                                            \
                          binary_dtype(BinaryOp::name, ops::operand(self), ops::operand(other))); \
  }                                                                                               \
  const Tensor& name##_(const Tensor& self, Scalar other) {                                       \
    const DType dtype = binary_dtype(BinaryOp::name, ops::operand(self), ops::operand(other));    \
    return binary_inplace(BinaryOp::name, self, ops::scalar_tensor(other, dtype, self.device()),  \
                          dtype);                                                                 \
  }
GRAFT_BINARY_OPS(GRAFT_DEFINE_BINARY)
#undef GRAFT_DEFINE_BINARY

#define GRAFT_DEFINE_COMPARISON(name, ...)                                                       \
  Tensor name(const Tensor& a, const Tensor& b) { return comparison(ComparisonOp::name, a, b); } \
  Tensor name(const Tensor& a, Scalar b) { return comparison(ComparisonOp::name, a, b); }        \
  Tensor name(Scalar a, const Tensor& b) { return comparison(ComparisonOp::name, a, b); }
GRAFT_COMPARISON_OPS(GRAFT_DEFINE_COMPARISON)
#undef GRAFT_DEFINE_COMPARISON

// ---- where, clamp, masked_fill

namespace {
Tensor where_impl(const Tensor& cond, const Tensor& a, const Tensor& b, DType dtype) {
  ops::check_same_device("where", {&cond, &a, &b});
  GRAFT_CHECK(cond.dtype() == kBool, "where(): expected condition to be a bool tensor, but got ",
              cond.dtype(), "; compare first, e.g. where(x > 0, ...)");
  const Shape shape =
      broadcast_shapes(broadcast_shapes(cond.shape(), a.shape(), "where"), b.shape(), "where");
  Tensor out = empty(shape, TensorOptions(dtype).device(cond.device()));
  ops::run_elementwise(lookup(kernel_table().where, cond.device(), "where"),
                       {out, cond, a.to(dtype), b.to(dtype)});
  return out;
}
}  // namespace

Tensor where(const Tensor& cond, const Tensor& a, const Tensor& b) {
  return where_impl(cond, a, b, result_type({ops::operand(a), ops::operand(b)}));
}
Tensor where(const Tensor& cond, const Tensor& a, Scalar b) {
  const DType dtype = result_type({ops::operand(a), ops::operand(b)});
  return where_impl(cond, a, ops::scalar_tensor(b, dtype, cond.device()), dtype);
}
Tensor where(const Tensor& cond, Scalar a, const Tensor& b) {
  const DType dtype = result_type({ops::operand(a), ops::operand(b)});
  return where_impl(cond, ops::scalar_tensor(a, dtype, cond.device()), b, dtype);
}

Tensor clamp(const Tensor& x, std::optional<Scalar> min, std::optional<Scalar> max) {
  GRAFT_CHECK(min || max, "clamp(): at least one of 'min' or 'max' must not be None");
  GRAFT_CHECK(x.dtype() != kBool, "clamp(): not implemented for bool tensors");
  DType dtype = x.dtype();
  if (min) dtype = result_type({ops::operand(x), ops::operand(*min)});
  if (max) dtype = promote_types(dtype, result_type({ops::operand(x), ops::operand(*max)}));
  // A missing bound is the dtype's extreme, so one kernel serves clamp_min, clamp_max, clamp.
  const Scalar lowest = visit_dtype(dtype, [](auto tag) -> Scalar {
    using T = decltype(tag);
    if constexpr (std::is_floating_point_v<T>)
      return -std::numeric_limits<double>::infinity();
    else
      return static_cast<int64_t>(std::numeric_limits<T>::lowest());
  });
  const Scalar highest = visit_dtype(dtype, [](auto tag) -> Scalar {
    using T = decltype(tag);
    if constexpr (std::is_floating_point_v<T>)
      return std::numeric_limits<double>::infinity();
    else
      return static_cast<int64_t>(std::numeric_limits<T>::max());
  });
  Tensor out = empty(x.shape(), TensorOptions(dtype).device(x.device()));
  ops::run_elementwise(
      lookup(kernel_table().clamp, x.device(), "clamp"),
      {out, x.to(dtype), ops::scalar_tensor(min.value_or(lowest), dtype, x.device()),
       ops::scalar_tensor(max.value_or(highest), dtype, x.device())});
  return out;
}

const Tensor& clamp_(const Tensor& self, std::optional<Scalar> min, std::optional<Scalar> max) {
  ops::check_writable("clamp_", self);
  return assign_result("clamp", self, clamp(self, min, max));
}

Tensor masked_fill(const Tensor& x, const Tensor& mask, Scalar value) {
  GRAFT_CHECK(mask.dtype() == kBool, "masked_fill(): expected a bool mask, but got ", mask.dtype());
  return where(mask, ops::scalar_tensor(value, x.dtype(), x.device()), x).to(x.dtype());
}

const Tensor& masked_fill_(const Tensor& self, const Tensor& mask, Scalar value) {
  ops::check_writable("masked_fill_", self);
  return assign_result("masked_fill", self, masked_fill(self, mask, value));
}

}  // namespace graft
