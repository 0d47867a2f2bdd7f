// The CPU time this process's control groups allow it: a container run with `docker run
// --cpus 1.5`, a Kubernetes pod's CPU limit, a systemd unit's CPUQuota=. What graft's
// automatic team (thread_pool.h) sizes itself within.
//
// Why: the affinity mask of a process in such a group still lists every CPU of the machine,
// so a team of one thread per CPU there spends the group's budget in a fraction of each
// period (100 ms by default), and then the kernel stops every thread until the next one; a
// parallel region waits for all of them. One thread per core is what OpenMP and PyTorch
// start by default, in a container or not. The limit is a quota over a period, in cgroup v2's
// cpu.max ("150000 100000": 1.5 CPUs; "max 100000": none) or cgroup v1's cpu.cfs_quota_us and
// cpu.cfs_period_us (-1: none), in the process's own group and in every group above it, the
// tightest counting.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace graft::kernels::cpu {

// A control group's directory whose CPU limit applies to this process: in a cgroup v2
// hierarchy (cpu.max) or a v1 hierarchy with the "cpu" controller (cpu.cfs_*).
struct CgroupDir {
  std::string path;
  bool v2 = false;
  bool operator==(const CgroupDir&) const = default;
};

// The directories of this process's groups and of every group above them, up to each
// hierarchy's mount point, from the texts of /proc/self/cgroup and /proc/self/mountinfo; a
// hierarchy mounted from a root the process's group is not under is left out.
std::vector<CgroupDir> cgroup_cpu_dirs(std::string_view proc_cgroup, std::string_view mountinfo);

// The limit in CPUs that one group's files set, nullopt for none or for text that does not
// parse: cgroup v2's cpu.max, and v1's cpu.cfs_quota_us over cpu.cfs_period_us.
std::optional<double> cpu_max_limit(std::string_view cpu_max);
std::optional<double> cfs_limit(std::string_view quota_us, std::string_view period_us);

// The tightest limit over this process's groups, read from their files now (the team asks
// when it is sized: at its start, on set_num_threads, in a forked child); nullopt where there
// is none, or nothing to read (not Linux, no cgroup file system mounted).
std::optional<double> cgroup_cpu_limit();

// A team's threads for `cpus` CPUs under `limit`: the limit rounded up (1.5 CPUs: two
// threads, each stopped a quarter of the time, still 1.5 CPUs of work, where one thread would
// do 1), at least one, at most `cpus`.
int cpus_within_limit(int cpus, std::optional<double> limit);

}  // namespace graft::kernels::cpu
