// Recording: how an op adds its node to the graph, with its backward written beside its
// forward (micrograd's shape):
//
//   Tensor out = <forward>;
//   return autograd::record(out, "MulBackward", {a, b},
//       [sa = autograd::save(a), sb = autograd::save(b)](const Tensor& g) {
//         return TensorList{g * sb.get(), g * sa.get()};  // d(a*b)/da, d(a*b)/db
//       });
//
// The backward receives the gradient of the output and returns one gradient per input
// (an undefined Tensor for "none"), written with graft ops so that create_graph can
// differentiate it again. It need not match its input's shape or dtype: the engine sums
// out broadcast dims and casts (engine.cpp). A backward that needs the op's output takes it
// as a second parameter, `(const Tensor& g, const Tensor& out)`, instead of capturing it
// (that would make the output own its own node). A single-input backward may return one
// Tensor.
//
// record() does nothing when grad mode is off, when no input requires grad, or when the
// output is not floating point (integer and bool results never require grad). The forward
// itself runs below autograd: forward helpers hold a NoGradGuard, so the conversions they
// make inside (to(dtype), copy_) are not recorded on their own.
#pragma once

#include <initializer_list>
#include <string>
#include <type_traits>

#include "graft/autograd/grad_mode.h"
#include "graft/autograd/node.h"

namespace graft::autograd {

// True when grad mode is on and at least one input requires grad.
bool needs_grad(std::initializer_list<const Tensor*> inputs);

// Throws "<op>(): has no backward yet; ..." when grad mode is on and an input requires
// grad, so an op without a backward never cuts the graph silently.
void check_no_backward_yet(const char* op, std::initializer_list<const Tensor*> inputs);

// The node name of an op: "mul" -> "MulBackward", "as_strided" -> "AsStridedBackward".
std::string backward_name(const char* op);

// The node every op records: its backward is a closure; dropping the closure releases
// what it captured (the saved tensors), after which a second backward errors.
class FunctionNode : public Node {
 public:
  using Backward = std::function<TensorList(const Tensor& grad, const Tensor& output)>;
  FunctionNode(std::string name, std::vector<Edge> next_edges, Backward backward,
               SavedTensor output)
      : Node(std::move(name), std::move(next_edges)),
        backward_(std::move(backward)),
        output_(std::move(output)) {}
  TensorList apply(const Tensor& grad, const std::shared_ptr<Node>& self) override;
  void release_saved() override;

 private:
  Backward backward_;
  SavedTensor output_;  // a meta-less alias of the output, when the backward reads it
};

// Makes `out` the output of a new FunctionNode with edges to `inputs`.
void record_node(const Tensor& out, std::string name, const TensorList& inputs,
                 FunctionNode::Backward backward, bool saves_output);

template <class Backward>
const Tensor& record(const Tensor& out, std::string name, const TensorList& inputs,
                     Backward backward) {
  bool any = false;
  for (const Tensor& t : inputs) any = any || t.requires_grad();
  if (!any || !GradMode::is_enabled() || !is_floating_point(out.dtype())) return out;
  constexpr bool kTakesOutput = std::is_invocable_v<Backward&, const Tensor&, const Tensor&>;
  auto adapted = [fn = std::move(backward)](const Tensor& g, const Tensor& output) -> TensorList {
    auto grads = [&] {
      if constexpr (kTakesOutput)
        return fn(g, output);
      else
        return fn(g);
    }();
    if constexpr (std::is_same_v<decltype(grads), Tensor>)
      return {grads};
    else
      return grads;
  };
  record_node(out, std::move(name), inputs, std::move(adapted), kTakesOutput);
  return out;
}

// ---- in-place ops

// The error PyTorch gives for writing in place into a leaf that requires grad while grad
// mode is on (optimizers update parameters inside a NoGradGuard instead), and those for
// views of such tensors (views.h).
void check_inplace(const char* op, const Tensor& self);

// After `self` was overwritten with the values of `result` (the same op computed out of
// place), `self` takes over result's history: its grad_fn becomes result's. When self is a
// view, its base's history changes instead (views.h).
void rebase_history(const Tensor& self, const Tensor& result);

}  // namespace graft::autograd
