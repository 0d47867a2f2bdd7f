// Process-wide switches of the kernels, as PyTorch's torch.set_num_threads and
// torch.use_deterministic_algorithms.
//
// Threads: the CPU kernels split large work over graft's own team (kernels/cpu/thread_pool.h)
// of get_num_threads() threads: OMP_NUM_THREADS when set, else by default one per core the
// process may run on, of which each op uses only those other processes leave free (measured
// every 100 ms), so that the default holds up on a busy machine (docs/performance.md).
//
// Deterministic algorithms: with the switch on, two runs with the same inputs give the same
// bits whatever the thread count, on every op. Most kernels are so by construction
// (docs/architecture.md, "Determinism", lists each op): reductions cut long sums into
// fixed-size pieces merged in order, scatter adds in index order on the CPU, and the CUDA
// reductions and conv backward use no atomics. Three kinds of kernel change when it is on:
//  - CPU matmul (and linear): Eigen picks how it blocks a GEMM's inner dimension, and so
//    the order of every sum, from the matrices' sizes; a large GEMM is cut into fixed tiles
//    on several threads and run whole on one, so switched on, every GEMM is tiled;
//  - CPU conv2d and its backward: the batch is cut into a fixed number of chunks rather
//    than a few per thread (grad_weight sums one partial per chunk);
//  - CUDA scatter_add and index_put_ with accumulate: one thread per slice walking the
//    indices in order instead of atomicAdd, giving the CPU's bits.
// Off by default: the fast paths are at most a few ulps apart from run to run.
//
// CPU capability: the CPU kernels are built for x86-64-v3 (AVX2) and choose faster forms at
// run time where the CPU has AVX-512, AVX512-BF16, AVX512-FP16 or AMX. The environment
// variable GRAFT_CPU_CAPABILITY, read once, caps that choice, as PyTorch's
// ATEN_CPU_CAPABILITY does: "avx2", "avx512", "avx512_bf16" or "native" (the default), to
// time or test the paths another CPU would take (docs/performance.md).
#pragma once

#include <string>

namespace graft {

// The threads the CPU kernels use, the calling thread included: n >= 1 fixes the count and 0
// returns to the default. Not from inside a kernel's parallel region (a graft::Error).
void set_num_threads(int threads);
int get_num_threads();

void use_deterministic_algorithms(bool enabled);
bool are_deterministic_algorithms_enabled();

// The instruction sets the CPU kernels use, in order, separated by spaces: "avx2", then
// whichever of "avx512", "avx512_bf16", "avx512_fp16" and "amx" this CPU runs within
// GRAFT_CPU_CAPABILITY's cap; e.g. "avx2 avx512 avx512_bf16" on AMD's Zen 4. As PyTorch's
// torch.backends.cpu.get_cpu_capability().
std::string get_cpu_capability();

}  // namespace graft
