// Tensor's autograd methods (declared in core/tensor.h, which cannot see autograd/).
#include "graft/autograd/engine.h"
#include "graft/autograd/grad_mode.h"
#include "graft/autograd/node.h"
#include "graft/autograd/views.h"

namespace graft {

using autograd::autograd_meta;
using autograd::ensure_autograd_meta;

const Tensor& Tensor::requires_grad_(bool requires_grad) const {
  if (!is_leaf()) {
    GRAFT_CHECK(requires_grad,
                "requires_grad_(): you can only change requires_grad flags of leaf variables. "
                "If you want to use a computed variable in a subgraph that doesn't require "
                "differentiation use var_no_grad = var.detach()");
    return *this;
  }
  GRAFT_CHECK(!requires_grad || is_floating_point(dtype()),
              "requires_grad_(): only Tensors of floating point dtype can require gradients, "
              "but this one is ",
              dtype(), "; convert it first, e.g. x.to(graft::kFloat32)");
  if (requires_grad || autograd_meta(*this))
    ensure_autograd_meta(*this).requires_grad = requires_grad;
  return *this;
}

bool Tensor::requires_grad() const {
  autograd::refresh_view(*this);
  const autograd::AutogradMeta* meta = autograd_meta(*this);
  return meta != nullptr && meta->requires_grad;
}

Tensor Tensor::grad() const {
  const autograd::AutogradMeta* meta = autograd_meta(*this);
  return meta ? meta->grad : Tensor();
}

Tensor& Tensor::mutable_grad() const { return ensure_autograd_meta(*this).grad; }

std::shared_ptr<autograd::Node> Tensor::grad_fn() const {
  autograd::refresh_view(*this);
  const autograd::AutogradMeta* meta = autograd_meta(*this);
  return meta ? meta->grad_fn : nullptr;
}

bool Tensor::is_leaf() const { return grad_fn() == nullptr; }

void Tensor::retain_grad() const {
  GRAFT_CHECK(requires_grad(),
              "retain_grad(): can't retain_grad on a Tensor that has requires_grad=false");
  const std::shared_ptr<autograd::Node> node = grad_fn();
  if (node == nullptr) return;  // a leaf keeps its gradient already
  ensure_autograd_meta(*this).retains_grad = true;
  node->retain_grad_into(impl().autograd_meta);
}

bool Tensor::retains_grad() const {
  const autograd::AutogradMeta* meta = autograd_meta(*this);
  return meta != nullptr && meta->retains_grad;
}

void Tensor::backward(const Tensor& gradient, std::optional<bool> retain_graph,
                      bool create_graph) const {
  autograd::backward({*this}, {gradient}, retain_graph, create_graph);
}

void Tensor::register_hook(std::function<Tensor(const Tensor&)> hook) const {
  GRAFT_CHECK(requires_grad(),
              "register_hook(): cannot register a hook on a tensor that doesn't require "
              "gradient; call requires_grad_() first");
  if (const auto& node = grad_fn())
    node->add_pre_hook(std::move(hook));
  else
    ensure_autograd_meta(*this).hooks.push_back(std::move(hook));
}

void Tensor::register_post_accumulate_grad_hook(std::function<void(const Tensor&)> hook) const {
  GRAFT_CHECK(requires_grad() && is_leaf(),
              "register_post_accumulate_grad_hook(): post accumulate grad hooks can only be "
              "registered on leaf tensors that require grad (a model's parameters)");
  ensure_autograd_meta(*this).post_accumulate_hooks.push_back(std::move(hook));
}

}  // namespace graft
