// The process's one process group (internal): the backend, its communication thread and
// the options of init_process_group. collectives.cpp and data_parallel.cpp reach it here.
#pragma once

#include <memory>

#include "graft/distributed/backend.h"
#include "graft/distributed/comm_thread.h"
#include "graft/distributed/distributed.h"

namespace graft::distributed::detail {

struct ProcessGroup {
  std::unique_ptr<Backend> backend;
  LaunchInfo launch;
  InitOptions options;
  std::unique_ptr<CommThread> thread;  // declared last: stops before the backend goes
};

// The group, or a graft::Error naming `caller` when init_process_group() has not run.
ProcessGroup& process_group(const char* caller);

}  // namespace graft::distributed::detail
