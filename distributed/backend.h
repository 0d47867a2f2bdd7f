// The engine under graft::distributed: collectives on raw memory, one backend per world.
//
// Three backends implement it. For host memory: a world of one (local_backend.cpp) or MPI
// (mpi/, built when GRAFT_DISTRIBUTED finds MPI), one of them per process. For CUDA memory:
// NCCL (nccl/, built with the CUDA backend when NCCL's header is found), made beside the host
// backend at the first collective on a CUDA tensor. Their calls run on the communication
// thread only (comm_thread.h), on dense buffers that collectives.cpp has prepared, so a
// backend knows nothing of tensors, strides or autograd; kAvg never reaches it (a sum, then a
// division).
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "graft/core/dtype.h"
#include "graft/distributed/distributed.h"

namespace graft::distributed::detail {

class Backend {
 public:
  virtual ~Backend() = default;

  virtual std::string name() const = 0;
  virtual int rank() const = 0;
  virtual int world_size() const = 0;

  // `count` elements of `dtype` at `data`, reduced across ranks in place (op is not kAvg).
  virtual void all_reduce(void* data, int64_t count, DType dtype, ReduceOp op) = 0;
  virtual void broadcast(void* data, int64_t bytes, int src) = 0;
  // `output` receives every rank's `bytes_per_rank` bytes, rank 0's first.
  virtual void all_gather(const void* input, void* output, int64_t bytes_per_rank) = 0;
  // `input` holds world-size blocks of `count_per_rank` elements; this rank's `output`
  // receives the reduction of block `rank` across ranks.
  virtual void reduce_scatter(const void* input, void* output, int64_t count_per_rank, DType dtype,
                              ReduceOp op) = 0;
  virtual void barrier() = 0;
  // Ends every rank of the job after printing `message`; callable from any thread, even
  // while the communication thread is inside a collective.
  [[noreturn]] virtual void abort(const std::string& message) = 0;
};

std::unique_ptr<Backend> make_local_backend();

// What an MPI launcher (mpirun, srun) told this process through its environment; the MPI
// backend then asks MPI itself. Sizes are 1 and ranks 0 when no launcher started it.
struct LaunchInfo {
  bool launched = false;
  int world_size = 1;  // 1 too under a launcher that does not say it (PMIx alone)
  int rank = 0;
  int local_rank = 0;
  int local_world_size = 1;
};
LaunchInfo read_launch_environment();

#if GRAFT_HAS_MPI
// Initialises MPI (unless the program already did) and joins MPI_COMM_WORLD.
std::unique_ptr<Backend> make_mpi_backend();
#endif

#if GRAFT_HAS_NCCL
// Whether NCCL's library can be opened (once; nccl_backend.cpp), and its version ("2.28.9"),
// empty when it cannot.
bool nccl_library_loads();
std::string nccl_version();
// The GPU this rank's NCCL communicator uses: cuda:(local rank % visible devices).
int nccl_device_index(const LaunchInfo& launch);
// Joins every rank's NCCL communicator, the unique id broadcast through `host` (the process's
// host backend, which must outlive it); a collective call, made on the communication thread.
std::unique_ptr<Backend> make_nccl_backend(Backend& host, const LaunchInfo& launch);
#endif

}  // namespace graft::distributed::detail
