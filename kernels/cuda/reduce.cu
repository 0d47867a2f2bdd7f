// CUDA reductions: the loop for every reducer of kernels/reducers.h, the twin of
// kernels/cpu/reduce.cpp over the same ReduceArgs.
//
// Three kernels walk the memory and one merge pass combines partial results:
//  - group: a power-of-two group of lanes inside a warp per output element (1 to 32 lanes,
//    as many as the reduction is long), for short reductions; merged by __shfl_down_sync;
//  - block: a whole block per output element, for long reductions along the input (16-byte
//    vector loads when contiguous); the warps' results meet in shared memory. When there are too
//    few outputs to fill the GPU (a full reduction of 16M elements has one), each output's range is
//    cut into `splits` chunks, one block each, whose partial results go to a scratch buffer;
//  - rows: reductions across rows (reduces_across_rows(), e.g. sum over dim 0 of (N, M)):
//    threads of a block row take consecutive outputs and each walks the reduced dim, so a
//    warp reads contiguous memory; block rows split the reduced range and meet in shared
//    memory, and more blocks split it further;
//  - the merge pass is the group kernel again, over the partial results, with a reducer
//    whose step is the original reducer's merge.
// The reducers' double accumulation costs nothing here: the kernels are memory-bound.
#include <algorithm>
#include <cstdint>

#include "graft/core/tensor.h"
#include "graft/kernels/cuda/block_reduce.cuh"
#include "graft/kernels/cuda/common.cuh"
#include "graft/kernels/cuda/cuda_kernels.h"
#include "graft/kernels/reducers.h"

