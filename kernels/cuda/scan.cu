// CUDA scans (cumsum, cumprod): the twin of kernels/cpu/scan.cpp over the same ScanArgs.
//
// Two kernels, each with a fold-only form for the first pass over long lines:
//  - serial: one thread per line, or per chunk of a line, walking it in order. Neighbouring
//    threads take neighbouring lines, so when the lines lie side by side in memory (the
//    scanned dim is not the innermost, as in cumsum over dim 0 of (N, M)) a warp reads
//    contiguous memory. It also takes lines too short to give a block work.
//  - block: a block of kBlockSize threads per tile of kTile = kBlockSize * kItems elements
//    of a line that runs along memory. Each thread loads its kItems elements up front,
//    striped (element r * kBlockSize + t of the tile is thread t's v[r], so a warp's loads
//    are contiguous and kItems of them are in flight), then the block scans them in kItems
//    rounds of kBlockSize: a warp scan by shuffles, the warps' totals through shared
//    memory, and the running total of the rounds carried into the next.
// A line longer than one tile (block) or cut into chunks (serial, when there are too few
// lines to occupy the GPU) is scanned in three phases, "reduce, scan, scan": fold each
// piece into a total, laid out (lines, pieces); scan those totals with this same scan,
// recursively and in place; scan each piece again, starting from the totals of the pieces
// before it. That reads the input twice, where a decoupled look-back scan reads it once,
// but needs no flags between blocks, and the order of every operation is fixed by the
// shape, so results are the same run to run.
//
// Accumulation as on the CPU, in ScanAcc<T>: double for float32 too. The kernels are
// memory-bound; the doubles cost a second shuffle word and shared memory, not time, and
// keep the CPU's accuracy (a running sum of 2^24 float32 values).
#include <algorithm>
#include <cstdint>
#include <cstdlib>

#include "graft/core/tensor.h"
#include "graft/kernels/cuda/common.cuh"
#include "graft/kernels/cuda/cuda_kernels.h"
#include "graft/kernels/scan.h"

