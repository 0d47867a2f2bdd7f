// init_process_group and the questions about the world: which backend, which rank, how
// many. The group lives in one process-wide slot; a program that forgets
// destroy_process_group() still leaves MPI properly (the slot's destructor runs at exit),
// which mpirun requires to count the run a success.
#include "graft/distributed/process_group.h"

#include <algorithm>
#include <cstdlib>

#include "graft/core/error.h"
#include "graft/kernels/settings.h"

namespace graft::distributed {
namespace detail {
namespace {

std::unique_ptr<ProcessGroup>& group_slot() {
  static std::unique_ptr<ProcessGroup> group;
  return group;
}

std::unique_ptr<Backend> make_backend(const LaunchInfo& launch) {
  if (!launch.launched) return make_local_backend();
#if GRAFT_HAS_MPI
  return make_mpi_backend();
#else
  // N copies of a world of one would each train alone and write the same files.
  graft::detail::fail(
      "init_process_group(): this process was started by an MPI launcher (", launch.world_size,
      " processes), but this build of graft has no MPI; install Open MPI "
      "(libopenmpi-dev) and rebuild with -DGRAFT_DISTRIBUTED=ON, or run the program "
      "without mpirun");
#endif
}

}  // namespace

Backend& ProcessGroup::backend_for(Device device) {
  if (device.is_cpu()) return *backend;
#if GRAFT_HAS_NCCL
  if (cuda_backend == nullptr) cuda_backend = make_nccl_backend(*backend, launch);
  return *cuda_backend;
#else
  graft::detail::fail("graft::distributed: no backend for ", device, " memory in this build");
#endif
}

void check_device(const char* caller, const ProcessGroup& group, Device device) {
  if (device.is_cpu()) return;
#if GRAFT_HAS_NCCL
  GRAFT_CHECK(is_nccl_available(), caller, ": a tensor on ", device,
              " needs NCCL, whose library (libnccl.so.2) could not be loaded; install NCCL "
              "where the loader finds it, or copy the tensor to the CPU with .cpu()");
  const int rank_device = nccl_device_index(group.launch);
  GRAFT_CHECK(device.index() == rank_device, caller, ": a tensor on ", device, ", but rank ",
              group.backend->rank(), " (local rank ", group.launch.local_rank,
              ") exchanges CUDA memory on cuda:", rank_device,
              ", its GPU among the visible ones; move the tensor there with .to(...)");
#else
  (void)group;
  graft::detail::fail(caller, ": a tensor on ", device,
                      ", but this build of graft has no NCCL backend for collectives on CUDA "
                      "tensors (it needs the CUDA backend, and NCCL's header when it is built); "
                      "copy the tensor to the CPU with .cpu()");
#endif
}

ProcessGroup& process_group(const char* caller) {
  auto& group = group_slot();
  GRAFT_CHECK(group != nullptr, caller,
              ": the default process group has not been initialized; call "
              "graft::distributed::init_process_group() first");
  return *group;
}

}  // namespace detail

const char* reduce_op_name(ReduceOp op) {
  switch (op) {
    case ReduceOp::kSum:
      return "kSum";
    case ReduceOp::kAvg:
      return "kAvg";
    case ReduceOp::kMax:
      return "kMax";
    case ReduceOp::kMin:
      return "kMin";
  }
  return "unknown";
}

void init_process_group(const InitOptions& options) {
  auto& slot = detail::group_slot();
  GRAFT_CHECK(slot == nullptr,
              "init_process_group(): trying to initialize the default process group twice; "
              "call destroy_process_group() first");
  GRAFT_CHECK(options.timeout.count() > 0, "init_process_group(): timeout must be positive, got ",
              options.timeout.count(), " ms");
  auto group = std::make_unique<detail::ProcessGroup>();
  group->launch = detail::read_launch_environment();
  group->options = options;
  group->backend = detail::make_backend(group->launch);
  group->thread = std::make_unique<detail::CommThread>();
  // N ranks on one machine would each default to every core, N times too many threads
  // (issue 16 measured the collapse). Each gets an even share: the ranks step in lockstep.
  const int local_ranks = std::max(1, group->launch.local_world_size);
  if (local_ranks > 1 && std::getenv("OMP_NUM_THREADS") == nullptr) {
    set_num_threads(std::max(1, get_num_threads() / local_ranks));
  }
  slot = std::move(group);
}

bool is_initialized() { return detail::group_slot() != nullptr; }

void destroy_process_group() {
  auto& slot = detail::group_slot();
  GRAFT_CHECK(slot != nullptr,
              "destroy_process_group(): the default process group has not been initialized");
  // A barrier that waits with a deadline drains the queue and keeps a rank from leaving
  // while another still sends to it.
  barrier();
  slot.reset();
}

int get_rank() { return detail::process_group("get_rank()").backend->rank(); }
int get_world_size() { return detail::process_group("get_world_size()").backend->world_size(); }
int get_local_rank() { return detail::process_group("get_local_rank()").launch.local_rank; }
int get_local_world_size() {
  return detail::process_group("get_local_world_size()").launch.local_world_size;
}
std::string get_backend() { return detail::process_group("get_backend()").backend->name(); }

bool is_mpi_available() { return GRAFT_HAS_MPI != 0; }

bool is_nccl_available() {
#if GRAFT_HAS_NCCL
  return detail::nccl_library_loads();
#else
  return false;
#endif
}

}  // namespace graft::distributed
