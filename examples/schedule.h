// graft-train's learning-rate schedules by name, built from optim/scheduler.h and stepped
// once per optimizer step (not per epoch), so a run stopped mid-epoch resumes on the curve.
//
//   constant   the lr throughout (the default: today's behaviour, and a resumed run may
//              ask for more epochs, which a schedule with an end cannot allow)
//   cosine     CosineAnnealingLR from lr to 0 at the run's last step
//   onecycle   OneCycleLR with max_lr = lr over the run's steps
//   step       StepLR, the lr times 0.7 after every epoch (PyTorch's MNIST example)
//
// A warmup of N steps (LinearWarmup) ramps the lr linearly from lr / 3 (PyTorch's LinearLR
// default) over the first N steps, then starts the schedule above over the steps left.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "graft/optim/scheduler.h"

namespace graft::examples {

// "constant", "cosine", "onecycle", "step".
const std::vector<std::string>& schedule_names();

// Whether the schedule's curve ends at the run's last step, which fixes --epochs.
bool schedule_has_end(const std::string& name);

// The scheduler of `name` for a run of `total_steps` optimizer steps; nullptr for
// "constant" without warmup. The optimizer's lr is the schedule's base (or max) lr.
std::unique_ptr<optim::LRScheduler> make_schedule(const std::string& name,
                                                  optim::Optimizer& optimizer, int64_t total_steps,
                                                  int64_t steps_per_epoch, int64_t warmup_steps);

}  // namespace graft::examples
