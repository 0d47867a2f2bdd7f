// Learning-rate schedulers: each sets its optimizer's group lrs from a closed-form curve
// of the step count.
//
//   optim::SGD opt(net.parameters(), 0.1);
//   optim::LinearWarmup sched(opt, std::make_unique<optim::CosineAnnealingLR>(opt, 95), 5);
//   for (int epoch = 0; epoch < 100; ++epoch) { train(opt); sched.step(); }
//
// As in PyTorch, constructing a scheduler records each group's current lr as its base lr
// and sets the lr of step 0; every step() advances the count by one and sets lr_at(count).
// The curves are PyTorch's closed forms (its `_get_closed_form_lr`), so an lr depends only
// on the step count: a scheduler restored from its count (set_last_step) continues exactly,
// and one scheduler can wrap another by asking it for its curve at a shifted step.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "graft/optim/optimizer.h"

namespace graft::optim {

class LRScheduler {
 public:
  virtual ~LRScheduler() = default;
  LRScheduler(const LRScheduler&) = delete;
  LRScheduler& operator=(const LRScheduler&) = delete;

  // Advances one step (an epoch or a batch: the caller decides) and sets the new lrs.
  void step();
  // The count of step() calls so far (PyTorch's last_epoch); 0 after construction.
  int64_t last_step() const { return last_step_; }
  // Jumps to step `step` and sets its lrs: resuming from a checkpoint.
  void set_last_step(int64_t step);
  // The lrs this scheduler last set, one per group (PyTorch's get_last_lr()).
  std::vector<double> last_lr() const;
  const std::vector<double>& base_lrs() const { return base_lrs_; }

  // The lr of group `group` at step `step` >= 0.
  virtual double lr_at(int64_t step, size_t group) const = 0;
  Optimizer& optimizer() const { return optimizer_; }

 protected:
  // Records the groups' lrs as base lrs; the derived constructor then calls apply().
  explicit LRScheduler(Optimizer& optimizer);
  // Sets every group's lr to lr_at(last_step()).
  void apply();

 private:
  Optimizer& optimizer_;
  std::vector<double> base_lrs_;
  int64_t last_step_ = 0;
};

// base_lr * gamma^floor(step / step_size).
class StepLR final : public LRScheduler {
 public:
  StepLR(Optimizer& optimizer, int64_t step_size, double gamma = 0.1);
  double lr_at(int64_t step, size_t group) const override;

 private:
  int64_t step_size_;
  double gamma_;
};

// eta_min + (base_lr - eta_min) * (1 + cos(pi * step / t_max)) / 2: from base_lr at step 0
// down to eta_min at t_max (and, as PyTorch's closed form, back up after it).
class CosineAnnealingLR final : public LRScheduler {
 public:
  CosineAnnealingLR(Optimizer& optimizer, int64_t t_max, double eta_min = 0.0);
  double lr_at(int64_t step, size_t group) const override;

 private:
  int64_t t_max_;
  double eta_min_;
};

// A linear warmup in front of another scheduler: PyTorch's
// SequentialLR([LinearLR(opt, start_factor, 1.0, warmup_steps), after], [warmup_steps]).
// For step < warmup_steps the lr is target * (start_factor + (1 - start_factor) * step /
// warmup_steps); from then on it is after's curve restarted: after.lr_at(step - warmup_steps).
// The warmup ramps towards after's lr at its step 0 (base_lr for StepLR and
// CosineAnnealingLR); without `after` (nullptr) towards base_lr, where the lr then stays.
class LinearWarmup final : public LRScheduler {
 public:
  LinearWarmup(Optimizer& optimizer, std::unique_ptr<LRScheduler> after, int64_t warmup_steps,
               double start_factor = 1.0 / 3.0);
  double lr_at(int64_t step, size_t group) const override;

 private:
  std::unique_ptr<LRScheduler> after_;
  int64_t warmup_steps_;
  double start_factor_;
};

// The 1cycle policy with cosine annealing (PyTorch's OneCycleLR, three_phase=False, lr
// only: momentum is not cycled). From max_lr / div_factor it rises to max_lr over the
// first pct_start * total_steps steps, then falls to max_lr / div_factor / final_div_factor
// at step total_steps - 1. The groups' own lrs are ignored; stepping past total_steps is
// an error, as in PyTorch.
class OneCycleLR final : public LRScheduler {
 public:
  OneCycleLR(Optimizer& optimizer, double max_lr, int64_t total_steps, double pct_start = 0.3,
             double div_factor = 25.0, double final_div_factor = 1e4);
  double lr_at(int64_t step, size_t group) const override;

 private:
  double max_lr_;
  int64_t total_steps_;
  double warmup_end_;  // the step where max_lr is reached: pct_start * total_steps - 1
  double initial_lr_, min_lr_;
};

}  // namespace graft::optim
