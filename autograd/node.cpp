// Graph nodes: iterative teardown, saved-tensor version checks, leaf accumulation.
#include "graft/autograd/node.h"

#include <sstream>

#include "graft/autograd/grad_mode.h"
#include "graft/autograd/ops.h"
#include "graft/autograd/views.h"

namespace graft::autograd {

InputMeta input_meta(const Tensor& t) { return {t.shape(), t.dtype(), t.device()}; }

Node::~Node() {
  // Every node we hold the last reference to gives up its edges (and the tensors it saved,
  // which may hold the same nodes) before it dies, so each destructor finds no chain left.
  std::vector<std::shared_ptr<Node>> doomed;
  take_edges(doomed);
  while (!doomed.empty()) {
    std::shared_ptr<Node> node = std::move(doomed.back());
    doomed.pop_back();
    if (node.use_count() == 1) {
      node->take_edges(doomed);
      node->release_saved();
    }
  }
}

void Node::take_edges(std::vector<std::shared_ptr<Node>>& into) {
  for (Edge& edge : next_edges_)
    if (edge.node) into.push_back(std::move(edge.node));
  next_edges_.clear();
}

namespace {
// "[float32 [3, 2]]", the way PyTorch names a tensor in autograd errors.
std::string describe(const Tensor& t) {
  std::ostringstream out;
  out << "[" << t.dtype() << " [";
  for (int64_t d = 0; d < t.dim(); ++d) out << (d ? ", " : "") << t.shape()[d];
  out << "]]";
  return out.str();
}

// A hook's replacement must be a gradient of the same tensor, as PyTorch checks: a leaf's
// would otherwise be accumulated as it is and surface at the optimizer's step, far from the
// hook that made it.
Tensor run_hooks(const std::vector<Hook>& hooks, Tensor grad) {
  for (const Hook& hook : hooks) {
    Tensor changed = hook(grad);
    if (!changed.defined()) continue;
    GRAFT_CHECK(changed.shape() == grad.shape() && changed.dtype() == grad.dtype() &&
                    changed.device() == grad.device(),
                "a hook (register_hook) changed the gradient ", describe(grad), " on ",
                grad.device(), " into ", describe(changed), " on ", changed.device(),
                "; a hook may return a new gradient, but of the same shape, dtype and device");
    grad = std::move(changed);
  }
  return grad;
}
}  // namespace

Tensor Node::call_pre_hooks(Tensor grad) const {
  grad = run_hooks(pre_hooks_, std::move(grad));
  // Only while this node is still the tensor's producer: after an in-place op the tensor
  // retains the gradient of its new value, which arrives at the new node.
  if (const std::shared_ptr<AutogradMeta> meta = retained_by_.lock();
      meta != nullptr && meta->retains_grad && meta->grad_fn.get() == this)
    // Accumulated across backward calls as a leaf's; a copy, since grad may be a buffer the
    // engine goes on to use (PyTorch's retain_grad clones too).
    meta->grad = meta->grad.defined() ? meta->grad + grad : grad.clone();
  return grad;
}

void set_grad_fn(const Tensor& t, std::shared_ptr<Node> node) {
  AutogradMeta& meta = ensure_autograd_meta(t);
  meta.requires_grad = true;
  if (meta.retains_grad && node != nullptr) node->retain_grad_into(t.impl().autograd_meta);
  meta.grad_fn = std::move(node);
}

Tensor SavedTensor::get() const {
  GRAFT_CHECK(!tensor_.defined() || tensor_._version() == version_,
              "one of the variables needed for gradient computation has been modified by an "
              "inplace operation: ",
              describe(tensor_), " is at version ", tensor_._version(), "; expected version ",
              version_,
              " instead. Hint: modify a clone() of the tensor, or make the in-place "
              "change after backward()");
  return tensor_;
}

namespace {

// Whether nothing but `grad` reaches its memory: the engine's handle is its only one, and
// the memory's other holders are the bases grad is a view of (a view keeps its base, views.h),
// each held by that view alone. A weight's gradient is often such a view: matmul's backward
// makes it the transpose of a contiguous product (product_in_layout_of), and counting the
// product as a second owner made every gradient of a Linear layer be copied.
bool sole_owner(const Tensor& grad) {
  if (grad.use_count() != 1) return false;
  int64_t holders = 1;
  for (const ViewInfo* view = view_info(grad); view != nullptr; view = view_info(view->base)) {
    if (view->base.use_count() != 1 || view->base.storage() != grad.storage()) return false;
    ++holders;
  }
  return grad.storage().use_count() == holders;
}

// Whether the first gradient of a leaf can become its .grad as it is, instead of a copy
// (PyTorch's AccumulateGrad makes the same choice): nothing else may see it (sole_owner), it
// must be dense (not an expanded view, which a later add_ would write through) and no graph
// is being built. For a model's weights this saves copying every gradient on every step.
bool can_take(const Tensor& grad, const Tensor& variable) {
  return !GradMode::is_enabled() && sole_owner(grad) && grad.is_contiguous() &&
         grad.shape() == variable.shape() && grad.dtype() == variable.dtype() &&
         grad.device() == variable.device();
}

}  // namespace

TensorList AccumulateGrad::apply(const Tensor& grad, const std::shared_ptr<Node>&) {
  Tensor& slot = ensure_autograd_meta(variable_).grad;
  // The first gradient is taken or copied, so .grad never aliases a tensor the user or the
  // graph still holds. Later ones add in place, unless create_graph wants the sum recorded.
  if (!slot.defined())
    slot = can_take(grad, variable_) ? grad : grad.clone();
  else if (GradMode::is_enabled())
    slot = slot + grad;
  else
    slot.add_(grad);
  // Copied first: a hook may register another on this leaf.
  const std::vector<PostAccumulateHook> hooks = autograd_meta(variable_)->post_accumulate_hooks;
  for (const PostAccumulateHook& hook : hooks) hook(variable_);
  return {};
}

Tensor AccumulateGrad::call_pre_hooks(Tensor grad) const {
  const AutogradMeta* meta = autograd_meta(variable_);
  return meta ? run_hooks(meta->hooks, std::move(grad)) : grad;
}

AutogradMeta& ensure_autograd_meta(const Tensor& t) {
  auto& meta = t.impl().autograd_meta;
  if (!meta) meta = std::make_shared<AutogradMeta>();
  return *meta;
}

std::shared_ptr<Node> gradient_edge(const Tensor& t) {
  refresh_view(t);
  AutogradMeta* meta = autograd_meta(t);
  if (meta == nullptr || !meta->requires_grad) return nullptr;
  if (meta->grad_fn) return meta->grad_fn;
  std::shared_ptr<Node> accumulator = meta->grad_accumulator.lock();
  if (!accumulator) {
    accumulator = std::make_shared<AccumulateGrad>(t);
    meta->grad_accumulator = accumulator;
  }
  return accumulator;
}

}  // namespace graft::autograd
