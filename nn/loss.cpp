// The losses that hold weight tensors register them as buffers (the others are in loss.h).
#include "graft/nn/loss.h"

namespace graft::nn {

CrossEntropyLoss::CrossEntropyLoss(functional::CrossEntropyOptions options)
    : Loss("CrossEntropyLoss"), options(std::move(options)) {
  register_weight("weight", this->options.weight);
}

NLLLoss::NLLLoss(functional::NllLossOptions options)
    : Loss("NLLLoss"), options(std::move(options)) {
  register_weight("weight", this->options.weight);
}

BCELoss::BCELoss(functional::BceOptions options) : Loss("BCELoss"), options(std::move(options)) {
  register_weight("weight", this->options.weight);
}

BCEWithLogitsLoss::BCEWithLogitsLoss(functional::BceWithLogitsOptions options)
    : Loss("BCEWithLogitsLoss"), options(std::move(options)) {
  register_weight("weight", this->options.weight);
  register_weight("pos_weight", this->options.pos_weight);
}

}  // namespace graft::nn
