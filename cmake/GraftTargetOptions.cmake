# The compile options every target of graft's own shares: warnings (and, with
# GRAFT_WARNINGS_AS_ERRORS, errors), sanitizers, and the instruction set.
#
# The instruction set matters most: without -march the compiler targets the oldest x86-64
# (SSE2), so Eigen's GEMM and every auto-vectorised loop use 128-bit vectors on machines
# that have 256-bit ones with fused multiply-add. GRAFT_CPU_ARCH defaults to x86-64-v3
# (AVX2 + FMA: every x86-64 CPU since about 2015), three times faster at matmul than the
# default on the 2-core EPYC where graft is developed. Not `native`, although it builds
# for AVX-512 where the machine has it: GCC 12 miscompiles some AVX-512 loops (a
# vectorised double -> bool conversion stores `true` for 0.0; tests/kernels/index_test.cpp
# caught it) and warns falsely inside its AVX-512 intrinsics (GCC bug 105593). It applies
# to graft's own targets only: Eigen types cross graft's API only as Maps, whose layout
# does not depend on the instruction set, so a program built without it links safely.
include(CheckCXXCompilerFlag)
if(GRAFT_CPU_ARCH)
  string(MAKE_C_IDENTIFIER "GRAFT_HAS_MARCH_${GRAFT_CPU_ARCH}" march_check)
  check_cxx_compiler_flag(-march=${GRAFT_CPU_ARCH} ${march_check})
  if(NOT ${march_check})
    message(FATAL_ERROR "GRAFT_CPU_ARCH=${GRAFT_CPU_ARCH}: the compiler rejects "
      "-march=${GRAFT_CPU_ARCH}; set it to a target it knows, or to an empty string")
  endif()
endif()

function(graft_target_options target)
  # -fno-math-errno: sqrt and friends need not set errno (nothing in graft reads it), which
  # is what lets the compiler vectorise loops that call them (the optimizer updates'
  # sqrt) instead of calling libm one element at a time. Results are unchanged: IEEE sqrt
  # is exact either way. -fopenmp-simd: `#pragma omp simd` without the OpenMP runtime, which
  # graft does not use (its threads are its own: kernels/cpu/thread_pool.h).
  target_compile_options(${target} PRIVATE
    $<$<COMPILE_LANGUAGE:CXX>:-Wall -Wextra -Wpedantic -Wno-unused-parameter -fno-math-errno
    -fopenmp-simd>
    $<$<AND:$<COMPILE_LANGUAGE:CXX>,$<BOOL:${GRAFT_WARNINGS_AS_ERRORS}>>:-Werror>
    $<$<AND:$<COMPILE_LANGUAGE:CXX>,$<BOOL:${GRAFT_CPU_ARCH}>>:-march=${GRAFT_CPU_ARCH}>)
  if(GRAFT_SANITIZE)
    target_compile_options(${target} PRIVATE -fsanitize=${GRAFT_SANITIZE} -fno-omit-frame-pointer)
    target_link_options(${target} PUBLIC -fsanitize=${GRAFT_SANITIZE})
  endif()
endfunction()

# Test binaries parse GoogleTest and graft's umbrella header once, as a precompiled header,
# instead of once per test file: those headers were half of a typical test file's compile
# time (4.8 of 9.4 s for optim/clip_test.cpp, -O3, GCC 12), paid by about a hundred files in
# each of CI's two builds.
function(graft_test_precompiled_headers target)
  target_precompile_headers(${target} PRIVATE <gtest/gtest.h> <graft/graft.h>)
endfunction()
