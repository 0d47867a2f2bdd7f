// Gradient norms and clipping: per-tensor norms, their norm, one scale; graft ops
// throughout, so they run on whatever device the gradients are on without copying them to
// the host.
#include "graft/optim/clip.h"

#include <cmath>

#include "graft/autograd/grad_mode.h"
#include "graft/autograd/ops.h"
#include "graft/core/error.h"

namespace graft::optim {
namespace {

// The p-norm of all elements of g (p = kInfNorm: max |g|), one pass of norm()'s fused
// reduction; an empty g has norm 0 for every p here (norm() refuses an empty inf norm).
Tensor vector_norm(const Tensor& g, double p) {
  if (g.numel() == 0) return zeros({}, TensorOptions(g.dtype()).device(g.device()));
  return norm(g, p);
}

// get_total_norm, with the name of the function the user called for its errors.
Tensor total_norm(const char* op, const std::vector<Tensor>& tensors, double norm_type,
                  bool error_if_nonfinite) {
  GRAFT_CHECK(norm_type > 0.0, op, "(): norm_type must be positive (or kInfNorm), got ", norm_type);
  NoGradGuard no_grad;
  if (tensors.empty()) return zeros({});  // 0 in the default dtype, as torch.tensor(0.0)
  const DType dtype = tensors.front().dtype();
  const Device device = tensors.front().device();
  for (const Tensor& t : tensors)
    GRAFT_CHECK(is_floating_point(t.dtype()), op, "(): a gradient has dtype ", t.dtype(),
                "; gradients must be floating point");
  std::vector<Tensor> norms;
  for (const Tensor& t : tensors) norms.push_back(vector_norm(t, norm_type).to(dtype).to(device));
  const Tensor total = vector_norm(stack(norms), norm_type);
  if (error_if_nonfinite) {
    const double value = total.item<double>();
    GRAFT_CHECK(std::isfinite(value), op, "(): the total norm of order ", norm_type,
                " of the gradients is ", value,
                ", so they cannot be clipped; pass error_if_nonfinite = false "
                "to scale them anyway");
  }
  return total;
}

}  // namespace

std::vector<Tensor> grads(const std::vector<Tensor>& params) {
  std::vector<Tensor> found;
  for (const Tensor& p : params)
    if (p.grad().defined()) found.push_back(p.grad());
  return found;
}

Tensor get_total_norm(const std::vector<Tensor>& tensors, double norm_type,
                      bool error_if_nonfinite) {
  return total_norm("get_total_norm", tensors, norm_type, error_if_nonfinite);
}

void clip_grads_with_norm_(const std::vector<Tensor>& params, double max_norm,
                           const Tensor& total_norm) {
  NoGradGuard no_grad;
  // min(max_norm / (total + 1e-6), 1), kept on the device: no host synchronisation.
  const Tensor scale = (max_norm / (total_norm + 1e-6)).clamp(std::nullopt, 1.0);
  for (const Tensor& g : grads(params)) g.mul_(scale.to(g.dtype()).to(g.device()));
}

Tensor clip_grad_norm_(const std::vector<Tensor>& params, double max_norm, double norm_type,
                       bool error_if_nonfinite) {
  const Tensor total = total_norm("clip_grad_norm_", grads(params), norm_type, error_if_nonfinite);
  clip_grads_with_norm_(params, max_norm, total);
  return total;
}

}  // namespace graft::optim
