// A versus workload: one named piece of work that graft_worker.cpp times, and that
// torch_worker.py mirrors op for op in PyTorch under the same name.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>

#include "graft/core/device.h"

namespace graft::versus {

struct Workload {
  // One run of the work. It may leave kernels queued on a GPU: the timer synchronises.
  std::function<void()> run;
  // Ops in one run, so the figure is per op (the chain of 10 tiny ops reports one op).
  int ops_per_run = 1;
  // Runs so long (a training epoch) that each request times exactly one, with no warm-up.
  bool single_run = false;
  // Test accuracy of what the last run trained, for the training workloads.
  std::function<double()> accuracy;
};

// A workload timed over many runs, each calling `run`.
inline Workload repeated(std::function<void()> run) {
  Workload workload;
  workload.run = std::move(run);
  return workload;
}

using WorkloadFactory = std::function<Workload(Device)>;

// Every workload by name: the ops (op_workloads.cpp) and the training ones
// (training_workloads.cpp). Building one allocates its inputs; nothing runs until run().
void add_op_workloads(std::map<std::string, WorkloadFactory>& registry);
void add_training_workloads(std::map<std::string, WorkloadFactory>& registry);

}  // namespace graft::versus
