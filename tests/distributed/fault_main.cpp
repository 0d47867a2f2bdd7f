// A two-rank program that fails on purpose, for the fault tests (CMakeLists.txt): rank 1
// misbehaves while rank 0 waits in an all-reduce with a 3-second timeout. Whatever rank 1
// does, the job must end, non-zero, within a bounded time, and say why.
//   exit:  rank 1 leaves with status 3 without a word
//   stall: rank 1 never joins the collective
//   throw: rank 1 throws a graft::Error nobody catches
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>

#include "graft/graft.h"

namespace dist = graft::distributed;

int main(int argc, char** argv) {
  const std::string mode = argc > 1 ? argv[1] : "";
  if (mode != "exit" && mode != "stall" && mode != "throw") {
    std::fprintf(stderr, "usage: graft_distributed_fault exit|stall|throw\n");
    return 2;
  }
  dist::init_process_group({.timeout = std::chrono::seconds(3)});
  if (dist::get_rank() == 1) {
    if (mode == "exit") std::_Exit(3);
    if (mode == "stall") std::this_thread::sleep_for(std::chrono::seconds(120));
    if (mode == "throw") throw graft::Error("rank 1 failed on purpose");
  }
  graft::Tensor t = graft::ones({4});
  dist::all_reduce(t);
  std::printf("rank %d: the all-reduce returned, which it must not\n", dist::get_rank());
  return 0;
}
