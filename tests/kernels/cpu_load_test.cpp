// The load measure behind graft's automatic thread count (kernels/cpu/cpu_load.h): parsing
// /proc/stat, the arithmetic of free CPUs, and the team shrinking beside busy processes.
#include "graft/kernels/cpu/cpu_load.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <optional>
#include <thread>
#include <vector>

#include "graft/graft.h"
#include "graft/kernels/cpu/thread_pool.h"
#include "settings_scope.h"

namespace cpu = graft::kernels::cpu;

namespace {

// Columns: user nice system idle iowait irq softirq steal guest guest_nice.
constexpr const char* kProcStat =
    "cpu  400 40 200 9000 10 4 6 7 0 0\n"
    "cpu0 100 10 50 3000 5 1 2 3 0 0\n"
    "cpu1 200 20 100 3000 5 2 3 4 0 0\n"
    "cpu10 100 10 50 3000 0 1 1 0 0 0\n"
    "intr 12345 0 0\n"
    "ctxt 999\n";

}  // namespace

TEST(CpuLoad, CpuTicksSumTheListedCpusColumns) {
  // busy: user + system + irq + softirq; nice apart; idle, iowait and steal never.
  const auto cpu0 = cpu::cpu_ticks(kProcStat, {0});
  ASSERT_TRUE(cpu0.has_value());
  EXPECT_EQ(cpu0->busy, 100 + 50 + 1 + 2);
  EXPECT_EQ(cpu0->nice, 10);
  const auto cpus = cpu::cpu_ticks(kProcStat, {1, 10});
  ASSERT_TRUE(cpus.has_value());
  EXPECT_EQ(cpus->busy, (200 + 100 + 2 + 3) + (100 + 50 + 1 + 1));
  EXPECT_EQ(cpus->nice, 20 + 10);
  // The aggregate "cpu " line is not a CPU; cpu1 is not cpu10.
  EXPECT_EQ(cpu::cpu_ticks(kProcStat, {1})->busy, 200 + 100 + 2 + 3);
}

TEST(CpuLoad, CpuTicksRefuseWhatTheyCannotRead) {
  EXPECT_EQ(cpu::cpu_ticks(kProcStat, {0, 2}), std::nullopt);    // no cpu2 line
  EXPECT_EQ(cpu::cpu_ticks("cpu0 1 2 3\n", {0}), std::nullopt);  // too few columns
  EXPECT_EQ(cpu::cpu_ticks("cpu0 1 x 3 4 5 6 7\n", {0}), std::nullopt);
  EXPECT_EQ(cpu::cpu_ticks("", {0}), std::nullopt);
}

TEST(CpuLoad, NicedProcessesCompeteWhereThisOneWaitedBesideThem) {
  // A niced spinner in another session: two threads here waited 47% of the time.
  EXPECT_TRUE(cpu::niced_processes_compete(0.9, 0.47));
  // One in this process's session, yielding: 1.5% waited.
  EXPECT_FALSE(cpu::niced_processes_compete(0.9, 0.015));
  // Waiting beside little niced work is some other process's doing.
  EXPECT_FALSE(cpu::niced_processes_compete(0.2, 0.47));
}

TEST(CpuLoad, ThisThreadsWaitIsReadWhereTheKernelGivesIt) {
  if (!std::ifstream("/proc/thread-self/schedstat")) GTEST_SKIP() << "no schedstat here";
  const std::optional<double> waited = cpu::thread_wait_seconds();
  ASSERT_TRUE(waited.has_value());
  EXPECT_GE(*waited, 0.0);
}

TEST(CpuLoad, FreeCpusAreTheOnesOtherProcessesLeave) {
  // Idle but for this process: every CPU is free, however much this process used.
  EXPECT_EQ(cpu::free_cpus(2, 1.9, 1.9, 1.0), 2);
  // Two threads beside one busy process: it got 2/3 of a CPU, which rounds to one taken.
  EXPECT_EQ(cpu::free_cpus(2, 2.0, 4.0 / 3, 1.0), 1);
  // One thread beside it: it had a whole CPU.
  EXPECT_EQ(cpu::free_cpus(2, 2.0, 1.0, 1.0), 1);
  // A light neighbour (0.3 of a CPU over half a second) takes no CPU away.
  EXPECT_EQ(cpu::free_cpus(16, 8.15, 8.0, 0.5), 16);
  // Never fewer than one, never more than there are.
  EXPECT_EQ(cpu::free_cpus(4, 8.0, 0.0, 1.0), 1);
  EXPECT_EQ(cpu::free_cpus(4, 0.0, 2.0, 1.0), 4);
}

// `count` spinning processes, ended by end_spinners (or with this process, or by alarm); at
// nice `niceness`, each in a session of its own if asked.
std::vector<pid_t> start_spinners(size_t count, int niceness = 0, bool own_session = false) {
  std::vector<pid_t> spinners;
  for (size_t i = 0; i < count; ++i) {
    const pid_t pid = fork();
    if (pid < 0) break;
    if (pid == 0) {
      prctl(PR_SET_PDEATHSIG, SIGKILL);
      alarm(30);
      if (own_session) setsid();
      if (niceness > 0) (void)nice(niceness);
      volatile uint64_t spins = 0;
      for (;;) spins = spins + 1;
    }
    spinners.push_back(pid);
  }
  return spinners;
}
void end_spinners(const std::vector<pid_t>& spinners) {
  for (const pid_t pid : spinners) {
    kill(pid, SIGKILL);
    waitpid(pid, nullptr, 0);
  }
}

