// to_dot: the graph recorded behind a tensor, as Graphviz DOT, for teaching and debugging.
//
//   std::ofstream("graph.dot") << graft::autograd::to_dot(loss);   // dot -Tsvg graph.dot
//
// Boxes are nodes (MulBackward, AccumulateGrad, ...), each listing the dtype, shape and
// device of the op inputs it sends gradients to; arrows follow the gradients, from the
// tensor through its grad_fn down to the leaves, labelled with the input's position.
// An input that does not require grad is listed in its node but gets no arrow.
#pragma once

#include <string>

#include "graft/core/tensor.h"

namespace graft::autograd {

std::string to_dot(const Tensor& t);

}  // namespace graft::autograd
