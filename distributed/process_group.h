// The process's one process group (internal): the backends, their communication thread and
// the options of init_process_group. collectives.cpp and data_parallel.cpp reach it here.
#pragma once

#include <memory>

#include "graft/distributed/backend.h"
#include "graft/distributed/comm_thread.h"
#include "graft/distributed/distributed.h"

namespace graft::distributed::detail {

struct ProcessGroup {
  std::unique_ptr<Backend> backend;       // host memory: MPI, or a world of one
  std::unique_ptr<Backend> cuda_backend;  // CUDA memory: NCCL, made by backend_for
  LaunchInfo launch;
  InitOptions options;
  std::unique_ptr<CommThread> thread;  // declared last: stops before the backends go

  // The backend that exchanges memory of `device`; on the communication thread only (the
  // first call for a CUDA device joins the NCCL communicator, a collective call).
  Backend& backend_for(Device device);
};

// The group, or a graft::Error naming `caller` when init_process_group() has not run.
ProcessGroup& process_group(const char* caller);

// Checks, on the calling thread, that a collective can exchange memory of `device` here: a
// CUDA device needs the NCCL backend and must be this rank's GPU (nccl_device_index).
void check_device(const char* caller, const ProcessGroup& group, Device device);

}  // namespace graft::distributed::detail
