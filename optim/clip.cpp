// clip_grad_norm_: per-gradient norms, their norm, one scale; graft ops throughout, so it
// runs on whatever device the gradients are on without copying them to the host.
#include "graft/optim/clip.h"

#include <cmath>

#include "graft/autograd/grad_mode.h"
#include "graft/autograd/ops.h"
#include "graft/core/error.h"

namespace graft::optim {
namespace {

// The p-norm of all elements of g (p = kInfNorm: max |g|).
Tensor vector_norm(const Tensor& g, double p) {
  if (g.numel() == 0) return zeros({}, TensorOptions(g.dtype()).device(g.device()));
  if (p == kInfNorm) return g.abs().max();
  if (p == 2.0) return (g * g).sum().sqrt();
  if (p == 1.0) return g.abs().sum();
  return g.abs().pow(p).sum().pow(1.0 / p);
}

}  // namespace

Tensor clip_grad_norm_(const std::vector<Tensor>& params, double max_norm, double norm_type,
                       bool error_if_nonfinite) {
  GRAFT_CHECK(norm_type > 0.0, "clip_grad_norm_(): norm_type must be positive (or kInfNorm), got ",
              norm_type);
  NoGradGuard no_grad;
  std::vector<Tensor> grads;
  for (const Tensor& p : params)
    if (p.grad().defined()) grads.push_back(p.grad());
  if (grads.empty()) return zeros({});  // 0 in the default dtype, as torch.tensor(0.0)
  const DType dtype = grads.front().dtype();
  const Device device = grads.front().device();
  for (const Tensor& g : grads)
    GRAFT_CHECK(is_floating_point(g.dtype()), "clip_grad_norm_(): a gradient has dtype ", g.dtype(),
                "; gradients must be floating point");
  std::vector<Tensor> norms;
  for (const Tensor& g : grads) norms.push_back(vector_norm(g, norm_type).to(dtype).to(device));
  const Tensor total = vector_norm(stack(norms), norm_type);
  if (error_if_nonfinite) {
    const double value = total.item<double>();
    GRAFT_CHECK(std::isfinite(value), "clip_grad_norm_(): the total norm of order ", norm_type,
                " of the gradients is ", value,
                ", so they cannot be clipped; pass error_if_nonfinite = false "
                "to scale them anyway");
  }
  // min(max_norm / (total + 1e-6), 1), kept on the device: no host synchronisation.
  const Tensor scale = (max_norm / (total + 1e-6)).clamp(std::nullopt, 1.0);
  for (const Tensor& g : grads) g.mul_(scale.to(g.dtype()).to(g.device()));
  return total;
}

}  // namespace graft::optim
