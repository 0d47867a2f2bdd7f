// CPU optimizer update: every tensor of the list in turn, its elements split across threads
// when it is big.
//
// The element formulas are kernels/optim.h's, shared with CUDA. A parameter of fewer than
// kParallelGrain elements (most biases) runs on the calling thread: starting a team costs
// more than updating it. `omp simd` is the one OpenMP directive graft uses, compiled with
// -fopenmp-simd: it needs no OpenMP runtime.
#include "graft/kernels/optim.h"
#include "graft/kernels/cpu/cpu_kernels.h"
#include "graft/kernels/cpu/parallel.h"
#include "graft/kernels/dispatch.h"

namespace graft::kernels::cpu {
namespace {

void optim_update_kernel(const OptimArgs& args) {
  visit_optim_tensors(args, [](const auto& tensors) {
    for (const auto& tensor : tensors) {
      parallel_for(0, tensor.numel, kParallelGrain, [&](int64_t begin, int64_t end) {
        // Vectorised, 16 floats at a time with AVX-512, instead of one scalar sqrt and
        // divide per element, by three things: a local copy, so the flags (amsgrad,
        // momentum, ...) are known loop-invariant and the compiler unswitches the loop on
        // them; `omp simd`, which vouches that the parameter, gradient and state buffers
        // do not overlap; and -fno-math-errno (cmake/GraftTargetOptions.cmake) for sqrt.
        const auto local = tensor;
#pragma omp simd
        for (int64_t i = begin; i < end; ++i) local.update(i);
      });
    }
  });
}

}  // namespace

void register_optim(KernelTable& table) {
  table.optim_update[static_cast<int>(kCPU)] = optim_update_kernel;
}

}  // namespace graft::kernels::cpu
