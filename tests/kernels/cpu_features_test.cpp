// GRAFT_CPU_CAPABILITY and get_cpu_capability() (kernels/cpu/cpu_features.h, settings.h): the
// names of the caps, the warning for a name that is none of them, and the instruction sets in
// use agreeing with the kernels' own questions and staying within the cap. The suite runs once
// per cap (tests/CMakeLists.txt), so the last test checks each cap in turn.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <sstream>
#include <string>
#include <vector>

#include "graft/graft.h"
#include "graft/kernels/cpu/cpu_features.h"

namespace g = graft;
namespace cpu = graft::kernels::cpu;
using cpu::CpuCapability;
using ::testing::HasSubstr;

namespace {

// The words of a capability string.
std::vector<std::string> words_of(const std::string& text) {
  std::istringstream in(text);
  std::vector<std::string> words;
  for (std::string word; in >> word;) words.push_back(word);
  return words;
}

bool contains(const std::vector<std::string>& words, const std::string& word) {
  return std::find(words.begin(), words.end(), word) != words.end();
}

TEST(CpuCapability, NamesEachCapInAnyCase) {
  EXPECT_EQ(cpu::cpu_capability_named("avx2"), CpuCapability::kAvx2);
  EXPECT_EQ(cpu::cpu_capability_named("AVX512"), CpuCapability::kAvx512);
  EXPECT_EQ(cpu::cpu_capability_named("avx512_BF16"), CpuCapability::kAvx512BFloat16);
  EXPECT_EQ(cpu::cpu_capability_named("native"), CpuCapability::kNative);
  EXPECT_EQ(cpu::cpu_capability_named(nullptr), CpuCapability::kNative);
  EXPECT_EQ(cpu::cpu_capability_named(""), CpuCapability::kNative);
}

TEST(CpuCapability, AValueNamingNoCapIsWarnedOfAndLeavesNoCap) {
  std::vector<std::string> warnings;
  auto previous =
      g::set_warning_handler([&](const std::string& message) { warnings.push_back(message); });
  const CpuCapability named = cpu::cpu_capability_named("avx-512");
  g::set_warning_handler(previous);
  EXPECT_EQ(named, CpuCapability::kNative);
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_THAT(warnings[0], HasSubstr("GRAFT_CPU_CAPABILITY=\"avx-512\""));
  EXPECT_THAT(warnings[0], HasSubstr("avx2, avx512, avx512_bf16 or native"));
}

TEST(CpuCapability, InUseIsWhatTheKernelsAskAndWithinTheEnvironmentsCap) {
  const std::vector<std::string> in_use = words_of(g::get_cpu_capability());
  ASSERT_FALSE(in_use.empty());
  EXPECT_EQ(contains(in_use, "avx512"), cpu::cpu_runs_avx512());
  EXPECT_EQ(contains(in_use, "avx512_bf16"), cpu::cpu_runs_avx512_bf16());
  EXPECT_EQ(contains(in_use, "avx512_fp16"), cpu::cpu_runs_avx512_fp16());
  EXPECT_EQ(contains(in_use, "amx"), cpu::cpu_runs_amx());
  // Each extension needs AVX-512 itself.
  if (!cpu::cpu_runs_avx512()) {
    EXPECT_EQ(in_use.size(), 1u) << g::get_cpu_capability();
  }

  const CpuCapability cap = cpu::cpu_capability_named(std::getenv("GRAFT_CPU_CAPABILITY"));
  if (cap < CpuCapability::kAvx512) {
    EXPECT_FALSE(cpu::cpu_runs_avx512());
  }
  if (cap < CpuCapability::kAvx512BFloat16) {
    EXPECT_FALSE(cpu::cpu_runs_avx512_bf16());
  }
  if (cap < CpuCapability::kNative) {
    EXPECT_FALSE(cpu::cpu_runs_avx512_fp16());
    EXPECT_FALSE(cpu::cpu_runs_amx());
  }
}

}  // namespace
