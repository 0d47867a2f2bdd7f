// CUDA softmax / log_softmax: the twin of kernels/cpu/softmax.cpp, over the same SoftmaxArgs
// (a contiguous (outer, dim_size, inner) block, softmax along the middle dim).
//
// A row of up to 1024 elements is read once, into the registers of a group of lanes; a longer
// line twice, not three times: one pass folds its elements into an online (max m, sum s)
// pair, s being the sum of exp(x - m) rescaled whenever m grows
// (s = s * exp(m_old - m_new) + exp(x - m_new)), and one pass writes exp(x - m) / s or
// x - m - log(s). Pairs from different threads merge the same way, so any split of a line
// gives the same result up to rounding. Three kernels walk the memory:
//  - group: inner == 1 and dim_size <= 1024: a power-of-two group of lanes per row (a whole
//    warp from 32 elements up), each lane holding up to 32 of its elements in registers;
//    the max, then the sum of exp(x - max), by butterfly shuffles, one exp per element;
//  - block: inner == 1 and longer rows: a block per row, pairs merged by warp shuffles and
//    then across warps in shared memory;
//  - columns: inner > 1 (softmax over a non-last dim): threads of a block row take
//    neighbouring lines (consecutive inner indices, so a warp reads contiguous memory) and
//    block rows split each line's dim_size elements; pairs merge in shared memory.
// The two row kernels read and write kVec neighbouring elements an access (two half2 or
// bfloat162 pairs, or a float4: vector_access.cuh) where the rows' length and start allow,
// one element an access otherwise. A row runs on one block at most, so a few very long rows
// leave most of the GPU idle; a split over several blocks (as reduce.cu does) would be the
// next step for that shape.
//
// Edge cases as on the CPU: -inf entries leave (m, s) alone and get exactly 0 (exp(-inf) is
// +0), a row of only -inf keeps m = -inf, s = 0 and gives NaN (-inf - -inf); a +inf entry
// makes the CPU's sum NaN, so a row whose max is +inf gets s = NaN; a NaN entry never
// becomes the max but makes s NaN. Extreme finite logits stay finite: every exp argument is
// <= 0. The sums accumulate in the input's type, as on the CPU, except that float16 and
// bfloat16 (a kernel's storage type S) are read into float and computed there (T =
// compute_type_t<S>), each result rounded once, as the CPU's float blocks do.
#include <cuda/std/limits>

#include <algorithm>
#include <cstdint>
#include <type_traits>

#include "graft/kernels/cuda/common.cuh"
#include "graft/kernels/cuda/cuda_kernels.h"
#include "graft/kernels/cuda/vector_access.cuh"
#include "graft/kernels/softmax.h"

