// clip_grad_norm_: rescales gradients so that their joint norm is at most max_norm
// (PyTorch's torch.nn.utils.clip_grad_norm_).
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

}  // namespace graft::optim
