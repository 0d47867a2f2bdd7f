// Reductions across the lanes of a warp and the threads of a block, for any reducer of
// kernels/reducers.h (identity, merge): shared by the reduction kernels (reduce.cu) and
// the kernels that reduce on the side of their main work (the optimizer's gradient norm,
// optim.cu).
#pragma once

#include <cstring>

#include "graft/kernels/cuda/common.cuh"

namespace graft::kernels::cuda {

inline constexpr int kWarpSize = 32;
inline constexpr int kWarps = kBlockSize / kWarpSize;

// __shfl_down_sync of any trivially copyable accumulator, one 32-bit word at a time.
template <class A>
__device__ A shfl_down(const A& a, int offset, int width) {
  constexpr int kWords = (sizeof(A) + 3) / 4;
  unsigned words[kWords] = {};
  memcpy(words, &a, sizeof(A));
#pragma unroll
  for (int k = 0; k < kWords; ++k)
    words[k] = __shfl_down_sync(0xffffffffu, words[k], offset, width);
  A out;
  memcpy(&out, words, sizeof(A));
  return out;
}

// Tree reduction within aligned groups of `width` lanes (a power of two up to 32); the
// group's first lane holds the result. All 32 lanes of the warp must call it.
template <class R>
__device__ typename R::Acc group_reduce(const R& r, typename R::Acc acc, int width) {
  for (int offset = width / 2; offset > 0; offset /= 2)
    acc = r.merge(acc, shfl_down(acc, offset, width));
  return acc;
}

// Reduction over a block of kBlockSize threads; thread 0 holds the result. `smem` holds
// kWarps accumulators and is free again on return. The tree is fixed, so the result does
// not depend on timing.
template <class R>
__device__ typename R::Acc block_reduce(const R& r, typename R::Acc acc, typename R::Acc* smem) {
  const int lane = threadIdx.x % kWarpSize, warp = threadIdx.x / kWarpSize;
  acc = group_reduce(r, acc, kWarpSize);
  if (lane == 0) smem[warp] = acc;
  __syncthreads();
  if (warp == 0) acc = group_reduce(r, lane < kWarps ? smem[lane] : r.identity(), kWarpSize);
  __syncthreads();
  return acc;
}

// The block_reduce reducer of plain double sums (partial sums of floats or doubles).
struct DoubleSum {
  using Acc = double;
  __device__ double identity() const { return 0; }
  __device__ double merge(double a, double b) const { return a + b; }
};

}  // namespace graft::kernels::cuda
