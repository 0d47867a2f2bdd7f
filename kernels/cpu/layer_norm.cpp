// CPU layer norm and its backward (kernels/layer_norm.h): rows spread over threads.
//
// A row's statistics accumulate in double, the forward's through 16 independent sums, the
// backward's with `omp simd` reductions (which license the reassociation that vectorises
// them), two passes over the row while it is in L1: the mean, then the squared deviations
// from it, which is exact where the one-pass E[x^2] - E[x]^2 would cancel. The backward makes two
// passes over a row: its two sums in double, then dx and, in the same loop, the row's share of
// dweight and dbias, summed in T over a block of at least 16 rows; the blocks are cut from the row
// count alone and added in order in double at the end, so the result does not depend on the
// threads. On CPUs with AVX-512, float32 runs layer_norm_avx512.h's rows, forward and
// backward, which also ask for each next row while working on one. float16 and bfloat16
// compute in float32, a few rows at a time widened into a thread's buffers (compute_type_t),
// through the same float32 rows: (16384, 384) bfloat16 on the 2-core Xeon, forward 2.54-2.60 ms
// through widened copies -> 1.58-1.60 (PyTorch 1.75), with the backward (before its AVX-512 rows)
// 9.9-10.5 -> 6.1-6.2 (7.07).
#include <algorithm>
#include <cmath>
#include <type_traits>
#include <vector>

#include "graft/kernels/cpu/cpu_features.h"
#include "graft/kernels/cpu/cpu_kernels.h"
#include "graft/kernels/cpu/half_blocks.h"
#include "graft/kernels/cpu/layer_norm_avx512.h"
#include "graft/kernels/cpu/parallel.h"
#include "graft/kernels/cpu/thread_buffer.h"
#include "graft/kernels/dispatch.h"
#include "graft/kernels/layer_norm.h"

