// Which op is running on this thread, for the errors raised far below it that cannot know:
// an out-of-memory error starts in an allocator, several calls under the op that asked
// for the tensor, and a C++ exception carries no stack trace. Ops open an OpContext at
// their entry; the contexts nest (linear calls matmul; the backward pass runs each node),
// and the message names the chain, outermost first:
//
//   linear() -> matmul(): a float32 tensor of shape [1048576, 1048576]: CPU out of memory: ...
//
// A context is a pointer pushed and popped on a thread_local list: a few nanoseconds, no
// allocation, so every op can afford one.
#pragma once

#include <string>

namespace graft {

class OpContext {
 public:
  // `op` must outlive the context (a string literal, or a node's name).
  explicit OpContext(const char* op) noexcept;
  ~OpContext();
  OpContext(const OpContext&) = delete;
  OpContext& operator=(const OpContext&) = delete;

  // "linear() -> matmul(): " inside those ops; `fallback` + "(): " outside any op.
  static std::string describe(const char* fallback);

 private:
  const char* op_;
  const OpContext* caller_;
};

}  // namespace graft
