// The schedulers' curves (PyTorch's closed forms) and the base that writes them into the
// optimizer's groups.
#include "graft/optim/scheduler.h"

#include <cmath>
#include <numbers>

#include "graft/core/error.h"

namespace graft::optim {

LRScheduler::LRScheduler(Optimizer& optimizer) : optimizer_(optimizer) {
  for (size_t g = 0; g < optimizer.param_groups().size(); ++g) base_lrs_.push_back(optimizer.lr(g));
}

void LRScheduler::step() { set_last_step(last_step_ + 1); }

void LRScheduler::set_last_step(int64_t step) {
  GRAFT_CHECK(step >= 0, "LRScheduler::set_last_step(): the step must be >= 0, got ", step);
  GRAFT_CHECK(optimizer_.param_groups().size() == base_lrs_.size(),
              "LRScheduler: the optimizer has ", optimizer_.param_groups().size(),
              " parameter groups but had ", base_lrs_.size(),
              " when the scheduler was made; make the scheduler after adding groups");
  // Compute every lr first, so that a step out of range changes nothing.
  std::vector<double> lrs;
  for (size_t g = 0; g < base_lrs_.size(); ++g) lrs.push_back(lr_at(step, g));
  last_step_ = step;
  for (size_t g = 0; g < lrs.size(); ++g) optimizer_.set_lr(g, lrs[g]);
}

void LRScheduler::apply() { set_last_step(last_step_); }

std::vector<double> LRScheduler::last_lr() const {
  std::vector<double> lrs;
  for (size_t g = 0; g < base_lrs_.size(); ++g) lrs.push_back(optimizer_.lr(g));
  return lrs;
}

StepLR::StepLR(Optimizer& optimizer, int64_t step_size, double gamma)
    : LRScheduler(optimizer), step_size_(step_size), gamma_(gamma) {
  GRAFT_CHECK(step_size > 0, "StepLR: step_size must be positive, got ", step_size);
  apply();
}

double StepLR::lr_at(int64_t step, size_t group) const {
  return base_lrs()[group] * std::pow(gamma_, static_cast<double>(step / step_size_));
}

CosineAnnealingLR::CosineAnnealingLR(Optimizer& optimizer, int64_t t_max, double eta_min)
    : LRScheduler(optimizer), t_max_(t_max), eta_min_(eta_min) {
  GRAFT_CHECK(t_max > 0, "CosineAnnealingLR: t_max must be positive, got ", t_max);
  apply();
}

double CosineAnnealingLR::lr_at(int64_t step, size_t group) const {
  const double cosine =
      std::cos(std::numbers::pi * static_cast<double>(step) / static_cast<double>(t_max_));
  return eta_min_ + (base_lrs()[group] - eta_min_) * (1.0 + cosine) / 2.0;
}

LinearWarmup::LinearWarmup(Optimizer& optimizer, std::unique_ptr<LRScheduler> after,
                           int64_t warmup_steps, double start_factor)
    : LRScheduler(optimizer),
      after_(std::move(after)),
      warmup_steps_(warmup_steps),
      start_factor_(start_factor) {
  GRAFT_CHECK(warmup_steps > 0, "LinearWarmup: warmup_steps must be positive, got ", warmup_steps);
  GRAFT_CHECK(start_factor > 0.0 && start_factor <= 1.0,
              "LinearWarmup: start_factor must be in (0, 1], got ", start_factor);
  GRAFT_CHECK(after_ == nullptr || &after_->optimizer() == &optimizer,
              "LinearWarmup: the scheduler to run after the warmup drives "
              "another optimizer; "
              "make it with the same one");
  apply();
}

double LinearWarmup::lr_at(int64_t step, size_t group) const {
  if (step >= warmup_steps_)
    return after_ ? after_->lr_at(step - warmup_steps_, group) : base_lrs()[group];
  const double target = after_ ? after_->lr_at(0, group) : base_lrs()[group];
  const double fraction = static_cast<double>(step) / static_cast<double>(warmup_steps_);
  return target * (start_factor_ + (1.0 - start_factor_) * fraction);
}

OneCycleLR::OneCycleLR(Optimizer& optimizer, double max_lr, int64_t total_steps, double pct_start,
                       double div_factor, double final_div_factor)
    : LRScheduler(optimizer),
      max_lr_(max_lr),
      total_steps_(total_steps),
      warmup_end_(pct_start * static_cast<double>(total_steps) - 1.0),
      initial_lr_(max_lr / div_factor),
      min_lr_(max_lr / div_factor / final_div_factor) {
  GRAFT_CHECK(total_steps > 0, "OneCycleLR: total_steps must be positive, got ", total_steps);
  GRAFT_CHECK(pct_start >= 0.0 && pct_start <= 1.0, "OneCycleLR: pct_start must be in [0, 1], got ",
              pct_start);
  GRAFT_CHECK(div_factor > 0.0 && final_div_factor > 0.0,
              "OneCycleLR: div_factor and final_div_factor must be positive, got ", div_factor,
              " and ", final_div_factor);
  apply();
}

double OneCycleLR::lr_at(int64_t step, size_t /*group: one max_lr for all*/) const {
  GRAFT_CHECK(step <= total_steps_, "OneCycleLR: tried to step ", step,
              " times; the specified number of total steps is ", total_steps_);
  // Cosine from `start` at `from` to `end` at `to` (a phase of no length is at its end, where
  // PyTorch would divide by zero).
  const auto anneal = [](double start, double end, double t, double from, double to) {
    const double pct = to > from ? (t - from) / (to - from) : 1.0;
    return end + (start - end) / 2.0 * (std::cos(std::numbers::pi * pct) + 1.0);
  };
  const double t = static_cast<double>(step);
  if (t <= warmup_end_) return anneal(initial_lr_, max_lr_, t, 0.0, warmup_end_);
  return anneal(max_lr_, min_lr_, t, warmup_end_, static_cast<double>(total_steps_ - 1));
}

}  // namespace graft::optim