namespace graft::kernels::cuda {
namespace {

constexpr int kWarpSize = 32;
constexpr int kWarps = kBlockSize / kWarpSize;
// Elements per thread of a block's tile.
constexpr int kItems = 16;
constexpr int64_t kTile = int64_t{kBlockSize} * kItems;
// Lines at most this long go to the serial kernel even when they run along memory.
constexpr int64_t kShortLine = 64;
// The serial kernel cuts lines into chunks until about this many threads have work...
constexpr int64_t kBusyThreads = int64_t{1} << 16;
// ... but makes no chunk shorter than this.
constexpr int64_t kMinChunk = 256;

template <class Op, class Acc>
__device__ Acc scan_identity() {
  return static_cast<Acc>(Op::kIdentity);
}

// Inclusive scan of one value per thread across the block, in thread order; `total` gets
// the fold of the whole block. Every thread must call it (it holds __syncthreads()).
template <class Op, class Acc>
__device__ Acc block_scan(Acc v, Acc* warp_totals, Acc& total) {
  const int lane = threadIdx.x % kWarpSize, warp = threadIdx.x / kWarpSize;
#pragma unroll
  for (int offset = 1; offset < kWarpSize; offset *= 2) {
    const Acc before = __shfl_up_sync(0xffffffffu, v, offset);
    if (lane >= offset) v = Op::combine(before, v);
  }
  if (lane == kWarpSize - 1) warp_totals[warp] = v;
  __syncthreads();
  Acc prefix = scan_identity<Op, Acc>();
  total = prefix;
#pragma unroll
  for (int w = 0; w < kWarps; ++w) {
    if (w == warp) prefix = total;
    total = Op::combine(total, warp_totals[w]);
  }
  __syncthreads();  // warp_totals is rewritten by the next call
  return Op::combine(prefix, v);
}

// ---- kernels

// Plain loop: for each unit u = c * lines + l (chunk c of line l, `chunk` elements long but
// the last), acc = the fold of the chunks before it (carries[l * chunks + c - 1]; none for
// the first chunk or without carries), then for each i of the chunk in order:
//   acc = acc op x[l, i]; out[l, i] = acc
// kFoldOnly writes nothing but totals[l * chunks + c] = acc.
template <class Op, class T, bool kFoldOnly>
__global__ void scan_serial_kernel(const __grid_constant__ ScanArgs args, int64_t chunks,
                                   int64_t chunk, const ScanAcc<T>* __restrict__ carries,
                                   ScanAcc<T>* __restrict__ totals) {
  using Acc = ScanAcc<T>;
  const T* in = static_cast<const T*>(args.in);
  T* out = static_cast<T*>(args.out);
  const int64_t lines = args.lines.count(), units = lines * chunks;
  for (int64_t u = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; u < units;
       u += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const int64_t line = u % lines, c = u / lines;
    int64_t in_at = 0, out_at = 0;
    args.lines.offsets_of(line, in_at, out_at);
    const int64_t begin = c * chunk, end = begin + chunk < args.n ? begin + chunk : args.n;
    Acc acc =
        c > 0 && carries != nullptr ? carries[line * chunks + c - 1] : scan_identity<Op, Acc>();
    for (int64_t i = begin; i < end; ++i) {
      acc = Op::combine(acc, static_cast<Acc>(in[in_at + i * args.in_step]));
      if constexpr (!kFoldOnly) out[out_at + i * args.out_step] = static_cast<T>(acc);
    }
    if constexpr (kFoldOnly) totals[line * chunks + c] = acc;
  }
}

// Plain loop: for each tile b = l * tiles + k (elements [k * kTile, (k + 1) * kTile) of line
// l, cut at n), acc = the fold of the tiles before it (carries[b - 1]; none for the first
// tile or without carries), then for each i of the tile in order:
//   acc = acc op x[l, i]; out[l, i] = acc
// kFoldOnly writes nothing but totals[b] = the tile's fold.
template <class Op, class T, bool kFoldOnly>
__global__ void __launch_bounds__(kBlockSize)
    scan_block_kernel(const __grid_constant__ ScanArgs args, int64_t tiles,
                      const ScanAcc<T>* __restrict__ carries, ScanAcc<T>* __restrict__ totals) {
  using Acc = ScanAcc<T>;
  __shared__ Acc warp_totals[kWarps];
  const T* in = static_cast<const T*>(args.in);
  T* out = static_cast<T*>(args.out);
  const int t = threadIdx.x;
  const int64_t blocks = args.lines.count() * tiles;
  for (int64_t b = blockIdx.x; b < blocks; b += gridDim.x) {  // the same trips for every thread
    const int64_t line = b / tiles, k = b % tiles;
    int64_t in_at = 0, out_at = 0;
    args.lines.offsets_of(line, in_at, out_at);
    const int64_t begin = k * kTile;
    const int64_t length = kTile < args.n - begin ? kTile : args.n - begin;
    Acc v[kItems];  // (kItems, kBlockSize) striped: v[r] is element r * kBlockSize + t
#pragma unroll
    for (int r = 0; r < kItems; ++r) {
      const int64_t i = r * kBlockSize + t;
      v[r] = i < length ? static_cast<Acc>(in[in_at + (begin + i) * args.in_step])
                        : scan_identity<Op, Acc>();
    }
    Acc total = scan_identity<Op, Acc>();
    if constexpr (kFoldOnly) {
      Acc folded = v[0];
#pragma unroll
      for (int r = 1; r < kItems; ++r) folded = Op::combine(folded, v[r]);
      block_scan<Op>(folded, warp_totals, total);
      if (t == 0) totals[b] = total;
    } else {
      Acc carry = k > 0 && carries != nullptr ? carries[b - 1] : scan_identity<Op, Acc>();
#pragma unroll
      for (int r = 0; r < kItems; ++r) {
        if (r * kBlockSize < length) {  // the same for every thread of the block
          const Acc scanned = Op::combine(carry, block_scan<Op>(v[r], warp_totals, total));
          const int64_t i = r * kBlockSize + t;
          if (i < length) out[out_at + (begin + i) * args.out_step] = static_cast<T>(scanned);
          carry = Op::combine(carry, total);
        }
      }
    }
  }
}

// ---- launchers

int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

// `count` accumulators on the current device (the caching allocator makes this cheap; the
// default stream orders the memory's reuse after the kernels that read it).
template <class Acc>
struct Scratch {
  explicit Scratch(int64_t count) {
    int device = 0;
    GRAFT_CUDA_CHECK(cudaGetDevice(&device));
    buffer = empty({count * static_cast<int64_t>(sizeof(Acc))},
                   TensorOptions(kUInt8).device(Device::cuda(device)));
    data = static_cast<Acc*>(buffer.data_ptr());
  }
  Tensor buffer;
  Acc* data = nullptr;
};

// The scan of `totals`, (lines, pieces) contiguous, along the pieces, in place.
template <class Acc>
ScanArgs totals_scan(const ScanArgs& args, Acc* totals, int64_t lines, int64_t pieces) {
  ScanArgs sub;
  sub.op = args.op;
  sub.dtype = dtype_of_v<Acc>;
  sub.in = totals;
  sub.out = totals;
  sub.n = pieces;
  sub.in_step = sub.out_step = 1;
  sub.lines.ndim = 1;
  sub.lines.sizes[0] = lines;
  sub.lines.in_strides[0] = sub.lines.out_strides[0] = pieces;
  return sub;
}

template <class Op, class T>
void scan_cuda_typed(const ScanArgs& args);

template <class Op, class T>
void launch_serial(const ScanArgs& args) {
  using Acc = ScanAcc<T>;
  const int64_t lines = args.lines.count();
  const int64_t chunks =
      std::clamp<int64_t>(kBusyThreads / lines, 1, std::max<int64_t>(args.n / kMinChunk, 1));
  const int64_t chunk = ceil_div(args.n, chunks), units = lines * chunks;
  if (chunks == 1) {
    scan_serial_kernel<Op, T, false>
        <<<grid_for(units), kBlockSize>>>(args, 1, chunk, nullptr, nullptr);
    GRAFT_CUDA_CHECK_LAUNCH();
    return;
  }
  Scratch<Acc> totals(units);
  scan_serial_kernel<Op, T, true>
      <<<grid_for(units), kBlockSize>>>(args, chunks, chunk, nullptr, totals.data);
  GRAFT_CUDA_CHECK_LAUNCH();
  scan_cuda_typed<Op, Acc>(totals_scan(args, totals.data, lines, chunks));
  scan_serial_kernel<Op, T, false>
      <<<grid_for(units), kBlockSize>>>(args, chunks, chunk, totals.data, nullptr);
  GRAFT_CUDA_CHECK_LAUNCH();
}

template <class Op, class T>
void launch_blocks(const ScanArgs& args) {
  using Acc = ScanAcc<T>;
  const int64_t lines = args.lines.count(), tiles = ceil_div(args.n, kTile);
  const unsigned grid = grid_for(lines * tiles, 1);
  if (tiles == 1) {
    scan_block_kernel<Op, T, false><<<grid, kBlockSize>>>(args, 1, nullptr, nullptr);
    GRAFT_CUDA_CHECK_LAUNCH();
    return;
  }
  Scratch<Acc> totals(lines * tiles);
  scan_block_kernel<Op, T, true><<<grid, kBlockSize>>>(args, tiles, nullptr, totals.data);
  GRAFT_CUDA_CHECK_LAUNCH();
  scan_cuda_typed<Op, Acc>(totals_scan(args, totals.data, lines, tiles));
  scan_block_kernel<Op, T, false><<<grid, kBlockSize>>>(args, tiles, totals.data, nullptr);
  GRAFT_CUDA_CHECK_LAUNCH();
}

template <class Op, class T>
void scan_cuda_typed(const ScanArgs& args) {
  const int inner = args.lines.ndim - 1;
  const bool side_by_side =
      inner >= 0 && std::abs(args.lines.in_strides[inner]) < std::abs(args.in_step);
  if (side_by_side || args.n <= kShortLine)
    launch_serial<Op, T>(args);
  else
    launch_blocks<Op, T>(args);
}

void scan_cuda(const ScanArgs& args) {
  if (args.n == 0 || args.lines.count() == 0) return;
  visit_scan(args, [&](auto op, auto tag) { scan_cuda_typed<decltype(op), decltype(tag)>(args); });
}

}  // namespace

void register_scan(KernelTable& table) { table.scan[static_cast<int>(kCUDA)] = &scan_cuda; }

}  // namespace graft::kernels::cuda