namespace graft::kernels::cuda {
namespace {

// Loads in flight per thread before their values are folded in.
constexpr int kUnroll = 4;
// Reductions at least this long take a block per output rather than a group of lanes.
constexpr int64_t kBlockReduction = 1024;
// A thread makes at least this many steps in a split, so a chunk's work outweighs the
// merge of its partial result.
constexpr int64_t kMinStepsPerThread = 16;
// At most this many partial results per output (the merge pass folds them with one warp).
constexpr int64_t kMaxSplits = 1024;
// Split chunks start at multiples of this many elements, so a warp's loads stay aligned.
constexpr int64_t kChunkAlign = 1024;

// The merge pass: its inputs are R's partial results, so its step is R's merge.
template <class R>
struct PartialReducer {
  using Acc = typename R::Acc;
  using Out = typename R::Out;
  __device__ Acc identity() const { return r.identity(); }
  __device__ Acc step(Acc a, const Acc& b, int64_t) const { return r.merge(a, b); }
  __device__ Acc merge(Acc a, Acc b) const { return r.merge(a, b); }
  __device__ Out finish(Acc a) const { return r.finish(a); }
  R r;
};

// ---- device helpers

// Folds the elements of flat reduced indices begin, begin + step, ... (below end) of the
// output whose elements start at `base` into acc: kUnroll loads issued before their values
// are folded in, so their latencies overlap.
template <class R, class T>
__device__ typename R::Acc accumulate(const R& r, typename R::Acc acc, const T* __restrict__ base,
                                      const ReduceDims& reduced, int64_t begin, int64_t end,
                                      int64_t step) {
  int64_t i = begin;
  for (; i + (kUnroll - 1) * step < end; i += kUnroll * step) {
    T v[kUnroll];
#pragma unroll
    for (int k = 0; k < kUnroll; ++k) v[k] = base[reduced.offset_of(i + k * step)];
#pragma unroll
    for (int k = 0; k < kUnroll; ++k) acc = r.step(acc, v[k], i + k * step);
  }
  for (; i < end; i += step) acc = r.step(acc, base[reduced.offset_of(i)], i);
  return acc;
}

// accumulate() for a contiguous range (reduced stride 1) shared by `lanes` threads: one
// 16-byte load brings 16 / sizeof(T) elements (4 floats), kUnroll loads in flight; the
// elements before the first 16-byte boundary and after the last whole vector go one by one.
template <class R, class T>
__device__ typename R::Acc accumulate_contiguous(const R& r, typename R::Acc acc,
                                                 const T* __restrict__ base, int64_t begin,
                                                 int64_t end, int lane, int lanes) {
  constexpr int kVec = 16 / sizeof(T);
  struct alignas(16) Vec {
    T v[kVec];
  };
  const int64_t misaligned = reinterpret_cast<uintptr_t>(base + begin) % 16 / sizeof(T);
  const int64_t head = misaligned == 0 ? 0 : std::min<int64_t>(kVec - misaligned, end - begin);
  if (lane < head) acc = r.step(acc, base[begin + lane], begin + lane);
  const int64_t first = begin + head, vectors = (end - first) / kVec;
  const Vec* vec = reinterpret_cast<const Vec*>(base + first);
  int64_t v = lane;
  for (; v + (kUnroll - 1) * lanes < vectors; v += kUnroll * lanes) {
    Vec loaded[kUnroll];
#pragma unroll
    for (int k = 0; k < kUnroll; ++k) loaded[k] = vec[v + k * lanes];
#pragma unroll
    for (int k = 0; k < kUnroll; ++k)
#pragma unroll
      for (int e = 0; e < kVec; ++e)
        acc = r.step(acc, loaded[k].v[e], first + (v + k * lanes) * kVec + e);
  }
  for (; v < vectors; v += lanes) {
    const Vec loaded = vec[v];
#pragma unroll
    for (int e = 0; e < kVec; ++e) acc = r.step(acc, loaded.v[e], first + v * kVec + e);
  }
  for (int64_t i = first + vectors * kVec + lane; i < end; i += lanes)
    acc = r.step(acc, base[i], i);
  return acc;
}

// Output j's result, or its partial result number s when the reduction is split.
template <class R>
__device__ void store(const R& r, const typename R::Acc& acc, int64_t j, int64_t s, int64_t splits,
                      typename R::Out* out, typename R::Acc* partial) {
  if (splits == 1)
    out[j] = r.finish(acc);
  else
    partial[j * splits + s] = acc;
}

// ---- kernels

// Plain loop: for j < outputs: out[j] = finish(fold of in[kept(j) + reduced(i)], i < n).
// Groups of `width` lanes take one output each; a warp's groups take consecutive outputs,
// and every lane of a warp runs the same iterations, as the shuffles need.
template <class R, class T>
__global__ void reduce_group_kernel(R r, const T* __restrict__ in,
                                    const __grid_constant__ ReduceDims kept,
                                    const __grid_constant__ ReduceDims reduced, int64_t outputs,
                                    int64_t n, int width, typename R::Out* out) {
  const int lane = threadIdx.x % kWarpSize;
  const int64_t per_warp = kWarpSize / width;
  const int64_t warp = (blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x) / kWarpSize;
  const int64_t warps = static_cast<int64_t>(gridDim.x) * blockDim.x / kWarpSize;
  for (int64_t first = warp * per_warp; first < outputs; first += warps * per_warp) {
    const int64_t j = first + lane / width;
    typename R::Acc acc = r.identity();
    if (j < outputs)
      acc = accumulate(r, acc, in + kept.offset_of(j), reduced, lane % width, n, width);
    acc = group_reduce(r, acc, width);
    if (lane % width == 0 && j < outputs) out[j] = r.finish(acc);
  }
}

// Plain loop: for j < outputs, s < splits: fold the reduced indices [s * chunk, (s + 1) *
// chunk) of output j, kBlockSize threads striding through them (16-byte vectors of them
// when they are contiguous); store(j, s).
template <class R, class T>
__global__ void reduce_block_kernel(R r, const T* __restrict__ in,
                                    const __grid_constant__ ReduceDims kept,
                                    const __grid_constant__ ReduceDims reduced, int64_t outputs,
                                    int64_t n, int64_t splits, int64_t chunk, typename R::Out* out,
                                    typename R::Acc* partial) {
  __shared__ typename R::Acc smem[kWarps];
  for (int64_t b = blockIdx.x; b < outputs * splits; b += gridDim.x) {
    const int64_t j = b / splits, s = b % splits;
    const int64_t begin = s * chunk, end = begin + chunk < n ? begin + chunk : n;
    const T* base = in + kept.offset_of(j);
    typename R::Acc acc =
        reduced.ndim == 1 && reduced.strides[0] == 1
            ? accumulate_contiguous(r, r.identity(), base, begin, end, threadIdx.x, kBlockSize)
            : accumulate(r, r.identity(), base, reduced, begin + threadIdx.x, end, kBlockSize);
    acc = block_reduce(r, acc, smem);
    if (threadIdx.x == 0) store(r, acc, j, s, splits, out, partial);
  }
}

// Block (bx, by), bx * by = kBlockSize, both powers of two. Plain loop, for each block of
// bx consecutive outputs j and split s:
//   thread (x, y) folds reduced indices s * chunk + y, + by, ... of output j = block + x;
//   the by accumulators of each x meet in shared memory (a tree over y); store(j, s).
template <class R, class T>
__global__ void reduce_rows_kernel(R r, const T* __restrict__ in,
                                   const __grid_constant__ ReduceDims kept,
                                   const __grid_constant__ ReduceDims reduced, int64_t outputs,
                                   int64_t n, int64_t splits, int64_t chunk, typename R::Out* out,
                                   typename R::Acc* partial) {
  __shared__ typename R::Acc smem[kBlockSize];
  const int bx = blockDim.x, by = blockDim.y, x = threadIdx.x, y = threadIdx.y;
  const int64_t s = blockIdx.y;
  const int64_t begin = s * chunk, end = begin + chunk < n ? begin + chunk : n;
  const int64_t col_blocks = (outputs + bx - 1) / bx;
  for (int64_t cb = blockIdx.x; cb < col_blocks; cb += gridDim.x) {
    const int64_t j = cb * bx + x;
    typename R::Acc acc = r.identity();
    if (j < outputs) acc = accumulate(r, acc, in + kept.offset_of(j), reduced, begin + y, end, by);
    smem[y * bx + x] = acc;
    __syncthreads();
    for (int h = by / 2; h > 0; h /= 2) {
      if (y < h) smem[y * bx + x] = r.merge(smem[y * bx + x], smem[(y + h) * bx + x]);
      __syncthreads();
    }
    if (y == 0 && j < outputs) store(r, smem[x], j, s, splits, out, partial);
    __syncthreads();  // smem is rewritten by the next column block
  }
}

// ---- launchers

int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

int pow2_at_least(int64_t n, int cap) {
  int p = 1;
  while (p < n && p < cap) p *= 2;
  return p;
}

// Blocks of `kernel`, `threads` threads each, that the GPU runs at once: one wave.
template <class Kernel>
int64_t resident_blocks(Kernel* kernel, int threads) {
  int device = 0, sms = 0, per_sm = 0;
  GRAFT_CUDA_CHECK(cudaGetDevice(&device));
  GRAFT_CUDA_CHECK(cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, device));
  GRAFT_CUDA_CHECK(cudaOccupancyMaxActiveBlocksPerMultiprocessor(&per_sm, kernel, threads, 0));
  return static_cast<int64_t>(sms) * std::max(per_sm, 1);
}

// How a reduction of length n is cut for `blocks` blocks of `threads` threads per output:
// as many chunks as keep all the blocks within one wave of `resident`, since a second,
// partial wave leaves most of the GPU idle while it runs (on an H100 a sum over dim 0 of
// (8192, 8192), cut for 1280 blocks where 1056 fit, reached 70% of the copy bandwidth), each
// thread still making kMinStepsPerThread steps, chunks starting at multiples of `align`.
struct Split {
  int64_t count, chunk;
};
Split split_reduction(int64_t n, int64_t blocks, int64_t threads, int64_t align, int64_t resident) {
  const int64_t wanted = resident / blocks;
  const int64_t most = std::max<int64_t>(1, n / (threads * kMinStepsPerThread));
  const int64_t count = std::clamp<int64_t>(std::min(wanted, most), 1, kMaxSplits);
  const int64_t chunk = std::max<int64_t>(1, ceil_div(ceil_div(n, count), align) * align);
  return {std::max<int64_t>(1, ceil_div(n, chunk)), chunk};
}

// One group of lanes per output, as wide as the reduction is long (up to a warp).
template <class R, class T>
void launch_group(const R& r, const T* in, const ReduceDims& kept, const ReduceDims& reduced,
                  int64_t outputs, int64_t n, typename R::Out* out) {
  const int width = pow2_at_least(n, kWarpSize);
  const int64_t outputs_per_block = kWarps * (kWarpSize / width);
  reduce_group_kernel<<<grid_for(ceil_div(outputs, outputs_per_block), 1), kBlockSize>>>(
      r, in, kept, reduced, outputs, n, width, out);
  GRAFT_CUDA_CHECK_LAUNCH();
}

// Room for `splits` partial results per output on the current device, none when the
// reduction is not split (the caching allocator makes this cheap; the default stream orders
// the memory's reuse after the merge pass).
template <class Acc>
struct Partials {
  Partials(int64_t outputs, int64_t splits) {
    if (splits == 1) return;
    int device = 0;
    GRAFT_CUDA_CHECK(cudaGetDevice(&device));
    const int64_t bytes = outputs * splits * static_cast<int64_t>(sizeof(Acc));
    buffer = empty({bytes}, TensorOptions(kUInt8).device(Device::cuda(device)));
    data = static_cast<Acc*>(buffer.data_ptr());
  }
  Tensor buffer;
  Acc* data = nullptr;
};

// Folds each output's `splits` partial results (contiguous, output-major) into out.
template <class R>
void merge_partials(const R& r, const typename R::Acc* partial, int64_t outputs, int64_t splits,
                    typename R::Out* out) {
  if (splits == 1) return;
  ReduceDims kept, reduced;
  kept.ndim = reduced.ndim = 1;
  kept.sizes[0] = outputs;
  kept.strides[0] = splits;
  reduced.sizes[0] = splits;
  reduced.strides[0] = 1;
  launch_group(PartialReducer<R>{r}, partial, kept, reduced, outputs, splits, out);
}

// The CUDA loop for reducers.h.
struct CudaReduceLoop {
  template <class R, class T>
  static void run(const R& r, const T* in, typename R::Out* out, const ReduceDims& kept,
                  const ReduceDims& reduced) {
    const int64_t outputs = kept.numel(), n = reduced.numel();
    if (reduces_across_rows(kept, reduced)) {
      // Rows as tall as the reduction (up to the block) and as wide as the outputs allow.
      const int by =
          std::min(kBlockSize / pow2_at_least(outputs, kWarpSize), pow2_at_least(n, kBlockSize));
      const int bx = std::min(pow2_at_least(outputs, kBlockSize), kBlockSize / by);
      const int64_t col_blocks = ceil_div(outputs, bx);
      const Split split =
          split_reduction(n, col_blocks, by, 1, resident_blocks(reduce_rows_kernel<R, T>, bx * by));
      const Partials<typename R::Acc> partial(outputs, split.count);
      const dim3 grid(static_cast<unsigned>(std::min<int64_t>(col_blocks, 65535 * 8)),
                      static_cast<unsigned>(split.count));
      reduce_rows_kernel<<<grid, dim3(bx, by)>>>(r, in, kept, reduced, outputs, n, split.count,
                                                 split.chunk, out, partial.data);
      GRAFT_CUDA_CHECK_LAUNCH();
      merge_partials(r, partial.data, outputs, split.count, out);
    } else if (n >= kBlockReduction) {
      const Split split = split_reduction(n, outputs, kBlockSize, kChunkAlign,
                                          resident_blocks(reduce_block_kernel<R, T>, kBlockSize));
      const Partials<typename R::Acc> partial(outputs, split.count);
      reduce_block_kernel<<<grid_for(outputs * split.count, 1), kBlockSize>>>(
          r, in, kept, reduced, outputs, n, split.count, split.chunk, out, partial.data);
      GRAFT_CUDA_CHECK_LAUNCH();
      merge_partials(r, partial.data, outputs, split.count, out);
    } else {
      launch_group(r, in, kept, reduced, outputs, n, out);
    }
  }
};

}  // namespace

void register_reduce(KernelTable& table) { register_reduce_kernels<CudaReduceLoop>(table, kCUDA); }

}  // namespace graft::kernels::cuda
