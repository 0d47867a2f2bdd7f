// Grad mode: whether ops record the graph, per thread.
//
// On by default. NoGradGuard turns it off for a scope (evaluation, optimizer updates, the
// backward pass itself); EnableGradGuard turns it back on inside one (the engine does that
// for create_graph). The flag is thread_local, as in PyTorch, so a data-loading thread
// never changes what the training thread records.
#pragma once

namespace graft::autograd {

class GradMode {
 public:
  static bool is_enabled();
  static void set_enabled(bool enabled);
};

// Sets grad mode for the guard's scope and restores the previous value after it.
class GradModeGuard {
 public:
  explicit GradModeGuard(bool enabled) : previous_(GradMode::is_enabled()) {
    GradMode::set_enabled(enabled);
  }
  ~GradModeGuard() { GradMode::set_enabled(previous_); }
  GradModeGuard(const GradModeGuard&) = delete;
  GradModeGuard& operator=(const GradModeGuard&) = delete;

 private:
  bool previous_;
};

// { graft::NoGradGuard no_grad; ... }: nothing in the scope is recorded.
class NoGradGuard : public GradModeGuard {
 public:
  NoGradGuard() : GradModeGuard(false) {}
};

// Recording back on, even inside a NoGradGuard.
class EnableGradGuard : public GradModeGuard {
 public:
  EnableGradGuard() : GradModeGuard(true) {}
};

}  // namespace graft::autograd

namespace graft {
using autograd::EnableGradGuard;
using autograd::NoGradGuard;
}  // namespace graft
