// The tensor-core step of the matmul progression (variant `tensor_core`): float16 and
// bfloat16 products on the tensor cores through mma.sync, float32 accumulation, one rounding
// to 16 bits at the store. The SIMT variants (matmul_variants.cuh) do one multiply-add per
// thread per instruction; one mma.sync.m16n8k16 does 2048 of them per warp.
//
// The pieces, in the order the kernel uses them:
//  - cp.async: global -> shared copies of 16 bytes that bypass the registers. The block keeps
//    a ring of kStages (a, b) tile pairs and issues the copies of k-tile t + kStages - 1 before
//    computing on k-tile t, so memory latency hides behind the tensor cores. A 16-byte chunk
//    that crosses the matrix's edge copies its in-bounds bytes and zero-fills the rest (the
//    instruction's src-size operand), so the product loop needs no guards.
//  - Tiles stay in global memory's orientation: an operand contiguous along k is stored
//    (rows of m or n, k along the row), one contiguous along m or n is stored k-major. Either
//    way the copies are plain 16-byte chunks of contiguous memory; no layout needs a
//    transposing copy through registers.
//  - ldmatrix: the fragments mma.sync takes are loaded from shared memory four 8x8 matrices
//    at a time, each lane naming one 16-byte row. Its `.trans` form transposes on the way, so
//    a k-major tile yields exactly the fragments a k-contiguous one does.
//  - swizzle: ldmatrix reads eight 16-byte rows at once, and they must fall into eight
//    different 16-byte slots of shared memory's 128-byte bank line or the read is replayed.
//    Tile rows are 64 bytes (k-contiguous, BK 32) or 256 bytes and more (k-major), so eight
//    consecutive rows would land in two slots or one. Chunk c of row r is stored at chunk
//    c ^ f(r) instead, f spreading the eight rows over the eight slots (swizzled()).
//  - mma.sync.m16n8k16: a warp multiplies a 16x16 piece of a by a 16x8 piece of b into a
//    16x8 piece of float accumulators. Each warp owns a (WM, WN) = 64x64 tile of out, 4 x 8
//    such pieces, 128 float accumulators per lane; the block's 8 warps cover 128x256.
//  - Block tiles are visited in groups of kGroupRows row tiles, column by column within a
//    group, so the blocks resident at one time share rows of a and columns of b in L2.
//
// Operands: any m, n, k, batches and broadcast batch dims, read through their strides, as long
// as each operand is contiguous along one dim and every other stride (the leading dim, the
// batch strides) and the data pointer keep 16-byte alignment: cp.async moves aligned 16-byte
// chunks. The launcher (matmul.cu) sends other layouts, other dtypes and GPUs older than
// sm_80 (no bfloat16 mma, no cp.async) to the SIMT warp_tiled kernel.
#pragma once

#include <algorithm>
#include <climits>
#include <cstdint>
#include <string>
#include <type_traits>

#include "graft/core/half.h"
#include "graft/kernels/cuda/common.cuh"
#include "graft/kernels/cuda/matmul_variants.cuh"
#include "graft/kernels/cuda/vector_access.cuh"

