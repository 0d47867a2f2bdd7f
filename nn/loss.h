// Loss modules: CrossEntropyLoss, NLLLoss, MSELoss, L1Loss, SmoothL1Loss, HuberLoss, BCELoss,
// BCEWithLogitsLoss, called as loss(input, target) and computed by nn::functional (see
// functional.h for the formulas). Their weight tensors are buffers, so to(kCUDA) moves them
// with the model's.
#pragma once

#include <string>

#include "graft/nn/functional.h"
#include "graft/nn/module.h"

namespace graft::nn {

using functional::Reduction;

// A module of two tensors. Calling it with one (the Module interface) is an error.
class Loss : public Module {
 public:
  using Module::forward;
  virtual Tensor forward(const Tensor& input, const Tensor& target) = 0;
  Tensor operator()(const Tensor& input, const Tensor& target) { return forward(input, target); }

 protected:
  using Module::Module;
  // Registers `weight` as the buffer `name` when it is defined (a loss's optional weights).
  void register_weight(const std::string& name, const Tensor& weight) {
    if (weight.defined()) register_buffer(name, weight);
  }
};

// options.weight, when given, becomes the buffer "weight" (for this and the losses below).
class CrossEntropyLoss : public Loss {
 public:
  explicit CrossEntropyLoss(functional::CrossEntropyOptions options = {});
  Tensor forward(const Tensor& input, const Tensor& target) override {
    return functional::cross_entropy(input, target, options);
  }
  functional::CrossEntropyOptions options;
};

class NLLLoss : public Loss {
 public:
  explicit NLLLoss(functional::NllLossOptions options = {});
  Tensor forward(const Tensor& input, const Tensor& target) override {
    return functional::nll_loss(input, target, options);
  }
  functional::NllLossOptions options;
};

class MSELoss : public Loss {
 public:
  explicit MSELoss(Reduction reduction = Reduction::kMean)
      : Loss("MSELoss"), reduction(reduction) {}
  Tensor forward(const Tensor& input, const Tensor& target) override {
    return functional::mse_loss(input, target, reduction);
  }
  Reduction reduction;
};

class L1Loss : public Loss {
 public:
  explicit L1Loss(Reduction reduction = Reduction::kMean) : Loss("L1Loss"), reduction(reduction) {}
  Tensor forward(const Tensor& input, const Tensor& target) override {
    return functional::l1_loss(input, target, reduction);
  }
  Reduction reduction;
};

class SmoothL1Loss : public Loss {
 public:
  explicit SmoothL1Loss(Reduction reduction = Reduction::kMean, double beta = 1.0)
      : Loss("SmoothL1Loss"), reduction(reduction), beta(beta) {}
  Tensor forward(const Tensor& input, const Tensor& target) override {
    return functional::smooth_l1_loss(input, target, reduction, beta);
  }
  Reduction reduction;
  double beta;
};

class HuberLoss : public Loss {
 public:
  explicit HuberLoss(Reduction reduction = Reduction::kMean, double delta = 1.0)
      : Loss("HuberLoss"), reduction(reduction), delta(delta) {}
  Tensor forward(const Tensor& input, const Tensor& target) override {
    return functional::huber_loss(input, target, reduction, delta);
  }
  Reduction reduction;
  double delta;
};

class BCELoss : public Loss {
 public:
  explicit BCELoss(functional::BceOptions options = {});
  Tensor forward(const Tensor& input, const Tensor& target) override {
    return functional::binary_cross_entropy(input, target, options);
  }
  functional::BceOptions options;
};

class BCEWithLogitsLoss : public Loss {
 public:
  // options.weight and options.pos_weight, when given, become the buffers "weight" and
  // "pos_weight".
  explicit BCEWithLogitsLoss(functional::BceWithLogitsOptions options = {});
  Tensor forward(const Tensor& input, const Tensor& target) override {
    return functional::binary_cross_entropy_with_logits(input, target, options);
  }
  functional::BceWithLogitsOptions options;
};

}  // namespace graft::nn
