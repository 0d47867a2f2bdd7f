// Helpers every op family shares: device checks, scalar wrapping, operand views and the
// call that runs an elementwise kernel. Internal to the op layer (not in graft.h).
#pragma once

#include <initializer_list>

#include "graft/autograd/ops.h"
#include "graft/kernels/dispatch.h"

namespace graft::ops {

// "Expected all tensors to be on the same device, but found at least two devices, cuda:0
// and cpu!" (PyTorch's wording), naming the op.
void check_same_device(const char* op, std::initializer_list<const Tensor*> tensors);

// Writing into a tensor whose elements share memory (an expand()ed view) is an error.
void check_writable(const char* op, const Tensor& self);

// How a tensor takes part in type promotion (see result_type in core/dtype.h).
inline Operand operand(const Tensor& t) {
  return {t.dtype(), t.dim() == 0 ? OperandKind::kZeroDim : OperandKind::kTensor};
}
inline Operand operand(Scalar s) { return {s.dtype(), OperandKind::kScalar}; }

// A 0-d tensor holding `value`, for the scalar side of `t + 2`.
Tensor scalar_tensor(Scalar value, DType dtype, Device device);

// Strides of `t` broadcast to `shape` (0 along broadcast dims), for the kernels.
kernels::OperandView broadcast_operand(const Tensor& t, const Shape& shape);

// Runs `kernel` with operands[0] as the output, the others broadcast to its shape.
void run_elementwise(kernels::ElementwiseFn kernel, std::initializer_list<Tensor> operands);

}  // namespace graft::ops
