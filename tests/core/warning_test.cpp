// graft::warn and its handler (core/warning.h): stderr by default, a program's own handler
// when installed, and the previous one given back.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "graft/graft.h"

namespace g = graft;

namespace {

TEST(Warning, GoesToStderrByDefault) {
  testing::internal::CaptureStderr();
  g::warn("something looked wrong");
  EXPECT_EQ(testing::internal::GetCapturedStderr(), "graft warning: something looked wrong\n");
}

TEST(Warning, AnInstalledHandlerGetsTheMessageAndTheOldOneComesBack) {
  std::vector<std::string> seen;
  const g::WarningHandler previous =
      g::set_warning_handler([&](const std::string& message) { seen.push_back(message); });
  EXPECT_FALSE(previous) << "the default is the empty handler";
  testing::internal::CaptureStderr();
  g::warn("first");
  g::warn("second");
  const g::WarningHandler mine = g::set_warning_handler(previous);
  EXPECT_EQ(testing::internal::GetCapturedStderr(), "");
  EXPECT_EQ(seen, (std::vector<std::string>{"first", "second"}));
  ASSERT_TRUE(mine);
  mine("direct");
  EXPECT_EQ(seen.back(), "direct");
}

}  // namespace
