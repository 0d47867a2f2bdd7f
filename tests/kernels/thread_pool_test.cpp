// graft's CPU team (kernels/cpu/thread_pool.h) and parallel_for over it: every task runs
// exactly once whatever the thread count, regions do not nest, a task's exception reaches
// the caller, threads of the user's own can start regions at the same time, and a forked
// child gets threads of its own.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <stdexcept>
#include <thread>
#include <vector>

#include "graft/graft.h"
#include "graft/kernels/cpu/cpu_load.h"
#include "graft/kernels/cpu/parallel.h"
#include "graft/kernels/cpu/thread_pool.h"
#include "settings_scope.h"
#include "test_util.h"

namespace g = graft;
namespace cpu = graft::kernels::cpu;
using g::testing::error_message;
using ::testing::HasSubstr;

namespace {

// How many times each task of [0, tasks) ran.
std::vector<int> run_counts(int64_t tasks) {
  std::vector<std::atomic<int>> counts(static_cast<size_t>(tasks));
  cpu::run_tasks(tasks, [&](int64_t i) { counts[static_cast<size_t>(i)].fetch_add(1); });
  std::vector<int> out;
  for (const auto& count : counts) out.push_back(count.load());
  return out;
}

}  // namespace

TEST(ThreadPool, RunsEveryTaskExactlyOnceWhateverTheThreadCount) {
  for (int threads : {1, 2, 3, 8}) {
    const g::testing::SettingsScope scope({}, threads);
    EXPECT_EQ(g::get_num_threads(), threads);
    for (int64_t tasks : {0, 1, 2, 7, 1000}) {
      const std::vector<int> counts = run_counts(tasks);
      EXPECT_EQ(counts, std::vector<int>(static_cast<size_t>(tasks), 1))
          << tasks << " tasks on " << threads << " threads";
    }
  }
}

TEST(ParallelFor, ChunksAreAFewAThreadOrAMultipleOfTheThreads) {
  // A few chunks a thread when the grains allow; fewer grains than that still give every
  // thread as many chunks (3 grains on 2 threads: 2 chunks, not 2 and 1); fewer grains than
  // threads, one chunk each.
  EXPECT_EQ(cpu::chunks_for(100, 2), 2 * cpu::kChunksPerThread);
  EXPECT_EQ(cpu::chunks_for(3, 2), 2);
  EXPECT_EQ(cpu::chunks_for(7, 3), 6);
  EXPECT_EQ(cpu::chunks_for(2, 4), 2);
  for (int64_t threads : {1, 2, 3, 16})
    for (int64_t grains = 2; grains < 80; ++grains) {
      const int64_t chunks = cpu::chunks_for(grains, threads);
      EXPECT_LE(chunks, grains);  // every chunk at least a grain
      EXPECT_TRUE(chunks < threads || chunks % threads == 0) << grains << " on " << threads;
    }
  // And parallel_for still covers its range exactly once.
  for (int threads : {1, 2, 3}) {
    const g::testing::SettingsScope scope({}, threads);
    for (int64_t n : {0, 5, 1000, 100003}) {
      std::vector<std::atomic<int>> seen(static_cast<size_t>(n));
      cpu::parallel_for(0, n, 997, [&](int64_t first, int64_t last) {
        for (int64_t i = first; i < last; ++i) seen[static_cast<size_t>(i)].fetch_add(1);
      });
      for (int64_t i = 0; i < n; ++i) ASSERT_EQ(seen[static_cast<size_t>(i)].load(), 1) << i;
    }
  }
}

TEST(ThreadPool, ManyRegionsInARowLoseNoTask) {
  // Back-to-back regions are where a worker that wakes late meets the next region.
  const g::testing::SettingsScope scope({}, 4);
  std::atomic<int64_t> total{0};
  for (int region = 0; region < 2000; ++region)
    cpu::run_tasks(1 + region % 9, [&](int64_t i) { total.fetch_add(i + 1); });
  int64_t expected = 0;
  for (int region = 0; region < 2000; ++region) {
    const int64_t tasks = 1 + region % 9;
    expected += tasks * (tasks + 1) / 2;
  }
  EXPECT_EQ(total.load(), expected);
}

TEST(ThreadPool, RegionsInsideATaskRunOnItsThreadAlone) {
  const g::testing::SettingsScope scope({}, 3);
  std::atomic<int> inner_runs{0}, inner_threads_seen{0};
  cpu::run_tasks(6, [&](int64_t) {
    EXPECT_EQ(cpu::available_threads(), 1);
    const std::thread::id outer = std::this_thread::get_id();
    cpu::run_tasks(5, [&](int64_t) {
      inner_runs.fetch_add(1);
      if (std::this_thread::get_id() != outer) inner_threads_seen.fetch_add(1);
    });
  });
  EXPECT_EQ(inner_runs.load(), 30);
  EXPECT_EQ(inner_threads_seen.load(), 0);
  EXPECT_EQ(cpu::available_threads(), 3);
}

