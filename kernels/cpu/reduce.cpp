// CPU reductions: one strided reduction loop for every reducer of kernels/reducers.h.
//
// Because every reducer can merge, the loop is free to split the work: into independent
// accumulators (so the compiler vectorises a double accumulation), into pairwise blocks
// (NumPy's summation, so float error grows like log n rather than n) and across threads.
//
// The loop has two shapes, picked from the strides (see kernels/reduce.h for the dims):
//  - along runs: each output element reduces its own elements, the innermost reduced dim
//    being a run (contiguous when its stride is 1), e.g. sum over the last dim;
//  - across rows (reduces_across_rows(): e.g. sum over dim 0 of (N, M)): a block of outputs
//    keeps one accumulator each and whole rows are added in (a float32 sum's in leaves of 32
//    rows summed in float: (1024, 1024) over dim 0 on the 2-core Xeon, 94-97 -> 72-78 us).
// Work is split over output blocks when there are enough of them; a few long reductions are
// instead split into fixed-size pieces whose partial results merge in order, so the result
// does not depend on the number of threads.
#include <algorithm>
#include <memory>
#include <type_traits>

#include "graft/kernels/cpu/cpu_kernels.h"
#include "graft/kernels/cpu/parallel.h"
#include "graft/kernels/cpu/reduce_run.h"
#include "graft/kernels/reducers.h"

