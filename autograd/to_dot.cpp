// Graphviz output of a recorded graph; see to_dot.h. Nodes are numbered in the order a
// breadth-first walk meets them, so the same graph always prints the same text.
#include "graft/autograd/to_dot.h"

#include <sstream>
#include <unordered_map>
#include <vector>

#include "graft/autograd/node.h"

namespace graft::autograd {
namespace {
void describe(std::ostream& out, DType dtype, const Shape& shape, Device device) {
  out << dtype << " " << shape << " " << device;
}
}  // namespace

std::string to_dot(const Tensor& t) {
  std::ostringstream out;
  out << "digraph graft {\n  node [shape=box, fontname=\"monospace\"];\n";
  out << "  tensor [shape=ellipse, label=\"tensor ";
  describe(out, t.dtype(), t.shape(), t.device());
  out << "\"];\n";
  const std::shared_ptr<Node> root = t.grad_fn();
  if (!root) {
    out << "}\n";
    return out.str();
  }
  std::unordered_map<const Node*, size_t> ids{{root.get(), 0}};
  std::vector<const Node*> queue{root.get()};
  out << "  tensor -> n0;\n";
  for (size_t next = 0; next < queue.size(); ++next) {
    const Node* node = queue[next];
    out << "  n" << next << " [label=\"" << node->name();
    if (const auto* leaf = dynamic_cast<const AccumulateGrad*>(node)) {
      out << "\\nleaf ";
      describe(out, leaf->variable().dtype(), leaf->variable().shape(), leaf->variable().device());
    }
    const std::vector<Edge>& edges = node->next_edges();
    for (size_t i = 0; i < edges.size(); ++i) {
      out << "\\ninput " << i << ": ";
      describe(out, edges[i].input.dtype, edges[i].input.shape, edges[i].input.device);
      if (!edges[i].node) out << " (no grad)";
    }
    out << "\"];\n";
    for (size_t i = 0; i < edges.size(); ++i) {
      const Node* child = edges[i].node.get();
      if (child == nullptr) continue;
      auto [it, inserted] = ids.try_emplace(child, queue.size());
      if (inserted) queue.push_back(child);
      out << "  n" << next << " -> n" << it->second << " [label=\"" << i << "\"];\n";
    }
  }
  out << "}\n";
  return out.str();
}

}  // namespace graft::autograd
