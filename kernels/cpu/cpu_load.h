// How much of the CPUs this process may run on other processes are using: what graft's
// automatic thread count (thread_pool.h) sizes the team by.
//
// Why: a team with more threads than free cores loses at every parallel region, waiting for
// the thread that is off its core; beside one busy process two threads trained slower than
// one (docs/performance.md, "Threads on a busy machine"). Linux says how long each CPU has
// spent working (/proc/stat) and how long this process has run (CLOCK_PROCESS_CPUTIME_ID);
// over an interval, the difference is the other processes' share, and the rest is free.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string_view>
#include <thread>
#include <vector>

namespace graft::kernels::cpu {

// The CPUs in this process's affinity mask (all it may run on), in increasing order.
std::vector<int> affinity_cpus();

// The time, in clock ticks, that the given CPUs have spent running processes of normal
// priority (`busy`: user, system and interrupt time) and niced ones (`nice`), parsed from the
// text of /proc/stat. nullopt when a CPU is not listed or a line does not parse.
struct CpuTicks {
  int64_t busy = 0, nice = 0;
};
std::optional<CpuTicks> cpu_ticks(std::string_view proc_stat, const std::vector<int>& cpus);

// Whether niced processes compete with this one's threads, judged from an interval in which
// they ran `nice_cpus` CPUs' worth on average while the thread that samples the load, runnable,
// waited for a CPU `waited_fraction` of the time. Nice orders the processes of one scheduling
// group only (a session's autogroup, a cgroup): a niced job from another terminal, or run as a
// service, takes its share of the CPUs as any process would (beside one spinning at nice 19 in
// another session, two threads of this process got 1.1 CPUs of 2 and waited 47% of the time),
// while one from this process's own session yields (2.0 CPUs, 1.5% waited).
bool niced_processes_compete(double nice_cpus, double waited_fraction);

// How long this thread has waited for a CPU while runnable, in seconds, from
// /proc/thread-self/schedstat; nullopt where the kernel does not say.
std::optional<double> thread_wait_seconds();

// The CPUs left free by other processes over an interval of `seconds` in which `cpus` CPUs
// did `busy_seconds` of work and this process `own_seconds` of it: `cpus` minus the others'
// average use, rounded to the nearest count and kept within [1, cpus].
int free_cpus(int cpus, double busy_seconds, double own_seconds, double seconds);

// Measures free_cpus() over successive intervals of at least kInterval. Not thread-safe:
// one thread samples at a time (the team's caller, under its lock).
//
// An interval that lasted past kStale had no parallel region for a while (a sample is taken
// as a region starts): this process was idle, or serial, and what other processes did
// meanwhile says nothing of the contention its regions meet. It is not used; the count
// measured before stands. Used, it had a process that ran while graft waited (the other half
// of a pipeline, PyTorch's turn in the versus harness) cost graft's next 100 ms their second
// thread: a (512, 512) product took 1650 us a call there, 880 after.
//
// Niced processes' time counts as taken when this process is niced itself, and for
// kNiceVerdict after an interval in which niced_processes_compete(): counted, the team shrinks
// and the sampling thread no longer waits, so the verdict stands for a while rather than for
// one interval (which would swap between the two counts every 100 ms), and is then tried
// again.
class LoadMonitor {
 public:
  static constexpr std::chrono::milliseconds kInterval{100};
  static constexpr std::chrono::milliseconds kStale{2 * kInterval};
  static constexpr std::chrono::milliseconds kNiceVerdict{20 * kInterval};

  LoadMonitor();

  // The free CPUs of the last complete interval that was not stale, starting a new interval
  // when the current one has lasted kInterval. All of this process's CPUs until the first
  // interval ends, and always when /proc/stat cannot be read (then nothing is measured).
  int free_cpus();

 private:
  struct Sample {
    std::chrono::steady_clock::time_point time;
    CpuTicks ticks;
    double own_seconds = 0;
    std::thread::id thread;        // the sampling thread
    std::optional<double> waited;  // its wait for a CPU so far (thread_wait_seconds)
  };
  std::optional<Sample> sample();

  std::vector<int> cpus_;
  std::optional<Sample> last_;
  int free_;
  bool readable_ = true;  // false once /proc/stat could not be read or parsed
  std::chrono::steady_clock::time_point nice_competes_until_{};
};

}  // namespace graft::kernels::cpu
