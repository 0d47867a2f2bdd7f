// RMSprop, plain or centered, with momentum and weight decay (PyTorch's
// torch.optim.RMSprop; the update formula is in kernels/optim.h).
//
//   optim::RMSprop opt(net.parameters(), /*lr*/ 1e-2);
//   optim::RMSprop opt(net.parameters(), {.lr = 1e-3, .momentum = 0.9, .centered = true});
#pragma once

#include "graft/optim/optimizer.h"

namespace graft::optim {

using RmspropOptions = kernels::RmspropHyper;

class RMSprop final : public Optimizer {
 public:
  RMSprop(std::vector<Tensor> params, RmspropOptions options)
      : Optimizer("RMSprop", {std::move(params), options}) {}
  // PyTorch's positional order.
  explicit RMSprop(std::vector<Tensor> params, double lr = 1e-2, double alpha = 0.99,
                   double eps = 1e-8, double weight_decay = 0.0, double momentum = 0.0,
                   bool centered = false)
      : RMSprop(std::move(params), RmspropOptions{.lr = lr,
                                                  .alpha = alpha,
                                                  .eps = eps,
                                                  .weight_decay = weight_decay,
                                                  .momentum = momentum,
                                                  .centered = centered}) {}
};

}  // namespace graft::optim
