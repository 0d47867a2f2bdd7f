// graft-train's schedules by name: each is the optim/ scheduler it names, stepped per
// optimizer step, with the warmup in front.
#include "schedule.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "graft/graft.h"
#include "test_util.h"

namespace graft::examples {
namespace {

using graft::testing::error_message;
using ::testing::HasSubstr;

class ScheduleTest : public ::testing::Test {
 protected:
  Tensor w_ = zeros({1}).requires_grad_(true);
  optim::SGD sgd_{{w_}, 0.1};
};

TEST_F(ScheduleTest, ConstantWithoutWarmupIsNoScheduler) {
  EXPECT_EQ(make_schedule("constant", sgd_, 100, 10, 0), nullptr);
  EXPECT_FALSE(schedule_has_end("constant"));
  EXPECT_FALSE(schedule_has_end("step"));
  EXPECT_TRUE(schedule_has_end("cosine"));
  EXPECT_TRUE(schedule_has_end("onecycle"));
}

TEST_F(ScheduleTest, CosineEndsAtZeroOnTheLastStep) {
  const auto s = make_schedule("cosine", sgd_, 100, 10, 0);
  EXPECT_DOUBLE_EQ(s->lr_at(0, 0), 0.1);
  EXPECT_DOUBLE_EQ(s->lr_at(50, 0), 0.05);  // 0.1 * (1 + cos(pi / 2)) / 2
  EXPECT_NEAR(s->lr_at(100, 0), 0.0, 1e-15);
}

TEST_F(ScheduleTest, StepIsTimesPoint7PerEpoch) {
  const auto s = make_schedule("step", sgd_, 100, 10, 0);
  EXPECT_DOUBLE_EQ(s->lr_at(9, 0), 0.1);
  EXPECT_DOUBLE_EQ(s->lr_at(10, 0), 0.1 * 0.7);
  EXPECT_DOUBLE_EQ(s->lr_at(25, 0), 0.1 * 0.7 * 0.7);
}

TEST_F(ScheduleTest, OneCyclePeaksAtTheLr) {
  const auto s = make_schedule("onecycle", sgd_, 100, 10, 0);
  EXPECT_DOUBLE_EQ(s->lr_at(0, 0), 0.1 / 25);  // max_lr / div_factor
  EXPECT_DOUBLE_EQ(s->lr_at(29, 0), 0.1);      // pct_start 0.3: the peak at step 30 - 1
}

TEST_F(ScheduleTest, WarmupRampsThenTheScheduleStartsOverTheStepsLeft) {
  const auto s = make_schedule("cosine", sgd_, 100, 10, 20);
  EXPECT_DOUBLE_EQ(s->lr_at(0, 0), 0.1 / 3);  // LinearLR's start_factor 1/3
  EXPECT_DOUBLE_EQ(s->lr_at(10, 0), 0.1 * (1.0 / 3 + 2.0 / 3 * 10 / 20));
  EXPECT_DOUBLE_EQ(s->lr_at(20, 0), 0.1);   // cosine's step 0
  EXPECT_DOUBLE_EQ(s->lr_at(60, 0), 0.05);  // cosine over 80 steps, half-way
  optim::SGD fresh({w_}, 0.1);              // sgd_'s lr is the warmup's now
  const auto c = make_schedule("constant", fresh, 100, 10, 4);
  EXPECT_DOUBLE_EQ(c->lr_at(4, 0), 0.1);
  EXPECT_THAT(
      error_message([&] { make_schedule("onecycle", sgd_, 100, 10, 100); }),
      HasSubstr("--warmup 100 leaves none of the run's 100 steps to the onecycle schedule"));
}

}  // namespace
}  // namespace graft::examples
