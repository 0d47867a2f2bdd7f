// graft::distributed: collectives across processes, for data-parallel training.
//
//   namespace dist = graft::distributed;
//   dist::init_process_group();                 // a world of one when not started by mpirun
//   dist::all_reduce(t, dist::ReduceOp::kAvg);  // in place: every rank ends with the mean
//   dist::destroy_process_group();
//
// graft moves no bytes itself: MPI does for CPU tensors (Open MPI from Debian; `mpirun -np N
// program` starts the ranks and is their rendezvous), and NCCL for CUDA tensors, one GPU per
// rank (cuda:(local rank % visible devices)), its communicator joined through MPI at the first
// collective on a CUDA tensor. A program started without mpirun, or built without MPI, is a
// world of one where every collective is what it would be with one rank, so the same program
// runs unchanged on a laptop and on a cluster.
//
// How the collectives make progress: one communication thread per process makes every MPI
// call, in the order the program issued them, with MPI's own blocking collectives (the
// engine's fastest path). A call here queues the collective and returns a Work at once (the
// *_async forms) or waits for it; meanwhile the calling thread computes, which is how
// DistributedDataParallel hides its all-reduces behind the backward pass. Open MPI's
// non-blocking collectives would advance only inside MPI calls, that is, only while someone
// polls; a thread that sits in the blocking call needs no polling (docs/distributed.md).
//
// Every collective is in program order on every rank, as MPI requires: rank 0 and rank 1
// must issue the same collectives, on tensors of the same shape and dtype, in the same
// order. By default each collective first compares a small signature of its arguments
// across ranks (one extra all-reduce of 24 integers), so a mismatch is a graft::Error on
// every rank naming what each rank passed, not a hang or garbage. Waiting is bounded: a
// collective not finished within the timeout (another rank died, threw, or is stuck in a
// different collective) prints what it was waiting for and aborts the whole job through
// MPI_Abort, since MPI offers no way back from a half-done collective.
//
// Inputs may be non-contiguous (they are copied into a dense buffer and the result copied
// back) and of any dtype: bool reduces with logical OR for kSum and kMax, and AND for kMin
// (PyTorch's choice); kAvg needs a floating dtype. The tensors of one collective are on one
// device; a CUDA tensor must be on this rank's GPU (above), and needs a build with the CUDA
// backend and NCCL (is_nccl_available()).
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "graft/core/tensor.h"

namespace graft::distributed {

enum class ReduceOp { kSum, kAvg, kMax, kMin };

const char* reduce_op_name(ReduceOp op);  // "kSum", ...

struct InitOptions {
  // How long a collective may take before the job is aborted (PyTorch's default for its
  // MPI and Gloo groups is 30 minutes; a data-parallel step takes seconds).
  std::chrono::milliseconds timeout = std::chrono::minutes(10);
  // Compare each collective's arguments across ranks first (see above).
  bool check_arguments = true;
};

// Joins the world mpirun started this process in (initialising MPI with
// MPI_THREAD_MULTIPLE), or makes a world of one when there is none. Unless OMP_NUM_THREADS
// says otherwise, each rank then computes on its share of the machine's cores
// (cores / ranks on this machine), so N ranks do not fight over the same cores. Calling it
// twice is an error; destroy_process_group() first.
void init_process_group(const InitOptions& options = {});
bool is_initialized();
// Waits for every queued collective, then leaves the world (MPI_Finalize, unless MPI was
// initialised by someone else). A process that exits without calling it does it at exit.
void destroy_process_group();

int get_rank();
int get_world_size();
int get_local_rank();        // the rank among the processes on this machine
int get_local_world_size();  // how many processes run on this machine
// "mpi" when mpirun started more than one process here, "local" for a world of one.
std::string get_backend();
// Whether this build of graft has MPI (GRAFT_DISTRIBUTED; docs/distributed.md).
bool is_mpi_available();
// Whether collectives on CUDA tensors can run: this build has the NCCL backend (the CUDA
// backend, and NCCL's header when it was built) and NCCL's library loads here.
bool is_nccl_available();

// A collective that may still be running. wait() blocks until it is done (and the result
// is in place), rethrowing its error; it is cheap to call again. A default Work is done.
class Work {
 public:
  struct State;
  Work() = default;
  explicit Work(std::shared_ptr<State> state) : state_(std::move(state)) {}
  void wait() const;
  bool is_completed() const;

 private:
  std::shared_ptr<State> state_;
};

// In place: every rank's `tensor` becomes the reduction of all ranks' tensors.
void all_reduce(const Tensor& tensor, ReduceOp op = ReduceOp::kSum);
Work all_reduce_async(const Tensor& tensor, ReduceOp op = ReduceOp::kSum);

// Every rank's `tensor` becomes rank `src`'s.
void broadcast(const Tensor& tensor, int src);
Work broadcast_async(const Tensor& tensor, int src);

// outputs[r] becomes rank r's `input`; `outputs` holds world-size tensors of input's shape
// and dtype (PyTorch's all_gather).
void all_gather(const std::vector<Tensor>& outputs, const Tensor& input);
Work all_gather_async(const std::vector<Tensor>& outputs, const Tensor& input);
// The same into one tensor: `output` is the ranks' inputs concatenated along dim 0, so its
// dim 0 is world size times input's (PyTorch's all_gather_into_tensor).
void all_gather_into_tensor(const Tensor& output, const Tensor& input);
Work all_gather_into_tensor_async(const Tensor& output, const Tensor& input);

// `output` becomes the reduction over ranks of inputs[rank]; `inputs` holds world-size
// tensors of output's shape and dtype (PyTorch's reduce_scatter).
void reduce_scatter(const Tensor& output, const std::vector<Tensor>& inputs,
                    ReduceOp op = ReduceOp::kSum);
Work reduce_scatter_async(const Tensor& output, const std::vector<Tensor>& inputs,
                          ReduceOp op = ReduceOp::kSum);
// The same from one tensor: `input` is cut along dim 0 into world-size pieces of output's
// shape (PyTorch's reduce_scatter_tensor).
void reduce_scatter_tensor(const Tensor& output, const Tensor& input, ReduceOp op = ReduceOp::kSum);
Work reduce_scatter_tensor_async(const Tensor& output, const Tensor& input,
                                 ReduceOp op = ReduceOp::kSum);

// Returns on each rank once every rank has called it.
void barrier();
Work barrier_async();

}  // namespace graft::distributed
