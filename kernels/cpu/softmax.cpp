// CPU softmax / log_softmax along the middle dim of a contiguous (outer, dim_size, inner).
//
// Numerically stable: every line subtracts its max before exp, so logits of 1e4 neither
// overflow nor lose the others; log_softmax is x - max - log(sum(exp(x - max))) rather than
// log(softmax), which would turn tiny probabilities into -inf. A line of all -inf has
// max -inf and gives NaN (-inf - -inf), as in PyTorch.
//
// exp dominates the cost: a float32 line's exps run 16 lanes wide where the CPU has AVX-512
// (array_math.h's exact_exp and shifted_exp_sum), the rest of the arithmetic is Eigen arrays;
// sums accumulate in the input's type over Eigen's several packet-wide partial sums. The
// work is cut into tiles of up to kTile neighbouring lines of one outer index: lines along a
// non-last dim are `inner` apart, so a tile walks dim_size contiguous rows of its lines. The
// last dim (inner == 1) is the fast path, one contiguous line per tile. Tiles are spread over
// threads when there are enough elements to pay for it.
#include <Eigen/Core>
#include <algorithm>
#include <cmath>
#include <type_traits>

#include "graft/kernels/cpu/array_math.h"
#include "graft/kernels/cpu/cpu_kernels.h"
#include "graft/kernels/cpu/half_blocks.h"
#include "graft/kernels/cpu/parallel.h"
#include "graft/kernels/cpu/thread_buffer.h"
#include "graft/kernels/softmax.h"

