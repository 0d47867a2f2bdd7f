// The control groups' CPU limit behind the automatic team's size (kernels/cpu/cpu_quota.h):
// finding the groups' directories, reading their limits, and a forked child in a group of
// one CPU starting a team of one thread, where this machine lets a test make such a group.
#include "graft/kernels/cpu/cpu_quota.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <string>
#include <vector>

#include "graft/graft.h"
#include "graft/kernels/cpu/cpu_load.h"
#include "settings_scope.h"

namespace cpu = graft::kernels::cpu;

namespace {

// A machine with cgroup v1's cpu controller and a v2 hierarchy without it (this project's
// VMs), and a process in a nested group of each.
constexpr const char* kHybridCgroup =
    "9:name=systemd:/\n"
    "4:cpu,cpuacct:/batch/job7\n"
    "3:cpuset:/\n"
    "0::/user.slice/session-2.scope\n";
constexpr const char* kHybridMounts =
    "31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n"
    "32 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw,relatime shared:9 - cgroup cgroup rw,cpu,cpuacct\n"
    "34 31 0:31 / /sys/fs/cgroup/cpuset rw,relatime - cgroup cgroup rw,cpuset\n"
    "41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n"
    "50 23 8:1 / /home rw,relatime - ext4 /dev/sda1 rw\n";

}  // namespace

TEST(CpuQuota, DirectoriesAreTheGroupsAndEveryOneAboveThem) {
  const std::vector<cpu::CgroupDir> dirs = cpu::cgroup_cpu_dirs(kHybridCgroup, kHybridMounts);
  const std::vector<cpu::CgroupDir> expected = {
      {"/sys/fs/cgroup/cpu,cpuacct/batch/job7", false},
      {"/sys/fs/cgroup/cpu,cpuacct/batch", false},
      {"/sys/fs/cgroup/cpu,cpuacct", false},
      {"/sys/fs/cgroup/unified/user.slice/session-2.scope", true},
      {"/sys/fs/cgroup/unified/user.slice", true},
      {"/sys/fs/cgroup/unified", true},
  };
  EXPECT_EQ(dirs, expected);  // cpuset's hierarchy, and the other file systems, left out
}

TEST(CpuQuota, AContainersMountShowsItsGroupFromItsRoot) {
  // A container without a cgroup namespace: the hierarchy mounted from the container's group.
  const std::vector<cpu::CgroupDir> inside = cpu::cgroup_cpu_dirs(
      "0::/docker/abc/worker\n",
      "60 50 0:40 /docker/abc /sys/fs/cgroup ro,nosuid - cgroup2 cgroup2 rw\n");
  const std::vector<cpu::CgroupDir> expected = {{"/sys/fs/cgroup/worker", true},
                                                {"/sys/fs/cgroup", true}};
  EXPECT_EQ(inside, expected);
  // With a namespace, the group is the root: one directory.
  EXPECT_EQ(cpu::cgroup_cpu_dirs("0::/\n", "60 50 0:40 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n"),
            (std::vector<cpu::CgroupDir>{{"/sys/fs/cgroup", true}}));
  // A group outside the mount's root (not /docker/abcdef's sibling /docker/abc) is not seen.
  EXPECT_TRUE(
      cpu::cgroup_cpu_dirs("0::/docker/abcdef\n",
                           "60 50 0:40 /docker/abc /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n")
          .empty());
  EXPECT_TRUE(cpu::cgroup_cpu_dirs("", "").empty());
}

TEST(CpuQuota, LimitsAreQuotaOverPeriod) {
  EXPECT_EQ(cpu::cpu_max_limit("150000 100000\n"), 1.5);
  EXPECT_EQ(cpu::cpu_max_limit("max 100000\n"), std::nullopt);
  EXPECT_EQ(cpu::cpu_max_limit(""), std::nullopt);  // no such file: read as empty
  EXPECT_EQ(cpu::cpu_max_limit("50000\n"), std::nullopt);
  EXPECT_EQ(cpu::cpu_max_limit("x 100000\n"), std::nullopt);
  EXPECT_EQ(cpu::cfs_limit("200000\n", "100000\n"), 2.0);
  EXPECT_EQ(cpu::cfs_limit("-1\n", "100000\n"), std::nullopt);
  EXPECT_EQ(cpu::cfs_limit("", "100000\n"), std::nullopt);
}

TEST(CpuQuota, TheTeamIsTheLimitRoundedUp) {
  EXPECT_EQ(cpu::cpus_within_limit(16, std::nullopt), 16);
  EXPECT_EQ(cpu::cpus_within_limit(16, 1.5), 2);
  EXPECT_EQ(cpu::cpus_within_limit(16, 2.0), 2);
  EXPECT_EQ(cpu::cpus_within_limit(16, 0.2), 1);
  EXPECT_EQ(cpu::cpus_within_limit(2, 8.0), 2);
}

namespace {

// A cgroup v1 "cpu" group this test may make (as root, where the controller is mounted
// writable), allowing `quota_us` per 100 ms; removed at the end. Empty where it cannot.
class CpuGroup {
 public:
  explicit CpuGroup(int64_t quota_us) {
    const std::string root = "/sys/fs/cgroup/cpu";
    std::ifstream quota_file(root + "/cpu.cfs_quota_us");
    if (geteuid() != 0 || !quota_file) return;
    path_ = root + "/graft_test_" + std::to_string(getpid());
    if (mkdir(path_.c_str(), 0755) != 0 || !write("cpu.cfs_period_us", "100000") ||
        !write("cpu.cfs_quota_us", std::to_string(quota_us))) {
      rmdir(path_.c_str());
      path_.clear();
    }
  }
  CpuGroup(const CpuGroup&) = delete;
  CpuGroup& operator=(const CpuGroup&) = delete;
  ~CpuGroup() {
    if (!path_.empty()) rmdir(path_.c_str());
  }
  bool made() const { return !path_.empty(); }
  bool write(const std::string& file, const std::string& text) const {
    std::ofstream out(path_ + "/" + file);
    out << text;
    out.flush();
    return static_cast<bool>(out);
  }

 private:
  std::string path_;
};

}  // namespace

TEST(CpuQuota, AForkedChildInAGroupOfOneCpuStartsATeamOfOne) {
  if (cpu::affinity_cpus().size() < 2 || std::getenv("OMP_NUM_THREADS") != nullptr)
    GTEST_SKIP() << "needs 2 CPUs or more, and no OMP_NUM_THREADS";
  const graft::testing::SettingsScope scope({}, 0);
  const CpuGroup group(100000);  // one CPU
  if (!group.made()) GTEST_SKIP() << "cannot make a cgroup v1 cpu group here (needs root)";
  ASSERT_GE(graft::get_num_threads(), 2);
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    // Into the group, then the team, started afresh in a forked child, sizes itself.
    if (!group.write("cgroup.procs", std::to_string(getpid()))) _exit(100);
    _exit(graft::get_num_threads());
  }
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 1);
  EXPECT_GE(graft::get_num_threads(), 2);  // this process is in no such group
}