namespace graft::kernels::cpu {
namespace {

// weight (or bias) where given, else `fill` in a vector of cols elements: the row loops index a
// plain array, with no null test per element, which kept GCC from vectorising them (layer
// norm's backward of (16384, 384) ran at 2.1 times PyTorch's time, one element at a time).
template <class T>
const T* or_filled(const T* given, T fill, int64_t cols, std::vector<T>& storage) {
  if (given != nullptr) return given;
  storage.assign(static_cast<size_t>(cols), fill);
  return storage.data();
}

// Column sums: at least this many rows per block, and at most this many blocks (so the
// partial sums stay a small multiple of the columns).
constexpr int64_t kMinRowsPerBlock = 16;
constexpr int64_t kMaxRowBlocks = 256;

// The sum of term(j) for j < cols in double, through kSums independent accumulators: with the
// one vector accumulator of an `omp simd` reduction, each row's two sums were chains of
// dependent adds, and the forward of (16384, 384) ran at 1.2 times PyTorch's time. Every index
// into `sums` is a constant once unrolled, so GCC keeps them in registers (the tail apart, and
// the halving spelled out: a loop over the widths, not unrolled, left them in memory and the
// (768, 128) forward 1.7 times slower).
template <class Term>
double row_sum(int64_t cols, const Term& term) {
  constexpr int kSums = 16;
  double sums[kSums] = {};
  int64_t j = 0;
  for (; j + kSums <= cols; j += kSums) {
#pragma GCC unroll 16
    for (int k = 0; k < kSums; ++k) sums[k] += term(j + k);
  }
  double tail = 0;
  for (; j < cols; ++j) tail += term(j);
#pragma GCC unroll 16
  for (int k = 0; k < kSums / 2; ++k) sums[k] += sums[k + kSums / 2];
#pragma GCC unroll 16
  for (int k = 0; k < kSums / 4; ++k) sums[k] += sums[k + kSums / 4];
  return (sums[0] + sums[2]) + (sums[1] + sums[3]) + tail;
}

// One row of the forward: its mean and rstd, and out = xhat * weight + bias. A function of its
// own, its pointers parameters, for the reason row_sums gives below.
template <class T>
void forward_row(const T* row, const T* weight, const T* bias, int64_t cols, double eps, T* out,
                 double& mean, double& rstd) {
  const auto n = static_cast<double>(cols);
  mean = row_sum(cols, [&](int64_t j) { return static_cast<double>(row[j]); }) / n;
  const double squares = row_sum(cols, [&](int64_t j) {
    const double d = static_cast<double>(row[j]) - mean;
    return d * d;
  });
  rstd = 1.0 / std::sqrt(squares / n + eps);
  const RowStats<T> stats(mean, rstd);
#pragma omp simd
  for (int64_t j = 0; j < cols; ++j) out[j] = stats.normalize(row[j]) * weight[j] + bias[j];
}

// Rows [0, count) of the forward: the AVX-512 rows for float32 where the CPU has them.
template <class T>
void forward_rows(const T* x, const T* weight, const T* bias, int64_t count, int64_t cols,
                  double eps, T* y, double* mean, double* rstd) {
  if constexpr (std::is_same_v<T, float>) {
    static const bool avx512 = cpu_runs_avx512();
    if (avx512) return layer_norm_rows_avx512(x, weight, bias, count, cols, eps, y, mean, rstd);
  }
  for (int64_t r = 0; r < count; ++r)
    forward_row(x + r * cols, weight, bias, cols, eps, y + r * cols, mean[r], rstd[r]);
}

// Rows of a 16-bit layer norm widened at a time: about 16 KB of floats, at least one row.
int64_t widened_rows(int64_t cols) { return std::max<int64_t>(1, 4096 / cols); }

// A (cols) vector as T: `given` itself, or widened into `storage`; `fill` where it is null.
template <class T, class S>
const T* vector_as(const void* given, T fill, int64_t cols, std::vector<T>& storage) {
  if (given == nullptr) return or_filled<T>(nullptr, fill, cols, storage);
  return as_compute(static_cast<const S*>(given), cols, storage);
}

struct WidenedDy {};
struct WidenedX {};
struct WidenedDx {};

// The 16-bit backward's buffers for a block's rows of dy, x and dx (none for float32 and
// float64, whose rows are read where they lie).
struct WidenedRows {
  ThreadBuffer<float, WidenedDy> dy;
  ThreadBuffer<float, WidenedX> x;
  ThreadBuffer<float, WidenedDx> dx;
};
struct Nothing {};

template <class S>
void forward(const LayerNormArgs& args) {
  using T = compute_type_t<S>;
  const auto* x = static_cast<const S*>(args.input);
  const int64_t cols = args.cols;
  std::vector<T> weight_storage, bias_storage;
  const T* weight = vector_as<T, S>(args.weight, T(1), cols, weight_storage);
  const T* bias = vector_as<T, S>(args.bias, T(0), cols, bias_storage);
  auto* y = static_cast<S*>(args.output);
  parallel_for(0, args.rows, std::max<int64_t>(1, kParallelGrain / cols),
               [&](int64_t begin, int64_t end) {
                 if constexpr (std::is_same_v<T, S>) {
                   forward_rows(x + begin * cols, weight, bias, end - begin, cols, args.eps,
                                y + begin * cols, args.mean + begin, args.rstd + begin);
                 } else {
                   through_float_blocks(x, cols, y, cols, begin, end, widened_rows(cols),
                                        [&](const float* in, float* out, int64_t r, int64_t count) {
                                          forward_rows(in, weight, bias, count, cols, args.eps, out,
                                                       args.mean + r, args.rstd + r);
                                        });
                 }
               });
}

// The backward's first pass over one row: the sums of g = dy * weight and of g * xhat, in
// double. A function of its own, with its pointers as parameters: inside the row loop's lambda
// they were captured by reference, loaded through the closure at every element, and GCC did not
// vectorise the loop (layer norm's backward of (16384, 384) ran at 2.1 times PyTorch's time).
// Inlined always: called from the 16-bit backwards too, GCC stopped inlining it, and the
// float32 forward + backward of (16384, 384) took 5.7-6.4 ms against 5.2-5.6.
template <class T>
[[gnu::always_inline]] inline void row_sums(const T* dy, const T* x, const T* weight,
                                            const RowStats<T>& stats, int64_t cols, double& g_sum,
                                            double& gx_sum) {
  double g_total = 0, gx_total = 0;
#pragma omp simd reduction(+ : g_total, gx_total)
  for (int64_t j = 0; j < cols; ++j) {
    const T g = dy[j] * weight[j];
    g_total += static_cast<double>(g);
    gx_total += static_cast<double>(g * stats.normalize(x[j]));
  }
  g_sum = g_total;
  gx_sum = gx_total;
}

// The second pass over one row, from one xhat per element: dx (kInput; g_mean and gx_mean
// from the first pass) and the row's share of the block's column sums (kColumns), in T.
template <bool kInput, bool kColumns, class T>
void backward_row(const T* dy, const T* x, const T* weight, const RowStats<T>& stats, T g_mean,
                  T gx_mean, int64_t cols, T* dx, T* dweight, T* dbias) {
#pragma omp simd
  for (int64_t j = 0; j < cols; ++j) {
    const T xhat = stats.normalize(x[j]);
    if constexpr (kInput) dx[j] = stats.rstd * (dy[j] * weight[j] - g_mean - xhat * gx_mean);
    if constexpr (kColumns) {
      dweight[j] += dy[j] * xhat;
      dbias[j] += dy[j];
    }
  }
}

// Rows [0, count) of the backward, from the forward's mean and rstd: dx where it is not null,
// and the rows' shares of dweight and dbias where they are not null (both or neither). The
// AVX-512 rows for float32 where the CPU has them.
template <class T>
void backward_rows(const T* dy, const T* x, const T* weight, const double* mean, const double* rstd,
                   int64_t count, int64_t cols, T* dx, T* dweight, T* dbias) {
  if constexpr (std::is_same_v<T, float>) {
    static const bool avx512 = cpu_runs_avx512();
    if (avx512)
      return layer_norm_backward_rows_avx512(dy, x, weight, mean, rstd, count, cols, dx, dweight,
                                             dbias);
  }
  const auto n = static_cast<double>(cols);
  for (int64_t i = 0; i < count; ++i) {
    const T* dy_row = dy + i * cols;
    const T* x_row = x + i * cols;
    const RowStats<T> stats(mean[i], rstd[i]);
    if (dx == nullptr) {
      backward_row<false, true>(dy_row, x_row, weight, stats, T(0), T(0), cols, dx, dweight, dbias);
      continue;
    }
    // mean(g) and mean(g * xhat), g = dy * weight.
    double g_sum = 0, gx_sum = 0;
    row_sums(dy_row, x_row, weight, stats, cols, g_sum, gx_sum);
    const auto g_mean = static_cast<T>(g_sum / n);
    const auto gx_mean = static_cast<T>(gx_sum / n);
    if (dweight != nullptr)
      backward_row<true, true>(dy_row, x_row, weight, stats, g_mean, gx_mean, cols, dx + i * cols,
                               dweight, dbias);
    else
      backward_row<true, false>(dy_row, x_row, weight, stats, g_mean, gx_mean, cols, dx + i * cols,
                                dweight, dbias);
  }
}

template <class S>
void backward(const LayerNormBackwardArgs& args) {
  using T = compute_type_t<S>;
  const auto* dy_all = static_cast<const S*>(args.grad_output);
  const auto* x_all = static_cast<const S*>(args.input);
  const int64_t rows = args.rows, cols = args.cols;
  std::vector<T> weight_storage;
  const T* weight = vector_as<T, S>(args.weight, T(1), cols, weight_storage);
  auto* dx_all = static_cast<S*>(args.grad_input);
  const bool columns = args.grad_weight != nullptr || args.grad_bias != nullptr;
  const int64_t block = std::max(kMinRowsPerBlock, (rows + kMaxRowBlocks - 1) / kMaxRowBlocks);
  const int64_t blocks = (rows + block - 1) / block;
  // Per block: cols partial sums of dy * xhat (dweight), then cols of dy (dbias). A block
  // sums its few rows in T, the blocks add up in double.
  std::vector<double> partial(columns ? static_cast<size_t>(blocks * 2 * cols) : 0, 0.0);
  parallel_for(
      0, blocks, std::max<int64_t>(1, kParallelGrain / (block * cols)),
      [&](int64_t first, int64_t last) {
        std::vector<T> sums(columns ? static_cast<size_t>(2 * cols) : 0);
        T* const dweight = sums.data();
        T* const dbias = dweight + (columns ? cols : 0);
        // A block's rows of dy, x and dx as T: the operands themselves, or (16-bit)
        // widened into the thread's buffers, dx narrowed after.
        [[maybe_unused]] std::conditional_t<std::is_same_v<T, S>, Nothing, WidenedRows> widened;
        for (int64_t b = first; b < last; ++b) {
          std::fill(sums.begin(), sums.end(), T(0));
          const int64_t r0 = b * block, count = std::min(rows, (b + 1) * block) - r0;
          const T *dy, *x;
          T* dx = nullptr;
          if constexpr (std::is_same_v<T, S>) {
            dy = dy_all + r0 * cols;
            x = x_all + r0 * cols;
            if (dx_all != nullptr) dx = dx_all + r0 * cols;
          } else {
            float* const dy_rows = widened.dy.data(count * cols);
            float* const x_rows = widened.x.data(count * cols);
            widen_block(dy_all + r0 * cols, dy_rows, count * cols);
            widen_block(x_all + r0 * cols, x_rows, count * cols);
            dy = dy_rows;
            x = x_rows;
            if (dx_all != nullptr) dx = widened.dx.data(count * cols);
          }
          backward_rows(dy, x, weight, args.mean + r0, args.rstd + r0, count, cols, dx,
                        columns ? dweight : nullptr, columns ? dbias : nullptr);
          if constexpr (!std::is_same_v<T, S>) {
            if (dx_all != nullptr) narrow_block(dx, dx_all + r0 * cols, count * cols);
          }
          if (columns)
            std::copy(sums.begin(), sums.end(),
                      partial.begin() + static_cast<std::ptrdiff_t>(b * 2 * cols));
        }
      });
  if (!columns) return;
  auto* grad_weight = static_cast<S*>(args.grad_weight);
  auto* grad_bias = static_cast<S*>(args.grad_bias);
  // The blocks in order, each column's two sums carried along the block's contiguous partials,
  // the same additions in the same order as column by column, where every block's partial was
  // a cache line of its own, on the calling thread alone (the forward and backward of a (768,
  // 128) GPT activation: 69.5-71.4 -> 66.6-68.8 us).
  std::vector<double> sums(static_cast<size_t>(2 * cols), 0.0);
  for (int64_t b = 0; b < blocks; ++b) {
    const double* block_partial = partial.data() + b * 2 * cols;
#pragma omp simd
    for (int64_t j = 0; j < 2 * cols; ++j) sums[j] += block_partial[j];
  }
  for (int64_t j = 0; j < cols; ++j) {
    // Rounded to T first: a 16-bit gradient is float32's rounded again, as a widened copy's.
    if (grad_weight != nullptr) grad_weight[j] = static_cast<S>(static_cast<T>(sums[j]));
    if (grad_bias != nullptr) grad_bias[j] = static_cast<S>(static_cast<T>(sums[cols + j]));
  }
}

void layer_norm_kernel(const LayerNormArgs& args) {
  visit_floating_or_16_bit_dtype("layer_norm", args.dtype,
                                 [&](auto tag) { forward<decltype(tag)>(args); });
}

void layer_norm_backward_kernel(const LayerNormBackwardArgs& args) {
  visit_floating_or_16_bit_dtype("layer_norm_backward", args.dtype,
                                 [&](auto tag) { backward<decltype(tag)>(args); });
}

}  // namespace

void register_layer_norm(KernelTable& table) {
  table.layer_norm[static_cast<int>(kCPU)] = layer_norm_kernel;
  table.layer_norm_backward[static_cast<int>(kCPU)] = layer_norm_backward_kernel;
}

}  // namespace graft::kernels::cpu
