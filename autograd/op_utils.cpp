// Shared op-layer helpers; see op_utils.h.
#include "graft/autograd/op_utils.h"

#include <algorithm>

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
  t.fill_(value);
  return t;
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
