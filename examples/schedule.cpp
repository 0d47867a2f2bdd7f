// Learning-rate schedules by name (see schedule.h).
#include "schedule.h"

#include "graft/core/error.h"

namespace graft::examples {

const std::vector<std::string>& schedule_names() {
  static const std::vector<std::string> kNames = {"constant", "cosine", "onecycle", "step"};
  return kNames;
}

bool schedule_has_end(const std::string& name) { return name == "cosine" || name == "onecycle"; }

std::unique_ptr<optim::LRScheduler> make_schedule(const std::string& name,
                                                  optim::Optimizer& optimizer, int64_t total_steps,
                                                  int64_t steps_per_epoch, int64_t warmup_steps) {
  const int64_t after_warmup = total_steps - warmup_steps;
  GRAFT_CHECK(!schedule_has_end(name) || after_warmup > 0, "graft-train: --warmup ", warmup_steps,
              " leaves none of the run's ", total_steps, " steps to the ", name,
              " schedule; lower --warmup or raise --epochs");
  std::unique_ptr<optim::LRScheduler> after;
  if (name == "cosine") {
    after = std::make_unique<optim::CosineAnnealingLR>(optimizer, after_warmup);
  } else if (name == "onecycle") {
    after = std::make_unique<optim::OneCycleLR>(optimizer, optimizer.lr(0), after_warmup);
  } else if (name == "step") {
    after = std::make_unique<optim::StepLR>(optimizer, steps_per_epoch, 0.7);
  } else {
    GRAFT_CHECK(name == "constant", "graft-train: unknown lr schedule '", name, "'");
  }
  if (warmup_steps == 0) return after;
  return std::make_unique<optim::LinearWarmup>(optimizer, std::move(after), warmup_steps);
}

}  // namespace graft::examples