namespace graft::kernels::cuda {
namespace {

constexpr int kWarpSize = 32;
// Rows at most this long take a group of lanes; longer ones a block.
constexpr int64_t kGroupRowLimit = 1024;
// Threads of the block that takes a long row.
constexpr int kRowBlockSize = 512;
// Loads in flight per thread before their values are folded in.
constexpr int kUnroll = 4;

template <class T>
__device__ T infinity() {
  return ::cuda::std::numeric_limits<T>::infinity();
}

// exp and log of the line's type: float stays float (expf), double stays double.
template <class T>
__device__ T exp_of(T x) {
  if constexpr (std::is_same_v<T, float>)
    return expf(x);
  else
    return ::exp(x);
}
template <class T>
__device__ T log_of(T x) {
  if constexpr (std::is_same_v<T, float>)
    return logf(x);
  else
    return ::log(x);
}

// The running (max, sum of exp(x - max)) of part of a line; {-inf, 0} is the empty part.
template <class T>
struct MaxSum {
  T m, s;
};

template <class T>
__device__ MaxSum<T> empty_max_sum() {
  return {-infinity<T>(), T(0)};
}

// Folds x in with one exp: when x raises the max, the old sum is rescaled by exp(m - x) and
// x contributes exp(0) = 1; otherwise x contributes exp(x - m). -inf contributes 0 and is
// skipped, so that an all -inf prefix does not compute -inf - -inf.
template <class T>
__device__ MaxSum<T> fold(MaxSum<T> a, T x) {
  if (x == -infinity<T>()) return a;
  const bool raises = x > a.m;  // false for NaN: it never becomes the max
  const T e = exp_of(raises ? a.m - x : x - a.m);
  return {raises ? x : a.m, raises ? a.s * e + T(1) : a.s + e};
}

// A part whose max is -inf holds only -inf and NaN entries: its sum is 0, or NaN, which
// must reach the result; exp(m - m) would be exp(-inf - -inf) = NaN for any part.
template <class T>
__device__ MaxSum<T> merge(MaxSum<T> a, MaxSum<T> b) {
  if (b.m == -infinity<T>()) return {a.m, a.s + b.s};
  if (a.m == -infinity<T>()) return {b.m, a.s + b.s};
  const T m = a.m > b.m ? a.m : b.m;
  return {m, a.s * exp_of(a.m - m) + b.s * exp_of(b.m - m)};
}

// Item i of a line: its kAccess elements from line + i * stride * kAccess (a wide access,
// vector_access.cuh, takes stride 1: its elements are the line's neighbours).
template <int kAccess, class T, class S>
__device__ void load_item(const S* __restrict__ line, int64_t stride, int64_t i,
                          T (&values)[kAccess]) {
  load_as<kAccess>(line + i * stride * kAccess, values);
}

// Folds the line's items begin, begin + step, ... (below end) into a: kUnroll loads
// issued before their values are folded in, so their latencies overlap.
template <int kAccess, class T, class S>
__device__ MaxSum<T> fold_range(MaxSum<T> a, const S* __restrict__ line, int64_t stride,
                                int64_t begin, int64_t end, int64_t step) {
  int64_t i = begin;
  for (; i + (kUnroll - 1) * step < end; i += kUnroll * step) {
    T v[kUnroll][kAccess];
#pragma unroll
    for (int k = 0; k < kUnroll; ++k) load_item(line, stride, i + k * step, v[k]);
#pragma unroll
    for (int k = 0; k < kUnroll; ++k)
#pragma unroll
      for (int e = 0; e < kAccess; ++e) a = fold(a, v[k][e]);
  }
  for (; i < end; i += step) {
    T v[kAccess];
    load_item(line, stride, i, v);
#pragma unroll
    for (int e = 0; e < kAccess; ++e) a = fold(a, v[e]);
  }
  return a;
}

// Writes the items begin, begin + step, ... (below end) of a line whose pair is `a`.
template <int kAccess, class T, class S>
__device__ void write_range(MaxSum<T> a, bool log, const S* __restrict__ x, S* __restrict__ y,
                            int64_t stride, int64_t begin, int64_t end, int64_t step) {
  // Only a +inf max leaves the sum finite where the CPU's is NaN (see the file comment).
  if (a.m == infinity<T>()) a.s = ::cuda::std::numeric_limits<T>::quiet_NaN();
  const T log_sum = log ? log_of(a.s) : T(0), inverse = T(1) / a.s;
  for (int64_t i = begin; i < end; i += step) {
    T v[kAccess];
    load_item(x, stride, i, v);
#pragma unroll
    for (int e = 0; e < kAccess; ++e)
      v[e] = log ? v[e] - a.m - log_sum : exp_of(v[e] - a.m) * inverse;
    store_as<kAccess>(y + i * stride * kAccess, v);
  }
}

// Butterfly over aligned groups of `width` lanes (a power of two up to 32): every lane of
// the group ends with the group's pair. All 32 lanes of the warp must call it.
template <class T>
__device__ MaxSum<T> group_merge(MaxSum<T> a, int width) {
  for (int offset = width / 2; offset > 0; offset /= 2)
    a = merge(a, {__shfl_xor_sync(0xffffffffu, a.m, offset, width),
                  __shfl_xor_sync(0xffffffffu, a.s, offset, width)});
  return a;
}

// Butterfly over aligned groups of `width` lanes: every lane ends with combine() of the
// group's values. All 32 lanes of the warp must call it.
template <class T, class Combine>
__device__ T group_all_reduce(T v, int width, const Combine& combine) {
  for (int offset = width / 2; offset > 0; offset /= 2)
    v = combine(v, __shfl_xor_sync(0xffffffffu, v, offset, width));
  return v;
}

// ---- kernels

// Plain loop: for each row r < rows: m = max of x[r, 0..n), s = sum of exp(x[r, j] - m);
// write y[r, 0..n). Groups of `width` lanes take one row each; a warp's groups take
// consecutive rows, and every lane of a warp runs the same iterations, as the shuffles need.
// A row is n / kAccess items of kAccess neighbouring elements, one access each; lane l of a
// group holds items l, l + width, ... of its row (kPerLane >= n / kAccess / width of them)
// in registers, the missing ones as -inf. The edge cases come out as the fold's (file
// comment): -inf entries add exactly 0 to s; a +inf max gives inf - inf = NaN in s, as on
// the CPU; NaN never becomes the max and makes s NaN; a row of -inf only has s = 0.
template <class S, int kPerLane, int kAccess>
__global__ void softmax_group_kernel(const S* __restrict__ x, S* __restrict__ y, int64_t rows,
                                     int64_t n, int width, bool log) {
  using T = compute_type_t<S>;
  const int lane = threadIdx.x % kWarpSize;
  const int64_t per_warp = kWarpSize / width, items = n / kAccess;
  const int64_t warp = (blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x) / kWarpSize;
  const int64_t warps = static_cast<int64_t>(gridDim.x) * blockDim.x / kWarpSize;
  const auto max_of = [](T a, T b) { return b > a ? b : a; };
  const auto sum_of = [](T a, T b) { return a + b; };
  for (int64_t first = warp * per_warp; first < rows; first += warps * per_warp) {
    const int64_t r = first + lane / width, i0 = lane % width;
    const bool active = r < rows;
    T v[kPerLane][kAccess];
    T m = -infinity<T>();
#pragma unroll
    for (int k = 0; k < kPerLane; ++k) {
      const int64_t i = i0 + int64_t{k} * width;
      if (active && i < items) {
        load_item(x + r * n, 1, i, v[k]);
      } else {
#pragma unroll
        for (int e = 0; e < kAccess; ++e) v[k][e] = -infinity<T>();
      }
#pragma unroll
      for (int e = 0; e < kAccess; ++e) m = max_of(m, v[k][e]);
    }
    m = group_all_reduce(m, width, max_of);
    T s = 0;
#pragma unroll
    for (int k = 0; k < kPerLane; ++k)
#pragma unroll
      for (int e = 0; e < kAccess; ++e) {
        const T term = v[k][e] == -infinity<T>() ? T(0) : exp_of(v[k][e] - m);
        s += term;
        if (!log) v[k][e] = term;
      }
    s = group_all_reduce(s, width, sum_of);
    if (!active) continue;
    // write_range's arithmetic: (x - m) - log(s), or exp(x - m) * (1 / s).
    const T log_sum = log ? log_of(s) : T(0), inverse = T(1) / s;
#pragma unroll
    for (int k = 0; k < kPerLane; ++k) {
      const int64_t i = i0 + int64_t{k} * width;
      if (i >= items) continue;
#pragma unroll
      for (int e = 0; e < kAccess; ++e) v[k][e] = log ? v[k][e] - m - log_sum : v[k][e] * inverse;
      store_as<kAccess>(item_at<kAccess>(y + r * n, i), v[k]);
    }
  }
}

// Plain loop as softmax_group_kernel; a block of kRowBlockSize threads per row: each thread
// folds every kRowBlockSize-th item, warps merge by shuffles, the warps' pairs meet in
// shared memory and every thread merges them all.
template <class S, int kAccess>
__global__ void softmax_block_kernel(const S* __restrict__ x, S* __restrict__ y, int64_t rows,
                                     int64_t n, bool log) {
  using T = compute_type_t<S>;
  constexpr int kWarps = kRowBlockSize / kWarpSize;
  __shared__ MaxSum<T> smem[kWarps];
  const int lane = threadIdx.x % kWarpSize, warp = threadIdx.x / kWarpSize;
  const int64_t items = n / kAccess;
  for (int64_t r = blockIdx.x; r < rows; r += gridDim.x) {
    MaxSum<T> a =
        fold_range<kAccess>(empty_max_sum<T>(), x + r * n, 1, threadIdx.x, items, kRowBlockSize);
    a = group_merge(a, kWarpSize);
    if (lane == 0) smem[warp] = a;
    __syncthreads();
    a = smem[0];
    for (int w = 1; w < kWarps; ++w) a = merge(a, smem[w]);
    write_range<kAccess>(a, log, x + r * n, y + r * n, 1, threadIdx.x, items, kRowBlockSize);
    __syncthreads();  // smem is rewritten by the next row
  }
}

// Block (bx, by), bx * by <= kBlockSize, both powers of two. Plain loop, for each outer o
// and each block of bx neighbouring inner indices:
//   thread (tx, ty) folds x[o, d, i] for d = ty, ty + by, ... of line i = block + tx;
//   the by pairs of each tx meet in shared memory (a tree over ty); every thread of the
//   column then writes y[o, d, i] for its own d.
template <class S>
__global__ void softmax_columns_kernel(const S* __restrict__ x, S* __restrict__ y, int64_t outer,
                                       int64_t n, int64_t inner, bool log) {
  using T = compute_type_t<S>;
  __shared__ MaxSum<T> smem[kBlockSize];
  const int bx = blockDim.x, by = blockDim.y, tx = threadIdx.x, ty = threadIdx.y;
  const int64_t col_blocks = (inner + bx - 1) / bx;
  for (int64_t b = blockIdx.x; b < outer * col_blocks; b += gridDim.x) {
    const int64_t o = b / col_blocks, i = (b % col_blocks) * bx + tx;
    const int64_t offset = o * n * inner + i;
    MaxSum<T> a = empty_max_sum<T>();
    if (i < inner) a = fold_range<1>(a, x + offset, inner, ty, n, by);
    smem[ty * bx + tx] = a;
    __syncthreads();
    for (int h = by / 2; h > 0; h /= 2) {
      if (ty < h) smem[ty * bx + tx] = merge(smem[ty * bx + tx], smem[(ty + h) * bx + tx]);
      __syncthreads();
    }
    a = smem[tx];
    if (i < inner) write_range<1>(a, log, x + offset, y + offset, inner, ty, n, by);
    __syncthreads();  // smem is rewritten by the next column block
  }
}

// ---- launchers

// Calls f(std::integral_constant<int, P>{}) for P the power of two equal to p (1 <= p <= kMax),
// so that a run-time count picks a kernel compiled for it.
template <int kMax, int P = 1, class F>
void with_power_of_two(int p, const F& f) {
  if constexpr (P < kMax) {
    if (p > P) return with_power_of_two<kMax, 2 * P>(p, f);
  }
  f(std::integral_constant<int, P>{});
}

int pow2_at_least(int64_t n, int cap) {
  int p = 1;
  while (p < n && p < cap) p *= 2;
  return p;
}

template <class S>
void softmax_cuda_typed(const SoftmaxArgs& args) {
  const S* x = static_cast<const S*>(args.input);
  S* y = static_cast<S*>(args.output);
  const int64_t outer = args.outer, n = args.dim_size, inner = args.inner;
  if (inner > 1) {
    // Block rows as tall as the lines (up to the block), as wide as the inner dim allows.
    const int by =
        std::min(kBlockSize / pow2_at_least(inner, kWarpSize), pow2_at_least(n, kBlockSize));
    const int bx = std::min(pow2_at_least(inner, kBlockSize), kBlockSize / by);
    const int64_t blocks = outer * ((inner + bx - 1) / bx);
    softmax_columns_kernel<S>
        <<<grid_for(blocks, 1), dim3(bx, by)>>>(x, y, outer, n, inner, args.log);
    GRAFT_CUDA_CHECK_LAUNCH();
    return;
  }
  // Rows along the last dim: kVec elements an access where the rows allow it.
  const auto launch_rows = [&](auto access_tag) {
    constexpr int kAccess = decltype(access_tag)::value;
    const int64_t items = n / kAccess;
    if (n <= kGroupRowLimit) {
      const int width = pow2_at_least(items, kWarpSize);
      const int per_lane =
          pow2_at_least((items + width - 1) / width, kGroupRowLimit / kWarpSize / kAccess);
      const int64_t rows_per_block = kBlockSize / width;
      const unsigned grid = grid_for((outer + rows_per_block - 1) / rows_per_block, 1);
      const auto launch = [&](auto per_lane_tag) {
        softmax_group_kernel<S, decltype(per_lane_tag)::value, kAccess>
            <<<grid, kBlockSize>>>(x, y, outer, n, width, args.log);
      };
      with_power_of_two<kGroupRowLimit / kWarpSize / kAccess>(per_lane, launch);
    } else {
      softmax_block_kernel<S, kAccess>
          <<<grid_for(outer, 1), kRowBlockSize>>>(x, y, outer, n, args.log);
    }
  };
  with_access_width(rows_take_vectors<S>(n, x, y), launch_rows);
  GRAFT_CUDA_CHECK_LAUNCH();
}

void softmax_cuda(const SoftmaxArgs& args) {
  if (args.outer * args.dim_size * args.inner == 0) return;
  visit_floating_or_16_bit_dtype("softmax", args.dtype,
                                 [&](auto tag) { softmax_cuda_typed<decltype(tag)>(args); });
}

}  // namespace

void register_softmax(KernelTable& table) {
  table.softmax[static_cast<int>(kCUDA)] = &softmax_cuda;
}

}  // namespace graft::kernels::cuda
