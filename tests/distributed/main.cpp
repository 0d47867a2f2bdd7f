// The distributed tests' main: gtest on every rank, and the world left properly at the end
// (mpirun counts a rank that exits without finalising MPI as failed).
#include <gtest/gtest.h>

#include "graft/distributed/distributed.h"

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  const int result = RUN_ALL_TESTS();
  if (graft::distributed::is_initialized()) graft::distributed::destroy_process_group();
  return result;
}
