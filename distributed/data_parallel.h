// DistributedDataParallel: one model replica per process, each on its own share of the
// batch, with gradients averaged across processes during the backward pass.
//
//   graft::distributed::init_process_group();
//   Net net;                                        // the same architecture on every rank
//   graft::nn::parallel::DistributedDataParallel ddp(net);  // rank 0's values everywhere
//   graft::optim::SGD opt(net.parameters(), {.lr = 0.1});
//   for (auto [x, y] : loader) {                    // each rank its own shard of the data
//     opt.zero_grad();
//     graft::nn::functional::cross_entropy(ddp(x), y).backward();  // grads averaged here
//     opt.step();                                   // identical on every rank
//   }
//
// How (PyTorch's design, docs/distributed.md tells it in full): the parameters are grouped
// into buckets of about 25 MB, in reverse registration order, since the backward pass
// produces gradients roughly from the last layer to the first. A hook that runs after a
// gradient has been accumulated into .grad copies it into its bucket; the moment a bucket's
// last gradient arrives, its all-reduce is queued on the communication thread and runs
// while the backward pass goes on with earlier layers. A callback at the end of the pass
// waits for every bucket and makes each .grad a view of its average in the bucket (no copy
// back; a later pass accumulating into .grad then writes into the bucket). Buckets are always
// reduced in the same order on every rank (a bucket waits for the ones before it), as MPI
// requires, whatever order the gradients arrive in.
//
// A parameter that gets no gradient in a pass (a branch not taken) does not hang the step:
// the end-of-pass callback reduces the buckets still open, with zeros where a rank had no
// gradient, and a parameter that no rank gave a gradient keeps an undefined .grad
// everywhere. Buffers (batch norm's running statistics) are copied from rank 0 at each
// forward, as PyTorch does by default, so every rank evaluates the same model.
//
// The wrapper holds the module by reference (keep it alive), is not itself a Module, and
// so adds no "module." prefix to checkpoint keys: save net.state_dict() as usual.
#pragma once

#include <memory>
#include <vector>

#include "graft/core/tensor.h"
#include "graft/nn/module.h"

namespace graft::nn::parallel {

struct DistributedDataParallelOptions {
  // The gradient bytes per bucket (PyTorch's bucket_cap_mb).
  double bucket_cap_mb = 25.0;
  // Copy the buffers from rank 0 before each forward.
  bool broadcast_buffers = true;
};

class DistributedDataParallel {
 public:
  // Needs an initialised process group. Checks that every rank has the same parameters
  // (count, shapes, dtypes), then gives every rank rank 0's parameters and buffers.
  explicit DistributedDataParallel(Module& module, DistributedDataParallelOptions options = {});
  ~DistributedDataParallel();
  DistributedDataParallel(const DistributedDataParallel&) = delete;
  DistributedDataParallel& operator=(const DistributedDataParallel&) = delete;

  // The module's forward; a backward pass from its output averages the gradients.
  Tensor forward(const Tensor& input);
  Tensor operator()(const Tensor& input) { return forward(input); }

  // While the guard lives, forwards record passes whose backward only accumulates locally
  // (gradient accumulation); the first backward after it averages everything accumulated.
  //   { auto guard = ddp.no_sync(); ddp(x1).sum().backward(); }  // local only
  //   ddp(x2).sum().backward();                                    // averages x1's + x2's
  class NoSyncGuard {
   public:
    explicit NoSyncGuard(DistributedDataParallel& ddp);
    ~NoSyncGuard();
    NoSyncGuard(const NoSyncGuard&) = delete;
    NoSyncGuard& operator=(const NoSyncGuard&) = delete;

   private:
    DistributedDataParallel& ddp_;
    bool previous_;
  };
  [[nodiscard]] NoSyncGuard no_sync() { return NoSyncGuard(*this); }

  Module& module() { return module_; }
  // How the parameters were bucketed: each bucket's parameters, as indices into the
  // module's parameters that require grad (in parameters() order), buckets in the order
  // they are reduced.
  std::vector<std::vector<size_t>> bucket_assignment() const;

  class Reducer;  // distributed/data_parallel.cpp

 private:
  Module& module_;
  DistributedDataParallelOptions options_;
  bool no_sync_ = false;
  std::shared_ptr<Reducer> reducer_;  // shared with the gradient hooks, which may outlive us
};

}  // namespace graft::nn::parallel
