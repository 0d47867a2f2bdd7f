// CUDA fused attention and its backward (kernels/attention.h), the twin of
// kernels/cpu/attention.cpp: FlashAttention-2's schedule (Dao 2023) on CUDA cores, float
// and double, and float16 and bfloat16 computed in float (below), head dims up to
// kCudaAttentionMaxFeatures (128).
//
// Every kernel has the same shape: a block of kWarps warps owns kRowsPerBlock rows of one
// side (query rows for the forward and dq, key rows for dk and dv), a warp kRowsPerWarp of
// them, and walks the other side in tiles of 32 rows staged through shared memory, one per
// lane. For each of its rows a warp computes the 32 scores of a tile at once (lane j the dot
// product with tile row j, reading a padded shared-memory row so the 32 lanes hit 32
// banks), reduces across the warp with shuffles where a row statistic is needed, and adds
// the tile's share into the row's accumulator (in shared memory, feature d in lane d % 32),
// the per-lane values broadcast by __shfl_sync. Scores never leave the chip, so memory is
// linear in the sequence length.
//
//  - forward: a block per (query tile, batch-head); the online softmax (running max m and
//    sum l per row, earlier tiles rescaled by exp(m_old - m_new)); writes out and
//    lse = m + log l.
//  - backward: D_i = dout_i . out_i first (a warp per row), then two kernels that recompute
//    p_ij = exp(s_ij - lse_i) from the saved lse: dq by query tiles (as the forward), dk and
//    dv by key tiles. FlashAttention-2 computes dq in the key-tile kernel with atomicAdd;
//    graft spends a second recompute instead so that every sum has one order and the result
//    is the same on every run (docs/architecture.md, "Determinism").
// Causal attention (query i sees keys j <= i) skips the tiles wholly above the diagonal and
// masks inside the tile that crosses it. A row that sees no key (S = 0) gets out = 0 and
// lse = -inf, as on the CPU.
// Dropout: each lane draws its p_ij's mask from the Philox stream where the CPU kernels draw it
// (dropout_factor; kernels/attention.h), so the two devices drop the same probabilities
// from the same seed. The forward sums p_ij into l undropped and weighs v with p_ij m_ij; the
// backward draws the mask again in both of its tile kernels.
//
// float16 and bfloat16 (a kernel's storage type S) are computed in float (T = compute_type_t
// of S): widened as they are staged into shared memory, every dot product, softmax statistic
// and accumulator in float, each stored row rounded once; lse and D stay float. Shared memory
// is sized in T, so a 16-bit launch needs as much as a float32 one.
// This is the SIMT version (no tensor cores): mma.sync tiles are the next step for the 16-bit
// types.
#include <cuda/std/limits>

#include <algorithm>
#include <cstdint>
#include <map>
#include <mutex>
#include <utility>

#include "graft/core/tensor.h"
#include "graft/kernels/attention.h"
#include "graft/kernels/cuda/common.cuh"
#include "graft/kernels/cuda/cuda_kernels.h"

