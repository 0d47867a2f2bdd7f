// CPU optimizer update: the chunks (kernels/optim.h) of every tensor of the list, split across
// threads together when they are many.
//
// The element formulas are kernels/optim.h's, shared with CUDA. A list of fewer than
// kParallelGrain elements (a group of biases) runs on the calling thread: starting a team
// costs more than updating it. `omp simd` is the one OpenMP directive graft uses, compiled
// with -fopenmp-simd: it needs no OpenMP runtime.
#include <algorithm>
#include <cmath>
#include <numeric>
#include <vector>

#include "graft/kernels/cpu/cpu_kernels.h"
#include "graft/kernels/cpu/parallel.h"
#include "graft/kernels/cpu/reduce_run.h"
#include "graft/kernels/dispatch.h"
#include "graft/kernels/optim.h"

namespace graft::kernels::cpu {
namespace {

// Updates elements [begin, end) of `tensor`.
//
// Vectorised, 8 floats at a time in graft's x86-64-v3 build (AVX-512's 16 lanes bought nothing
// here: the update waits on the divider, whose throughput per float is the same), instead of
// one scalar sqrt and divide per element, by three things: a local copy, so the flags (amsgrad,
// momentum, ...) are known loop-invariant and the compiler unswitches the loop on them; `omp simd`,
// which vouches that the parameter, gradient and state buffers do not overlap; and -fno-math-errno
// (cmake/GraftTargetOptions.cmake) for sqrt.
template <class Typed>
void update_range(const Typed& tensor, int64_t begin, int64_t end) {
  const Typed local = tensor;
#pragma omp simd
  for (int64_t i = begin; i < end; ++i) local.update(i);
}

// Squares summed in the gradient's own type: through reduce_run's 32 accumulators and
// pairwise leaves (reduce_run.h), float keeps its error within a few dozen roundings over a
// chunk (about 2e-8 relative on Gaussian gradients; chunks then add up in double), at a
// third of the time double accumulation takes here (cvtps2pd is the bottleneck): 0.5-0.7
// against 1.5-1.7 us a chunk on a 2-core EPYC VM.
//
// float16 and bfloat16 sum in float: in their own 8 or 11 bits the sum would stop growing
// long before a chunk ends.
template <class T, class Accumulator = compute_type_t<T>>
struct SquaresReducer {
  using Acc = Accumulator;
  Acc identity() const { return 0; }
  Acc step(Acc sum, T g, int64_t) const { return sum + static_cast<Acc>(g) * static_cast<Acc>(g); }
  Acc merge(Acc a, Acc b) const { return a + b; }
};

// The sum of the squares of grad[begin, end). A pass of its own, right after the chunk's
// update while its gradient is still in L1/L2: folded into the update's loop, the sum kept
// GCC 12 from unswitching the loop on the optimizer's flags, and the update ran scalar (a
// tracked MLP step took 47% longer instead of under 1%).
//
// A float sum overflows from gradients of about 1.8e19 on, which are finite (and GradScaler
// reads a non-finite sum as an inf gradient): such a chunk is summed again in double, where
// only an inf or NaN gradient leaves the sum non-finite. Free in the usual case.
template <class T>
double sum_squares(const T* grad, int64_t begin, int64_t end) {
  const double sum = reduce_run<true>(SquaresReducer<T>{}, grad + begin, 1, end - begin, 0);
  if (std::isfinite(sum)) return sum;
  return reduce_run<true>(SquaresReducer<T, double>{}, grad + begin, 1, end - begin, 0);
}

// Every tensor's chunks in one region: chunk g of the list is chunk g - first[t] of the
// tensor t with first[t] <= g < first[t + 1] (the order of grad_sq_partials' slots). A region
// per tensor left the small ones (biases, norm weights: most of a GPT's 50 parameters) to the
// calling thread one after another while the other threads waited, 1.6% of its step.
void optim_update_kernel(const OptimArgs& args) {
  visit_optim_tensors(args, [&](const auto& tensors) {
    std::vector<int64_t> first(tensors.size() + 1, 0);
    for (size_t t = 0; t < tensors.size(); ++t)
      first[t + 1] = first[t] + optim_chunks(tensors[t].numel);
    // Chunks of every size: the grain counts the elements of whole chunks, so a list of small
    // tensors alone stays on the calling thread.
    const int64_t elements = std::accumulate(tensors.begin(), tensors.end(), int64_t{0},
                                             [](int64_t n, const auto& t) { return n + t.numel; });
    const int64_t grain = elements < kParallelGrain ? first.back() : kParallelGrain / kOptimChunk;
    parallel_for(0, first.back(), std::max<int64_t>(grain, 1), [&](int64_t begin, int64_t end) {
      auto t = static_cast<size_t>(std::upper_bound(first.begin(), first.end(), begin) -
                                   first.begin() - 1);
      for (int64_t g = begin; g < end; ++g) {
        while (g >= first[t + 1]) ++t;
        const auto& tensor = tensors[t];
        const int64_t from = (g - first[t]) * kOptimChunk;
        const int64_t to = std::min(from + kOptimChunk, tensor.numel);
        update_range(tensor, from, to);
        if (args.grad_sq_partials != nullptr)
          args.grad_sq_partials[g] = sum_squares(tensor.grad, from, to);
      }
    });
  });
}

}  // namespace

void register_optim(KernelTable& table) {
  table.optim_update[static_cast<int>(kCPU)] = optim_update_kernel;
}

}  // namespace graft::kernels::cpu
