// The thread's chain of OpContexts (see op_context.h).
#include "graft/core/op_context.h"

#include <vector>

namespace graft {
namespace {
thread_local const OpContext* innermost = nullptr;
}  // namespace

OpContext::OpContext(const char* op) noexcept : op_(op), caller_(innermost) { innermost = this; }

OpContext::~OpContext() { innermost = caller_; }

std::string OpContext::describe(const char* fallback) {
  if (innermost == nullptr) return std::string(fallback) + "(): ";
  std::vector<const char*> chain;
  for (const OpContext* c = innermost; c != nullptr; c = c->caller_) chain.push_back(c->op_);
  std::string text;
  for (auto op = chain.rbegin(); op != chain.rend(); ++op) {
    if (!text.empty()) text += " -> ";
    text += *op;
    text += "()";
  }
  return text + ": ";
}

}  // namespace graft
