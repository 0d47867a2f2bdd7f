// What every multi-process test starts from: the process group, made on first use with a
// short timeout, so a test whose ranks have gone separate ways fails in a minute instead of
// hanging until ctest's limit.
#pragma once

#include <chrono>

#include "graft/distributed/distributed.h"

namespace graft::testing {

inline void ensure_process_group() {
  if (!distributed::is_initialized())
    distributed::init_process_group({.timeout = std::chrono::seconds(60)});
}

}  // namespace graft::testing
