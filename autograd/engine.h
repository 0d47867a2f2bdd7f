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

#include <functional>
#include <optional>

#include "graft/autograd/node.h"

namespace graft::autograd {

// Accumulates d(roots)/d(leaf) into every leaf's grad(). `grad_roots[i]` is the gradient of
// roots[i]; undefined means 1 and needs a one-element root. retain_graph defaults to
// create_graph, as in PyTorch.
void backward(const TensorList& roots, const TensorList& grad_roots = {},
              std::optional<bool> retain_graph = std::nullopt, bool create_graph = false);

// autograd::grad's options, named at the call site with designated initialisers:
//   grad({loss}, {w}, {.retain_graph = true, .create_graph = true})
// One struct rather than trailing bools, so that no `{}` or `true` can bind to the wrong
// parameter (the fields must be named in this order). Every field has an initialiser, so a
// call naming only some of them draws no -Wmissing-field-initializers warning.
struct GradOptions {
  // The gradient of each output; empty (or an undefined element) means 1 and needs a
  // one-element output.
  TensorList grad_outputs{};
  // Keep the graph's saved tensors for another pass; unset, it follows create_graph, as
  // PyTorch's retain_graph=None does.
  std::optional<bool> retain_graph{};
  // Record the backward pass itself, so the gradients can be differentiated again.
  bool create_graph = false;
  // An input the outputs do not depend on gives an undefined Tensor instead of an error.
  bool allow_unused = false;
};

// The gradients of `outputs` with respect to `inputs` (tensors that require grad), returned
// instead of accumulated into grad().
TensorList grad(const TensorList& outputs, const TensorList& inputs,
                const GradOptions& options = {});

// Queues `callback` to run when the backward pass now running has finished every node, so
// after the last gradient has been accumulated (PyTorch's
// Variable._execution_engine.queue_callback). Callable only from inside a pass: a hook.
// Callbacks run in the order queued, on the thread of the pass; one may queue another. A
// pass that fails drops its callbacks. DistributedDataParallel waits here for its last
// gradient all-reduce.
void queue_callback(std::function<void()> callback);

}  // namespace graft::autograd
