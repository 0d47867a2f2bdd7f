// Helpers every op family shares: device checks, scalar wrapping, operand views, the
// call that runs an elementwise kernel, and the in-place-by-assignment pattern. Internal to
// the op layer (not in graft.h).
#pragma once

#include <initializer_list>
#include <string>

#include "graft/autograd/ops.h"
#include "graft/autograd/record.h"
#include "graft/kernels/dispatch.h"

namespace graft::ops {

// "Expected all tensors to be on the same device, but found at least two devices, cuda:0
// and cpu!" (PyTorch's wording), naming the op.
void check_same_device(const char* op, std::initializer_list<const Tensor*> tensors);

// Writing into a tensor whose elements share memory (an expand()ed view) is an error.
void check_writable(const char* op, const Tensor& self);

// A result of dtype `from` may be written into a tensor of dtype `to` when that does not
// lower its category (float -> int, int -> bool), as PyTorch's can_cast. `op` is the
// out-of-place name ("add" for add_).
void check_can_cast(const char* op, DType from, DType to);

// self = compute(self), written in place: the in-place ops that compute out of place.
// Under autograd, compute runs on a clone of self, so what its backward saved keeps the
// values from before the write, and self then takes over the result's history (through a
// view, its base's: autograd/views.h). Without autograd, compute reads self directly.
// `op` is the out-of-place name; `others` are the inputs besides self.
template <class Compute>
const Tensor& assign_in_place(const char* op, const Tensor& self,
                              std::initializer_list<const Tensor*> others, Compute compute) {
  const std::string inplace_name = std::string(op) + "_";
  check_writable(inplace_name.c_str(), self);
  autograd::check_inplace(inplace_name.c_str(), self);
  const bool grad = autograd::needs_grad({&self}) || autograd::needs_grad(others);
  const Tensor result = compute(grad ? self.clone() : self);
  {
    autograd::NoGradGuard no_grad;
    check_can_cast(op, result.dtype(), self.dtype());
    GRAFT_CHECK(result.shape() == self.shape(), op, "_(): output with shape ", self.shape(),
                " doesn't match the broadcast shape ", result.shape());
    self.copy_(result);
  }
  if (grad) autograd::rebase_history(self, result);
  return self;
}

// How a tensor takes part in type promotion (see result_type in core/dtype.h).
inline Operand operand(const Tensor& t) {
  return {t.dtype(), t.dim() == 0 ? OperandKind::kZeroDim : OperandKind::kTensor};
}
inline Operand operand(Scalar s) { return {s.dtype(), OperandKind::kScalar}; }

// A 0-d tensor holding `value`, for the scalar side of `t + 2`: converted as the op's
// arithmetic converts it (1e5 in float16 is inf, as h + 1e5 is), never refused.
Tensor scalar_tensor(Scalar value, DType dtype, Device device);

// Writes `value` into every element of t by the fill kernel: no checks, no autograd.
void fill_elements(const Tensor& t, Scalar value);

// A number written into a tensor (fill_, full, masked_fill) must fit its dtype, as PyTorch's
// "value cannot be converted to type ... without overflow": a finite number that would
// become inf, or a number outside an integer dtype's range (an unsigned one takes negative
// integers down to -max, wrapping, as PyTorch's do), or NaN or inf into an integer dtype.
// `op` names the op for the message.
void check_value_fits(const char* op, Scalar value, DType dtype);

// Strides of `t` broadcast to `shape` (0 along broadcast dims), for the kernels.
kernels::OperandView broadcast_operand(const Tensor& t, const Shape& shape);

// t's data, dtype and strides, for the kernels that take their operands one by one.
kernels::StridedOperand strided_operand(const Tensor& t);

// An operand of run_elementwise, held by reference: an op's tensors are not copied for the
// call (a Tensor's copy is two atomic updates of its count; the 1-element add made five).
// {t, dtype} is t in `dtype`: t itself when it already is, else a conversion held here.
// Either lives until the call returns, as any temporary in its arguments does.
class ElementwiseOperand {
 public:
  ElementwiseOperand(const Tensor& t) : tensor_(&t) {}  // NOLINT(google-explicit-constructor)
  ElementwiseOperand(const Tensor& t, DType dtype) : tensor_(&t) {
    if (t.dtype() != dtype) {
      converted_ = t.to(dtype);
      tensor_ = &converted_;
    }
  }
  ElementwiseOperand(const ElementwiseOperand&) = delete;
  ElementwiseOperand& operator=(const ElementwiseOperand&) = delete;
  const Tensor& get() const { return *tensor_; }

 private:
  const Tensor* tensor_;
  Tensor converted_;
};

// Runs `kernel` with operands[0] as the output, the others broadcast to its shape.
void run_elementwise(kernels::ElementwiseFn kernel,
                     std::initializer_list<ElementwiseOperand> operands);

// Kernels that compute in float32 and float64 only (the CPU's matmul where it has no 16-bit
// kernel: kernels/matmul.h's cpu_matmul_takes) run float16 and bfloat16 in float32: the op
// widens its 16-bit inputs, runs the kernel and rounds the result back to the input's dtype (a
// copy each way; the op layer records the op itself, not the casts).
bool computes_in_float32(const Tensor& t);      // t is float16 or bfloat16
Tensor widened(const Tensor& t);                // t.to(kFloat32) for those (undefined stays so)
Tensor narrowed(const Tensor& t, DType dtype);  // t.to(dtype), undefined stays so

// The p-norm of floating-point x over `dims` (wrapped; every dim when empty), kept as size
// 1, by one fused reduction kernel; records nothing (norm()'s forward, ops_norm.cpp). With
// root false, the sum of |x|^p before its p-th root is taken (mse_loss's sum of squares).
Tensor norm_reduction(const Tensor& x, double p, const Dims& dims, bool root = true);

}  // namespace graft::ops
