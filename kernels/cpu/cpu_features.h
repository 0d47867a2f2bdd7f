// Which of the instruction sets beyond graft's x86-64-v3 build target this CPU runs, asked
// once, for the kernels compiled for them by per-function targets (packed_gemm.h,
// math_avx512.h, direct_conv.h, pool.cpp) to choose at run time.
//
// The environment variable GRAFT_CPU_CAPABILITY, read once, caps what they choose (as
// PyTorch's ATEN_CPU_CAPABILITY does): "avx2" keeps every kernel to the build's x86-64-v3,
// "avx512" allows AVX-512 but none of its bfloat16 and float16 extensions, "avx512_bf16"
// allows AVX512-BF16 too, and "native" (or the variable unset) whatever the CPU has, AMX and
// AVX512-FP16 included. It exists so that one machine can run the paths every other CPU
// takes: Intel's laptop and desktop CPUs since 2021 have no AVX-512, and the test suite runs
// under each cap (tests/CMakeLists.txt).
#pragma once

#include <string>

namespace graft::kernels::cpu {

// GRAFT_CPU_CAPABILITY's caps, each allowing the instruction sets of the ones before it.
enum class CpuCapability { kAvx2, kAvx512, kAvx512BFloat16, kNative };

// The cap a value of GRAFT_CPU_CAPABILITY names, in any case; none (nullptr or "") is kNative,
// and so is a value that names no cap, after a warning (graft::warn) that lists the names.
CpuCapability cpu_capability_named(const char* value);

// AVX-512 F and VL, as every AVX-512 CPU since Skylake-SP has them, with the OS saving the
// zmm state; false off x86-64 or without GCC's or Clang's builtins.
bool cpu_runs_avx512();

// AVX512-BF16 as well (Cooper Lake, Sapphire Rapids, Zen 4 on): bfloat16 products and
// conversions in one instruction; and AVX512-DQ, which every CPU with it has.
bool cpu_runs_avx512_bf16();

// Whether this build has the AVX512-FP16 kernels: GCC declares their intrinsics for a
// function's target attribute, Clang only from 15 (14 declares them only when the whole file
// is compiled with -mavx512fp16, which would let float16 instructions into code any CPU runs).
#if defined(__x86_64__) && defined(__GNUC__) && \
    (!defined(__clang__) || __clang_major__ >= 15 || defined(__AVX512FP16__))
#define GRAFT_AVX512FP16_KERNELS 1
#else
#define GRAFT_AVX512FP16_KERNELS 0
#endif

// AVX512-FP16 as well (Sapphire Rapids on): float16 arithmetic in float16's own instructions,
// 32 lanes wide; and AVX512-BW, which every CPU with it has. False in a build without the
// kernels (GRAFT_AVX512FP16_KERNELS).
bool cpu_runs_avx512_fp16();

// AMX's bfloat16 tiles (Sapphire Rapids on), with the OS saving their state and Linux having
// granted this process the tile data; false off Linux on x86-64.
bool cpu_runs_amx();

// The instruction sets the kernels use, as cpu_capability() in settings.h words them.
std::string cpu_capability_in_use();

// What an AVX-512 kernel does in a build without them (off x86-64, or without GCC's or
// Clang's target attributes), where cpu_runs_avx512() keeps it from being called: a
// graft::Error naming `function`.
[[noreturn]] void fail_built_without_avx512(const char* function);

// The same for a kernel of the x86-64-v3 build target's own (AVX2, FMA, F16C: the "_v3"
// forms), in a build for an older target or another architecture, where its file's guard
// keeps it from being called.
[[noreturn]] void fail_built_without_v3(const char* function);

}  // namespace graft::kernels::cpu
