// The hand-written CUDA matmul kernels: a progression, after Simon Boehm's "How to optimize a
// CUDA matmul kernel for cuBLAS-like performance" worklog, each step kept as a variant that
// can be chosen at run time (graft::cuda::set_matmul_variant) to measure what it buys.
//
// Every variant computes, for each matrix of the batch, the plain loop
//   for i in [0, m): for j in [0, n):
//     out[i][j] = sum over p in [0, k) of a[i][p] * b[p][j]
// with a[i][p] at a + i * a.row_stride + p * a.col_stride (b alike) and out contiguous.
//
//  - naive: one thread per out element, the threads of a warp along m. The warp's 32 reads of
//    a (one per row) and 32 writes of out are 32 separate memory transactions.
//  - coalesced: the same with the warp along n: a warp reads one element of a (a broadcast)
//    and 32 adjacent elements of b, and writes 32 adjacent outputs, one transaction each.
//  - smem_tiled: a 32x32 block of out per thread block; a and b pass through shared memory in
//    32x32 tiles, so each global element is read once per block instead of once per thread
//    (32x fewer global reads).
//  - register_tiled_2d: each thread computes a TMxTN block of out from TM values of a and TN
//    of b held in registers: TM + TN shared-memory reads feed TM * TN multiply-adds, where
//    smem_tiled needed two reads per multiply-add. Block tiles grow to BMxBN = 128x128.
//  - vectorized: register_tiled_2d loading the tiles with float4 (one 16-byte load for four
//    elements) where the operand is contiguous along the walked dim and 16-byte aligned.
//  - warp_tiled: each warp owns a WMxWN region of the block tile, which it covers in
//    WMITER x WNITER sub-tiles, so that the lanes of a warp read neighbouring shared-memory
//    words (no bank conflicts, broadcasts instead) and the warp's working set stays small.
//
// smem_tiled, register_tiled_2d, vectorized and warp_tiled are one kernel, matmul_kernel_tiled,
// over a TileConfig: smem_tiled is the degenerate 1x1 thread tile, register_tiled_2d the warp
// tiling in which each warp is a 16x128 strip (two rows of 16 threads, as a 256-thread block
// laid out row by row gives), and warp_tiled the square warp tiles of the worklog's kernel 10.
// Shapes are in the comments as (rows, cols).
//
// Any m, n, k: tile loads outside the matrix store 0 (so the product loop has no guards) and
// stores are guarded. Any strides: tiles are loaded through both strides, the block's threads
// walking along whichever dim is contiguous so that a warp reads adjacent addresses. Batches:
// each kernel loops over (batch, row tile, col tile) with grid strides, so a grid capped at
// CUDA's limits (65535 in y and z) covers any batch, and batch offsets follow each operand's
// own batch strides (0 where it is broadcast). Integers accumulate in their own type, wrapping
// as the CPU's Eigen GEMM does. float16 and bfloat16 (the plain SIMT half kernels, for any
// architecture) are widened to float as they are loaded into shared memory or registers, and
// accumulate and compute in float (compute_type_t); only the stores round to 16 bits.
#pragma once

#include <cstdint>
#include <type_traits>

#include "graft/core/half.h"
#include "graft/core/shape.h"

namespace graft::kernels::cuda::matmul {

inline constexpr int kWarpSize = 32;
// naive and coalesced: one thread per element of a kWarpSize x kWarpSize tile of out.
inline constexpr int kPerElementThreads = kWarpSize * kWarpSize;

// One operand as the kernels read it: the MatmulOperand strides, plus the launcher's choice of
// walk for tile loads (along cols when col_stride is the smaller) and whether float4 loads
// are allowed (contiguous along the walk, 16-byte aligned at every tile row).
struct OperandLayout {
  int64_t row_stride = 0, col_stride = 0;
  int64_t batch_strides[kMaxDims] = {};
  bool walk_cols = true;
  bool vector_loads = false;
};

template <class T>
struct GemmParams {
  const T* a = nullptr;
  const T* b = nullptr;
  T* out = nullptr;  // contiguous (batches, m, n)
  int64_t m = 0, n = 0, k = 0, batches = 0;
  int batch_ndim = 0;
  int64_t batch_sizes[kMaxDims] = {};
  OperandLayout a_layout, b_layout;

