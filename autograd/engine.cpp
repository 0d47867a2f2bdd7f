// The backward engine; see engine.h for the algorithm.
#include "graft/autograd/engine.h"

#include <functional>
#include <unordered_map>
#include <vector>

#include "graft/autograd/grad_mode.h"
#include "graft/autograd/ops.h"
#include "graft/autograd/sum_to.h"

namespace graft::autograd {
namespace {

struct NodeState {
  int dependencies = 0;  // edges from nodes that have not run yet
  bool run = true;       // grad() runs only the nodes on a path to an input
  Tensor buffer;         // the sum of the gradients that arrived so far
};

using Graph = std::unordered_map<Node*, NodeState>;

// The callbacks of the pass running on this thread (null outside one). A hook may start a
// pass of its own, so each pass installs its list and puts the outer one back.
thread_local std::vector<std::function<void()>>* current_callbacks = nullptr;

class CallbackScope {
 public:
  CallbackScope() : outer_(current_callbacks) { current_callbacks = &callbacks_; }
  ~CallbackScope() { current_callbacks = outer_; }
  CallbackScope(const CallbackScope&) = delete;
  CallbackScope& operator=(const CallbackScope&) = delete;

  // Indexed, not iterated: a callback may queue another, which grows the vector.
  void run_all() {
    for (size_t i = 0; i < callbacks_.size(); ++i) {
      std::function<void()> callback = std::move(callbacks_[i]);
      callback();
    }
    callbacks_.clear();
  }

