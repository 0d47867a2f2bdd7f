// The load measure behind graft's automatic thread count (kernels/cpu/cpu_load.h): parsing
// /proc/stat, the arithmetic of free CPUs, and the team shrinking beside busy processes.
#include "graft/kernels/cpu/cpu_load.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
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

TEST(CpuLoad, BusyTicksSumTheListedCpusCompetingColumns) {
  // user + system + irq + softirq; nice only when asked; idle, iowait and steal never.
  EXPECT_EQ(cpu::busy_ticks(kProcStat, {0}, false), 100 + 50 + 1 + 2);
  EXPECT_EQ(cpu::busy_ticks(kProcStat, {0}, true), 100 + 10 + 50 + 1 + 2);
  EXPECT_EQ(cpu::busy_ticks(kProcStat, {1, 10}, false), (200 + 100 + 2 + 3) + (100 + 50 + 1 + 1));
  // The aggregate "cpu " line is not a CPU; cpu1 is not cpu10.
  EXPECT_EQ(cpu::busy_ticks(kProcStat, {1}, false), 200 + 100 + 2 + 3);
}

TEST(CpuLoad, BusyTicksRefuseWhatTheyCannotRead) {
  EXPECT_EQ(cpu::busy_ticks(kProcStat, {0, 2}, false), std::nullopt);    // no cpu2 line
  EXPECT_EQ(cpu::busy_ticks("cpu0 1 2 3\n", {0}, false), std::nullopt);  // too few columns
  EXPECT_EQ(cpu::busy_ticks("cpu0 1 x 3 4 5 6 7\n", {0}, false), std::nullopt);
  EXPECT_EQ(cpu::busy_ticks("", {0}, false), std::nullopt);
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

// One spinning process per CPU, ended by end_spinners (or with this process, or by alarm).
std::vector<pid_t> start_spinners(size_t count) {
  std::vector<pid_t> spinners;
  for (size_t i = 0; i < count; ++i) {
    const pid_t pid = fork();
    if (pid < 0) break;
    if (pid == 0) {
      prctl(PR_SET_PDEATHSIG, SIGKILL);
      alarm(30);
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
