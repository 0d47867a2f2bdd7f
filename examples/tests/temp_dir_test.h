// A test fixture with a folder of its own, for the tests that write files:
// <temp>/graft_<suite>_<test>, emptied before the test and removed after it.
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <string>

namespace graft::examples {

class TempDirTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const ::testing::TestInfo* test = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = std::filesystem::temp_directory_path() /
           ("graft_" + std::string(test->test_suite_name()) + "_" + test->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }
  // Empty when a subclass skipped the test before calling SetUp.
  void TearDown() override {
    if (!dir_.empty()) std::filesystem::remove_all(dir_);
  }

  std::filesystem::path dir_;
};

}  // namespace graft::examples