 private:
  std::vector<std::function<void()>> callbacks_;
  std::vector<std::function<void()>>* outer_;
};

// Counts dependencies with an iterative depth-first walk and returns the nodes in
// post-order (every node after all the nodes its edges lead to).
std::vector<Node*> walk(const std::vector<Node*>& starts, Graph& graph) {
  struct Frame {
    Node* node;
    size_t next_edge;
  };
  std::vector<Node*> post_order;
  std::vector<Frame> stack;
  for (Node* start : starts) {
    if (!graph.try_emplace(start).second) continue;
    stack.push_back({start, 0});
    while (!stack.empty()) {
      Frame& top = stack.back();
      if (top.next_edge == top.node->next_edges().size()) {
        post_order.push_back(top.node);
        stack.pop_back();
        continue;
      }
      Node* next = top.node->next_edges()[top.next_edge++].node.get();
      if (next == nullptr) continue;
      const bool first_visit = graph.try_emplace(next).second;
      ++graph[next].dependencies;
      if (first_visit) stack.push_back({next, 0});
    }
  }
  return post_order;
}

// For grad(): a node runs only when one of its edges leads (eventually) to an input's node.
void mark_nodes_to_run(const std::vector<Node*>& post_order, Graph& graph,
                       const std::unordered_map<Node*, std::vector<size_t>>& captures) {
  std::unordered_map<Node*, bool> reaches_input;
  for (Node* node : post_order) {
    bool run = false;
    for (const Edge& edge : node->next_edges())
      if (edge.node) run = run || reaches_input[edge.node.get()];
    graph[node].run = run;
    reaches_input[node] = run || captures.count(node) > 0;
  }
}

// The gradient in the form of the input it is for: broadcast dims summed out, then the
// input's dtype and device. Every gradient passes here, so no backward formula does this.
Tensor fit_to_input(const Node& node, size_t index, const Tensor& grad, const InputMeta& input) {
  GRAFT_CHECK(broadcasts_to(input.shape, grad.shape()), "function ", node.name(),
              " returned an invalid gradient at index ", index, " - got ", grad.shape(),
              " but expected shape compatible with ", input.shape);
  Tensor out = sum_to(grad, input.shape);
  if (out.dtype() != input.dtype) out = out.to(input.dtype);
  if (out.device() != input.device) out = out.to(input.device);
  return out;
}

void accumulate(Tensor& buffer, const Tensor& grad) {
  buffer = buffer.defined() ? buffer + grad : grad;
}

// The backward pass shared by backward() and grad(). With `inputs`, returns their
// gradients instead of running the leaves' AccumulateGrad nodes.
TensorList execute(const TensorList& roots, const TensorList& grad_roots, bool keep_graph,
                   bool create_graph, const TensorList* inputs, bool allow_unused) {
  GRAFT_CHECK(grad_roots.empty() || grad_roots.size() == roots.size(), "backward(): got ",
              grad_roots.size(), " gradients for ", roots.size(), " tensors; pass one per tensor");
  std::vector<std::shared_ptr<Node>> start_nodes;
  TensorList start_grads;
  for (size_t i = 0; i < roots.size(); ++i) {
    const Tensor& root = roots[i];
    GRAFT_CHECK(root.requires_grad(), "element ", i,
                " of tensors does not require grad and does not have a grad_fn; call "
                "requires_grad_() on the leaves it is computed from, outside any NoGradGuard");
    Tensor g = grad_roots.empty() ? Tensor() : grad_roots[i];
    if (g.defined()) {
      GRAFT_CHECK(g.shape() == root.shape(), "Mismatch in shape: grad_output[", i,
                  "] has a shape of ", g.shape(), " and output[", i, "] has a shape of ",
                  root.shape());
    } else {
      GRAFT_CHECK(root.numel() == 1,
                  "grad can be implicitly created only for scalar outputs, but the tensor has "
                  "shape ",
                  root.shape(), "; pass its gradient, e.g. y.backward(graft::ones_like(y))");
      g = ones_like(root);
    }
    start_nodes.push_back(gradient_edge(root));
    start_grads.push_back(g);
  }

  std::unordered_map<Node*, std::vector<size_t>> captures;
  std::vector<std::shared_ptr<Node>> input_nodes;  // keeps fresh AccumulateGrads alive
  if (inputs != nullptr) {
    for (size_t i = 0; i < inputs->size(); ++i) {
      GRAFT_CHECK((*inputs)[i].requires_grad(), "grad(): input ", i,
                  " does not require grad; call requires_grad_() on it first");
      input_nodes.push_back(gradient_edge((*inputs)[i]));
      captures[input_nodes.back().get()].push_back(i);
    }
  }

  Graph graph;
  std::vector<Node*> starts;
  for (const auto& node : start_nodes) starts.push_back(node.get());
  const std::vector<Node*> post_order = walk(starts, graph);
  if (inputs != nullptr) mark_nodes_to_run(post_order, graph, captures);

  GradModeGuard grad_mode(create_graph);
  CallbackScope callbacks;
  std::vector<std::shared_ptr<Node>> ready;
  for (size_t i = 0; i < start_nodes.size(); ++i) {
    NodeState& state = graph[start_nodes[i].get()];
    const bool first = !state.buffer.defined();
    accumulate(state.buffer, start_grads[i]);
    if (first && state.dependencies == 0) ready.push_back(start_nodes[i]);
  }

  TensorList results(inputs ? inputs->size() : 0);
  while (!ready.empty()) {
    const std::shared_ptr<Node> node = std::move(ready.back());
    ready.pop_back();
    NodeState& state = graph[node.get()];
    Tensor grad = std::move(state.buffer);
    if (grad.defined()) grad = node->call_pre_hooks(grad);
    if (auto it = captures.find(node.get()); it != captures.end())
      for (size_t i : it->second) results[i] = grad;

    TensorList grads;
    if (state.run && grad.defined()) {
      try {
        grads = node->apply(grad, node);
      } catch (const OutOfMemoryError& e) {
        throw OutOfMemoryError(std::string(e.what()) + " (raised by " + node->name() + ")");
      } catch (const Error& e) {
        throw Error(std::string(e.what()) + " (raised by " + node->name() + ")");
      }
      GRAFT_CHECK(grads.size() == node->next_edges().size(), "function ", node->name(),
                  " returned an incorrect number of gradients (expected ",
                  node->next_edges().size(), ", got ", grads.size(), ")");
      if (!keep_graph) node->release_saved();
    }
    for (size_t i = 0; i < node->next_edges().size(); ++i) {
      const Edge& edge = node->next_edges()[i];
      if (!edge.node) continue;
      NodeState& next = graph[edge.node.get()];
      if (i < grads.size() && grads[i].defined())
        accumulate(next.buffer, fit_to_input(*node, i, grads[i], edge.input));
      if (--next.dependencies == 0) ready.push_back(edge.node);
    }
  }
  callbacks.run_all();

  for (size_t i = 0; i < results.size(); ++i) {
    if (results[i].defined()) continue;
    const bool reached = graph.count(input_nodes[i].get()) > 0;
    GRAFT_CHECK(reached || allow_unused, "grad(): input ", i,
                " appears to not have been used in the graph. Set allow_unused=true if this "
                "is the desired behavior");
    if (reached) results[i] = zeros_like((*inputs)[i]);  // reached, but every path gave zero
  }
  return results;
}

}  // namespace

void backward(const TensorList& roots, const TensorList& grad_roots,
              std::optional<bool> retain_graph, bool create_graph) {
  execute(roots, grad_roots, retain_graph.value_or(create_graph), create_graph, nullptr, false);
}

void queue_callback(std::function<void()> callback) {
  GRAFT_CHECK(current_callbacks != nullptr,
              "queue_callback(): no backward pass is running on this thread; call it from a "
              "hook, during backward()");
  current_callbacks->push_back(std::move(callback));
}

TensorList grad(const TensorList& outputs, const TensorList& inputs, const GradOptions& options) {
  return execute(outputs, options.grad_outputs, options.retain_graph.value_or(options.create_graph),
                 options.create_graph, &inputs, options.allow_unused);
}

}  // namespace graft::autograd