  // Matrix `batch` (row-major over the batch dims) of a and of b.
  __device__ void batch_matrices(int64_t batch, const T*& a_matrix, const T*& b_matrix) const {
    int64_t a_offset = 0, b_offset = 0;
    for (int d = batch_ndim - 1; d >= 0; --d) {
      const int64_t index = batch % batch_sizes[d];
      a_offset += index * a_layout.batch_strides[d];
      b_offset += index * b_layout.batch_strides[d];
      batch /= batch_sizes[d];
    }
    a_matrix = a + a_offset;
    b_matrix = b + b_offset;
  }
};

// Calls body(batch, row0, col0) for each (bm, bn) tile of out this block owns: grid-stride
// loops over batches (z), row tiles (y) and col tiles (x). Uniform across the block, so body
// may synchronize.
template <class Body>
__device__ void for_each_block_tile(int64_t batches, int64_t m, int64_t n, int bm, int bn,
                                    const Body& body) {
  for (int64_t batch = blockIdx.z; batch < batches; batch += gridDim.z)
    for (int64_t row0 = int64_t{blockIdx.y} * bm; row0 < m; row0 += int64_t{gridDim.y} * bm)
      for (int64_t col0 = int64_t{blockIdx.x} * bn; col0 < n; col0 += int64_t{gridDim.x} * bn)
        body(batch, row0, col0);
}

// ---- kernels

// naive (kWarpAlongN false) and coalesced (true): a block of 32x32 threads per 32x32 tile of
// out, one thread per element, threadIdx.x along m or along n:
//   out[i][j] = sum over p of a[i][p] * b[p][j]
template <class T, bool kWarpAlongN>
__global__ void __launch_bounds__(kPerElementThreads)
    matmul_kernel_per_element(const GemmParams<T> p) {
  const int along_m = kWarpAlongN ? threadIdx.y : threadIdx.x;
  const int along_n = kWarpAlongN ? threadIdx.x : threadIdx.y;
  const OperandLayout &la = p.a_layout, &lb = p.b_layout;
  for_each_block_tile(p.batches, p.m, p.n, kWarpSize, kWarpSize,
                      [&](int64_t batch, int64_t row0, int64_t col0) {
                        const int64_t i = row0 + along_m, j = col0 + along_n;
                        if (i >= p.m || j >= p.n) return;
                        const T *a, *b;
                        p.batch_matrices(batch, a, b);
                        using C = compute_type_t<T>;
                        C sum = 0;
                        for (int64_t q = 0; q < p.k; ++q)
                          sum += static_cast<C>(a[i * la.row_stride + q * la.col_stride]) *
                                 static_cast<C>(b[q * lb.row_stride + j * lb.col_stride]);
                        p.out[(batch * p.m + i) * p.n + j] = static_cast<T>(sum);
                      });
}

// The shape of a tiled kernel's work. Block tile (BM, BN) of out, consumed BK along k at a
// time; warp tile (WM, WN) split into WMITER x WNITER sub-tiles of (WSUBM, WSUBN); thread tile
// (TM, TN) in each sub-tile. kPad extra words per shared-memory row break the bank pattern of
// the tile stores (a multiple of 4 keeps float4-aligned rows).
template <int BM, int BN, int BK, int WM, int WN, int WNITER, int TM, int TN, int kPad>
struct TileConfig {
  static constexpr int bm = BM, bn = BN, bk = BK, wm = WM, wn = WN, wniter = WNITER;
  static constexpr int tm = TM, tn = TN, pad = kPad;
  static constexpr int threads = (BM / WM) * (BN / WN) * kWarpSize;
  static constexpr int wmiter = (WM * WN) / (kWarpSize * TM * TN * WNITER);
  static constexpr int wsubm = WM / wmiter, wsubn = WN / WNITER;
  static_assert(BM % WM == 0 && BN % WN == 0 && WN % WNITER == 0 && wmiter >= 1);
  static_assert(WM % wmiter == 0 && wsubm % TM == 0 && wsubn % TN == 0);
  static_assert((wsubm / TM) * (wsubn / TN) == kWarpSize, "a sub-tile is one thread tile a lane");
  static_assert(BM % 4 == 0 && BN % 4 == 0 && BK % 4 == 0, "float4 chunks must tile the tiles");
};

// Copies the (R, C) tile at (row0, col0) of a (rows, cols) matrix into shared memory, element
// (r, c) to tile[r * kRowStep + c * kColStep] converted to the tile's type, 0 outside the
// matrix:
//   for r in [0, R): for c in [0, C): tile(r, c) = in bounds ? matrix(row0 + r, col0 + c) : 0
// Consecutive threads take consecutive elements along the walked dim (coalesced when it is the
// contiguous one). With vector loads, each thread takes 4 consecutive elements at once, as a
// float4 where all 4 are inside the matrix and one by one at the edges.
template <int R, int C, int kRowStep, int kColStep, int kThreads, bool kVector, class T, class Tile>
__device__ void load_tile(Tile* tile, const T* matrix, const OperandLayout& layout, int64_t row0,
                          int64_t col0, int64_t rows, int64_t cols) {
  const bool along_cols = layout.walk_cols;
  auto load = [&](int r, int c) {
    const int64_t i = row0 + r, j = col0 + c;
    tile[r * kRowStep + c * kColStep] =
        i < rows && j < cols
            ? static_cast<Tile>(matrix[i * layout.row_stride + j * layout.col_stride])
            : Tile(0);
  };
  constexpr bool kFloat4 = kVector && std::is_same_v<T, float>;
  if constexpr (kFloat4) {
    if (layout.vector_loads) {
#pragma unroll
      for (int step = 0; step < (R * C / 4 + kThreads - 1) / kThreads; ++step) {
        const int q = step * kThreads + threadIdx.x;
        if (q >= R * C / 4) break;
        const int r = along_cols ? q / (C / 4) : q % (R / 4) * 4;
        const int c = along_cols ? q % (C / 4) * 4 : q / (R / 4);
        const int dr = along_cols ? 0 : 1, dc = along_cols ? 1 : 0;
        const int64_t last_i = row0 + r + 3 * dr, last_j = col0 + c + 3 * dc;
        if (last_i < rows && last_j < cols) {
          const float4 v = *reinterpret_cast<const float4*>(
              matrix + (row0 + r) * layout.row_stride + (col0 + c) * layout.col_stride);
          tile[r * kRowStep + c * kColStep] = v.x;
          tile[(r + dr) * kRowStep + (c + dc) * kColStep] = v.y;
          tile[(r + 2 * dr) * kRowStep + (c + 2 * dc) * kColStep] = v.z;
          tile[(r + 3 * dr) * kRowStep + (c + 3 * dc) * kColStep] = v.w;
        } else {
          for (int e = 0; e < 4; ++e) load(r + e * dr, c + e * dc);
        }
      }
      return;
    }
  }
  // In the vectorized and warp_tiled kernels (kVector) this walk stays rolled: unrolled, its
  // addresses, hoisted out of the k loop, push warp_tiled's 128 accumulators out of
  // registers (ptxas: 255 registers and ~700 bytes of spills for float32 and int32).
  constexpr int kSteps = (R * C + kThreads - 1) / kThreads;
#pragma unroll(kVector ? 1 : kSteps)
  for (int step = 0; step < kSteps; ++step) {
    const int e = step * kThreads + threadIdx.x;
    if (e >= R * C) break;
    if (along_cols)
      load(e / C, e % C);
    else
      load(e % R, e / R);
  }
}

// smem_tiled, register_tiled_2d, vectorized and warp_tiled (see the top of the file), with
// blockDim.x == Cfg::threads. Per block tile of out at (row0, col0), per BK step k0:
//   a_tile (BK, BM) = a[row0 : row0 + BM, k0 : k0 + BK]^T   (transposed: the TM values a
//   b_tile (BK, BN) = b[k0 : k0 + BK, col0 : col0 + BN]      thread reads are adjacent)
//   for kk in [0, BK): for each (i, j) of the thread's tiles:
//     acc[i][j] += a_tile[kk][i] * b_tile[kk][j]
// The tiles, the registers and the accumulators are of the compute type C.
template <class T, class Cfg, bool kVector>
__global__ void __launch_bounds__(Cfg::threads) matmul_kernel_tiled(const GemmParams<T> p) {
  using C = compute_type_t<T>;
  constexpr int kAStride = Cfg::bm + Cfg::pad, kBStride = Cfg::bn + Cfg::pad;
  constexpr int kRowsM = Cfg::wmiter * Cfg::tm, kColsN = Cfg::wniter * Cfg::tn;
  __shared__ __align__(16) C a_tile[Cfg::bk * kAStride];
  __shared__ __align__(16) C b_tile[Cfg::bk * kBStride];

  // This warp's (WM, WN) tile within the block tile, and this lane's thread tile within each
  // (WSUBM, WSUBN) sub-tile.
  const int warp = threadIdx.x / kWarpSize, lane = threadIdx.x % kWarpSize;
  const int warp_row = warp / (Cfg::bn / Cfg::wn), warp_col = warp % (Cfg::bn / Cfg::wn);
  const int lane_row = lane / (Cfg::wsubn / Cfg::tn), lane_col = lane % (Cfg::wsubn / Cfg::tn);
  const int m_base = warp_row * Cfg::wm + lane_row * Cfg::tm;
  const int n_base = warp_col * Cfg::wn + lane_col * Cfg::tn;

  for_each_block_tile(
      p.batches, p.m, p.n, Cfg::bm, Cfg::bn, [&](int64_t batch, int64_t row0, int64_t col0) {
        const T *a, *b;
        p.batch_matrices(batch, a, b);
        C acc[kRowsM][kColsN] = {};
        for (int64_t k0 = 0; k0 < p.k; k0 += Cfg::bk) {
          load_tile<Cfg::bm, Cfg::bk, 1, kAStride, Cfg::threads, kVector>(a_tile, a, p.a_layout,
                                                                          row0, k0, p.m, p.k);
          load_tile<Cfg::bk, Cfg::bn, kBStride, 1, Cfg::threads, kVector>(b_tile, b, p.b_layout, k0,
                                                                          col0, p.k, p.n);
          __syncthreads();
#pragma unroll
          for (int kk = 0; kk < Cfg::bk; ++kk) {
            C reg_m[kRowsM], reg_n[kColsN];
#pragma unroll
            for (int wi = 0; wi < Cfg::wmiter; ++wi)
#pragma unroll
              for (int i = 0; i < Cfg::tm; ++i)
                reg_m[wi * Cfg::tm + i] = a_tile[kk * kAStride + m_base + wi * Cfg::wsubm + i];
#pragma unroll
            for (int wj = 0; wj < Cfg::wniter; ++wj)
#pragma unroll
              for (int j = 0; j < Cfg::tn; ++j)
                reg_n[wj * Cfg::tn + j] = b_tile[kk * kBStride + n_base + wj * Cfg::wsubn + j];
#pragma unroll
            for (int i = 0; i < kRowsM; ++i)
#pragma unroll
              for (int j = 0; j < kColsN; ++j) acc[i][j] += reg_m[i] * reg_n[j];
          }
          __syncthreads();  // the tiles are overwritten by the next step
        }
        T* out = p.out + batch * p.m * p.n;
#pragma unroll
        for (int i = 0; i < kRowsM; ++i) {
          const int64_t row = row0 + m_base + i / Cfg::tm * Cfg::wsubm + i % Cfg::tm;
#pragma unroll
          for (int j = 0; j < kColsN; ++j) {
            const int64_t col = col0 + n_base + j / Cfg::tn * Cfg::wsubn + j % Cfg::tn;
            if (row < p.m && col < p.n) out[row * p.n + col] = static_cast<T>(acc[i][j]);
          }
        }
      });
}

}  // namespace graft::kernels::cuda::matmul
