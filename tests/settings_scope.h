// Test helper: sets graft's process-wide kernel switches (kernels/settings.h) for one scope
// and restores them after, so one test cannot leak its settings into the next.
#pragma once

#include <optional>

#include "graft/graft.h"
#include "graft/kernels/cpu/thread_pool.h"

namespace graft::testing {

class SettingsScope {
 public:
  // Each switch given is set (threads 0: the default); the others stay as they are. Both are
  // restored at scope exit.
  explicit SettingsScope(std::optional<bool> deterministic, std::optional<int> threads = {})
      : previous_deterministic_(are_deterministic_algorithms_enabled()),
        previous_threads_(kernels::cpu::requested_pool_threads()) {
    if (deterministic) use_deterministic_algorithms(*deterministic);
    if (threads) set_num_threads(*threads);
  }
  ~SettingsScope() {
    use_deterministic_algorithms(previous_deterministic_);
    set_num_threads(previous_threads_);
  }
  SettingsScope(const SettingsScope&) = delete;
  SettingsScope& operator=(const SettingsScope&) = delete;

 private:
  bool previous_deterministic_;
  int previous_threads_;  // as set_num_threads was given it: 0 for the default
};

}  // namespace graft::testing