namespace graft::kernels::cpu {
namespace {

// Folds G rows (`stride` apart) of `count` contiguous elements into acc[0, count), the G
// steps of one accumulator back to back so that acc is loaded and stored once per G rows.
template <int G, class R, class T>
void add_rows(const R& r, const T* x, int64_t stride, int64_t count, int64_t index,
              typename R::Acc* acc) {
  for (int64_t j = 0; j < count; ++j) {
    auto a = acc[j];
    for (int g = 0; g < G; ++g) a = r.step(a, x[g * stride + j], index + g);
    acc[j] = a;
  }
}

// Walks the flat reduced indices [begin, end) as runs along the innermost reduced dim,
// calling fn(offset of the run's first element, length, stride, its flat index).
template <class Fn>
void for_each_run(const ReduceDims& dims, int64_t begin, int64_t end, const Fn& fn) {
  if (begin >= end) return;
  if (dims.ndim == 0) {  // nothing left to reduce: the element itself
    fn(0, 1, 0, 0);
    return;
  }
  const int last = dims.ndim - 1;
  int64_t idx[kMaxDims];
  for (int64_t d = last, rem = begin; d >= 0; --d) {
    idx[d] = rem % dims.sizes[d];
    rem /= dims.sizes[d];
  }
  for (int64_t pos = begin; pos < end;) {
    int64_t offset = 0;
    for (int d = 0; d <= last; ++d) offset += idx[d] * dims.strides[d];
    const int64_t n = std::min(dims.sizes[last] - idx[last], end - pos);
    fn(offset, n, dims.strides[last], pos);
    pos += n;
    idx[last] += n;
    for (int d = last; d > 0 && idx[d] == dims.sizes[d]; --d) {
      idx[d] = 0;
      ++idx[d - 1];
    }
  }
}

// Outputs that share one row walk: long enough runs for the prefetcher, few enough
// accumulators to stay in L1/L2.
constexpr int64_t kRowBlock = 2048;
// Rows folded into those accumulators per pass.
constexpr int kRowGroup = 8;
// Below this many output blocks, long reductions are split into pieces instead; the partial
// results of all pieces are at most about kMaxPartials accumulators.
constexpr int64_t kMinParallelBlocks = 16;
constexpr int64_t kMaxPartials = 1 << 16;

// Rows per float leaf of a float32 sum across rows: each output's leaf adds this many of its
// elements in float, then its double accumulator takes the leaf, as a row-wise sum's
// accumulators each add 32 floats of a leaf (reduce_run.h): the error of PyTorch's
// cascade_sum, at half the vector work of double accumulators, with no conversions.
constexpr int64_t kFloatLeafRows = 32;

// add_rows for a float32 or 16-bit sum whose leaves are float (reducers.h's kLeavesInFloat):
// `rows` rows (`stride` apart) of `count` contiguous elements folded into acc[0, count),
// kFloatLeafRows rows at a time in float. count <= kRowBlock. bfloat16 widens by a shift, which
// the compiler vectorises in the loop; a float16 row is widened whole first by the vector
// conversions (half_blocks.h; one by one, a float16 widens one value an instruction), then
// added. Either way the same sums, in the same order, as of the widened rows. In double,
// element by element, a sum over dim 0 of a (1024, 1024), two threads on the EPYC: bfloat16
// 110 -> 53 us (PyTorch's 50), float16 3240 (a libgcc call a value, core/half.h) -> 88 (40).
template <class R, class T>
void add_rows_in_float_leaves(const T* x, int64_t stride, int64_t rows, int64_t count,
                              typename R::Acc* acc) {
  float leaf[kRowBlock];
  for (int64_t first = 0; first < rows; first += kFloatLeafRows) {
    const int64_t last = std::min(rows, first + kFloatLeafRows);
    std::fill_n(leaf, count, 0.0f);
    if constexpr (std::is_same_v<T, Half>) {
      float row[kRowBlock];
      for (int64_t i = first; i < last; ++i) {
        widen_block(x + i * stride, row, count);
        for (int64_t j = 0; j < count; ++j) leaf[j] += row[j];
      }
    } else {
      int64_t i = first;
      for (; i + kRowGroup <= last; i += kRowGroup) {
        const T* group = x + i * stride;
        for (int64_t j = 0; j < count; ++j) {
          float a = leaf[j];
          for (int g = 0; g < kRowGroup; ++g) a += static_cast<float>(group[g * stride + j]);
          leaf[j] = a;
        }
      }
      for (; i < last; ++i)
        for (int64_t j = 0; j < count; ++j) leaf[j] += static_cast<float>(x[i * stride + j]);
    }
    for (int64_t j = 0; j < count; ++j) acc[j] += static_cast<typename R::Acc>(leaf[j]);
  }
}

// add_rows for a max or min of 16-bit rows: each row widened whole by the vector conversions
// (half_blocks.h), then folded into float extremes by float32's reducer; an extreme is one of
// the values (or the identity), so it narrows back exactly. Compare by compare, each one
// widened both values, one an instruction for float16: a float16 max over dim 0 of a
// (1024, 1024) took 1.07 ms, PyTorch's 0.10. count <= kRowBlock.
template <class R, class T>
void add_rows_widened(const T* x, int64_t stride, int64_t rows, int64_t count,
                      typename R::Acc* acc) {
  const ExtremeReducer<float, FloatExtreme<R>::kIsMax> float_reducer{ReduceArgs{}};
  float extremes[kRowBlock], row[kRowBlock];
  for (int64_t j = 0; j < count; ++j) extremes[j] = static_cast<float>(acc[j]);
  for (int64_t i = 0; i < rows; ++i) {
    widen_block(x + i * stride, row, count);
    for (int64_t j = 0; j < count; ++j) extremes[j] = float_reducer.merge(extremes[j], row[j]);
  }
  for (int64_t j = 0; j < count; ++j) acc[j] = static_cast<T>(extremes[j]);
}

// The CPU's loop for reducers.h.
struct CpuReduceLoop {
  template <class R, class T>
  static void run(const R& r, const T* in, typename R::Out* out, const ReduceDims& kept,
                  const ReduceDims& reduced) {
    using Acc = typename R::Acc;
    const int64_t out_numel = kept.numel(), n = reduced.numel();
    const bool by_rows = reduces_across_rows(kept, reduced);
    const int64_t row = by_rows ? kept.sizes[kept.ndim - 1] : 1;  // outputs contiguous in the input
    const int64_t width = std::min(row, kRowBlock);
    const int64_t blocks_per_row = (row + width - 1) / width;
    const int64_t blocks = out_numel / row * blocks_per_row;

    // Block b: `count` outputs from out_index, whose elements start at in + offset.
    struct Block {
      int64_t out_index, count, offset;
    };
    auto block_at = [&](int64_t b) {
      const int64_t out_index = b / blocks_per_row * row + b % blocks_per_row * width;
      return Block{out_index, std::min(width, row - b % blocks_per_row * width),
                   kept.offset_of(out_index)};
    };
    // Folds the reduced indices [begin, end) of block `blk` into acc[0, blk.count).
    auto accumulate = [&](const Block& blk, int64_t begin, int64_t end, Acc* acc) {
      const T* base = in + blk.offset;
      if constexpr (sums_leaves_in_float<R> && (std::is_same_v<T, float> || is_float16_v<T>)) {
        if (by_rows) {
          for_each_run(reduced, begin, end,
                       [&](int64_t offset, int64_t len, int64_t stride, int64_t) {
                         add_rows_in_float_leaves<R>(base + offset, stride, len, blk.count, acc);
                       });
          return;
        }
      }
      if constexpr (is_float16_v<T> && FloatExtreme<R>::kIs) {
        if (by_rows) {
          for_each_run(reduced, begin, end,
                       [&](int64_t offset, int64_t len, int64_t stride, int64_t) {
                         add_rows_widened<R>(base + offset, stride, len, blk.count, acc);
                       });
          return;
        }
      }
      if (by_rows) {
        for_each_run(
            reduced, begin, end, [&](int64_t offset, int64_t len, int64_t stride, int64_t index) {
              int64_t i = 0;
              for (; i + kRowGroup <= len; i += kRowGroup)
                add_rows<kRowGroup>(r, base + offset + i * stride, stride, blk.count, index + i,
                                    acc);
              for (; i < len; ++i)
                add_rows<1>(r, base + offset + i * stride, stride, blk.count, index + i, acc);
            });
      } else {
        for_each_run(
            reduced, begin, end, [&](int64_t offset, int64_t len, int64_t stride, int64_t index) {
              acc[0] = r.merge(
                  acc[0], stride == 1 ? reduce_run<true>(r, base + offset, 1, len, index)
                                      : reduce_run<false>(r, base + offset, stride, len, index));
            });
      }
    };

    if (blocks >= kMinParallelBlocks || n * width < 2 * kParallelGrain) {
      const int64_t grain = std::max<int64_t>(1, kParallelGrain / std::max<int64_t>(1, n * width));
      // Outputs each reducing one contiguous leaf, their runs a fixed stride apart (a sum,
      // product or max over the last dim): a block of them in one call (reduce_run.h's
      // float_leaves), each leaf merged into the identity as below. Row by row, a bfloat16
      // sum over the rows of a (1024, 1024) spent a fifth of its time between the leaves.
      if constexpr (has_leaves_of<R, T>) {
        if (!by_rows && reduced.ndim == 1 && reduced.strides[0] == 1 && n <= kPairwiseBlock &&
            kept.ndim <= 1) {
          const int64_t stride = kept.ndim == 1 ? kept.strides[0] : 0;
          parallel_for(0, blocks, grain, [&](int64_t begin, int64_t end) {
            Acc leaves[kRowBlock];
            for (int64_t b = begin; b < end; b += kRowBlock) {
              const int64_t count = std::min(kRowBlock, end - b);
              float_leaves<R>(in + b * stride, stride, count, n, leaves);
              for (int64_t j = 0; j < count; ++j)
                out[b + j] = r.finish(r.merge(r.identity(), leaves[j]));
            }
          });
          return;
        }
      }
      parallel_for(0, blocks, grain, [&](int64_t begin, int64_t end) {
        Acc acc[kRowBlock];
        for (int64_t b = begin; b < end; ++b) {
          const Block blk = block_at(b);
          std::fill_n(acc, blk.count, r.identity());
          accumulate(blk, 0, n, acc);
          for (int64_t j = 0; j < blk.count; ++j) out[blk.out_index + j] = r.finish(acc[j]);
        }
      });
      return;
    }
    // Few long reductions: each block's reduced range is cut into pieces of at least
    // kParallelGrain elements. The (piece, block) tasks run piece-major, so a thread walks
    // whole rows, and each block's pieces are merged in order.
    const int64_t max_pieces = std::max<int64_t>(1, kMaxPartials / (blocks * width));
    const int64_t piece =
        std::max((kParallelGrain + width - 1) / width, (n + max_pieces - 1) / max_pieces);
    const int64_t pieces = (n + piece - 1) / piece;
    const int64_t slots = pieces * blocks * width;  // task t's accumulators start at t * width
    // (not std::vector, whose bool specialisation has no Acc* to hand out)
    const std::unique_ptr<Acc[]> partial(new Acc[slots]);
    std::fill_n(partial.get(), slots, r.identity());
    parallel_for(0, pieces * blocks, 1, [&](int64_t begin, int64_t end) {
      for (int64_t t = begin; t < end; ++t) {
        const int64_t p = t / blocks;
        accumulate(block_at(t % blocks), p * piece, std::min(n, (p + 1) * piece),
                   &partial[t * width]);
      }
    });
    // Each block's pieces merged in order into its first piece's accumulators, a piece's
    // row at a time: vectorised for sums, the same merges in the same order as output by
    // output (the merge of (1024, 1024)'s 32 pieces over dim 0: 10.6% -> 8.3% of its profile).
    for (int64_t b = 0; b < blocks; ++b) {
      const Block blk = block_at(b);
      Acc* const acc = &partial[b * width];
      for (int64_t p = 1; p < pieces; ++p) {
        const Acc* piece_acc = &partial[(p * blocks + b) * width];
        for (int64_t j = 0; j < blk.count; ++j) acc[j] = r.merge(acc[j], piece_acc[j]);
      }
      for (int64_t j = 0; j < blk.count; ++j) out[blk.out_index + j] = r.finish(acc[j]);
    }
  }
};

}  // namespace

void register_reduce(KernelTable& table) { register_reduce_kernels<CpuReduceLoop>(table, kCPU); }

}  // namespace graft::kernels::cpu
