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

#include "graft/kernels/cpu/array_math.h"
#include "graft/kernels/cpu/cpu_kernels.h"
#include "graft/kernels/cpu/parallel.h"
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

template <class T>
void softmax_typed(const SoftmaxArgs& args) {
  const T* x = static_cast<const T*>(args.input);
  T* y = static_cast<T*>(args.output);
  const int64_t dim_size = args.dim_size, inner = args.inner;
  const int64_t tile_width = std::min(inner, kTile);
  const int64_t tiles_per_outer = (inner + kTile - 1) / kTile;
  const int64_t tile_elements = std::max<int64_t>(dim_size * tile_width, 1);
  parallel_for(0, args.outer * tiles_per_outer, std::max<int64_t>(1, kSoftmaxGrain / tile_elements),
               [&](int64_t begin, int64_t end) {
                 for (int64_t t = begin; t < end; ++t) {
                   const int64_t o = t / tiles_per_outer, i0 = (t % tiles_per_outer) * kTile;
                   const int64_t offset = o * dim_size * inner + i0;
                   if (inner == 1) {
                     softmax_row(x + offset, y + offset, dim_size, args.log);
                   } else {
                     softmax_columns(x + offset, y + offset, dim_size, inner,
                                     std::min(kTile, inner - i0), args.log);
                   }
                 }
               });
}

void softmax_kernel(const SoftmaxArgs& args) {
  if (args.outer * args.dim_size * args.inner == 0) return;
  visit_floating_dtype("softmax", args.dtype,
                       [&](auto tag) { softmax_typed<decltype(tag)>(args); });
}

}  // namespace

void register_softmax(KernelTable& table) {
  table.softmax[static_cast<int>(kCPU)] = &softmax_kernel;
}

}  // namespace graft::kernels::cpu
