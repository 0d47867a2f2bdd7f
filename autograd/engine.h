// The backward pass: from some outputs and their gradients to the gradients of whatever
// they depend on.
//
// The engine walks the recorded graph once to count, for every node, how many edges lead
// into it, then runs nodes from a ready list: a node runs when all its incoming gradients
// have arrived (summed in its buffer), and its outputs go into the buffers of the nodes
// its edges point to. Nothing recurses, so the depth of a graph is bounded by memory only.
// Leaves are reached through their AccumulateGrad node, which adds into grad().
//
// Unless retain_graph is set, every node drops its saved tensors once it has run, so the
// graph's memory is freed during the pass and a second pass through it is an error.
// create_graph runs the pass with grad mode on, so the backward formulas themselves
// record a graph and the gradients can be differentiated again.
#pragma once

#include "graft/autograd/node.h"

namespace graft::autograd {

// Accumulates d(roots)/d(leaf) into every leaf's grad(). `grad_roots[i]` is the gradient of
// roots[i]; undefined means 1 and needs a one-element root.
void backward(const TensorList& roots, const TensorList& grad_roots = {}, bool retain_graph = false,
              bool create_graph = false);

// The gradients of `outputs` with respect to `inputs` (tensors that require grad), returned
// instead of accumulated into grad(). An input the outputs do not depend on is an error
// unless allow_unused, which gives an undefined Tensor for it.
TensorList grad(const TensorList& outputs, const TensorList& inputs, const TensorList& grad_outputs,
                bool retain_graph = false, bool create_graph = false, bool allow_unused = false);
// The same with every grad_output implicit (one-element outputs), as in
// grad({loss}, {w}, /*retain_graph=*/true, /*create_graph=*/true).
TensorList grad(const TensorList& outputs, const TensorList& inputs, bool retain_graph = false,
                bool create_graph = false, bool allow_unused = false);

}  // namespace graft::autograd
