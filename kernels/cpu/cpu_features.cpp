// cpu_runs_avx512, cpu_runs_avx512_bf16 and cpu_runs_avx512_fp16 (cpu_features.h).
#include "graft/kernels/cpu/cpu_features.h"

#if defined(__x86_64__) && defined(__GNUC__)
#include <cpuid.h>
#endif

#include "graft/core/error.h"

namespace graft::kernels::cpu {

bool cpu_runs_avx512() {
#if defined(__x86_64__) && defined(__GNUC__)
  // __builtin_cpu_supports reads CPUID and, for AVX-512, whether XCR0 enables the state.
  static const bool runs = [] {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl");
  }();
  return runs;
#else
  return false;
#endif
}

bool cpu_runs_avx512_bf16() {
#if defined(__x86_64__) && defined(__GNUC__)
  static const bool runs = cpu_runs_avx512() && __builtin_cpu_supports("avx512bf16") &&
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
    return cpu_runs_avx512() && fp16 && __builtin_cpu_supports("avx512bw");
  }();
  return runs;
#else
  return false;
#endif
}

void fail_built_without_avx512(const char* function) {
  detail::fail(function, "(): graft was built without its AVX-512 kernels");
}

}  // namespace graft::kernels::cpu
