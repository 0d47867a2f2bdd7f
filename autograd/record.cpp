// Recording nodes, in-place history rewrites, and the shared "no backward yet" check.
#include "graft/autograd/record.h"

#include <cctype>

#include "graft/autograd/views.h"

namespace graft::autograd {

bool needs_grad(std::initializer_list<const Tensor*> inputs) {
  if (!GradMode::is_enabled()) return false;
  for (const Tensor* t : inputs)
    if (t->defined() && t->requires_grad()) return true;
  return false;
}

std::string backward_name(const char* op) {
  std::string name;
  bool word_start = true;
  for (const char* c = op; *c != '\0'; ++c) {
    if (*c == '_') {
      word_start = true;
      continue;
    }
    name += word_start ? static_cast<char>(std::toupper(static_cast<unsigned char>(*c))) : *c;
    word_start = false;
  }
  return name + "Backward";
}

void check_no_backward_yet(const char* op, std::initializer_list<const Tensor*> inputs) {
  GRAFT_CHECK(!needs_grad(inputs), op,
              "(): has no backward yet, so gradients cannot flow through it. Call it on "
              "x.detach(), or inside a graft::NoGradGuard, where no gradient is needed");
}

TensorList FunctionNode::apply(const Tensor& grad, const std::shared_ptr<Node>& self) {
  GRAFT_CHECK(backward_ != nullptr,
              "Trying to backward through the graph a second time (or directly access saved "
              "tensors after they have already been freed). Saved intermediate values of the "
              "graph are freed when you call backward() or autograd::grad(). Specify "
              "retain_graph=true if you need to backward through the graph a second time");
  Tensor output = output_.get();
  if (output.defined()) {
    // Give the output back its place in the graph, so create_graph differentiates through it.
    output = output.detach();
    AutogradMeta& meta = ensure_autograd_meta(output);
    meta.requires_grad = true;
    meta.grad_fn = self;
  }
  return backward_(grad, output);
}

void FunctionNode::release_saved() {
  backward_ = nullptr;
  output_ = SavedTensor();
}

void record_node(const Tensor& out, std::string name, const TensorList& inputs,
                 FunctionNode::Backward backward, bool saves_output) {
  std::vector<Edge> edges;
  edges.reserve(inputs.size());
  for (const Tensor& t : inputs) edges.push_back({gradient_edge(t), input_meta(t)});
  auto node = std::make_shared<FunctionNode>(std::move(name), std::move(edges), std::move(backward),
                                             saves_output ? save(out.detach()) : SavedTensor());
  set_grad_fn(out, std::move(node));
}

void check_inplace(const char* op, const Tensor& self) {
  GRAFT_CHECK(!(GradMode::is_enabled() && self.requires_grad() && self.is_leaf()), op,
              "(): a leaf Variable that requires grad is being used in an in-place operation. "
              "Update parameters inside a graft::NoGradGuard, or work on a clone()");
  check_inplace_view(op, self);
}

void rebase_history(const Tensor& self, const Tensor& result) {
  const AutogradMeta* from = autograd_meta(result);
  if (from == nullptr || !from->requires_grad) return;
  if (rebase_view_history(self, result)) return;
  set_grad_fn(self, from->grad_fn);
}

}  // namespace graft::autograd
