// norm: the p-norm over some dims, as torch.norm / torch.linalg.vector_norm.
//
// The forward is one fused reduction (the norm reducer of kernels/reducers.h: |x|^p summed
// and rooted in a single pass), with the reduced dims kept as size 1, and records one node
// there; dropping them afterwards (keepdim = false)
// is a reshape, a view with its own backward. The node's formula is PyTorch's norm_backward,
// written in graft ops so it differentiates again, and chosen so that no inf or NaN appears
// where the norm or an element is 0 (Note [norm backward]).
#include <algorithm>
#include <cmath>

#include "graft/autograd/autocast.h"
#include "graft/autograd/op_utils.h"
#include "graft/autograd/record.h"

namespace graft {
namespace {

// `dims` wrapped, each at most once; every dim of x when empty.
Dims norm_dims(const Tensor& x, const Dims& dims) {
  Dims wrapped;
  for (int64_t d : dims) {
    const int64_t w = wrap_dim(d, x.dim(), "norm");
    for (int64_t seen : wrapped)
      GRAFT_CHECK(seen != w, "norm(): dim ", w, " appears multiple times in the list of dims");
    wrapped.push_back(w);
  }
  if (dims.empty())
    for (int64_t d = 0; d < x.dim(); ++d) wrapped.push_back(d);
  return wrapped;
}

// The result's shape with the reduced dims kept as size 1, or dropped.
Shape norm_shape(const Tensor& x, const Dims& dims, bool keepdim) {
  Shape shape;
  for (int64_t d = 0; d < x.dim(); ++d) {
    const bool reduced = std::find(dims.begin(), dims.end(), d) != dims.end();
    if (!reduced || keepdim) shape.push_back(reduced ? 1 : x.size(d));
  }
  return shape;
}

// max and min have no identity: an inf norm over an empty group is an error, as in PyTorch.
void check_groups_not_empty(const Tensor& x, const Dims& dims, double p) {
  GRAFT_CHECK(x.numel() != 0 || norm_shape(x, dims, false).numel() == 0,
              "norm(): cannot compute the ", p, " norm of an empty group (input of shape ",
              x.shape(), ", dims ", dims,
              "): the operation does not have an identity; reduce over dims of non-zero size");
}

// Note [norm backward]
// For finite p != 0, d norm / d x_i = norm^(1 - p) |x_i|^(p - 1) sign(x_i), which is x_i /
// norm for p = 2 and sign(x_i) for p = 1. Where x_i = 0 the gradient is 0 (|x_i|^(p - 1) is
// inf for p < 1) and where norm = 0 it is 0 too (norm^(1 - p) is inf for p > 1), as PyTorch
// masks them; the masked values are computed on a safe 1, so the branch where() drops stays
// finite and so does its (zero) second derivative. p = +-inf: the gradient goes to the
// elements whose |x_i| is the norm, split evenly among ties, with their sign. p = 0: the
// count of non-zeros is locally constant, its gradient 0.
Tensor norm_backward(const Tensor& g, const Tensor& x, const Tensor& result, double p,
                     const Dims& dims) {
  if (p == 0) return zeros_like(x);
  const Tensor sign = (x > 0).to(x.dtype()) - (x < 0).to(x.dtype());
  if (std::isinf(p)) {
    const Tensor tied = (abs(x) == result).to(x.dtype());
    return sign * tied * (g / sum(tied, dims, true));
  }
  const Tensor x_zero = x == 0, result_zero = result == 0;
  const Tensor scale = where(result_zero, 0.0, g * pow(where(result_zero, 1.0, result), 1 - p));
  const Tensor slope = where(x_zero, 0.0, sign * pow(abs(where(x_zero, 1.0, x)), p - 1));
  return slope * scale;
}

}  // namespace

Tensor norm(const Tensor& x_in, double p, const Dims& dims, bool keepdim) {
  const Tensor x = autocast::to_float32(x_in);
  GRAFT_CHECK(is_floating_point(x.dtype()), "norm(): input dtype should be floating point, got ",
              x.dtype(), "; convert it first, e.g. x.to(graft::kFloat32)");
  const Dims reduced = norm_dims(x, dims);
  if (std::isinf(p)) check_groups_not_empty(x, reduced, p);
  const Tensor kept =
      autograd::record(ops::norm_reduction(x, p, reduced), "NormBackward", {x},
                       [sx = autograd::save(x), p, reduced](const Tensor& g, const Tensor& result) {
                         return norm_backward(g, sx.get(), result, p, reduced);
                       });
  return keepdim ? kept : kept.reshape(norm_shape(x, reduced, false));
}

}  // namespace graft