TEST(ThreadPool, ATaskExceptionReachesTheCallerAfterEveryTaskRan) {
  const g::testing::SettingsScope scope({}, 3);
  std::atomic<int> ran{0};
  EXPECT_THROW(cpu::run_tasks(50,
                              [&](int64_t i) {
                                ran.fetch_add(1);
                                if (i == 17) throw std::runtime_error("task 17 failed");
                              }),
               std::runtime_error);
  EXPECT_EQ(ran.load(), 50);
  // The team is still whole afterwards.
  EXPECT_EQ(run_counts(40), std::vector<int>(40, 1));
}

TEST(ThreadPool, ThreadsOfTheUsersOwnMayStartRegionsTogether) {
  // One region holds the team at a time; the others run on their own thread.
  const g::testing::SettingsScope scope({}, 2);
  std::vector<int64_t> sums(4, 0);
  std::vector<std::thread> users;
  for (size_t u = 0; u < sums.size(); ++u) {
    users.emplace_back([&sums, u] {
      for (int region = 0; region < 200; ++region) {
        std::atomic<int64_t> sum{0};
        cpu::parallel_for(0, 10000, 100, [&](int64_t begin, int64_t end) {
          int64_t local = 0;
          for (int64_t i = begin; i < end; ++i) local += i;
          sum.fetch_add(local);
        });
        sums[u] += sum.load();
      }
    });
  }
  for (auto& user : users) user.join();
  for (int64_t sum : sums) EXPECT_EQ(sum, 200 * (int64_t{9999} * 10000 / 2));
}

TEST(ThreadPool, ParallelForCoversTheRangeInChunksOfAtLeastTheGrain) {
  const g::testing::SettingsScope scope({}, 2);
  for (int64_t n : {1, 99, 100, 199, 200, 1000, 12345}) {
    std::vector<std::atomic<int>> seen(static_cast<size_t>(n));
    std::atomic<int64_t> chunks{0}, smallest{n};
    cpu::parallel_for(5, 5 + n, 100, [&](int64_t begin, int64_t end) {
      chunks.fetch_add(1);
      int64_t size = end - begin, current = smallest.load();
      while (size < current && !smallest.compare_exchange_weak(current, size)) {
      }
      for (int64_t i = begin; i < end; ++i) seen[static_cast<size_t>(i - 5)].fetch_add(1);
    });
    for (int64_t i = 0; i < n; ++i)
      ASSERT_EQ(seen[static_cast<size_t>(i)].load(), 1) << n << " " << i;
    EXPECT_LE(chunks.load(), 2 * cpu::kChunksPerThread) << n;
    if (chunks.load() > 1) {
      EXPECT_GE(smallest.load(), 100) << n;
    }
  }
}

TEST(ThreadPool, ThreadCountErrors) {
  EXPECT_THAT(error_message([] { g::set_num_threads(-2); }),
              HasSubstr("set_num_threads(): the thread count must be at least 1 (or 0 for the "
                        "default), got -2"));
  const g::testing::SettingsScope scope({}, 2);
  EXPECT_THAT(error_message([] { cpu::run_tasks(4, [](int64_t) { g::set_num_threads(1); }); }),
              HasSubstr("set_num_threads(): called from inside a parallel region"));
  EXPECT_EQ(g::get_num_threads(), 2);
}

TEST(ThreadPool, ZeroReturnsToTheDefaultTeam) {
  const g::testing::SettingsScope scope({}, 3);
  EXPECT_EQ(cpu::requested_pool_threads(), 3);
  g::set_num_threads(0);
  EXPECT_EQ(cpu::requested_pool_threads(), 0);
  // The default: OMP_NUM_THREADS when set, else one thread per CPU this process may use.
  const char* omp = std::getenv("OMP_NUM_THREADS");
  const int expected =
      omp != nullptr ? std::atoi(omp) : static_cast<int>(cpu::affinity_cpus().size());
  EXPECT_EQ(g::get_num_threads(), expected);
  EXPECT_GE(cpu::available_threads(), 1);
  EXPECT_LE(cpu::available_threads(), expected);
  EXPECT_EQ(run_counts(100), std::vector<int>(100, 1));
}

TEST(ThreadPool, AForkedChildComputesWithThreadsOfItsOwn) {
  const g::testing::SettingsScope scope({}, 2);
  const auto sum_is_right = [] {
    const double sum = g::arange(0, 200000, 1, g::TensorOptions(g::kFloat64)).sum().item<double>();
    return sum == 199999.0 * 200000 / 2;
  };
  const auto exited_with_zero = [](pid_t pid) {
    int status = 0;
    return waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0;
  };
  const g::Tensor parent = g::arange(0, 200000, 1, g::TensorOptions(g::kFloat64)).sum();
  // No pause before the fork: the team waits for its workers to have started (Team's
  // park_for_fork), so that none is inside AddressSanitizer's allocator when the process forks.
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    // A fork before the child's first region, then the parent's workers, which do not exist
    // here: a region and a resize must still work.
    const pid_t grandchild = fork();
    if (grandchild == 0) _exit(sum_is_right() ? 0 : 1);
    const bool grandchild_ok = grandchild > 0 && exited_with_zero(grandchild);
    const bool first = sum_is_right();
    g::set_num_threads(3);
    _exit(grandchild_ok && first && sum_is_right() ? 0 : 1);
  }
  EXPECT_TRUE(exited_with_zero(child));
  EXPECT_EQ(parent.item<double>(), 199999.0 * 200000 / 2);
}
