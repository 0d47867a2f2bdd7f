// Shared op-layer helpers; see op_utils.h.
#include "graft/autograd/op_utils.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <sstream>
#include <type_traits>

#include "graft/core/op_context.h"
#include "graft/kernels/dispatch.h"

namespace graft::ops {

void check_same_device(const char* op, std::initializer_list<const Tensor*> tensors) {
  const Tensor* first = nullptr;
  for (const Tensor* t : tensors) {
    if (first == nullptr) {
      first = t;
      continue;
    }
    GRAFT_CHECK(t->device() == first->device(), op,
                "(): Expected all tensors to be on the same device, but found at least two "
                "devices, ",
                first->device(), " and ", t->device(), "! Move them with .to(device)");
  }
}

bool computes_in_float32(const Tensor& t) {
  return t.defined() && is_reduced_floating_point(t.dtype());
}

Tensor widened(const Tensor& t) {
  autograd::NoGradGuard no_grad;
  return computes_in_float32(t) ? t.to(kFloat32) : t;
}

Tensor narrowed(const Tensor& t, DType dtype) {
  autograd::NoGradGuard no_grad;
  return t.defined() ? t.to(dtype) : t;
}

void check_writable(const char* op, const Tensor& self) {
  for (int64_t d = 0; d < self.dim(); ++d)
    GRAFT_CHECK(self.strides()[d] != 0 || self.shape()[d] <= 1, op,
                "(): unsupported operation: more than one element of the written-to tensor "
                "refers to a single memory location (an expand()ed view of shape ",
                self.shape(), "). Please clone() the tensor before performing the operation");
}

void check_can_cast(const char* op, DType from, DType to) {
  auto category = [](DType d) { return d == kBool ? 0 : (is_floating_point(d) ? 2 : 1); };
  GRAFT_CHECK(category(from) <= category(to), op, "_(): result type ", from,
              " can't be cast to the desired output type ", to, "; use the out-of-place ", op,
              "() or convert the tensor with .to(", from, ")");
}

kernels::StridedOperand strided_operand(const Tensor& t) {
  kernels::StridedOperand op;
  op.data = static_cast<char*>(t.data_ptr());
  op.dtype = t.dtype();
  std::copy(t.strides().begin(), t.strides().end(), op.strides);
  return op;
}

Tensor scalar_tensor(Scalar value, DType dtype, Device device) {
  Tensor t = empty({}, TensorOptions(dtype).device(device));
  fill_elements(t, value);
  return t;
}

void fill_elements(const Tensor& t, Scalar value) {
  kernels::OperandView view = broadcast_operand(t, t.shape());
  kernels::lookup(kernels::kernel_table().fill, t.device(), "fill_")(
      kernels::make_elementwise_iter(t.shape(), &view, 1), value);
}

void check_value_fits(const char* op, Scalar value, DType dtype) {
  const double v = value.to<double>();
  bool fits = true;
  visit_dtype(dtype, [&](auto tag) {
    using T = decltype(tag);
    if constexpr (is_floating_type_v<T>) {
      fits = !std::isfinite(v) || std::isfinite(static_cast<double>(static_cast<T>(v)));
    } else if constexpr (!std::is_same_v<T, bool>) {
      using Limits = std::numeric_limits<T>;
      const double lowest = std::is_unsigned_v<T> && !value.is_floating_point()
                                ? -static_cast<double>(Limits::max())
                                : static_cast<double>(Limits::lowest());
      // max + 1 is a power of two, exact as a double even for int64.
      const double above = static_cast<double>(Limits::max()) + 1.0;
      fits = (std::is_same_v<T, int64_t> && !value.is_floating_point()) ||
             (std::isfinite(v) && std::trunc(v) >= lowest && std::trunc(v) < above);
    }
  });
  if (fits) return;
  std::ostringstream number;
  if (value.is_floating_point())
    number << v;
  else
    number << value.to<int64_t>();
  detail::fail(OpContext::describe(op), "value ", number.str(), " cannot be converted to ", dtype,
               " without overflow");
}

kernels::OperandView broadcast_operand(const Tensor& t, const Shape& shape) {
  Shape strides = Shape::filled(shape.size(), 0);
  const int64_t lead = shape.size() - t.dim();
  for (int64_t i = 0; i < t.dim(); ++i) strides[lead + i] = t.shape()[i] == 1 ? 0 : t.strides()[i];
  return {t.data_ptr(), t.dtype(), strides};
}

void run_elementwise(kernels::ElementwiseFn kernel,
                     std::initializer_list<ElementwiseOperand> operands) {
  kernels::OperandView views[kernels::kMaxOperands];
  const Shape& shape = operands.begin()->get().shape();
  int n = 0;
  for (const ElementwiseOperand& operand : operands)
    views[n++] = broadcast_operand(operand.get(), shape);
  kernel(kernels::make_elementwise_iter(shape, views, n));
}

}  // namespace graft::ops
