// The load measure behind the automatic thread count (cpu_load.h).
#include "graft/kernels/cpu/cpu_load.h"

#include <sched.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <string>
#include <thread>

#include "graft/kernels/cpu/proc_text.h"

namespace graft::kernels::cpu {
namespace {

double process_cpu_seconds() {
  timespec now{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &now);
  return static_cast<double>(now.tv_sec) + 1e-9 * static_cast<double>(now.tv_nsec);
}

}  // namespace

std::vector<int> affinity_cpus() {
  std::vector<int> cpus;
  cpu_set_t mask;
  if (sched_getaffinity(0, sizeof mask, &mask) == 0) {
    for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu)
      if (CPU_ISSET(cpu, &mask)) cpus.push_back(cpu);
  }
  if (cpus.empty()) {
    const int count = static_cast<int>(std::max(1U, std::thread::hardware_concurrency()));
    for (int cpu = 0; cpu < count; ++cpu) cpus.push_back(cpu);
  }
  return cpus;
}

std::optional<CpuTicks> cpu_ticks(std::string_view proc_stat, const std::vector<int>& cpus) {
  CpuTicks total;
  size_t found = 0;
  for (std::string_view line : lines_of(proc_stat)) {
    // "cpuN user nice system idle iowait irq softirq ...": the per-CPU lines, not "cpu ".
    if (line.size() < 4 || line.substr(0, 3) != "cpu" || line[3] == ' ') continue;
    line.remove_prefix(3);
    int64_t cpu = 0;
    if (!read_numbers(line, &cpu, 1)) return std::nullopt;
    if (!std::binary_search(cpus.begin(), cpus.end(), static_cast<int>(cpu))) continue;
    int64_t ticks[7];  // user nice system idle iowait irq softirq
    if (!read_numbers(line, ticks, 7)) return std::nullopt;
    total.busy += ticks[0] + ticks[2] + ticks[5] + ticks[6];
    total.nice += ticks[1];
    ++found;
  }
  if (found != cpus.size()) return std::nullopt;
  return total;
}

bool niced_processes_compete(double nice_cpus, double waited_fraction) {
  // Half a CPU of niced work at least, and a tenth of the interval waited: beside a niced
  // process that yields, this one's threads still wait now and then (1.5% of the time:
  // cpu_load.h); beside one that competes, a third of the time or more.
  return nice_cpus >= 0.5 && waited_fraction >= 0.1;
}

std::optional<double> thread_wait_seconds() {
  // "run_time wait_time timeslices", in nanoseconds.
  const std::optional<std::string> text = read_text("/proc/thread-self/schedstat");
  if (!text) return std::nullopt;
  std::string_view fields = *text;
  int64_t times[2];  // run, wait
  if (!read_numbers(fields, times, 2)) return std::nullopt;
  return 1e-9 * static_cast<double>(times[1]);
}

int free_cpus(int cpus, double busy_seconds, double own_seconds, double seconds) {
  const double others = std::max(0.0, busy_seconds - own_seconds) / seconds;
  return std::clamp(static_cast<int>(std::lround(cpus - others)), 1, cpus);
}

LoadMonitor::LoadMonitor() : cpus_(affinity_cpus()), free_(static_cast<int>(cpus_.size())) {}

std::optional<LoadMonitor::Sample> LoadMonitor::sample() {
  const std::optional<std::string> text = read_text("/proc/stat");
  if (!text) return std::nullopt;
  const auto ticks = cpu_ticks(*text, cpus_);
  if (!ticks) return std::nullopt;
  return Sample{std::chrono::steady_clock::now(), *ticks, process_cpu_seconds(),
                std::this_thread::get_id(), thread_wait_seconds()};
}

int LoadMonitor::free_cpus() {
  if (!readable_ || (last_ && std::chrono::steady_clock::now() - last_->time < kInterval))
    return free_;
  const std::optional<Sample> current = sample();
  if (!current) {
    readable_ = false;
    return free_;
  }
  if (last_ && current->time - last_->time <= kStale) {
    static const double tick_seconds = 1.0 / static_cast<double>(sysconf(_SC_CLK_TCK));
    const double seconds = std::chrono::duration<double>(current->time - last_->time).count();
    const double busy = static_cast<double>(current->ticks.busy - last_->ticks.busy) * tick_seconds;
    const double nice = static_cast<double>(current->ticks.nice - last_->ticks.nice) * tick_seconds;
    if (current->thread == last_->thread && current->waited && last_->waited &&
        niced_processes_compete(nice / seconds, (*current->waited - *last_->waited) / seconds))
      nice_competes_until_ = current->time + kNiceVerdict;
    errno = 0;
    const int niceness = getpriority(PRIO_PROCESS, 0);
    const bool niced = errno == 0 && niceness > 0;
    const bool count_nice = niced || current->time < nice_competes_until_;
    free_ = cpu::free_cpus(static_cast<int>(cpus_.size()), busy + (count_nice ? nice : 0.0),
                           current->own_seconds - last_->own_seconds, seconds);
  }
  last_ = current;
  return free_;
}

}  // namespace graft::kernels::cpu
