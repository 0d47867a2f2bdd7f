// Gradient norms and clipping, as PyTorch's torch.nn.utils: clip_grad_norm_ is
// get_total_norm (the joint norm, for a log or a check) then clip_grads_with_norm_ (the
// scaling), each usable alone since PyTorch 2.6 split them.
#pragma once

#include <limits>
#include <vector>

#include "graft/core/tensor.h"

namespace graft::optim {

inline constexpr double kInfNorm = std::numeric_limits<double>::infinity();

// The norm_type-norm of all gradients of `params` taken together (as if concatenated;
// kInfNorm: the largest |g|), returned as a 0-d tensor of the first gradient's dtype and
// device; parameters without a gradient are skipped (no gradient at all: 0). When that
// norm exceeds max_norm, every gradient is multiplied in place by
// max_norm / (norm + 1e-6). error_if_nonfinite: a NaN or infinite norm is an error
// instead of gradients scaled by NaN.
Tensor clip_grad_norm_(const std::vector<Tensor>& params, double max_norm, double norm_type = 2.0,
                       bool error_if_nonfinite = false);

// The norm_type-norm of `tensors` taken together (as if concatenated), as a 0-d tensor of
// the first one's dtype and device (none: 0); torch.nn.utils.get_total_norm, which takes
// the gradients themselves, not the parameters: get_total_norm(grads(params)).
Tensor get_total_norm(const std::vector<Tensor>& tensors, double norm_type = 2.0,
                      bool error_if_nonfinite = false);

// The defined gradients of `params`, in order (parameters without one are skipped).
std::vector<Tensor> grads(const std::vector<Tensor>& params);

// Multiplies every gradient of `params` by min(max_norm / (total_norm + 1e-6), 1), where
// total_norm is a 0-d tensor from get_total_norm; stays on the device (no host read).
void clip_grads_with_norm_(const std::vector<Tensor>& params, double max_norm,
                           const Tensor& total_norm);

}  // namespace graft::optim
