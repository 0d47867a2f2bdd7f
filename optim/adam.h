// Adam and AdamW (PyTorch's torch.optim.Adam / AdamW; the update formula is in
// kernels/optim.h). AdamW is Adam with decoupled weight decay: the weights shrink by
// lr * weight_decay each step instead of weight_decay * param joining the gradient.
//
//   optim::Adam opt(net.parameters(), /*lr*/ 1e-3);
//   optim::AdamW opt(net.parameters(), /*lr*/ 1e-3, /*weight_decay*/ 1e-2);
//   optim::Adam opt(net.parameters(), {.lr = 1e-3, .beta2 = 0.99, .amsgrad = true});
#pragma once

#include "graft/optim/optimizer.h"

namespace graft::optim {

using AdamOptions = kernels::AdamHyper;

class Adam final : public Optimizer {
 public:
  Adam(std::vector<Tensor> params, AdamOptions options)
      : Optimizer("Adam", {std::move(params), options}) {
    GRAFT_CHECK(!options.decoupled_weight_decay,
                "Adam: decoupled_weight_decay is AdamW; use optim::AdamW");
  }
  explicit Adam(std::vector<Tensor> params, double lr = 1e-3, double weight_decay = 0.0)
      : Adam(std::move(params), AdamOptions{.lr = lr, .weight_decay = weight_decay}) {}
};

class AdamW final : public Optimizer {
 public:
  // The options' decoupled_weight_decay is set; their weight_decay is used as given.
  AdamW(std::vector<Tensor> params, AdamOptions options)
      : Optimizer("AdamW", {std::move(params), decoupled(options)}) {}
  // PyTorch's default weight decay for AdamW is 1e-2.
  explicit AdamW(std::vector<Tensor> params, double lr = 1e-3, double weight_decay = 1e-2)
      : AdamW(std::move(params), AdamOptions{.lr = lr, .weight_decay = weight_decay}) {}

 private:
  static AdamOptions decoupled(AdamOptions options) {
    options.decoupled_weight_decay = true;
    return options;
  }
};

}  // namespace graft::optim
