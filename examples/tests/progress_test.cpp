// The progress bar: the exact text of both line forms at fixed times, and when the bar
// draws (a fake clock stands in for the steady clock).
#include "progress.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <sstream>

namespace graft::examples {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

// 421 of 938 batches of 64 in 12 s: 35.08 it/s, 2245.3 img/s; 517 left at 35.08/s = 14.7 s.
ProgressState mid_epoch() {
  return {.description = "epoch 2/5",
          .done = 421,
          .total = 938,
          .items = 421 * 64,
          .elapsed_s = 12.0,
          .loss = 0.512};
}

TEST(ProgressFormat, DurationIsMinutesSecondsThenHours) {
  EXPECT_EQ(format_duration(0), "00:00");
  EXPECT_EQ(format_duration(59.9), "00:59");
  EXPECT_EQ(format_duration(61), "01:01");
  EXPECT_EQ(format_duration(3599), "59:59");
  EXPECT_EQ(format_duration(3600 + 2 * 60 + 3), "1:02:03");
  EXPECT_EQ(format_duration(-1), "?");
  EXPECT_EQ(format_duration(NAN), "?");
}

TEST(ProgressFormat, BarLineMatchesTqdmLayout) {
  // 421/938 = 44.9%: 8.98 of 20 cells, i.e. 71 eighths: 8 full cells and a 7/8 block.
  EXPECT_EQ(format_bar_line(mid_epoch()),
            "epoch 2/5  44%|████████▉           | 421/938 [00:12<00:14, 35.1 it/s, "
            "2245 img/s, loss 0.5120]");
}

TEST(ProgressFormat, BarLineAtStartAndEnd) {
  ProgressState start{.description = "epoch 1/1", .total = 10};
  EXPECT_EQ(format_bar_line(start, 4),
            "epoch 1/1   0%|    | 0/10 [00:00<?, ? it/s, ? img/s, loss 0.0000]");
  ProgressState end{.description = "epoch 1/1",
                    .done = 10,
                    .total = 10,
                    .items = 640,
                    .elapsed_s = 2.0,
                    .loss = 0.25};
  EXPECT_EQ(format_bar_line(end, 4),
            "epoch 1/1 100%|████| 10/10 [00:02<00:00, 5.0 it/s, 320 img/s, loss 0.2500]");
}

TEST(ProgressFormat, PlainLineSpellsEverythingOut) {
  EXPECT_EQ(format_plain_line(mid_epoch()),
            "epoch 2/5: batch 421/938 (44%), 35.1 it/s, 2245 img/s, elapsed 00:12, eta 00:14, "
            "loss 0.5120");
}

// A clock the test moves by hand.
struct FakeClock {
  double now = 100;
  ProgressBar::Clock fn() {
    return [this] { return now; };
  }
};

TEST(ProgressBar, TerminalFormRedrawsInPlaceAtMostEveryTenthOfASecond) {
  std::ostringstream out;
  FakeClock clock;
  ProgressBar bar(out, /*interactive=*/true, "epoch 1/1", 4, clock.fn());
  clock.now += 1;
  bar.update(1, 64, 2.0);  // the first update always draws
  clock.now += 0.0625;
  bar.update(2, 128, 1.5);  // 0.0625 s later: skipped
  clock.now += 0.0625;
  bar.update(3, 192, 1.0);  // 0.125 s after the last draw: drawn
  clock.now += 0.01;
  bar.update(4, 256, 0.5);  // the last batch: always drawn
  bar.finish();
  const std::string text = out.str();
  EXPECT_EQ(std::count(text.begin(), text.end(), '\r'), 3);
  EXPECT_THAT(text, HasSubstr("| 1/4 ["));
  EXPECT_THAT(text, Not(HasSubstr("| 2/4 [")));
  EXPECT_THAT(text, HasSubstr("| 3/4 ["));
  EXPECT_THAT(text, HasSubstr("| 4/4 [00:01<00:00"));
  EXPECT_THAT(text, HasSubstr("\x1b[K"));  // clears what a longer previous line left
  EXPECT_EQ(text.back(), '\n');
  EXPECT_EQ(bar.state().items, 256);
}

TEST(ProgressBar, PlainFormPrintsOneLinePerTenth) {
  std::ostringstream out;
  FakeClock clock;
  ProgressBar bar(out, /*interactive=*/false, "epoch 1/1", 25, clock.fn());
  for (int64_t i = 1; i <= 25; ++i) {
    clock.now += 0.5;
    bar.update(i, 10 * i, 1.0 / static_cast<double>(i));
  }
  bar.finish();
  const std::string text = out.str();
  // Tenths of 25 batches are crossed at batches 3, 5, 8, 10, 13, 15, 18, 20, 23, 25.
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 10);
  EXPECT_EQ(text.find('\r'), std::string::npos);
  EXPECT_THAT(text, HasSubstr("epoch 1/1: batch 3/25 (12%), 2.0 it/s, 20.0 img/s, elapsed 00:01"));
  EXPECT_THAT(text, HasSubstr("batch 25/25 (100%)"));
  EXPECT_THAT(text, Not(HasSubstr("batch 4/25")));
}

TEST(ProgressBar, PlainFormWithOneBatchPrintsOnce) {
  std::ostringstream out;
  FakeClock clock;
  ProgressBar bar(out, false, "eval", 1, clock.fn());
  clock.now += 1;
  bar.update(1, 8, 0.1);
  EXPECT_EQ(out.str(),
            "eval: batch 1/1 (100%), 1.0 it/s, 8.0 img/s, elapsed 00:01, eta 00:00, "
            "loss 0.1000\n");
}

}  // namespace
}  // namespace graft::examples