namespace graft::kernels::cpu {
namespace {

constexpr int64_t kTile = 64;
// Elements below which a softmax runs on one thread (each costs an exp and three passes).
constexpr int64_t kSoftmaxGrain = 8192;

template <class T>
using Row = Eigen::Array<T, 1, Eigen::Dynamic, Eigen::RowMajor, 1, kTile>;  // no heap
template <class T>
using RowsMap = Eigen::Map<Eigen::Array<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>, 0,
                           Eigen::OuterStride<>>;
template <class T>
using ConstRowsMap =
    Eigen::Map<const Eigen::Array<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>, 0,
               Eigen::OuterStride<>>;

// One line of n contiguous elements: x, y (n).
template <class T>
void softmax_row(const T* x, T* y, int64_t n, bool log) {
  const Eigen::Map<const Eigen::Array<T, Eigen::Dynamic, 1>> in(x, n);
  Eigen::Map<Eigen::Array<T, Eigen::Dynamic, 1>> out(y, n);
  const T max = in.maxCoeff();
  if (log) {
    out = in - max - std::log(shifted_exp_sum(x, max, n));
  } else {
    exact_exp(out, in - max);
    out *= T(1) / out.sum();
  }
}

// `width` lines that are the columns of x, y (dim_size, width) with rows `stride` apart; each
// step works on a whole contiguous row of the tile.
template <class T>
void softmax_columns(const T* x, T* y, int64_t dim_size, int64_t stride, int64_t width, bool log) {
  const ConstRowsMap<T> in(x, dim_size, width, Eigen::OuterStride<>(stride));
  RowsMap<T> out(y, dim_size, width, Eigen::OuterStride<>(stride));
  Row<T> max = in.row(0), sum = Row<T>::Zero(width);
  for (int64_t d = 1; d < dim_size; ++d) max = max.max(in.row(d));
  for (int64_t d = 0; d < dim_size; ++d) {
    if (log) {
      out.row(d) = in.row(d) - max;
      sum += out.row(d).exp();  // a -inf's tiny exp does not move the sum (array_math.h)
    } else {
      exact_exp(out.row(d), in.row(d) - max);
      sum += out.row(d);
    }
  }
  if (log) {
    const Row<T> log_sum = sum.log();
    for (int64_t d = 0; d < dim_size; ++d) out.row(d) -= log_sum;
  } else {
    const Row<T> inverse = sum.inverse();
    for (int64_t d = 0; d < dim_size; ++d) out.row(d) *= inverse;
  }
}

// The lines of the tile at x, y: dim_size rows of `width` lines, rows `stride` apart.
template <class T>
void softmax_tile(const T* x, T* y, int64_t dim_size, int64_t stride, int64_t width, bool log) {
  if (stride == 1)
    softmax_row(x, y, dim_size, log);
  else
    softmax_columns(x, y, dim_size, stride, width, log);
}

// Calls tile(offset, width) for each tile of args' lines (its first element `offset` elements
// in, `width` lines wide), the tiles spread over threads.
template <class Tile>
void for_each_tile(const SoftmaxArgs& args, const Tile& tile) {
  const int64_t dim_size = args.dim_size, inner = args.inner;
  const int64_t tile_width = std::min(inner, kTile);
  const int64_t tiles_per_outer = (inner + kTile - 1) / kTile;
  const int64_t tile_elements = std::max<int64_t>(dim_size * tile_width, 1);
  parallel_for(0, args.outer * tiles_per_outer, std::max<int64_t>(1, kSoftmaxGrain / tile_elements),
               [&](int64_t begin, int64_t end) {
                 for (int64_t t = begin; t < end; ++t) {
                   const int64_t o = t / tiles_per_outer, i0 = (t % tiles_per_outer) * kTile;
                   tile(o * dim_size * inner + i0, std::min(kTile, inner - i0));
                 }
               });
}

template <class T>
void softmax_typed(const SoftmaxArgs& args) {
  const T* x = static_cast<const T*>(args.input);
  T* y = static_cast<T*>(args.output);
  for_each_tile(args, [&](int64_t offset, int64_t width) {
    softmax_tile(x + offset, y + offset, args.dim_size, args.inner, width, args.log);
  });
}

// float16 and bfloat16: each tile widened into the thread's float buffer, rows `width` apart,
// the float32 code run there in place, and the result narrowed back: float32's arithmetic on
// the widened values (its sums' order aside: Eigen's depend on the data's alignment), without
// a widened copy's passes over memory and allocations.
// (1024, 1024) along the last dim on the 2-core Xeon, two threads, bfloat16 482-494 -> 283-285
// us, float16 476-479 -> 281-284 (PyTorch 345-355).
struct WidenedTile;

template <class H>
void softmax_16_bit(const SoftmaxArgs& args) {
  const H* x = static_cast<const H*>(args.input);
  H* y = static_cast<H*>(args.output);
  const int64_t dim_size = args.dim_size, inner = args.inner;
  for_each_tile(args, [&](int64_t offset, int64_t width) {
    ThreadBuffer<float, WidenedTile> buffer;
    float* tile = buffer.data(dim_size * width);
    // A tile as wide as the lines' stride is one contiguous block (always so along the last
    // dim); a narrower one is a row of `width` elements every `inner`.
    const int64_t rows = width == inner ? 1 : dim_size,
                  row = width == inner ? dim_size * width : width;
    for (int64_t r = 0; r < rows; ++r) widen_block(x + offset + r * inner, tile + r * row, row);
    softmax_tile(tile, tile, dim_size, width, width, args.log);
    for (int64_t r = 0; r < rows; ++r) narrow_block(tile + r * row, y + offset + r * inner, row);
  });
}

void softmax_kernel(const SoftmaxArgs& args) {
  if (args.outer * args.dim_size * args.inner == 0) return;
  visit_floating_or_16_bit_dtype("softmax", args.dtype, [&](auto tag) {
    using T = decltype(tag);
    if constexpr (std::is_floating_point_v<T>)
      softmax_typed<T>(args);
    else
      softmax_16_bit<T>(args);
  });
}

}  // namespace

void register_softmax(KernelTable& table) {
  table.softmax[static_cast<int>(kCPU)] = &softmax_kernel;
}

}  // namespace graft::kernels::cpu
