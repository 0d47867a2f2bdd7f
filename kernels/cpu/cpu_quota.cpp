// The control groups' CPU limit of cpu_quota.h.
#include "graft/kernels/cpu/cpu_quota.h"

#include <algorithm>
#include <cmath>
#include <cstdint>

#include "graft/kernels/cpu/proc_text.h"

namespace graft::kernels::cpu {
namespace {

bool contains(const std::vector<std::string_view>& items, std::string_view item) {
  return std::find(items.begin(), items.end(), item) != items.end();
}

// The one integer of `text`, nothing but spaces and a newline around it.
std::optional<int64_t> integer(std::string_view text) {
  int64_t value = 0;
  if (!read_numbers(text, &value, 1) || text.find_first_not_of(" \n") != std::string_view::npos)
    return std::nullopt;
  return value;
}

std::optional<double> limit_of(int64_t quota, int64_t period) {
  if (quota <= 0 || period <= 0) return std::nullopt;
  return static_cast<double>(quota) / static_cast<double>(period);
}

// A group's file, empty where it cannot be read (a limit the group does not have).
std::string read_file(const std::string& path) { return read_text(path).value_or(""); }

}  // namespace

std::vector<CgroupDir> cgroup_cpu_dirs(std::string_view proc_cgroup, std::string_view mountinfo) {
  // "hierarchy:controllers:path": "0::/path" for v2, "4:cpu,cpuacct:/path" for v1's cpu.
  std::optional<std::string_view> v2_path, cpu_path;
  for (const std::string_view line : lines_of(proc_cgroup)) {
    const std::vector<std::string_view> fields = fields_of(line, ':');
    if (fields.size() < 3) continue;
    const std::string_view path = line.substr(fields[0].size() + fields[1].size() + 2);
    if (fields[0] == "0" && fields[1].empty()) v2_path = path;
    if (contains(fields_of(fields[1], ','), "cpu")) cpu_path = path;
  }
  std::vector<CgroupDir> dirs;
  // "id parent major:minor root mount-point options [optional...] - type source super-options".
  for (const std::string_view line : lines_of(mountinfo)) {
    const std::vector<std::string_view> fields = fields_of(line, ' ');
    const auto dash = std::find(fields.begin(), fields.end(), "-");
    if (fields.size() < 5 || dash == fields.end() || fields.end() - dash < 4) continue;
    const std::string_view type = dash[1], root = fields[3], mount_point = fields[4];
    const bool v2 = type == "cgroup2";
    const bool v1_cpu = type == "cgroup" && contains(fields_of(dash[3], ','), "cpu");
    const std::optional<std::string_view> path = v2 ? v2_path : v1_cpu ? cpu_path : std::nullopt;
    if (!path) continue;
    // The group's path is from the hierarchy's root; the mount shows it from `root` on.
    std::string_view below = *path;
    if (root != "/") {
      if (below.substr(0, root.size()) != root ||
          (below.size() > root.size() && below[root.size()] != '/'))
        continue;
      below.remove_prefix(root.size());
    }
    while (!below.empty() && below.back() == '/') below.remove_suffix(1);
    // The group's directory, then each one above it up to the mount point.
    for (;;) {
      dirs.push_back({std::string(mount_point) + std::string(below), v2});
      if (below.empty()) break;
      below = below.substr(0, below.rfind('/'));
    }
  }
  return dirs;
}

std::optional<double> cpu_max_limit(std::string_view cpu_max) {
  // "quota period", or "max period" for none.
  const std::vector<std::string_view> fields = fields_of(fields_of(cpu_max, '\n')[0], ' ');
  if (fields.size() != 2 || fields[0] == "max") return std::nullopt;
  const std::optional<int64_t> quota = integer(fields[0]), period = integer(fields[1]);
  if (!quota || !period) return std::nullopt;
  return limit_of(*quota, *period);
}

std::optional<double> cfs_limit(std::string_view quota_us, std::string_view period_us) {
  const std::optional<int64_t> quota = integer(quota_us), period = integer(period_us);
  if (!quota || !period) return std::nullopt;
  return limit_of(*quota, *period);
}

std::optional<double> cgroup_cpu_limit() {
  std::optional<double> tightest;
  for (const CgroupDir& dir :
       cgroup_cpu_dirs(read_file("/proc/self/cgroup"), read_file("/proc/self/mountinfo"))) {
    const std::optional<double> here = dir.v2
                                           ? cpu_max_limit(read_file(dir.path + "/cpu.max"))
                                           : cfs_limit(read_file(dir.path + "/cpu.cfs_quota_us"),
                                                       read_file(dir.path + "/cpu.cfs_period_us"));
    if (here && (!tightest || *here < *tightest)) tightest = here;
  }
  return tightest;
}

int cpus_within_limit(int cpus, std::optional<double> limit) {
  if (!limit) return cpus;
  return std::clamp(static_cast<int>(std::ceil(*limit - 1e-9)), 1, std::max(cpus, 1));
}

}  // namespace graft::kernels::cpu