namespace graft::kernels::cuda::matmul {

// Block tile (BM, BN), consumed BK along k per stage, over kWarpsM x kWarpsN warps and a ring
// of kStages shared-memory stages. kHoisted: a block tile that lies wholly inside the
// matrices copies its whole k-tiles through InteriorCopy (addresses worked out once per block
// tile) instead of copy_tile_async (worked out, bounds checked, for every chunk of every
// k-tile); an experiment cuda_bench times (tensor_core_shapes.cu), not yet the library's.
template <int BM, int BN, int BK, int kWarpsM, int kWarpsN, int kStages, bool kHoisted = false>
struct TensorCoreConfig {
  static constexpr int bm = BM, bn = BN, bk = BK, warps_n = kWarpsN, stages = kStages;
  static constexpr bool hoisted = kHoisted;
  static constexpr int threads = kWarpsM * kWarpsN * kWarpSize;
  static constexpr int wm = BM / kWarpsM, wn = BN / kWarpsN;   // a warp's tile of out
  static constexpr int m_pieces = wm / 16, n_pieces = wn / 8;  // its mma.sync pieces
  static constexpr int a_stage_bytes = BM * BK * 2, b_stage_bytes = BN * BK * 2;
  static constexpr int smem_bytes = kStages * (a_stage_bytes + b_stage_bytes);
  static_assert(BM % kWarpsM == 0 && BN % kWarpsN == 0);
  static_assert(BK % 16 == 0 && wm % 16 == 0 && wn % 16 == 0, "whole ldmatrix.x4 loads");
  static_assert(kStages >= 2);
};

// The shape graft uses: 128x256 block tiles over 2x4 warps of 64x64, BK 32, three stages
// (72 KiB of shared memory), CUTLASS's classic sm_80 shape for 16-bit GEMMs. cuda_bench times
// it beside other shapes (benchmarks/tensor_core_shapes.cu).
using TensorCoreTiles = TensorCoreConfig<128, 256, 32, 2, 4, 3>;

inline constexpr int kGroupRows = 8;

// The byte offset of 16-byte chunk `chunk` of row `row` in a shared-memory tile whose rows
// hold kCols 16-bit elements. kRowsPerLine rows share one 128-byte line (1 when a row fills
// a line or more); XOR-ing the chunk with (row / kRowsPerLine) mod 8 (mod the chunks in a
// row, when fewer) puts any eight consecutive rows' chunk c into eight different slots.
template <int kCols>
struct Swizzle {
  static constexpr int kChunks = kCols / 8;
  static_assert(kCols % 8 == 0 && (kChunks & (kChunks - 1)) == 0, "power-of-two chunk rows");
  static constexpr int kRowsPerLine = kChunks >= 8 ? 1 : 8 / kChunks;
  static constexpr int kMask = (kChunks < 8 ? kChunks : 8) - 1;
  // Rows after which the pattern repeats: row r + kPeriod's chunks go where row r's do, a
  // line further on.
  static constexpr int kPeriod = kRowsPerLine * (kMask + 1);
};
template <int kCols>
__device__ __forceinline__ uint32_t swizzled(int row, int chunk) {
  using S = Swizzle<kCols>;
  return static_cast<uint32_t>(row * kCols * 2 +
                               (chunk ^ ((row / S::kRowsPerLine) & S::kMask)) * 16);
}

// One operand as its tiles are stored: a row-major (rows, cols) matrix of 16-bit values whose
// rows are `lead` elements apart; k runs along the rows or along the columns.
struct StoredMatrix {
  const uint16_t* data = nullptr;
  int64_t lead = 0, rows = 0, cols = 0;
};

// Starts the copy of the (kRows, kCols) window at (row0, col0) of `matrix` into the swizzled
// tile at shared address `tile`, zeros outside the matrix:
//   for r, c: tile(r, c) = in bounds ? matrix(row0 + r, col0 + c) : 0
// Consecutive threads take consecutive chunks of a row: coalesced global reads.
template <int kRows, int kCols, int kThreads>
__device__ __forceinline__ void copy_tile_async(uint32_t tile, const StoredMatrix& matrix,
                                                int64_t row0, int64_t col0) {
  constexpr int kChunks = kCols / 8;
  static_assert(kRows * kChunks % kThreads == 0, "every thread copies the same number of chunks");
#pragma unroll
  for (int step = 0; step < kRows * kChunks / kThreads; ++step) {
    const int q = step * kThreads + static_cast<int>(threadIdx.x);
    const int r = q / kChunks, chunk = q % kChunks;
    const int64_t i = row0 + r, j = col0 + chunk * 8;
    const uint16_t* source = matrix.data;  // read nothing from, when bytes is 0
    int bytes = 0;
    if (i < matrix.rows && j < matrix.cols) {
      source += i * matrix.lead + j;
      bytes = 2 * static_cast<int>(matrix.cols - j < 8 ? matrix.cols - j : 8);
    }
    asm volatile(
        "cp.async.cg.shared.global [%0], [%1], 16, %2;\n" ::"r"(tile + swizzled<kCols>(r, chunk)),
        "l"(source), "r"(bytes));
  }
}

// A thread's copies of a (kRows, kCols) window that lies wholly inside its matrix (no bounds
// to check), set up once for a block tile and then moved along k. Thread t copies chunk
// t % kChunks of rows t / kChunks + s * kRowStep, s < kSteps: one chunk column for all its
// rows, so its sources are `first + s * kRowStep * lead` and, kRowStep being whole periods of
// the swizzle, its slots `slot + s * kRowStep * kCols * 2`: two registers of addresses where
// copy_tile_async recomputes rows, columns, bounds and the swizzle for every chunk.
template <int kRows, int kCols, int kThreads>
struct InteriorCopy {
  static constexpr int kChunks = kCols / 8, kRowStep = kThreads / kChunks;
  static constexpr int kSteps = kRows / kRowStep;
  static_assert(kThreads % kChunks == 0 && kRows % kRowStep == 0, "whole rows a step");
  static_assert(kRowStep % Swizzle<kCols>::kPeriod == 0, "a step keeps the swizzle's phase");
  const uint16_t* first;
  int64_t lead;
  uint32_t slot;

