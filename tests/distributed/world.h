// What every multi-process test starts from: the process group, made on first use with a
// short timeout, so a test whose ranks have gone separate ways fails in a minute instead of
// hanging until ctest's limit; and WorldTest, the fixture that joins it.
#pragma once

#include <gtest/gtest.h>

#include <chrono>

#include "graft/distributed/distributed.h"

namespace graft::testing {

inline void ensure_process_group() {
  if (!distributed::is_initialized())
    distributed::init_process_group({.timeout = std::chrono::seconds(60)});
}

// A fixture that joins the world and knows its place in it.
class WorldTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ensure_process_group();
    rank = distributed::get_rank();
    world = distributed::get_world_size();
  }
  int rank = 0;
  int world = 1;
};

}  // namespace graft::testing
