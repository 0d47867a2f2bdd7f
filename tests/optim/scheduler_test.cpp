// The lr schedulers (optim/scheduler.h): each curve against values worked out by hand from
// PyTorch's closed forms, written beside them, read back from the optimizer's groups.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <memory>
#include <numbers>
#include <vector>

#include "graft/optim/scheduler.h"
#include "graft/optim/sgd.h"
#include "test_util.h"

namespace graft::optim {
namespace {

using testing::error_message;
using ::testing::HasSubstr;

// An SGD over one parameter (no gradient needed: schedulers only touch the lrs).
SGD make_sgd(double lr) { return SGD({zeros({2})}, lr); }

// The lrs of group 0 after construction and after each of `steps` steps.
std::vector<double> curve(LRScheduler& scheduler, Optimizer& optimizer, int steps) {
  std::vector<double> lrs = {optimizer.lr(0)};
  for (int i = 0; i < steps; ++i) {
    scheduler.step();
    lrs.push_back(optimizer.lr(0));
  }
  return lrs;
}

void expect_curve(const std::vector<double>& got, const std::vector<double>& want) {
  ASSERT_EQ(got.size(), want.size());
  for (size_t t = 0; t < want.size(); ++t)
    EXPECT_NEAR(got[t], want[t], 1e-12 * (1 + std::abs(want[t]))) << "at step " << t;
}

TEST(StepLR, MultipliesByGammaEveryStepSizeSteps) {
  SGD opt = make_sgd(1.0);
  StepLR scheduler(opt, /*step_size*/ 3, /*gamma*/ 0.5);
  // 1.0 * 0.5^floor(t / 3)
  expect_curve(curve(scheduler, opt, 7), {1, 1, 1, 0.5, 0.5, 0.5, 0.25, 0.25});
  EXPECT_EQ(scheduler.last_step(), 7);
  EXPECT_EQ(scheduler.last_lr(), std::vector<double>{0.25});
  EXPECT_EQ(scheduler.base_lrs(), std::vector<double>{1.0});
}

TEST(StepLR, ScalesEachGroupFromItsOwnBaseLr) {
  SGD opt = make_sgd(1.0);
  opt.add_param_group({{zeros({1})}, SgdOptions{.lr = 0.2}});
  StepLR scheduler(opt, 1, 0.1);
  scheduler.step();
  EXPECT_NEAR(opt.lr(0), 0.1, 1e-15);
  EXPECT_NEAR(opt.lr(1), 0.02, 1e-15);
}

TEST(CosineAnnealingLR, FollowsTheHalfCosineDownToEtaMin) {
  SGD opt = make_sgd(1.1);
  CosineAnnealingLR scheduler(opt, /*t_max*/ 4, /*eta_min*/ 0.1);
  // 0.1 + 1.0 * (1 + cos(pi t / 4)) / 2; past t_max the closed form rises again.
  const double c = std::cos(std::numbers::pi / 4);  // sqrt(2) / 2
  expect_curve(curve(scheduler, opt, 5),
               {1.1, 0.1 + (1 + c) / 2, 0.6, 0.1 + (1 - c) / 2, 0.1, 0.1 + (1 - c) / 2});
}

TEST(LinearWarmup, RampsUpThenRunsTheWrappedSchedulerFromItsStart) {
  SGD opt = make_sgd(1.0);
  LinearWarmup scheduler(opt, std::make_unique<CosineAnnealingLR>(opt, 4),
                         /*warmup*/ 2,
                         /*start_factor*/ 0.5);
  // Warmup: 1.0 * (0.5 + 0.5 * t / 2) for t = 0, 1; then cosine(t - 2): (1 + cos(pi s / 4)) / 2.
  const double c = std::cos(std::numbers::pi / 4);
  expect_curve(curve(scheduler, opt, 5), {0.5, 0.75, 1.0, (1 + c) / 2, 0.5, (1 - c) / 2});
}

TEST(LinearWarmup, WithoutASchedulerAfterItHoldsTheBaseLr) {
  SGD opt = make_sgd(0.3);
  LinearWarmup scheduler(opt, nullptr,
                         3);  // PyTorch's LinearLR default start_factor 1/3
  expect_curve(curve(scheduler, opt, 4), {0.1, 0.1 + 0.2 / 3, 0.1 + 0.4 / 3, 0.3, 0.3});
}

TEST(LinearWarmup, ComposesWithStepLR) {
  SGD opt = make_sgd(1.0);
  LinearWarmup scheduler(opt, std::make_unique<StepLR>(opt, 2, 0.1), 1, 0.1);
  expect_curve(curve(scheduler, opt, 4), {0.1, 1.0, 1.0, 0.1, 0.1});
}

TEST(OneCycleLR, RisesToMaxLrThenAnnealsToTheMinimum) {
  SGD opt = make_sgd(123.0);  // ignored: the cycle is set by max_lr
  OneCycleLR scheduler(opt, /*max_lr*/ 1.0, /*total_steps*/ 10);
  // initial = 1 / 25 = 0.04, min = 0.04 / 1e4 = 4e-6; the rise ends at step 0.3 * 10 - 1 = 2,
  // the fall at step 9: lr = end + (start - end) / 2 * (1 + cos(pi * pct)).
  const auto anneal = [](double start, double end, double pct) {
    return end + (start - end) / 2 * (1 + std::cos(std::numbers::pi * pct));
  };
  std::vector<double> want = {0.04, 0.52, 1.0};  // anneal(0.04, 1, 1/2) = 1 - 0.96 / 2
  for (int t = 3; t <= 10; ++t) want.push_back(anneal(1.0, 4e-6, (t - 2) / 7.0));
  expect_curve(curve(scheduler, opt, 10), want);
  EXPECT_NEAR(want[9], 4e-6, 1e-18);
  EXPECT_THAT(error_message([&] { scheduler.step(); }),
              HasSubstr("OneCycleLR: tried to step 11 times; the specified number of total "
                        "steps is 10"));
  EXPECT_EQ(scheduler.last_step(), 10);  // the failed step changed nothing
}

TEST(LRScheduler, ResumesExactlyFromItsStepCount) {
  SGD first = make_sgd(1.0), second = make_sgd(1.0);
  CosineAnnealingLR a(first, 10), b(second, 10);
  for (int i = 0; i < 6; ++i) a.step();
  b.set_last_step(6);
  EXPECT_EQ(first.lr(0), second.lr(0));
  a.step();
  b.step();
  EXPECT_EQ(first.lr(0), second.lr(0));
}

TEST(LRScheduler, BadArgumentsAreErrors) {
  SGD opt = make_sgd(1.0), other = make_sgd(1.0);
  EXPECT_THAT(error_message([&] { StepLR(opt, 0); }),
              HasSubstr("StepLR: step_size must be positive, got 0"));
  EXPECT_THAT(error_message([&] { CosineAnnealingLR(opt, -1); }),
              HasSubstr("CosineAnnealingLR: t_max must be positive, got -1"));
  EXPECT_THAT(error_message([&] { LinearWarmup(opt, nullptr, 0); }),
              HasSubstr("LinearWarmup: warmup_steps must be positive, got 0"));
  EXPECT_THAT(error_message([&] { LinearWarmup(opt, nullptr, 2, 0.0); }),
              HasSubstr("LinearWarmup: start_factor must be in (0, 1], got 0"));
  EXPECT_THAT(error_message([&] { LinearWarmup(opt, std::make_unique<StepLR>(other, 1), 2); }),
              HasSubstr("drives another optimizer"));
  EXPECT_THAT(error_message([&] { OneCycleLR(opt, 1.0, 0); }),
              HasSubstr("OneCycleLR: total_steps must be positive, got 0"));
  EXPECT_THAT(error_message([&] { OneCycleLR(opt, 1.0, 10, 1.5); }),
              HasSubstr("OneCycleLR: pct_start must be in [0, 1], got 1.5"));
  StepLR scheduler(opt, 1);
  EXPECT_THAT(error_message([&] { scheduler.set_last_step(-1); }),
              HasSubstr("the step must be >= 0, got -1"));
  opt.add_param_group({{zeros({1})}, SgdOptions{}});
  EXPECT_THAT(error_message([&] { scheduler.step(); }),
              HasSubstr("the optimizer has 2 parameter groups but had 1"));
}

}  // namespace
}  // namespace graft::optim
