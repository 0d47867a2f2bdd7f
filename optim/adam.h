// Adam and AdamW (PyTorch's torch.optim.Adam / AdamW; the update formula is in
// kernels/optim.h). AdamW is Adam with decoupled weight decay: the weights shrink by
// lr * weight_decay each step instead of weight_decay * param joining the gradient.
//
//   optim::Adam opt(net.parameters(), /*lr*/ 1e-3);
//   optim::AdamW opt(net.parameters(), /*lr*/ 1e-3, /*weight_decay*/ 1e-2);
//   optim::Adam opt(net.parameters(), {.lr = 1e-3, .beta2 = 0.99, .amsgrad = true});
//   optim::AdamW opt(net.parameters(), {.lr = 1e-3, .beta2 = 0.99});  // weight_decay 1e-2
#pragma once

#include <concepts>

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

// AdamW's options: Adam's, less the flag AdamW sets, with PyTorch's AdamW default weight
// decay of 1e-2 where Adam's is 0, so that AdamW(params, {.lr = 0.1}) decays as
// torch.optim.AdamW(lr=0.1) does. Converts to the AdamOptions it runs (add_param_group takes
// either).
struct AdamWOptions {
  double lr = 1e-3;
  double beta1 = 0.9;
  double beta2 = 0.999;
  double eps = 1e-8;
  double weight_decay = 1e-2;
  bool amsgrad = false;
  bool maximize = false;

  operator AdamOptions() const {  // NOLINT(google-explicit-constructor)
    return {.lr = lr,
            .beta1 = beta1,
            .beta2 = beta2,
            .eps = eps,
            .weight_decay = weight_decay,
            .amsgrad = amsgrad,
            .decoupled_weight_decay = true,
            .maximize = maximize};
  }
};

class AdamW final : public Optimizer {
 public:
  AdamW(std::vector<Tensor> params, AdamWOptions options)
      : Optimizer("AdamW", {std::move(params), AdamOptions(options)}) {}
  // Adam's options struct named explicitly (AdamW(params, AdamOptions{...})), taken as given:
  // its weight decay is Adam's 0 unless set. A template, so that a braced list of options
  // ({.lr = 0.1}) is AdamWOptions' alone rather than ambiguous.
  template <std::same_as<AdamOptions> Options>
  AdamW(std::vector<Tensor> params, Options options)
      : Optimizer("AdamW", {std::move(params), decoupled(options)}) {}
  explicit AdamW(std::vector<Tensor> params, double lr = 1e-3, double weight_decay = 1e-2)
      : AdamW(std::move(params), AdamWOptions{.lr = lr, .weight_decay = weight_decay}) {}

 private:
  static AdamOptions decoupled(AdamOptions options) {
    options.decoupled_weight_decay = true;
    return options;
  }
};

}  // namespace graft::optim
