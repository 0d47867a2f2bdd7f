// BCEWithLogitsLoss registers its weights as buffers (the other losses are in loss.h).
#include "graft/nn/loss.h"

namespace graft::nn {

BCEWithLogitsLoss::BCEWithLogitsLoss(functional::BceWithLogitsOptions options)
    : Loss("BCEWithLogitsLoss"), options(std::move(options)) {
  if (this->options.weight.defined()) register_buffer("weight", this->options.weight);
  if (this->options.pos_weight.defined()) register_buffer("pos_weight", this->options.pos_weight);
}

}  // namespace graft::nn
