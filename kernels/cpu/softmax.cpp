// CPU softmax / log_softmax along the middle dim of a contiguous (outer, dim_size, inner).
//
// Numerically stable: every line subtracts its max before exp, so logits of 1e4 neither
// overflow nor lose the others; log_softmax is x - max - log(sum(exp(x - max))) rather than
// log(softmax), which would turn tiny probabilities into -inf. A line of all -inf has
// max -inf and gives NaN (-inf - -inf), as in PyTorch. Sums accumulate in double.
//
// The work is cut into tiles of up to kTile neighbouring lines of one outer index. Lines
// along a non-last dim are `inner` apart, so a tile walks dim_size rows of kTile adjacent
// elements: each pass reads memory in order. The last dim (inner == 1) is the fast path,
// a tile of one contiguous row. Tiles are spread over threads when there are enough
// elements to pay for it.
#include <algorithm>
#include <cmath>
#include <limits>

#include "graft/kernels/cpu/cpu_kernels.h"
#include "graft/kernels/cpu/parallel.h"
#include "graft/kernels/softmax.h"

namespace graft::kernels::cpu {
namespace {

constexpr int64_t kTile = 64;
// Elements below which a softmax runs on one thread (each costs an exp and three passes).
constexpr int64_t kSoftmaxGrain = 8192;

// Softmax of `width` lines (width 1 when kRow) of dim_size elements `stride` apart:
// x, y (dim_size, stride) with columns [0, width) used.
template <class T, bool kRow>
void softmax_tile(const T* x, T* y, int64_t dim_size, int64_t stride, int64_t tile_width,
                  bool log) {
  const int64_t width = kRow ? 1 : tile_width;
  T max[kTile];
  double sum[kTile];
  std::fill_n(max, width, -std::numeric_limits<T>::infinity());
  std::fill_n(sum, width, 0.0);
  for (int64_t d = 0; d < dim_size; ++d)
    for (int64_t j = 0; j < width; ++j) max[j] = std::max(max[j], x[d * stride + j]);
  // y = x - max (log) or exp(x - max), summing exp(x - max).
  for (int64_t d = 0; d < dim_size; ++d) {
    for (int64_t j = 0; j < width; ++j) {
      const T shifted = x[d * stride + j] - max[j];
      const T e = std::exp(shifted);
      sum[j] += e;
      y[d * stride + j] = log ? shifted : e;
    }
  }
  // log_softmax subtracts log(sum); softmax divides by it.
  T scale[kTile];
  for (int64_t j = 0; j < width; ++j)
    scale[j] = static_cast<T>(log ? std::log(sum[j]) : 1.0 / sum[j]);
  for (int64_t d = 0; d < dim_size; ++d) {
    for (int64_t j = 0; j < width; ++j) {
      T& v = y[d * stride + j];
      v = log ? v - scale[j] : v * scale[j];
    }
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
                     softmax_tile<T, true>(x + offset, y + offset, dim_size, 1, 1, args.log);
                   } else {
                     softmax_tile<T, false>(x + offset, y + offset, dim_size, inner,
                                            std::min(kTile, inner - i0), args.log);
                   }
                 }
               });
}

void softmax_kernel(const SoftmaxArgs& args) {
  visit_dtype(args.dtype, [&](auto tag) {
    using T = decltype(tag);
    if constexpr (std::is_floating_point_v<T>) {
      softmax_typed<T>(args);
    } else {
      graft::detail::fail("softmax kernel called with ", args.dtype,
                          "; the op layer should have rejected it");
    }
  });
}

}  // namespace

void register_softmax(KernelTable& table) {
  table.softmax[static_cast<int>(kCPU)] = &softmax_kernel;
}

}  // namespace graft::kernels::cpu
