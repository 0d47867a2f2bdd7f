// Sequential's forward chain (see sequential.h).
#include "graft/nn/sequential.h"

namespace graft::nn {

Tensor Sequential::forward(const Tensor& input) {
  Tensor x = input;
  for (const auto& [name, module] : named_children()) x = (*module)(x);
  return x;
}

}  // namespace graft::nn
