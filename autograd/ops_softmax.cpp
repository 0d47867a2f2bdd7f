// softmax and log_softmax along one dim.
//
// The input is made contiguous (a no-op for the common case) so the kernel sees a plain
// (outer, dim_size, inner) block, and the output is allocated contiguous in the same
// shape. Only floating dtypes are accepted: an integer softmax has no useful meaning, and
// PyTorch refuses it too rather than guess a dtype.
//
// Backward, from the output y alone (the usual stable formulas, no exp of the input):
//   softmax:     dx = y * (g - sum(g * y))       (y's Jacobian is diag(y) - y y^T)
//   log_softmax: dx = g - exp(y) * sum(g)        (exp(y) is the softmax)
// with the sums along dim, kept as size 1 so they broadcast back.
#include "graft/autograd/autocast.h"
#include "graft/autograd/op_utils.h"
#include "graft/autograd/record.h"
#include "graft/core/op_context.h"
#include "graft/kernels/softmax.h"

namespace graft {

using kernels::kernel_table;
using kernels::lookup;

namespace {

// The kernel's result for `dim` (already wrapped).
Tensor softmax_values(const char* op, const Tensor& x, int64_t dim, bool log) {
  GRAFT_CHECK(is_floating_point(x.dtype()), op, "(): expected a floating-point tensor, but got ",
              x.dtype(), " (shape ", x.shape(), "); convert it with .to(graft::kFloat32)");
  const Tensor input = x.contiguous();
  Tensor out = empty(x.shape(), TensorOptions(x.dtype()).device(x.device()));
  if (out.numel() == 0) return out;

  kernels::SoftmaxArgs args;
  args.dtype = x.dtype();
  args.input = input.data_ptr();
  args.output = out.data_ptr();
  args.outer = 1;
  args.inner = 1;
  for (int64_t d = 0; d < x.dim(); ++d) {
    if (d < dim) args.outer *= x.shape()[d];
    if (d > dim) args.inner *= x.shape()[d];
  }
  args.dim_size = x.dim() == 0 ? 1 : x.shape()[dim];
  args.log = log;
  lookup(kernel_table().softmax, x.device(), op)(args);
  return out;
}

Tensor softmax_along(const char* op, const Tensor& x_in, int64_t dim, bool log) {
  const Tensor x = autocast::to_float32(x_in);
  const OpContext context(op);
  dim = wrap_dim(dim, x.dim(), op);
  Tensor out;
  {
    autograd::NoGradGuard no_grad;  // x.contiguous() is part of this one op
    out = softmax_values(op, x, dim, log);
  }
  const Dims along{dim};
  if (log)
    return autograd::record(
        out, "LogSoftmaxBackward", {x},
        [along](const Tensor& g, const Tensor& y) { return g - exp(y) * sum(g, along, true); });
  return autograd::record(out, "SoftmaxBackward", {x}, [along](const Tensor& g, const Tensor& y) {
    return y * (g - sum(g * y, along, true));
  });
}

}  // namespace

Tensor softmax(const Tensor& x, int64_t dim) { return softmax_along("softmax", x, dim, false); }

Tensor log_softmax(const Tensor& x, int64_t dim) {
  return softmax_along("log_softmax", x, dim, true);
}

}  // namespace graft
