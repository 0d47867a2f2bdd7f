// The recorded graph: nodes, the edges between them, saved tensors, and a tensor's
// autograd state.
//
// Each differentiable op that runs while grad mode is on adds one Node: it knows its
// inputs' gradient edges (the nodes their gradients flow into next) and how to turn the
// gradient of its single output into gradients for its inputs (apply). Every graft op has
// one output, so a node's incoming gradient is one tensor. A leaf (a tensor that requires
// grad and no recorded op produced) ends the walk in an AccumulateGrad node that adds into
// its grad().
//
// Each edge also records the shape, dtype and device of the input it feeds, so the engine
// brings every gradient back to its input's form in one place (summing out broadcast dims,
// casting) instead of every op doing it.
//
// Ownership runs from outputs towards inputs (tensor -> grad_fn -> next nodes), so a graph
// lives as long as some tensor or node still reaches it. A node saves its own output only
// as a meta-less alias (see FunctionNode in record.h); otherwise node and output would own
// each other.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "graft/core/tensor.h"

namespace graft::autograd {

using TensorList = std::vector<Tensor>;
// A gradient hook: sees a gradient; a defined return value replaces it.
using Hook = std::function<Tensor(const Tensor&)>;
// A hook on a leaf that runs once its gradient has been accumulated into grad().
using PostAccumulateHook = std::function<void(const Tensor&)>;

// The form of an op input, which its gradient must take.
struct InputMeta {
  Shape shape;
  DType dtype = kFloat32;
  Device device;
};
InputMeta input_meta(const Tensor& t);

class Node;
struct AutogradMeta;

// Where the gradient of one op input goes next; `node` is null for an input that does not
// require grad (its gradient is dropped).
struct Edge {
  std::shared_ptr<Node> node;
  InputMeta input;
};

class Node {
 public:
  Node(std::string name, std::vector<Edge> next_edges)
      : name_(std::move(name)), next_edges_(std::move(next_edges)) {}
  // Tears down the chain of nodes behind this one iteratively, so dropping the output of
  // a 100000-op chain does not recurse 100000 destructors deep.
  virtual ~Node();
  Node(const Node&) = delete;
  Node& operator=(const Node&) = delete;

  const std::string& name() const { return name_; }  // "MulBackward"
  const std::vector<Edge>& next_edges() const { return next_edges_; }

  // The gradients of the op's inputs (one per edge; undefined = zero) from the gradient
  // of its output. `self` is this node's owning pointer (a saved output gets it back as
  // grad_fn, for higher-order gradients).
  virtual TensorList apply(const Tensor& grad, const std::shared_ptr<Node>& self) = 0;
  // Drops what the backward saved; a later apply() errors. Called by a backward that was
  // not asked to retain_graph.
  virtual void release_saved() {}

  // Hooks on the gradient arriving at this node (a non-leaf tensor's register_hook).
  void add_pre_hook(Hook hook) { pre_hooks_.push_back(std::move(hook)); }
  // Runs the pre-hooks, then adds the result into the grad() of the tensor that retains
  // its gradient here (retain_grad), so that tensor sees what the hooks made of it.
  virtual Tensor call_pre_hooks(Tensor grad) const;
  // The tensor whose gradient arrives here keeps it in grad() (Tensor::retain_grad). Held
  // weakly: the node must not keep its output alive.
  void retain_grad_into(std::weak_ptr<AutogradMeta> meta) { retained_by_ = std::move(meta); }

 private:
  void take_edges(std::vector<std::shared_ptr<Node>>& into);

  std::string name_;
  std::vector<Edge> next_edges_;
  std::vector<Hook> pre_hooks_;
  std::weak_ptr<AutogradMeta> retained_by_;
};

// A tensor a backward formula needs, with the version of its memory when it was saved:
// get() refuses it if an in-place op wrote to that memory since.
class SavedTensor {
 public:
  SavedTensor() = default;
  explicit SavedTensor(const Tensor& t) : tensor_(t), version_(t.defined() ? t._version() : 0) {}
  // The saved tensor (undefined if nothing was saved); throws a graft::Error when it was
  // modified in place after being saved.
  Tensor get() const;

 private:
  Tensor tensor_;
  uint64_t version_ = 0;
};

inline SavedTensor save(const Tensor& t) { return SavedTensor(t); }

// The end of every path to a leaf: adds the arriving gradient into the leaf's grad().
// All graphs that use a leaf share its one AccumulateGrad (the leaf holds it weakly).
class AccumulateGrad : public Node {
 public:
  explicit AccumulateGrad(Tensor variable) : Node("AccumulateGrad", {}), variable_(variable) {}
  TensorList apply(const Tensor& grad, const std::shared_ptr<Node>& self) override;
  // A leaf's hooks live on the leaf (it may be registered before any graph exists).
  Tensor call_pre_hooks(Tensor grad) const override;
  const Tensor& variable() const { return variable_; }

 private:
  Tensor variable_;
};

// What a view remembers (views.h): the tensor whose memory it shows, and the memory's
// version when the view's grad_fn was last derived. The view's own sizes, strides and
// offset say where it lies in the base's memory.
struct ViewInfo {
  Tensor base;
  uint64_t version = 0;
};

// A tensor's autograd state (TensorImpl::autograd_meta).
struct AutogradMeta {
  bool requires_grad = false;
  bool retains_grad = false;             // non-leaves: retain_grad() was called
  Tensor grad;                           // leaves, and non-leaves that retain: the gradient
  std::shared_ptr<Node> grad_fn;         // null for leaves
  std::weak_ptr<Node> grad_accumulator;  // leaves: their AccumulateGrad, while a graph has it
  std::vector<Hook> hooks;               // leaves: run before accumulation
  std::vector<PostAccumulateHook> post_accumulate_hooks;  // leaves: run after it
  std::optional<ViewInfo> view;                           // views: their base
};

// Null when `t` never took part in autograd.
inline AutogradMeta* autograd_meta(const Tensor& t) { return t.impl().autograd_meta.get(); }
AutogradMeta& ensure_autograd_meta(const Tensor& t);

// Makes `node` the producer of `t` (which then requires grad): every place that gives a
// tensor a new history goes through here, so a tensor that retains its gradient moves that
// to the new node (after an in-place op, its gradient is the one of the value it holds now).
void set_grad_fn(const Tensor& t, std::shared_ptr<Node> node);

// The node `t`'s gradient flows into: its grad_fn, or for a leaf that requires grad its
// AccumulateGrad (created on first use); null when `t` does not require grad. A view's
// grad_fn is brought up to date first (views.h).
std::shared_ptr<Node> gradient_edge(const Tensor& t);

}  // namespace graft::autograd