namespace graft::kernels::cuda {
namespace {

constexpr int kLanes = 32;
constexpr int kWarps = 4;
constexpr int kRowsPerWarp = 4;
constexpr int kRowsPerBlock = kWarps * kRowsPerWarp;  // 16
constexpr int kTile = kLanes;                         // rows of the other side per tile
constexpr unsigned kFullMask = 0xffffffffu;

template <class T>
__device__ T minus_infinity() {
  return -::cuda::std::numeric_limits<T>::infinity();
}

template <class T>
__device__ T warp_sum(T x) {
  for (int offset = kLanes / 2; offset > 0; offset /= 2) x += __shfl_xor_sync(kFullMask, x, offset);
  return x;
}

template <class T>
__device__ T warp_max(T x) {
  for (int offset = kLanes / 2; offset > 0; offset /= 2)
    x = max(x, __shfl_xor_sync(kFullMask, x, offset));
  return x;
}

// The sizes and typed pointers of one launch; each (bh, rows, features) buffer's rows where
// its AttentionLayout says (lse and delta: (bh, rows), contiguous). A launch covers the batch-heads
// head_offset + blockIdx.y (a grid has at most 65535 rows of blocks, so more batch-heads take
// several launches).
template <class S>
struct Params {
  using T = compute_type_t<S>;
  const S *q, *k, *v, *out, *grad_out;
  const T *lse, *delta;
  S *out_w, *grad_q, *grad_k, *grad_v;
  T *lse_w, *delta_w;
  AttentionLayout q_layout, k_layout, v_layout, out_layout;
  AttentionLayout grad_out_layout, grad_q_layout, grad_k_layout, grad_v_layout;
  int64_t length, keys, features, value_features, head_offset;
  T scale;
  bool causal;
  uint32_t keep_threshold;  // attention_keep_threshold(p): 0 without dropout
  T keep_scale;             // 1 / (1 - p)
  PhiloxPosition dropout_rng;
};

// m_ij, what dropout multiplies p_ij of batch-head bh by (kernels/attention.h): 1 / (1 - p)
// where it keeps it, 0 where it drops it, 1 without dropout. Each call draws the whole Philox
// block that holds the element: the lanes of a warp, each on its own (i, j), share no work.
template <class S>
__device__ compute_type_t<S> dropout_factor(const Params<S>& p, int64_t bh, int64_t i, int64_t j) {
  using T = compute_type_t<S>;
  if (p.keep_threshold == 0) return T(1);
  const int64_t e = (bh * p.length + i) * p.keys + j;
  return attention_keeps_element(p.dropout_rng, e, p.keep_threshold) ? p.keep_scale : T(0);
}

// Copies rows [first, first + count) of a (rows_total, cols) matrix whose rows are
// src_stride apart into shared memory with row stride `stride` (cols, or cols + 1 where lanes
// read down a column), zeros past the end; 16-bit values widened to T.
template <class T, class S>
__device__ void stage_rows(T* dst, const S* src, int64_t src_stride, int64_t first, int count,
                           int64_t rows_total, int64_t cols, int64_t stride) {
  for (int64_t idx = threadIdx.x; idx < count * cols; idx += blockDim.x) {
    const int64_t r = idx / cols, c = idx % cols;
    dst[r * stride + c] =
        first + r < rows_total ? static_cast<T>(src[(first + r) * src_stride + c]) : T(0);
  }
}

// a . b over n elements, a and b in shared memory.
template <class T>
__device__ T dot(const T* a, const T* b, int64_t n) {
  T sum = 0;
  for (int64_t c = 0; c < n; ++c) sum += a[c] * b[c];
  return sum;
}

// acc[d] = acc[d] * keep + sum_j w_j tile[j][d] over the 32 tile rows, where lane j holds
// w_j: feature d of the accumulator lives in lane d % 32. The loop over d is uniform across
// the warp (the shuffles need every lane).
template <class T>
__device__ void accumulate(T* acc, T keep, T w, const T* tile, int64_t stride, int64_t cols) {
  const int lane = threadIdx.x % kLanes;
  for (int64_t d0 = 0; d0 < cols; d0 += kLanes) {
    const int64_t d = d0 + lane;
    T sum = 0;
    for (int j = 0; j < kTile; ++j) {
      const T wj = __shfl_sync(kFullMask, w, j);
      if (d < cols) sum += wj * tile[j * stride + d];
    }
    if (d < cols) acc[d] = acc[d] * keep + sum;
  }
}

// The keys row i may see: all, or (causal) up to i.
__device__ bool visible(int64_t i, int64_t j, int64_t keys, bool causal) {
  return j < keys && (!causal || j <= i);
}

// Zeros n elements of shared memory, the block's threads together.
template <class T>
__device__ void zero_shared(T* dst, int64_t n) {
  for (int64_t idx = threadIdx.x; idx < n; idx += blockDim.x) dst[idx] = 0;
}

// Calls row(rr, r, i) for each row of this warp: the warp's rr-th, the block's r-th, row
// i = first + r of the `count` rows, stopping at the last. The stop is the same for every
// lane of the warp, so `row` may use warp shuffles.
template <class Row>
__device__ __forceinline__ void for_warp_rows(int64_t first, int64_t count, Row row) {
  const int warp = threadIdx.x / kLanes;
#pragma unroll
  for (int rr = 0; rr < kRowsPerWarp; ++rr) {
    const int r = warp * kRowsPerWarp + rr;
    if (first + r >= count) return;
    row(rr, r, first + r);
  }
}

// dst[d] = factor * src[d] over a row of cols, a lane per feature, rounded to S once.
template <class S, class T>
__device__ void store_row(S* dst, const T* src, int64_t cols, T factor) {
  for (int64_t d = threadIdx.x % kLanes; d < cols; d += kLanes)
    dst[d] = static_cast<S>(factor * src[d]);
}

// Each kernel's shared memory, as element offsets from its start (the last, `end`, is the
// total): one description that the kernel carves its regions from and its launch sizes the
// block's memory by. Tiles that lanes read down a column have rows padded by one, so the 32
// lanes read 32 banks.
struct ForwardLayout {  // the block's queries, a tile of keys and of values, the outputs
  int64_t q, k, v, acc, end;
  __host__ __device__ ForwardLayout(int64_t E, int64_t Ev)
      : q(0),
        k(q + kRowsPerBlock * E),
        v(k + kTile * (E + 1)),
        acc(v + kTile * Ev),
        end(acc + kRowsPerBlock * Ev) {}
};
struct GradQLayout {  // the block's queries and their dout, a tile of keys and values, dq
  int64_t q, g, k, v, acc, end;
  __host__ __device__ GradQLayout(int64_t E, int64_t Ev)
      : q(0),
        g(q + kRowsPerBlock * E),
        k(g + kRowsPerBlock * Ev),
        v(k + kTile * (E + 1)),
        acc(v + kTile * (Ev + 1)),
        end(acc + kRowsPerBlock * E) {}
};
struct GradKVLayout {  // the block's keys and values, a tile of queries and their dout, dk, dv
  int64_t k, v, q, g, dk, dv, end;
  __host__ __device__ GradKVLayout(int64_t E, int64_t Ev)
      : k(0),
        v(k + kRowsPerBlock * E),
        q(v + kRowsPerBlock * Ev),
        g(q + kTile * (E + 1)),
        dk(g + kTile * (Ev + 1)),
        dv(dk + kRowsPerBlock * E),
        end(dv + kRowsPerBlock * Ev) {}
};

// ---- forward: a block per (query tile, batch-head)

template <class S>
__global__ void __launch_bounds__(kWarps* kLanes) attention_forward_kernel(Params<S> p) {
  using T = compute_type_t<S>;
  extern __shared__ __align__(16) unsigned char shared_bytes[];
  const int64_t E = p.features, Ev = p.value_features;
  const ForwardLayout at(E, Ev);
  T* const base = reinterpret_cast<T*>(shared_bytes);
  T *sq = base + at.q, *sk = base + at.k, *sv = base + at.v, *acc = base + at.acc;
  const int64_t bh = p.head_offset + blockIdx.y, row0 = int64_t{blockIdx.x} * kRowsPerBlock;
  const int lane = threadIdx.x % kLanes, warp = threadIdx.x / kLanes;
  const S* k = p.k + p.k_layout.row(bh, 0);
  const S* v = p.v + p.v_layout.row(bh, 0);
  stage_rows(sq, p.q + p.q_layout.row(bh, 0), p.q_layout.row_stride, row0, kRowsPerBlock, p.length,
             E, E);
  zero_shared(acc, kRowsPerBlock * Ev);

  T m[kRowsPerWarp], l[kRowsPerWarp];
  for (int rr = 0; rr < kRowsPerWarp; ++rr) m[rr] = minus_infinity<T>(), l[rr] = 0;
  const int64_t rows_end = min(p.length, row0 + kRowsPerBlock);
  const int64_t key_end = p.causal ? min(p.keys, rows_end) : p.keys;
  for (int64_t j0 = 0; j0 < key_end; j0 += kTile) {
    __syncthreads();  // the previous tile is read
    stage_rows(sk, k, p.k_layout.row_stride, j0, kTile, p.keys, E, E + 1);
    stage_rows(sv, v, p.v_layout.row_stride, j0, kTile, p.keys, Ev, Ev);
    __syncthreads();
    // The running max and sum stay in registers only with the loop written out here (in a
    // lambda that captures them, the float64 kernel spills them).
#pragma unroll
    for (int rr = 0; rr < kRowsPerWarp; ++rr) {
      const int r = warp * kRowsPerWarp + rr;
      const int64_t i = row0 + r;
      if (i >= p.length) break;  // the same for the whole warp
      const bool seen = visible(i, j0 + lane, p.keys, p.causal);
      const T s = seen ? p.scale * dot(sq + r * E, sk + lane * (E + 1), E) : minus_infinity<T>();
      const T m_new = max(m[rr], warp_max(s));
      // m_new is -inf only while the row has seen no key at all.
      const T keep = m[rr] == minus_infinity<T>() ? T(0) : exp(m[rr] - m_new);
      const T weight = seen ? exp(s - m_new) : T(0);
      l[rr] = l[rr] * keep + warp_sum(weight);
      m[rr] = m_new;
      const T dropped = seen ? weight * dropout_factor(p, bh, i, j0 + lane) : T(0);
      accumulate(acc + r * Ev, keep, dropped, sv, Ev, Ev);
    }
  }
  __syncthreads();  // with no tile at all, the zeroed accumulators are another thread's writes
  for_warp_rows(row0, p.length, [&](int rr, int r, int64_t i) {
    const int64_t row = bh * p.length + i;
    S* out = p.out_w + p.out_layout.row(bh, i);
    for (int64_t d = lane; d < Ev; d += kLanes)
      out[d] = static_cast<S>(l[rr] > 0 ? acc[r * Ev + d] / l[rr] : T(0));
    if (lane == 0) p.lse_w[row] = l[rr] > 0 ? m[rr] + log(l[rr]) : minus_infinity<T>();
  });
}

// ---- backward

// D_i = dout_i . out_i, a warp per row.
template <class S>
__global__ void attention_delta_kernel(Params<S> p, int64_t rows) {
  using T = compute_type_t<S>;
  const int lane = threadIdx.x % kLanes;
  const int64_t warps = int64_t{gridDim.x} * (blockDim.x / kLanes);
  for (int64_t row = int64_t{blockIdx.x} * (blockDim.x / kLanes) + threadIdx.x / kLanes; row < rows;
       row += warps) {
    const int64_t bh = row / p.length, i = row % p.length;
    const S* g = p.grad_out + p.grad_out_layout.row(bh, i);
    const S* o = p.out + p.out_layout.row(bh, i);
    T sum = 0;
    for (int64_t d = lane; d < p.value_features; d += kLanes)
      sum += static_cast<T>(g[d]) * static_cast<T>(o[d]);
    sum = warp_sum(sum);
    if (lane == 0) p.delta_w[row] = sum;
  }
}

// dq_i = scale sum_j ds_ij k_j over the keys, a block per (query tile, batch-head).
template <class S>
__global__ void __launch_bounds__(kWarps* kLanes) attention_grad_q_kernel(Params<S> p) {
  using T = compute_type_t<S>;
  extern __shared__ __align__(16) unsigned char shared_bytes[];
  const int64_t E = p.features, Ev = p.value_features;
  const GradQLayout at(E, Ev);
  T* const base = reinterpret_cast<T*>(shared_bytes);
  T *sq = base + at.q, *sg = base + at.g, *sk = base + at.k, *sv = base + at.v,
    *acc = base + at.acc;
  const int64_t bh = p.head_offset + blockIdx.y, row0 = int64_t{blockIdx.x} * kRowsPerBlock;
  const int lane = threadIdx.x % kLanes;
  const S* k = p.k + p.k_layout.row(bh, 0);
  const S* v = p.v + p.v_layout.row(bh, 0);
  stage_rows(sq, p.q + p.q_layout.row(bh, 0), p.q_layout.row_stride, row0, kRowsPerBlock, p.length,
             E, E);
  stage_rows(sg, p.grad_out + p.grad_out_layout.row(bh, 0), p.grad_out_layout.row_stride, row0,
             kRowsPerBlock, p.length, Ev, Ev);
  zero_shared(acc, kRowsPerBlock * E);
  const int64_t rows_end = min(p.length, row0 + kRowsPerBlock);
  const int64_t key_end = p.causal ? min(p.keys, rows_end) : p.keys;
  for (int64_t j0 = 0; j0 < key_end; j0 += kTile) {
    __syncthreads();
    stage_rows(sk, k, p.k_layout.row_stride, j0, kTile, p.keys, E, E + 1);
    stage_rows(sv, v, p.v_layout.row_stride, j0, kTile, p.keys, Ev, Ev + 1);
    __syncthreads();
    for_warp_rows(row0, p.length, [&](int, int r, int64_t i) {
      const int64_t row = bh * p.length + i;
      T ds = 0;
      if (visible(i, j0 + lane, p.keys, p.causal)) {
        const T prob = exp(p.scale * dot(sq + r * E, sk + lane * (E + 1), E) - p.lse[row]);
        const T dp =
            dropout_factor(p, bh, i, j0 + lane) * dot(sg + r * Ev, sv + lane * (Ev + 1), Ev);
        ds = prob * (dp - p.delta[row]);
      }
      accumulate(acc + r * E, T(1), ds, sk, E + 1, E);
    });
  }
  __syncthreads();
  for_warp_rows(row0, p.length, [&](int, int r, int64_t i) {
    store_row(p.grad_q + p.grad_q_layout.row(bh, i), acc + r * E, E, p.scale);
  });
}

// dv_j = sum_i p_ij m_ij dout_i and dk_j = scale sum_i ds_ij q_i over the queries, a block per
// (key tile, batch-head).
template <class S>
__global__ void __launch_bounds__(kWarps* kLanes) attention_grad_kv_kernel(Params<S> p) {
  using T = compute_type_t<S>;
  extern __shared__ __align__(16) unsigned char shared_bytes[];
  const int64_t E = p.features, Ev = p.value_features;
  const GradKVLayout at(E, Ev);
  T* const base = reinterpret_cast<T*>(shared_bytes);
  T *sk = base + at.k, *sv = base + at.v, *sq = base + at.q, *sg = base + at.g, *dk = base + at.dk,
    *dv = base + at.dv;
  const int64_t bh = p.head_offset + blockIdx.y, key0 = int64_t{blockIdx.x} * kRowsPerBlock;
  const int lane = threadIdx.x % kLanes;
  const S* q = p.q + p.q_layout.row(bh, 0);
  const S* g = p.grad_out + p.grad_out_layout.row(bh, 0);
  stage_rows(sk, p.k + p.k_layout.row(bh, 0), p.k_layout.row_stride, key0, kRowsPerBlock, p.keys, E,
             E);
  stage_rows(sv, p.v + p.v_layout.row(bh, 0), p.v_layout.row_stride, key0, kRowsPerBlock, p.keys,
             Ev, Ev);
  zero_shared(dk, kRowsPerBlock * E);
  zero_shared(dv, kRowsPerBlock * Ev);
  // Causal: no query before the block's first key sees any of its keys.
  const int64_t query_begin = p.causal ? key0 / kTile * kTile : 0;
  for (int64_t i0 = query_begin; i0 < p.length; i0 += kTile) {
    __syncthreads();
    stage_rows(sq, q, p.q_layout.row_stride, i0, kTile, p.length, E, E + 1);
    stage_rows(sg, g, p.grad_out_layout.row_stride, i0, kTile, p.length, Ev, Ev + 1);
    __syncthreads();
    const int64_t i = i0 + lane;
    const bool row_in = i < p.length;
    const int64_t row = bh * p.length + i;
    const T lse = row_in ? p.lse[row] : T(0), delta = row_in ? p.delta[row] : T(0);
    for_warp_rows(key0, p.keys, [&](int, int r, int64_t j) {
      T dropped = 0, ds = 0;
      if (row_in && visible(i, j, p.keys, p.causal)) {
        const T prob = exp(p.scale * dot(sq + lane * (E + 1), sk + r * E, E) - lse);
        const T mask = dropout_factor(p, bh, i, j);
        dropped = prob * mask;
        ds = prob * (mask * dot(sg + lane * (Ev + 1), sv + r * Ev, Ev) - delta);
      }
      accumulate(dv + r * Ev, T(1), dropped, sg, Ev + 1, Ev);
      accumulate(dk + r * E, T(1), ds, sq, E + 1, E);
    });
  }
  __syncthreads();
  for_warp_rows(key0, p.keys, [&](int, int r, int64_t j) {
    store_row(p.grad_k + p.grad_k_layout.row(bh, j), dk + r * E, E, p.scale);
    store_row(p.grad_v + p.grad_v_layout.row(bh, j), dv + r * Ev, Ev, T(1));
  });
}

// ---- launches

// The shared memory a block may take on `device` (beyond the default 48 KB by opt-in: 227 KB
// on an H100, 99 KB on an RTX 30 or 40, 64 KB on Turing), asked of the GPU once.
int64_t shared_memory_limit(Device device) {
  static std::mutex mutex;
  static std::map<int, int64_t> limits;
  const std::lock_guard<std::mutex> lock(mutex);
  const auto known = limits.find(device.index());
  if (known != limits.end()) return known->second;
  int limit = 0;
  GRAFT_CUDA_CHECK(
      cudaDeviceGetAttribute(&limit, cudaDevAttrMaxSharedMemoryPerBlockOptin, device.index()));
  return limits[device.index()] = limit;
}

// Whether the kernels take head dims (E, Ev) in `dtype` on `device`, forward and, when asked,
// backward: up to kCudaAttentionMaxFeatures, and tiles within the block's shared memory. The
// op layer asks before it picks the fused path, so that a backward that would not fit never
// follows a forward that did (float64 at head dim 128 needs 129 KB for the key tiles' kernel).
bool attention_fits_cuda(Device device, DType dtype, int64_t features, int64_t value_features,
                         bool with_backward) {
  if (features > kCudaAttentionMaxFeatures || value_features > kCudaAttentionMaxFeatures)
    return false;
  int64_t elements = ForwardLayout(features, value_features).end;
  if (with_backward)
    elements = std::max({elements, GradQLayout(features, value_features).end,
                         GradKVLayout(features, value_features).end});
  const int64_t element_bytes = dtype == kFloat64 ? 8 : 4;  // 16-bit tiles are float
  return elements * element_bytes <= shared_memory_limit(device);
}

// Lets `kernel` take `bytes` of dynamic shared memory (beyond the default 48 KB needs an
// opt-in), or says which head dims are too large for this GPU. The grant only grows, once per
// device and kernel for each larger size: set to each call's own size, a call with smaller
// head dims on another host thread could lower it between this call's grant and its launch.
template <class Kernel>
void allow_shared(Kernel kernel, int64_t bytes, const AttentionArgs& a) {
  static std::mutex mutex;
  static std::map<std::pair<int, const void*>, int64_t> granted;
  const std::lock_guard<std::mutex> lock(mutex);
  int64_t& grant = granted[{a.device.index(), reinterpret_cast<const void*>(kernel)}];
  if (bytes <= grant) return;
  const int64_t limit = shared_memory_limit(a.device);
  GRAFT_CHECK(bytes <= limit, "scaled_dot_product_attention on ", a.device, ": head dims ",
              a.features, " (query, key) and ", a.value_features, " (value) in ", a.dtype, " need ",
              bytes, " bytes of shared memory per block, more than this GPU's ", limit);
  GRAFT_CUDA_CHECK(cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize,
                                        static_cast<int>(bytes)));
  grant = bytes;
}

template <class S>
Params<S> params_of(const AttentionArgs& a) {
  Params<S> p{};
  p.q = static_cast<const S*>(a.q);
  p.k = static_cast<const S*>(a.k);
  p.v = static_cast<const S*>(a.v);
  p.q_layout = a.q_layout;
  p.k_layout = a.k_layout;
  p.v_layout = a.v_layout;
  p.out_layout = a.out_layout;
  p.length = a.length;
  p.keys = a.keys;
  p.features = a.features;
  p.value_features = a.value_features;
  p.scale = static_cast<typename Params<S>::T>(a.scale);
  p.causal = a.causal;
  p.keep_scale = static_cast<typename Params<S>::T>(attention_keep_scale(a.dropout_p));
  p.keep_threshold = attention_keep_threshold(a.dropout_p);
  p.dropout_rng = a.dropout_rng;
  return p;
}

// Launches `kernel` over every (tile of kRowsPerBlock rows, batch-head), at most 65535
// batch-heads a launch.
template <class S, class Kernel>
void launch_tiles(Kernel kernel, Params<S> p, int64_t rows, int64_t batch_heads, int64_t bytes) {
  constexpr int64_t kMaxGridRows = 65535;
  const auto tiles = static_cast<unsigned>((rows + kRowsPerBlock - 1) / kRowsPerBlock);
  if (tiles == 0) return;  // no rows: a grid of no blocks is not a launch CUDA takes
  for (int64_t first = 0; first < batch_heads; first += kMaxGridRows) {
    p.head_offset = first;
    const auto heads = static_cast<unsigned>(std::min(kMaxGridRows, batch_heads - first));
    kernel<<<dim3(tiles, heads), kWarps * kLanes, static_cast<size_t>(bytes)>>>(p);
    GRAFT_CUDA_CHECK_LAUNCH();
  }
}

void check_sizes(const AttentionArgs& a) {
  GRAFT_CHECK(
      a.features <= kCudaAttentionMaxFeatures && a.value_features <= kCudaAttentionMaxFeatures,
      "scaled_dot_product_attention's CUDA kernel takes head dims up to ",
      kCudaAttentionMaxFeatures, ", got ", a.features, " and ", a.value_features,
      "; the op layer should have taken the math path");
}

template <class S>
void forward(const AttentionArgs& a) {
  using T = compute_type_t<S>;
  check_sizes(a);
  DeviceGuard guard(a.device);
  Params<S> p = params_of<S>(a);
  p.out_w = static_cast<S*>(a.out);
  p.lse_w = static_cast<T*>(a.lse);
  const int64_t bytes = ForwardLayout(a.features, a.value_features).end * int64_t{sizeof(T)};
  allow_shared(attention_forward_kernel<S>, bytes, a);
  launch_tiles(attention_forward_kernel<S>, p, a.length, a.batch_heads, bytes);
}

template <class S>
void backward(const AttentionBackwardArgs& b) {
  using T = compute_type_t<S>;
  const AttentionArgs& a = b.forward;
  check_sizes(a);
  DeviceGuard guard(a.device);
  const int64_t rows = a.batch_heads * a.length;
  const Tensor delta =
      empty({std::max<int64_t>(rows, 1)}, TensorOptions(dtype_of_v<T>).device(a.device));
  Params<S> p = params_of<S>(a);
  p.out = static_cast<const S*>(a.out);
  p.lse = static_cast<const T*>(a.lse);
  p.grad_out = static_cast<const S*>(b.grad_out);
  p.delta_w = static_cast<T*>(delta.data_ptr());
  p.delta = p.delta_w;
  p.grad_q = static_cast<S*>(b.grad_q);
  p.grad_k = static_cast<S*>(b.grad_k);
  p.grad_v = static_cast<S*>(b.grad_v);
  p.grad_out_layout = b.grad_out_layout;
  p.grad_q_layout = b.grad_q_layout;
  p.grad_k_layout = b.grad_k_layout;
  p.grad_v_layout = b.grad_v_layout;
  if (rows > 0) {
    attention_delta_kernel<S><<<grid_for(rows * kLanes), kBlockSize>>>(p, rows);
    GRAFT_CUDA_CHECK_LAUNCH();
    const int64_t q_bytes = GradQLayout(a.features, a.value_features).end * int64_t{sizeof(T)};
    allow_shared(attention_grad_q_kernel<S>, q_bytes, a);
    launch_tiles(attention_grad_q_kernel<S>, p, a.length, a.batch_heads, q_bytes);
  }
  if (a.batch_heads * a.keys > 0) {
    const int64_t kv_bytes = GradKVLayout(a.features, a.value_features).end * int64_t{sizeof(T)};
    allow_shared(attention_grad_kv_kernel<S>, kv_bytes, a);
    launch_tiles(attention_grad_kv_kernel<S>, p, a.keys, a.batch_heads, kv_bytes);
  }
}

void attention_cuda(const AttentionArgs& args) {
  visit_floating_or_16_bit_dtype("scaled_dot_product_attention", args.dtype,
                                 [&](auto tag) { forward<decltype(tag)>(args); });
}

void attention_backward_cuda(const AttentionBackwardArgs& args) {
  visit_floating_or_16_bit_dtype("scaled_dot_product_attention_backward", args.forward.dtype,
                                 [&](auto tag) { backward<decltype(tag)>(args); });
}

}  // namespace

void register_attention(KernelTable& table) {
  table.attention[static_cast<int>(kCUDA)] = attention_cuda;
  table.attention_backward[static_cast<int>(kCUDA)] = attention_backward_cuda;
  table.attention_fits[static_cast<int>(kCUDA)] = attention_fits_cuda;
}

}  // namespace graft::kernels::cuda
