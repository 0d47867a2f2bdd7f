// StateDict: named tensors, the unit a checkpoint stores (graft::save / graft::load) and,
// later, what nn::Module::state_dict() returns. Names are PyTorch's dotted paths
// ("0.weight", "encoder.layers.1.bias"); a std::map keeps them sorted, so iterating a
// state dict, and the file written from it, does not depend on insertion order.
#pragma once

#include <map>
#include <string>

#include "graft/core/tensor.h"

namespace graft {

using StateDict = std::map<std::string, Tensor>;

}  // namespace graft