  // The window at (row0, col0) of `matrix`.
  __device__ InteriorCopy(const StoredMatrix& matrix, int64_t row0, int64_t col0)
      : first(matrix.data + (row0 + static_cast<int>(threadIdx.x) / kChunks) * matrix.lead + col0 +
              static_cast<int>(threadIdx.x) % kChunks * 8),
        lead(matrix.lead),
        slot(swizzled<kCols>(static_cast<int>(threadIdx.x) / kChunks,
                             static_cast<int>(threadIdx.x) % kChunks)) {}

  // Starts the copy of the window `offset` elements on into the tile at shared address `tile`.
  __device__ __forceinline__ void copy(uint32_t tile, int64_t offset) const {
    const uint16_t* source = first + offset;
#pragma unroll
    for (int s = 0; s < kSteps; ++s) {
      asm volatile("cp.async.cg.shared.global [%0], [%1], 16;\n" ::"r"(
                       tile + slot + static_cast<uint32_t>(s * kRowStep * kCols * 2)),
                   "l"(source));
      source += kRowStep * lead;
    }
  }
};

// With Cfg::hoisted, the InteriorCopy of an operand's (kSide, BK) tile (kSide BM for a, BN
// for b) whose window starts at `start` along m or n and at k = 0; otherwise nothing (0).
template <class Cfg, int kSide, bool kKContiguous>
__device__ __forceinline__ auto interior_copy(const StoredMatrix& matrix, int64_t start) {
  if constexpr (Cfg::hoisted) {
    using Copy =
        InteriorCopy<kKContiguous ? kSide : Cfg::bk, kKContiguous ? Cfg::bk : kSide, Cfg::threads>;
    return kKContiguous ? Copy(matrix, start, 0) : Copy(matrix, 0, start);
  } else {
    return 0;
  }
}

__device__ __forceinline__ void cp_async_commit() { asm volatile("cp.async.commit_group;\n"); }

template <int kPending>
__device__ __forceinline__ void cp_async_wait() {
  asm volatile("cp.async.wait_group %0;\n" ::"n"(kPending));
}

// Four 8x8 matrices of 16-bit values from shared memory, lane l naming row l % 8 of matrix
// l / 8; with kTranspose each matrix arrives transposed.
template <bool kTranspose>
__device__ __forceinline__ void ldmatrix_x4(uint32_t (&reg)[4], uint32_t address) {
  if constexpr (kTranspose)
    asm volatile("ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16 {%0, %1, %2, %3}, [%4];\n"
                 : "=r"(reg[0]), "=r"(reg[1]), "=r"(reg[2]), "=r"(reg[3])
                 : "r"(address));
  else
    asm volatile("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0, %1, %2, %3}, [%4];\n"
                 : "=r"(reg[0]), "=r"(reg[1]), "=r"(reg[2]), "=r"(reg[3])
                 : "r"(address));
}

// The row this lane names for an ldmatrix.x4 of the 16x16 (o, k) block at (o0, k0) of a tile
// (o is m for a, n for b), its matrix covering the (o_half, k_half) 8x8 quarter. A tile stored
// k-contiguous is read as is (rows are o); one stored k-major is read transposed (rows are k).
template <bool kKContiguous, int kCols>
__device__ __forceinline__ uint32_t fragment_row(uint32_t tile, int o0, int k0, int o_half,
                                                 int k_half, int lane_row) {
  if constexpr (kKContiguous)
    return tile + swizzled<kCols>(o0 + 8 * o_half + lane_row, (k0 + 8 * k_half) / 8);
  else
    return tile + swizzled<kCols>(k0 + 8 * k_half + lane_row, (o0 + 8 * o_half) / 8);
}

// c (16x8, float) += a (16x16) x b (16x8), row.col fragments as PTX lays them out.
template <class T>
__device__ __forceinline__ void mma_16x8x16(float (&c)[4], const uint32_t (&a)[4], uint32_t b0,
                                            uint32_t b1) {
  if constexpr (std::is_same_v<T, BFloat16>)
    asm volatile(
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0, %1, %2, %3}, "
        "{%4, %5, %6, %7}, {%8, %9}, {%0, %1, %2, %3};\n"
        : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
        : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
  else
    asm volatile(
        "mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 {%0, %1, %2, %3}, "
        "{%4, %5, %6, %7}, {%8, %9}, {%0, %1, %2, %3};\n"
        : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
        : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
}

// The epilogue rounds its accumulators a pair at a time (rounded_pair, vector_access.cuh). A
// warp converts its 128 accumulators a lane after each tile, while its tensor cores wait: one
// conversion at a time (bfloat16's integer rounding, float16's portable code at the time)
// likely cost much of the gap between bfloat16's 275 TFLOP/s and float16's 177 at 4096^3 on
// an H100 (the two dtypes' mma.sync run at one rate).

// out[row][col], out[row][col + 1] = c0, c1 rounded to T; columns past n are not written.
// Paired into one 4-byte store when n is even (the pair is then 4-byte aligned: out is, by the
// launcher's condition, tensor_core_gemm in matmul.cu).
template <class T>
__device__ __forceinline__ void store_pair(T* out, int64_t m, int64_t n, int64_t row, int64_t col,
                                           float c0, float c1) {
  if (row >= m || col >= n) return;
  T* at = out + row * n + col;
  if (n % 2 == 0) {
    *reinterpret_cast<uint32_t*>(at) = rounded_pair<T>(c0, c1);
  } else {
    at[0] = T(c0);
    if (col + 1 < n) at[1] = T(c1);
  }
}

// The tensor-core GEMM, blockDim.x == Cfg::threads, Cfg::smem_bytes of dynamic shared memory.
// kAKContiguous: a (m, k) is contiguous along k (else along m); kBKContiguous: b (k, n) is
// contiguous along k (else along n). Per block tile of out at (row0, col0):
//   for each k-tile t: a_tile = a[row0 : +BM, t*BK : +BK], b_tile = b[t*BK : +BK, col0 : +BN]
//     each warp: acc (WM, WN) += a_tile[its rows] x b_tile[its cols]   (mma.sync pieces)
//   out[row0 : +BM, col0 : +BN] = acc rounded to T
template <class T, class Cfg, bool kAKContiguous, bool kBKContiguous>
__global__ void __launch_bounds__(Cfg::threads) matmul_kernel_tensor_core(const GemmParams<T> p) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 800
  static_assert(sizeof(T) == 2);
  extern __shared__ __align__(128) unsigned char tensor_core_smem[];
  const uint32_t smem = static_cast<uint32_t>(__cvta_generic_to_shared(tensor_core_smem));
  // The stored tiles' row lengths: (BM, BK) or (BK, BM) for a, (BN, BK) or (BK, BN) for b.
  constexpr int kACols = kAKContiguous ? Cfg::bk : Cfg::bm;
  constexpr int kBCols = kBKContiguous ? Cfg::bk : Cfg::bn;
  constexpr uint32_t kStageBytes = Cfg::a_stage_bytes + Cfg::b_stage_bytes;

  const int warp = static_cast<int>(threadIdx.x) / kWarpSize;
  const int lane = static_cast<int>(threadIdx.x) % kWarpSize;
  const int warp_m0 = warp / Cfg::warps_n * Cfg::wm, warp_n0 = warp % Cfg::warps_n * Cfg::wn;
  // ldmatrix: this lane names row lane % 8 of matrix lane / 8. For a the four matrices are
  // (o_half, k_half) = (0,0), (1,0), (0,1), (1,1), the order of mma's a fragment; for b they
  // are (0,0), (0,1), (1,0), (1,1): fragments b0, b1 of two neighbouring 8-column pieces.
  const int quarter = lane / 8, lane_row = lane % 8;
  // mma's accumulator layout: this lane holds rows g and g + 8, columns 2t and 2t + 1.
  const int g = lane / 4, t = lane % 4;

  const int64_t tiles_m = (p.m + Cfg::bm - 1) / Cfg::bm, tiles_n = (p.n + Cfg::bn - 1) / Cfg::bn;
  const int64_t k_tiles = (p.k + Cfg::bk - 1) / Cfg::bk;
  for (int64_t batch = blockIdx.z; batch < p.batches; batch += gridDim.z) {
    const T *a, *b;
    p.batch_matrices(batch, a, b);
    const auto* a16 = reinterpret_cast<const uint16_t*>(a);
    const auto* b16 = reinterpret_cast<const uint16_t*>(b);
    const StoredMatrix stored_a = kAKContiguous
                                      ? StoredMatrix{a16, p.a_layout.row_stride, p.m, p.k}
                                      : StoredMatrix{a16, p.a_layout.col_stride, p.k, p.m};
    const StoredMatrix stored_b = kBKContiguous
                                      ? StoredMatrix{b16, p.b_layout.col_stride, p.n, p.k}
                                      : StoredMatrix{b16, p.b_layout.row_stride, p.k, p.n};
    for (int64_t tile = blockIdx.x; tile < tiles_m * tiles_n; tile += gridDim.x) {
      // Grouped order: kGroupRows row tiles at a time, down each column of the group.
      const int64_t group_tiles = kGroupRows * tiles_n, first_row = tile / group_tiles * kGroupRows;
      const int64_t group_rows =
          tiles_m - first_row < kGroupRows ? tiles_m - first_row : kGroupRows;
      const int64_t in_group = tile % group_tiles;
      const int64_t row0 = (first_row + in_group % group_rows) * Cfg::bm;
      const int64_t col0 = in_group / group_rows * Cfg::bn;

      // kHoisted: a block tile inside both matrices (the same for the whole block) copies its
      // whole k-tiles through copiers set up here, its windows at k = 0; others, and a last
      // partial k-tile, take copy_tile_async.
      const bool interior = row0 + Cfg::bm <= p.m && col0 + Cfg::bn <= p.n;
      const auto a_copy = interior_copy<Cfg, Cfg::bm, kAKContiguous>(stored_a, row0);
      const auto b_copy = interior_copy<Cfg, Cfg::bn, kBKContiguous>(stored_b, col0);

      const auto load_stage = [&](int stage, int64_t k0) {
        const uint32_t a_tile = smem + stage * kStageBytes, b_tile = a_tile + Cfg::a_stage_bytes;
        if constexpr (Cfg::hoisted) {
          if (interior && k0 + Cfg::bk <= p.k) {
            // Along k: a column offset in a tile stored k-contiguous, a row one k-major.
            a_copy.copy(a_tile, kAKContiguous ? k0 : k0 * stored_a.lead);
            b_copy.copy(b_tile, kBKContiguous ? k0 : k0 * stored_b.lead);
            return;
          }
        }
        if constexpr (kAKContiguous)
          copy_tile_async<Cfg::bm, Cfg::bk, Cfg::threads>(a_tile, stored_a, row0, k0);
        else
          copy_tile_async<Cfg::bk, Cfg::bm, Cfg::threads>(a_tile, stored_a, k0, row0);
        if constexpr (kBKContiguous)
          copy_tile_async<Cfg::bn, Cfg::bk, Cfg::threads>(b_tile, stored_b, col0, k0);
        else
          copy_tile_async<Cfg::bk, Cfg::bn, Cfg::threads>(b_tile, stored_b, k0, col0);
      };

      float acc[Cfg::m_pieces][Cfg::n_pieces][4] = {};
      // Prologue: k-tiles 0 .. kStages - 2 in flight. Every step commits a group, empty or
      // not, so that "all but the newest kStages - 2 groups" always means "k-tile t landed".
#pragma unroll
      for (int stage = 0; stage < Cfg::stages - 1; ++stage) {
        if (stage < k_tiles) load_stage(stage, int64_t{stage} * Cfg::bk);
        cp_async_commit();
      }
      for (int64_t kt = 0; kt < k_tiles; ++kt) {
        cp_async_wait<Cfg::stages - 2>();
        // k-tile kt is visible to every thread, and every warp is done with k-tile kt - 1,
        // whose stage the next copy overwrites.
        __syncthreads();
        const int64_t next = kt + Cfg::stages - 1;
        if (next < k_tiles) load_stage(static_cast<int>(next % Cfg::stages), next * Cfg::bk);
        cp_async_commit();

        const uint32_t a_tile = smem + static_cast<uint32_t>(kt % Cfg::stages) * kStageBytes;
        const uint32_t b_tile = a_tile + Cfg::a_stage_bytes;
#pragma unroll
        for (int k0 = 0; k0 < Cfg::bk; k0 += 16) {
          uint32_t a_frag[Cfg::m_pieces][4], b_frag[Cfg::n_pieces][2];
#pragma unroll
          for (int i = 0; i < Cfg::m_pieces; ++i)
            ldmatrix_x4<!kAKContiguous>(
                a_frag[i], fragment_row<kAKContiguous, kACols>(a_tile, warp_m0 + 16 * i, k0,
                                                               quarter % 2, quarter / 2, lane_row));
#pragma unroll
          for (int j = 0; j < Cfg::n_pieces; j += 2) {
            uint32_t pair[4];
            ldmatrix_x4<!kBKContiguous>(
                pair, fragment_row<kBKContiguous, kBCols>(b_tile, warp_n0 + 8 * j, k0, quarter / 2,
                                                          quarter % 2, lane_row));
            b_frag[j][0] = pair[0];
            b_frag[j][1] = pair[1];
            b_frag[j + 1][0] = pair[2];
            b_frag[j + 1][1] = pair[3];
          }
#pragma unroll
          for (int i = 0; i < Cfg::m_pieces; ++i)
#pragma unroll
            for (int j = 0; j < Cfg::n_pieces; ++j)
              mma_16x8x16<T>(acc[i][j], a_frag[i], b_frag[j][0], b_frag[j][1]);
        }
      }
      // The next tile's prologue refills the stages: every warp must be done reading them.
      cp_async_wait<0>();
      __syncthreads();

      T* out = p.out + batch * p.m * p.n;
#pragma unroll
      for (int i = 0; i < Cfg::m_pieces; ++i)
#pragma unroll
        for (int j = 0; j < Cfg::n_pieces; ++j) {
          const int64_t row = row0 + warp_m0 + 16 * i + g, col = col0 + warp_n0 + 8 * j + 2 * t;
          store_pair(out, p.m, p.n, row, col, acc[i][j][0], acc[i][j][1]);
          store_pair(out, p.m, p.n, row + 8, col, acc[i][j][2], acc[i][j][3]);
        }
    }
  }
#elif defined(__CUDA_ARCH__)
  __trap();  // never launched here: tensor_core_unavailable() says why
#endif
}

// Whether matmul_kernel_tensor_core<T, Cfg, ...> runs on the current device; if not, why. It
// needs an sm_80 GPU or newer, running code compiled for sm_80 or newer: a build for older
// GPUs alone (CMAKE_CUDA_ARCHITECTURES=75) runs on an A100 or H100 by JIT-compiling its PTX,
// with __CUDA_ARCH__ 750, and there the kernel's body is a trap. And Cfg::smem_bytes of shared
// memory a block: 72 KiB for the library's shape, where sm_86, sm_89 and sm_120 give a block
// 99 KiB at most (sm_80 163, sm_90 227).
template <class T, class Cfg, bool kAKContiguous, bool kBKContiguous>
std::string tensor_core_unavailable() {
  int device = 0, major = 0, smem = 0;
  GRAFT_CUDA_CHECK(cudaGetDevice(&device));
  GRAFT_CUDA_CHECK(cudaDeviceGetAttribute(&major, cudaDevAttrComputeCapabilityMajor, device));
  if (major < 8) return "the tensor-core kernel needs an sm_80 GPU or newer";
  cudaFuncAttributes kernel{};
  GRAFT_CUDA_CHECK(cudaFuncGetAttributes(
      &kernel, matmul_kernel_tensor_core<T, Cfg, kAKContiguous, kBKContiguous>));
  if (kernel.ptxVersion < 80)
    return "graft was built without sm_80 code (its kernels for this GPU come from compute_" +
           std::to_string(kernel.ptxVersion) + " PTX): add 80 or newer to CMAKE_CUDA_ARCHITECTURES";
  GRAFT_CUDA_CHECK(cudaDeviceGetAttribute(&smem, cudaDevAttrMaxSharedMemoryPerBlockOptin, device));
  if (smem < Cfg::smem_bytes)
    return "the block shape needs " + std::to_string(Cfg::smem_bytes / 1024) +
           " KiB of shared memory a block; this GPU gives " + std::to_string(smem / 1024);
  return "";
}

// Launches the kernel with shape Cfg on the default stream: one block per tile of out (the
// kernel loops over what a capped grid leaves out), batches along z.
template <class T, class Cfg, bool kAKContiguous, bool kBKContiguous>
void launch_tensor_core(const GemmParams<T>& p) {
  const auto kernel = matmul_kernel_tensor_core<T, Cfg, kAKContiguous, kBKContiguous>;
  // Above 48 KiB, dynamic shared memory must be asked for (per device: set on every launch).
  GRAFT_CUDA_CHECK(
      cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, Cfg::smem_bytes));
  const int64_t tiles = ((p.m + Cfg::bm - 1) / Cfg::bm) * ((p.n + Cfg::bn - 1) / Cfg::bn);
  const dim3 grid(static_cast<unsigned>(std::min<int64_t>(tiles, INT_MAX)), 1,
                  static_cast<unsigned>(std::min<int64_t>(p.batches, 65535)));
  kernel<<<grid, Cfg::threads, Cfg::smem_bytes>>>(p);
  GRAFT_CUDA_CHECK_LAUNCH();
}

}  // namespace graft::kernels::cuda::matmul
