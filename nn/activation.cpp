// The activation modules' constructor checks (the computations are in activation.h).
#include "graft/nn/activation.h"

namespace graft::nn {

GELU::GELU(std::string approximate) : Module("GELU"), approximate(std::move(approximate)) {
  GRAFT_CHECK(this->approximate == "none" || this->approximate == "tanh",
              "GELU: approximate must be \"none\" or \"tanh\", but got \"", this->approximate,
              "\"");
}

Dropout::Dropout(double p) : Module("Dropout"), p(p) {
  GRAFT_CHECK(p >= 0 && p <= 1, "Dropout: probability has to be between 0 and 1, but got p=", p);
}

}  // namespace graft::nn
