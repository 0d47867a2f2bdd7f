// CPU scans (cumsum, cumprod) over ScanArgs (kernels/scan.h): lines split across threads.
//
// Two walks, picked by where the input's neighbours lie:
//  - side by side (the scanned dim is not the input's innermost, e.g. cumsum over dim 0 of
//    a (N, M) matrix): tiles of up to kTile neighbouring lines advance together, one row of
//    the tile per step, so every step reads contiguous memory and the loop across the tile
//    vectorises (kept as a compile-time unit stride when the lines are adjacent);
//  - one line at a time (the scanned dim is innermost): a running sum per line, in blocks
//    whose inner sums do not wait for the carry (see scan_line). Lines are split across threads;
//    when there are too few of them to occupy the threads, each line is cut into chunks of kChunk
//    elements and scanned in three passes: fold each chunk (kLanes independent accumulators, so the
//    adds do not wait on each other), scan the chunk totals into each chunk's carry, then scan each
//    chunk from its carry. The chunks depend on the shape alone, never on the thread count, so
//    results do not vary from machine to machine.
// Accumulators are ScanAcc<T> (double for floating types) and are rounded to T only when
// written, so a float32 running sum does not drift by float32's rounding step after step.
#include <algorithm>
#include <cstdlib>
#include <vector>

#include "graft/kernels/cpu/cpu_kernels.h"
#include "graft/kernels/cpu/half_blocks.h"
#include "graft/kernels/cpu/parallel.h"
#include "graft/kernels/scan.h"

namespace graft::kernels::cpu {
namespace {

// Lines that advance together when they are neighbours in memory.
constexpr int64_t kTile = 64;
// The length of a chunk when a line is cut (see the file comment).
constexpr int64_t kChunk = int64_t{1} << 16;
// Lines at least this many are split across threads whole, never cut into chunks.
constexpr int64_t kEnoughLines = 16;
// Independent accumulators of a chunk's fold, and the block of a line's scan.
constexpr int kLanes = 8;

// out[i * out_step] = carry op x[0] op ... op x[i] for i < n, as Out; returns the last of them.
// In blocks of kLanes: the running results inside a block do not wait for the carry, so
// the processor overlaps them with the blocks before; only carry op block is serial, one
// step per block instead of one per element.
template <class Op, class T, class Out = T>
ScanAcc<T> scan_line(const T* in, int64_t in_step, Out* out, int64_t out_step, int64_t n,
                     ScanAcc<T> carry) {
  using Acc = ScanAcc<T>;
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes) {
    Acc block[kLanes];
    block[0] = static_cast<Acc>(in[i * in_step]);
    for (int k = 1; k < kLanes; ++k)
      block[k] = Op::combine(block[k - 1], static_cast<Acc>(in[(i + k) * in_step]));
    for (int k = 0; k < kLanes; ++k)
      out[(i + k) * out_step] = static_cast<Out>(Op::combine(carry, block[k]));
    carry = Op::combine(carry, block[kLanes - 1]);
  }
  for (; i < n; ++i) {
    carry = Op::combine(carry, static_cast<Acc>(in[i * in_step]));
    out[i * out_step] = static_cast<Out>(carry);
  }
  return carry;
}

// scan_line for a contiguous line of 16-bit floats, in blocks: a block widened by the vector
// conversions (half_blocks.h), scanned into doubles as scan_line does, the doubles rounded to
// odd floats and the floats narrowed, each pass one the compiler or the conversions
// vectorise; the bits of scan_line's, whose every element took a widening and a rounding from
// double of its own (cumsum over the rows of a (1024, 1024), two threads on the EPYC, medians
// in turns: bfloat16 1.42 -> 0.76 ms, PyTorch's 0.75-0.81 in the same minutes; float16 1.25
// -> 0.59).
template <class Op, class T>
ScanAcc<T> scan_sixteen_bit_line(const T* in, T* out, int64_t n, ScanAcc<T> carry) {
  constexpr int64_t kBlock = 256;  // a multiple of kLanes: scan_line's blocks fall alike
  float widened[kBlock];
  double sums[kBlock];
  for (int64_t start = 0; start < n; start += kBlock) {
    const int64_t length = std::min(kBlock, n - start);
    widen_block(in + start, widened, length);
    carry = scan_line<Op>(widened, 1, sums, 1, length, carry);
    for (int64_t i = 0; i < length; ++i) widened[i] = graft::detail::round_to_odd_float(sums[i]);
    narrow_block(widened, out + start, length);
  }
  return carry;
}

// x[0] op ... op x[n - 1], in kLanes interleaved partial results.
template <class Op, class T>
ScanAcc<T> fold_line(const T* in, int64_t in_step, int64_t n) {
  using Acc = ScanAcc<T>;
  Acc lanes[kLanes];
  std::fill(lanes, lanes + kLanes, Acc(Op::kIdentity));
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes)
    for (int k = 0; k < kLanes; ++k)
      lanes[k] = Op::combine(lanes[k], static_cast<Acc>(in[(i + k) * in_step]));
  Acc total = Acc(Op::kIdentity);
  for (; i < n; ++i) total = Op::combine(total, static_cast<Acc>(in[i * in_step]));
  for (Acc lane : lanes) total = Op::combine(total, lane);
  return total;
}

