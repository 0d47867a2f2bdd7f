// SGD with momentum, dampening, Nesterov momentum and weight decay (PyTorch's torch.optim.SGD;
// the update formula is in kernels/optim.h).
//
//   optim::SGD opt(net.parameters(), /*lr*/ 0.1, /*momentum*/ 0.9);
//   optim::SGD opt(net.parameters(), {.lr = 0.1, .momentum = 0.9, .nesterov = true});
#pragma once

#include "graft/optim/optimizer.h"

namespace graft::optim {

using SgdOptions = kernels::SgdHyper;

class SGD final : public Optimizer {
 public:
  SGD(std::vector<Tensor> params, SgdOptions options)
      : Optimizer("SGD", {std::move(params), options}) {}
  // PyTorch's positional order.
  explicit SGD(std::vector<Tensor> params, double lr = 1e-3, double momentum = 0.0,
               double dampening = 0.0, double weight_decay = 0.0, bool nesterov = false)
      : SGD(std::move(params), SgdOptions{.lr = lr,
                                          .momentum = momentum,
                                          .dampening = dampening,
                                          .weight_decay = weight_decay,
                                          .nesterov = nesterov}) {}
};

}  // namespace graft::optim
