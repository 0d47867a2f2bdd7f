// The load measure behind the automatic thread count (cpu_load.h).
#include "graft/kernels/cpu/cpu_load.h"

#include <sched.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <fstream>
#include <iterator>
#include <string>
#include <thread>

namespace graft::kernels::cpu {
namespace {

// Reads `count` numbers separated by spaces from the front of `text`, which it advances.
bool read_numbers(std::string_view& text, int64_t* numbers, int count) {
  for (int i = 0; i < count; ++i) {
    while (!text.empty() && text.front() == ' ') text.remove_prefix(1);
    const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), numbers[i]);
    if (error != std::errc()) return false;
    text.remove_prefix(static_cast<size_t>(end - text.data()));
  }
  return true;
}

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

std::optional<int64_t> busy_ticks(std::string_view proc_stat, const std::vector<int>& cpus,
                                  bool count_nice) {
  int64_t busy = 0;
  size_t found = 0;
  while (!proc_stat.empty()) {
    const size_t newline = proc_stat.find('\n');
    std::string_view line = proc_stat.substr(0, newline);
    proc_stat.remove_prefix(newline == std::string_view::npos ? proc_stat.size() : newline + 1);
    // "cpuN user nice system idle iowait irq softirq ...": the per-CPU lines, not "cpu ".
    if (line.size() < 4 || line.substr(0, 3) != "cpu" || line[3] == ' ') continue;
    line.remove_prefix(3);
    int64_t cpu = 0;
    if (!read_numbers(line, &cpu, 1)) return std::nullopt;
    if (!std::binary_search(cpus.begin(), cpus.end(), static_cast<int>(cpu))) continue;
    int64_t ticks[7];  // user nice system idle iowait irq softirq
    if (!read_numbers(line, ticks, 7)) return std::nullopt;
    busy += ticks[0] + ticks[2] + ticks[5] + ticks[6] + (count_nice ? ticks[1] : 0);
    ++found;
  }
  if (found != cpus.size()) return std::nullopt;
  return busy;
}

int free_cpus(int cpus, double busy_seconds, double own_seconds, double seconds) {
  const double others = std::max(0.0, busy_seconds - own_seconds) / seconds;
  return std::clamp(static_cast<int>(std::lround(cpus - others)), 1, cpus);
}

LoadMonitor::LoadMonitor() : cpus_(affinity_cpus()), free_(static_cast<int>(cpus_.size())) {}

std::optional<LoadMonitor::Sample> LoadMonitor::sample() {
  std::ifstream file("/proc/stat");
  if (!file) return std::nullopt;
  const std::string text{std::istreambuf_iterator<char>(file), std::istreambuf_iterator<char>()};
  errno = 0;
  const int niceness = getpriority(PRIO_PROCESS, 0);
  const auto busy = busy_ticks(text, cpus_, errno == 0 && niceness > 0);
  if (!busy) return std::nullopt;
  return Sample{std::chrono::steady_clock::now(), *busy, process_cpu_seconds()};
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
    free_ =
        cpu::free_cpus(static_cast<int>(cpus_.size()),
                       static_cast<double>(current->busy_ticks - last_->busy_ticks) * tick_seconds,
                       current->own_seconds - last_->own_seconds,
                       std::chrono::duration<double>(current->time - last_->time).count());
  }
  last_ = current;
  return free_;
}

}  // namespace graft::kernels::cpu