// `width` lines, `in_gap` / `out_gap` apart, scanned side by side: step i combines row i of
// the tile (x[i * in_step + w * in_gap] for w < width) into the tile's accumulators. With
// kUnitGap the gaps are 1, known to the compiler, which then vectorises the row.
template <class Op, class T, bool kUnitGap>
void scan_tile(const T* in, int64_t in_step, int64_t in_gap, T* out, int64_t out_step,
               int64_t out_gap, int64_t n, int64_t width) {
  using Acc = ScanAcc<T>;
  if constexpr (kUnitGap) in_gap = out_gap = 1;
  Acc acc[kTile];
  std::fill(acc, acc + width, Acc(Op::kIdentity));
  for (int64_t i = 0; i < n; ++i) {
    const T* row = in + i * in_step;
    T* to = out + i * out_step;
    for (int64_t w = 0; w < width; ++w) {
      acc[w] = Op::combine(acc[w], static_cast<Acc>(row[w * in_gap]));
      to[w * out_gap] = static_cast<T>(acc[w]);
    }
  }
}

// Lines side by side: tiles along the innermost line dim, each tile one task.
template <class Op, class T>
void scan_side_by_side(const ScanArgs& args, const T* in, T* out) {
  const ScanLines& lines = args.lines;
  const int inner_dim = lines.ndim - 1;
  const int64_t inner = lines.sizes[inner_dim];
  const int64_t in_gap = lines.in_strides[inner_dim], out_gap = lines.out_strides[inner_dim];
  const bool unit_gap = in_gap == 1 && out_gap == 1;
  ScanLines rows = lines;  // the tiles' starting lines: every line dim but the innermost
  rows.ndim = inner_dim;
  const int64_t tiles_per_row = (inner + kTile - 1) / kTile;
  const int64_t tile_elements = args.n * std::min(inner, kTile);
  parallel_for(0, rows.count() * tiles_per_row,
               std::max<int64_t>(1, kParallelGrain / tile_elements),
               [&](int64_t begin, int64_t end) {
                 for (int64_t t = begin; t < end; ++t) {
                   const int64_t first = (t % tiles_per_row) * kTile;
                   int64_t in_at = 0, out_at = 0;
                   rows.offsets_of(t / tiles_per_row, in_at, out_at);
                   in_at += first * in_gap;
                   out_at += first * out_gap;
                   const int64_t width = std::min(kTile, inner - first);
                   if (unit_gap)
                     scan_tile<Op, T, true>(in + in_at, args.in_step, 1, out + out_at,
                                            args.out_step, 1, args.n, width);
                   else
                     scan_tile<Op, T, false>(in + in_at, args.in_step, in_gap, out + out_at,
                                             args.out_step, out_gap, args.n, width);
                 }
               });
}

// Lines one at a time, whole when there are enough of them, else in chunks.
template <class Op, class T>
void scan_each_line(const ScanArgs& args, const T* in, T* out) {
  using Acc = ScanAcc<T>;
  const int64_t count = args.lines.count(), n = args.n;
  const int64_t chunks = count >= kEnoughLines ? 1 : (n + kChunk - 1) / kChunk;
  const int64_t chunk = (n + chunks - 1) / chunks;  // elements per chunk, the last may be short
  const int64_t units = count * chunks;             // unit u: chunk u % chunks of line u / chunks
  // A unit's first element in the input and the output, and its length.
  auto unit = [&](int64_t u, int64_t& in_at, int64_t& out_at) {
    const int64_t c = u % chunks;
    args.lines.offsets_of(u / chunks, in_at, out_at);
    in_at += c * chunk * args.in_step;
    out_at += c * chunk * args.out_step;
    return std::min(chunk, n - c * chunk);
  };
  const int64_t grain = std::max<int64_t>(1, kParallelGrain / chunk);
  // carry[u]: the fold of everything before unit u on its line (one chunk: the identity).
  std::vector<Acc> carry(static_cast<size_t>(units), Acc(Op::kIdentity));
  if (chunks > 1) {
    std::vector<Acc> total(static_cast<size_t>(units));
    parallel_for(0, units, grain, [&](int64_t begin, int64_t end) {
      for (int64_t u = begin; u < end; ++u) {
        int64_t in_at = 0, out_at = 0;
        const int64_t length = unit(u, in_at, out_at);
        total[u] = fold_line<Op, T>(in + in_at, args.in_step, length);
      }
    });
    for (int64_t u = 0; u < units; ++u)
      if (u % chunks != 0) carry[u] = Op::combine(carry[u - 1], total[u - 1]);
  }
  parallel_for(0, units, grain, [&](int64_t begin, int64_t end) {
    for (int64_t u = begin; u < end; ++u) {
      int64_t in_at = 0, out_at = 0;
      const int64_t length = unit(u, in_at, out_at);
      if constexpr (is_float16_v<T>) {
        if (args.in_step == 1 && args.out_step == 1) {
          scan_sixteen_bit_line<Op>(in + in_at, out + out_at, length, carry[u]);
          continue;
        }
      }
      scan_line<Op, T>(in + in_at, args.in_step, out + out_at, args.out_step, length, carry[u]);
    }
  });
}

void scan_kernel(const ScanArgs& args) {
  if (args.n == 0 || args.lines.count() == 0) return;
  visit_scan(args, [&](auto op, auto tag) {
    using Op = decltype(op);
    using T = decltype(tag);
    const T* in = static_cast<const T*>(args.in);
    T* out = static_cast<T*>(args.out);
    const int inner_dim = args.lines.ndim - 1;
    // Side by side when neighbouring lines are closer in memory than a line's neighbours.
    if (inner_dim >= 0 && std::abs(args.lines.in_strides[inner_dim]) < std::abs(args.in_step))
      scan_side_by_side<Op, T>(args, in, out);
    else
      scan_each_line<Op, T>(args, in, out);
  });
}

}  // namespace

void register_scan(KernelTable& table) { table.scan[static_cast<int>(kCPU)] = &scan_kernel; }

}  // namespace graft::kernels::cpu
