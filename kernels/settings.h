// Process-wide switches of the kernels, as PyTorch's torch.set_num_threads and
// torch.use_deterministic_algorithms.
//
// Threads: the CPU kernels split large work with OpenMP over get_num_threads() threads
// (OMP_NUM_THREADS, or the cores, by default).
//
// Deterministic algorithms: with the switch on, two runs with the same inputs give the same
// bits whatever the thread count, on every op. Most kernels are so by construction
// (docs/architecture.md, "Determinism", lists each op): reductions cut long sums into
// fixed-size pieces merged in order, scatter adds in index order on the CPU, and the CUDA
// reductions and conv backward use no atomics. Three kinds of kernel change when it is on:
//  - CPU matmul (and linear): Eigen picks how it blocks a GEMM's inner dimension, and so
//    the order of every sum, from the threads it may use; switched on, each GEMM is cut into
//    fixed column blocks spread over graft's own threads, inside which Eigen runs one
//    thread;
//  - CPU conv2d and its backward: the batch is cut into a fixed number of chunks rather
//    than one per thread (grad_weight sums one partial per chunk);
//  - CUDA scatter_add and index_put_ with accumulate: one thread per slice walking the
//    indices in order instead of atomicAdd, giving the CPU's bits.
// Off by default: the fast paths are at most a few ulps apart from run to run.
#pragma once

namespace graft {

// The threads the CPU kernels use; `threads` must be at least 1.
void set_num_threads(int threads);
int get_num_threads();

void use_deterministic_algorithms(bool enabled);
bool are_deterministic_algorithms_enabled();

}  // namespace graft
