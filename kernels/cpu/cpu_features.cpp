// cpu_runs_avx512, cpu_runs_avx512_bf16, cpu_runs_avx512_fp16 and cpu_runs_amx (cpu_features.h),
// each the CPU's answer within GRAFT_CPU_CAPABILITY's cap.
#include "graft/kernels/cpu/cpu_features.h"

#include <algorithm>
#include <cctype>
#include <cstdlib>

#if defined(__x86_64__) && defined(__GNUC__)
#include <cpuid.h>
#define GRAFT_X86_FEATURES 1
#if defined(__linux__)
#include <sys/syscall.h>
#include <unistd.h>
#endif
#endif

#include "graft/core/error.h"
#include "graft/core/warning.h"

namespace graft::kernels::cpu {

namespace {

struct NamedCapability {
  const char* name;
  CpuCapability capability;
};
constexpr NamedCapability kCapabilities[] = {{"avx2", CpuCapability::kAvx2},
                                             {"avx512", CpuCapability::kAvx512},
                                             {"avx512_bf16", CpuCapability::kAvx512BFloat16},
                                             {"native", CpuCapability::kNative}};

// The environment's cap, read once.
CpuCapability capability_cap() {
  static const CpuCapability cap = cpu_capability_named(std::getenv("GRAFT_CPU_CAPABILITY"));
  return cap;
}

bool allows(CpuCapability needed) { return capability_cap() >= needed; }

#if GRAFT_X86_FEATURES && defined(__linux__)
// CPUID says whether the core has AMX; XCR0 whether the OS saves its state; and Linux
// grants a process the tile data (8 KB more per context switch) only when asked.
bool amx_granted() {
  unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
  if (!__get_cpuid_count(7, 0, &eax, &ebx, &ecx, &edx)) return false;
  const bool amx_bf16 = edx & (1u << 22), amx_tile = edx & (1u << 24);
  if (!amx_bf16 || !amx_tile) return false;
  if (!__get_cpuid(1, &eax, &ebx, &ecx, &edx) || !(ecx & (1u << 27))) return false;  // OSXSAVE
  uint32_t xcr0_low = 0, xcr0_high = 0;
  asm volatile("xgetbv" : "=a"(xcr0_low), "=d"(xcr0_high) : "c"(0));
  constexpr uint32_t kTileState = (1u << 17) | (1u << 18);  // XTILECFG, XTILEDATA
  if ((xcr0_low & kTileState) != kTileState) return false;
  constexpr int kRequestPermission = 0x1023;  // ARCH_REQ_XCOMP_PERM
  constexpr int kTileData = 18;               // XFEATURE_XTILEDATA
  return syscall(SYS_arch_prctl, kRequestPermission, kTileData) == 0;
}
#endif

}  // namespace

CpuCapability cpu_capability_named(const char* value) {
  if (value == nullptr || *value == '\0') return CpuCapability::kNative;
  std::string lower(value);
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  for (const NamedCapability& named : kCapabilities)
    if (lower == named.name) return named.capability;
  warn("GRAFT_CPU_CAPABILITY=\"" + std::string(value) +
       "\" is not one of avx2, avx512, avx512_bf16 or native: the CPU kernels use every "
       "instruction set this CPU has");
  return CpuCapability::kNative;
}

bool cpu_runs_avx512() {
#if GRAFT_X86_FEATURES
  // __builtin_cpu_supports reads CPUID and, for AVX-512, whether XCR0 enables the state.
  static const bool runs = [] {
    __builtin_cpu_init();
    return allows(CpuCapability::kAvx512) && __builtin_cpu_supports("avx512f") &&
           __builtin_cpu_supports("avx512vl");
  }();
  return runs;
#else
  return false;
#endif
}

bool cpu_runs_avx512_bf16() {
#if GRAFT_X86_FEATURES
  static const bool runs = cpu_runs_avx512() && allows(CpuCapability::kAvx512BFloat16) &&
                           __builtin_cpu_supports("avx512bf16") &&
                           __builtin_cpu_supports("avx512dq");
  return runs;
#else
  return false;
#endif
}

bool cpu_runs_avx512_fp16() {
#if GRAFT_AVX512FP16_KERNELS
  // AVX512-FP16 is CPUID leaf 7's EDX bit 23, read here: clang before 15 does not know the
  // "avx512fp16" name of __builtin_cpu_supports (it fails to compile), GCC from 12 does.
  // cpu_runs_avx512 has checked that the OS enables the AVX-512 state.
  static const bool runs = [] {
    unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
    const bool fp16 = __get_cpuid_count(7, 0, &eax, &ebx, &ecx, &edx) != 0 && (edx >> 23 & 1u);
    return cpu_runs_avx512() && allows(CpuCapability::kNative) && fp16 &&
           __builtin_cpu_supports("avx512bw");
  }();
  return runs;
#else
  return false;
#endif
}

bool cpu_runs_amx() {
#if GRAFT_X86_FEATURES && defined(__linux__)
  // The AMX kernel packs and rounds with AVX512-BF16, which every AMX CPU has.
  static const bool runs =
      cpu_runs_avx512_bf16() && allows(CpuCapability::kNative) && amx_granted();
  return runs;
#else
  return false;
#endif
}

std::string cpu_capability_in_use() {
#if GRAFT_X86_FEATURES
  // The build's own target first: x86-64-v3 (AVX2) unless GRAFT_CPU_ARCH says otherwise.
#if defined(__AVX2__)
  std::string in_use = "avx2";
#else
  std::string in_use = "x86-64";
#endif
  if (cpu_runs_avx512()) in_use += " avx512";
  if (cpu_runs_avx512_bf16()) in_use += " avx512_bf16";
  if (cpu_runs_avx512_fp16()) in_use += " avx512_fp16";
  if (cpu_runs_amx()) in_use += " amx";
  return in_use;
#else
  return "generic";
#endif
}

void fail_built_without_avx512(const char* function) {
  detail::fail(function, "(): graft was built without its AVX-512 kernels");
}

void fail_built_without_v3(const char* function) {
  detail::fail(function, "(): graft was built without AVX2, FMA and F16C (x86-64-v3)");
}

}  // namespace graft::kernels::cpu