// available_threads() called again and again until it gives `wanted`, for at most `limit`;
// what it gave last.
int available_threads_reaching(int wanted, std::chrono::milliseconds limit) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  int available = cpu::available_threads();
  while (available != wanted && std::chrono::steady_clock::now() < deadline)
    available = cpu::available_threads();
  return available;
}

// The automatic team's tests need 2 to 64 CPUs, /proc/stat, and no OMP_NUM_THREADS.
const char* why_no_automatic_team(const std::vector<int>& cpus) {
  if (cpus.size() < 2 || cpus.size() > 64 || !std::ifstream("/proc/stat"))
    return "needs 2 to 64 CPUs and /proc/stat";
  if (std::getenv("OMP_NUM_THREADS") != nullptr) return "OMP_NUM_THREADS fixes the team";
  return nullptr;
}

TEST(CpuLoad, AutomaticTeamUsesOnlyTheCpusBusyProcessesLeaveFree) {
  const std::vector<int> cpus = cpu::affinity_cpus();
  if (const char* why = why_no_automatic_team(cpus)) GTEST_SKIP() << why;
  const graft::testing::SettingsScope scope({}, 0);
  ASSERT_EQ(cpu::requested_pool_threads(), 0);
  ASSERT_EQ(graft::get_num_threads(), static_cast<int>(cpus.size()));
  const std::vector<pid_t> spinners = start_spinners(cpus.size());
  ASSERT_EQ(spinners.size(), cpus.size());
  // Every CPU is taken: within a few of the monitor's intervals a region gets one thread.
  const int available = available_threads_reaching(1, std::chrono::seconds(5));
  end_spinners(spinners);
  EXPECT_EQ(available, 1);
  EXPECT_EQ(graft::get_num_threads(), static_cast<int>(cpus.size()));  // the team's size stays
}

// Processes that ran while this one had no region (the other half of a pipeline, taking
// turns with it) leave its count as it was: the monitor's interval that spans them is stale.
TEST(CpuLoad, ProcessesThatRanWhileThisOneWaitedLeaveItsThreads) {
  const std::vector<int> cpus = cpu::affinity_cpus();
  if (const char* why = why_no_automatic_team(cpus)) GTEST_SKIP() << why;
  const graft::testing::SettingsScope scope({}, 0);
  const auto all = static_cast<int>(cpus.size());
  if (available_threads_reaching(all, std::chrono::seconds(2)) != all)
    GTEST_SKIP() << "other processes are busy on this machine";
  const std::vector<pid_t> spinners = start_spinners(cpus.size());
  ASSERT_EQ(spinners.size(), cpus.size());
  std::this_thread::sleep_for(3 * cpu::LoadMonitor::kInterval);  // no region meanwhile
  end_spinners(spinners);
  EXPECT_EQ(cpu::available_threads(), all);
}

// The share of a CPU that each of `threads` spinning threads of this process gets over `time`,
// on average: how much the processes beside it really take, measured apart from the monitor.
double spinning_threads_share(int threads, std::chrono::milliseconds time) {
  std::vector<double> shares(static_cast<size_t>(threads));
  std::vector<std::thread> spinning;
  for (int i = 0; i < threads; ++i)
    spinning.emplace_back([&, i] {
      const auto start = std::chrono::steady_clock::now();
      while (std::chrono::steady_clock::now() - start < time) {
      }
      timespec cpu{};
      clock_gettime(CLOCK_THREAD_CPUTIME_ID, &cpu);
      const double wall =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      shares[static_cast<size_t>(i)] =
          (static_cast<double>(cpu.tv_sec) + 1e-9 * static_cast<double>(cpu.tv_nsec)) / wall;
    });
  for (auto& thread : spinning) thread.join();
  double total = 0;
  for (const double share : shares) total += share;
  return total / threads;
}

// Niced processes in sessions of their own: where the kernel groups processes by session
// (autogroup) they take their share of the CPUs, and the team shrinks as beside any busy
// process; where nice orders all processes, they yield, and the team keeps every CPU. Which
// of the two this machine does is measured apart, by threads spinning beside them.
TEST(CpuLoad, AutomaticTeamCountsNicedProcessesThatTakeTheirShare) {
  const std::vector<int> cpus = cpu::affinity_cpus();
  if (const char* why = why_no_automatic_team(cpus)) GTEST_SKIP() << why;
  if (!cpu::thread_wait_seconds()) GTEST_SKIP() << "no /proc/thread-self/schedstat here";
  const graft::testing::SettingsScope scope({}, 0);
  const auto all = static_cast<int>(cpus.size());
  if (available_threads_reaching(all, std::chrono::seconds(2)) != all)
    GTEST_SKIP() << "other processes are busy on this machine";
  const std::vector<pid_t> spinners = start_spinners(cpus.size(), 19, true);
  ASSERT_EQ(spinners.size(), cpus.size());
  const double share = spinning_threads_share(all, std::chrono::milliseconds(400));
  if (share > 0.6 && share < 0.85) {
    end_spinners(spinners);
    GTEST_SKIP() << "inconclusive: threads here got " << share << " of a CPU beside them";
  }
  const int expected = share >= 0.85 ? all : 1;
  const int available = available_threads_reaching(expected, std::chrono::seconds(5));
  end_spinners(spinners);
  EXPECT_EQ(available, expected) << "threads here got " << share << " of a CPU beside them";
}
