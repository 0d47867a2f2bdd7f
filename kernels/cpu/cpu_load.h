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
#include <vector>

namespace graft::kernels::cpu {

// The CPUs in this process's affinity mask (all it may run on), in increasing order.
std::vector<int> affinity_cpus();

// The time, in clock ticks, that the given CPUs have spent running anything that competes
// with a process of normal priority (user, system and interrupt time; niced processes'
// time too when `count_nice`, that is when this process is niced itself and so competes
// with them), parsed from the text of /proc/stat. nullopt when a CPU is not listed or a
// line does not parse.
std::optional<int64_t> busy_ticks(std::string_view proc_stat, const std::vector<int>& cpus,
                                  bool count_nice);

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
class LoadMonitor {
 public:
  static constexpr std::chrono::milliseconds kInterval{100};
  static constexpr std::chrono::milliseconds kStale{2 * kInterval};

  LoadMonitor();

  // The free CPUs of the last complete interval that was not stale, starting a new interval
  // when the current one has lasted kInterval. All of this process's CPUs until the first
  // interval ends, and always when /proc/stat cannot be read (then nothing is measured).
  int free_cpus();

 private:
  struct Sample {
    std::chrono::steady_clock::time_point time;
    int64_t busy_ticks = 0;
    double own_seconds = 0;
  };
  std::optional<Sample> sample();

  std::vector<int> cpus_;
  std::optional<Sample> last_;
  int free_;
  bool readable_ = true;  // false once /proc/stat could not be read or parsed
};

}  // namespace graft::kernels::cpu
