// CUDA layer norm and its backward (kernels/layer_norm.h), the twin of
// kernels/cpu/layer_norm.cpp.
//
// Forward: one block per row. The block sums the row in double (block_reduce.cuh), then the
// squared deviations from the mean, then writes the normalised row: three reads of a row
// that stays in L1/L2 between them, the same two-pass statistics as the CPU's. The row
// kernels (forward and dx) move kVec neighbouring elements an access (two half2 or bfloat162
// pairs, or a float4: vector_access.cuh) where the rows' length and starts allow.
// Backward: one block per row for dx (the two row sums in one block reduction), and for
// dweight and dbias a grid of (column tiles, row blocks) in which each thread walks its
// column down one block of rows, coalesced across the warp; the row blocks' partial sums
// (double, in a workspace) are then added in order by one thread per column, so the result
// is the same on every run. The row blocks are cut from the row count alone.
// float16 and bfloat16 (a kernel's storage type S) are read into float and computed there (T =
// compute_type_t<S>), the statistics and sums in double as for float32, each result rounded
// once.
#include <algorithm>

#include "graft/core/tensor.h"
#include "graft/kernels/cuda/block_reduce.cuh"
#include "graft/kernels/cuda/common.cuh"
#include "graft/kernels/cuda/cuda_kernels.h"
#include "graft/kernels/cuda/vector_access.cuh"
#include "graft/kernels/layer_norm.h"

namespace graft::kernels::cuda {
namespace {

// Column sums: at least this many rows per block of rows, and at most this many blocks.
constexpr int64_t kMinRowsPerBlock = 32;
constexpr int64_t kMaxRowBlocks = 1024;

// ---- kernels

template <class S, int kAccess>
__global__ void layer_norm_forward_kernel(const S* __restrict__ x, const S* __restrict__ weight,
                                          const S* __restrict__ bias, S* __restrict__ y,
                                          double* __restrict__ mean_out,
                                          double* __restrict__ rstd_out, int64_t cols, double eps) {
  using T = compute_type_t<S>;
  __shared__ double smem[kWarps];
  __shared__ double row_mean, row_rstd;
  const int64_t r = blockIdx.x;
  const S* row = x + r * cols;
  const auto n = static_cast<double>(cols);
  const int64_t items = cols / kAccess;  // a thread's: threadIdx.x, + blockDim.x, ...
  T v[kAccess];
  double sum = 0;
  for (int64_t i = threadIdx.x; i < items; i += blockDim.x) {
    load_as<kAccess>(row + i * kAccess, v);
    for (int e = 0; e < kAccess; ++e) sum += static_cast<double>(v[e]);
  }
  sum = block_reduce(DoubleSum{}, sum, smem);
  if (threadIdx.x == 0) row_mean = sum / n;
  __syncthreads();
  const double mean = row_mean;
  double squares = 0;
  for (int64_t i = threadIdx.x; i < items; i += blockDim.x) {
    load_as<kAccess>(row + i * kAccess, v);
    for (int e = 0; e < kAccess; ++e) {
      const double d = static_cast<double>(v[e]) - mean;
      squares += d * d;
    }
  }
  squares = block_reduce(DoubleSum{}, squares, smem);
  if (threadIdx.x == 0) {
    row_rstd = 1.0 / sqrt(squares / n + eps);
    mean_out[r] = mean;
    rstd_out[r] = row_rstd;
  }
  __syncthreads();
  const RowStats<T> stats(mean, row_rstd);
  S* out = y + r * cols;
  for (int64_t i = threadIdx.x; i < items; i += blockDim.x) {
    load_as<kAccess>(row + i * kAccess, v);
    for (int e = 0; e < kAccess; ++e) {
      const int64_t j = i * kAccess + e;
      v[e] = stats.normalize(v[e]) * static_cast<T>(weight_at(weight, j)) +
             static_cast<T>(bias_at(bias, j));
    }
    store_as<kAccess>(out + i * kAccess, v);
  }
}

// The two row sums of dx, sum(g) and sum(g * xhat), reduced together.
struct PairSum {
  struct Acc {
    double g, gx;
  };
  __device__ Acc identity() const { return {0, 0}; }
  __device__ Acc merge(Acc a, Acc b) const { return {a.g + b.g, a.gx + b.gx}; }
};

template <class S, int kAccess>
__global__ void layer_norm_grad_input_kernel(const S* __restrict__ dy, const S* __restrict__ x,
                                             const double* __restrict__ mean,
                                             const double* __restrict__ rstd,
                                             const S* __restrict__ weight, S* __restrict__ dx,
                                             int64_t cols) {
  using T = compute_type_t<S>;
  __shared__ PairSum::Acc smem[kWarps];
  __shared__ PairSum::Acc row_sums;
  const int64_t r = blockIdx.x;
  const S* dy_row = dy + r * cols;
  const S* x_row = x + r * cols;
  const RowStats<T> stats(mean[r], rstd[r]);
  const int64_t items = cols / kAccess;  // a thread's: threadIdx.x, + blockDim.x, ...
  // An item's dy * weight and xhat in the compute type, as both loops below read them.
  T g[kAccess], xhat[kAccess];
  const auto load = [&](int64_t i) {
    load_as<kAccess>(dy_row + i * kAccess, g);
    load_as<kAccess>(x_row + i * kAccess, xhat);
    for (int e = 0; e < kAccess; ++e) {
      g[e] *= static_cast<T>(weight_at(weight, i * kAccess + e));
      xhat[e] = stats.normalize(xhat[e]);
    }
  };
  PairSum::Acc sums{0, 0};
  for (int64_t i = threadIdx.x; i < items; i += blockDim.x) {
    load(i);
    for (int e = 0; e < kAccess; ++e) {
      sums.g += static_cast<double>(g[e]);
      sums.gx += static_cast<double>(g[e] * xhat[e]);
    }
  }
  sums = block_reduce(PairSum{}, sums, smem);
  if (threadIdx.x == 0) row_sums = sums;
  __syncthreads();
  const auto n = static_cast<double>(cols);
  const auto g_mean = static_cast<T>(row_sums.g / n), gx_mean = static_cast<T>(row_sums.gx / n);
  S* dx_row = dx + r * cols;
  for (int64_t i = threadIdx.x; i < items; i += blockDim.x) {
    load(i);
    for (int e = 0; e < kAccess; ++e) g[e] = stats.rstd * (g[e] - g_mean - xhat[e] * gx_mean);
    store_as<kAccess>(dx_row + i * kAccess, g);
  }
}

// partial[b][0][j] = sum over block b's rows of dy * xhat, partial[b][1][j] = of dy.
template <class S>
__global__ void layer_norm_column_partials_kernel(const S* __restrict__ dy, const S* __restrict__ x,
                                                  const double* __restrict__ mean,
                                                  const double* __restrict__ rstd, int64_t rows,
                                                  int64_t cols, int64_t rows_per_block,
                                                  double* __restrict__ partial) {
  using T = compute_type_t<S>;
  const int64_t b = blockIdx.y;
  const int64_t end = min(rows, (b + 1) * rows_per_block);
  // Grid-stride over the columns: grid_for caps the grid.
  for (int64_t j = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; j < cols;
       j += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    double dweight = 0, dbias = 0;
    for (int64_t r = b * rows_per_block; r < end; ++r) {
      const auto g = static_cast<T>(dy[r * cols + j]);
      dweight += static_cast<double>(
          g * RowStats<T>(mean[r], rstd[r]).normalize(static_cast<T>(x[r * cols + j])));
      dbias += static_cast<double>(g);
    }
    partial[(2 * b) * cols + j] = dweight;
    partial[(2 * b + 1) * cols + j] = dbias;
  }
}

template <class S>
__global__ void layer_norm_column_sums_kernel(const double* __restrict__ partial, int64_t blocks,
                                              int64_t cols, S* __restrict__ grad_weight,
                                              S* __restrict__ grad_bias) {
  using T = compute_type_t<S>;
  for (int64_t j = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; j < cols;
       j += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    double dweight = 0, dbias = 0;
    for (int64_t b = 0; b < blocks; ++b) {
      dweight += partial[(2 * b) * cols + j];
      dbias += partial[(2 * b + 1) * cols + j];
    }
    // Rounded to T first, as the CPU does: a 16-bit gradient is float32's rounded again.
    if (grad_weight != nullptr) grad_weight[j] = static_cast<S>(static_cast<T>(dweight));
    if (grad_bias != nullptr) grad_bias[j] = static_cast<S>(static_cast<T>(dbias));
  }
}

// ---- launchers

template <class T>
void forward(const LayerNormArgs& args) {
  if (args.rows == 0) return;
  GRAFT_CHECK(args.rows <= INT32_MAX, "layer_norm: ", args.rows,
              " rows are more than the CUDA kernel's grid holds");
  DeviceGuard guard(args.device);
  const auto* x = static_cast<const T*>(args.input);
  auto* y = static_cast<T*>(args.output);
  with_access_width(rows_take_vectors<T>(args.cols, x, y), [&](auto access) {
    layer_norm_forward_kernel<T, decltype(access)::value>
        <<<static_cast<unsigned>(args.rows), kBlockSize>>>(
            x, static_cast<const T*>(args.weight), static_cast<const T*>(args.bias), y, args.mean,
            args.rstd, args.cols, args.eps);
  });
  GRAFT_CUDA_CHECK_LAUNCH();
}

template <class T>
void backward(const LayerNormBackwardArgs& args) {
  const int64_t rows = args.rows, cols = args.cols;
  GRAFT_CHECK(rows <= INT32_MAX, "layer_norm_backward: ", rows,
              " rows are more than the CUDA kernel's grid holds");
  DeviceGuard guard(args.device);
  const auto* dy = static_cast<const T*>(args.grad_output);
  const auto* x = static_cast<const T*>(args.input);
  const double* mean = args.mean;
  const double* rstd = args.rstd;
  if (args.grad_input != nullptr && rows > 0) {
    auto* dx = static_cast<T*>(args.grad_input);
    with_access_width(rows_take_vectors<T>(cols, dy, x, dx), [&](auto access) {
      layer_norm_grad_input_kernel<T, decltype(access)::value>
          <<<static_cast<unsigned>(rows), kBlockSize>>>(
              dy, x, mean, rstd, static_cast<const T*>(args.weight), dx, cols);
    });
    GRAFT_CUDA_CHECK_LAUNCH();
  }
  if (args.grad_weight == nullptr && args.grad_bias == nullptr) return;
  const int64_t rows_per_block =
      std::max(kMinRowsPerBlock, (rows + kMaxRowBlocks - 1) / kMaxRowBlocks);
  const int64_t blocks = (rows + rows_per_block - 1) / rows_per_block;
  const Tensor partial =
      empty({std::max<int64_t>(1, 2 * blocks * cols)}, TensorOptions(kFloat64).device(args.device));
  auto* partial_ptr = static_cast<double*>(partial.data_ptr());
  const unsigned column_tiles = grid_for(cols);
  if (blocks > 0) {
    layer_norm_column_partials_kernel<T>
        <<<dim3(column_tiles, static_cast<unsigned>(blocks)), kBlockSize>>>(
            dy, x, mean, rstd, rows, cols, rows_per_block, partial_ptr);
    GRAFT_CUDA_CHECK_LAUNCH();
  }
  layer_norm_column_sums_kernel<T><<<column_tiles, kBlockSize>>>(partial_ptr, blocks, cols,
                                                                 static_cast<T*>(args.grad_weight),
                                                                 static_cast<T*>(args.grad_bias));
  GRAFT_CUDA_CHECK_LAUNCH();
}

void layer_norm_cuda(const LayerNormArgs& args) {
  visit_floating_or_16_bit_dtype("layer_norm", args.dtype,
                                 [&](auto tag) { forward<decltype(tag)>(args); });
}

void layer_norm_backward_cuda(const LayerNormBackwardArgs& args) {
  visit_floating_or_16_bit_dtype("layer_norm_backward", args.dtype,
                                 [&](auto tag) { backward<decltype(tag)>(args); });
}

}  // namespace

void register_layer_norm(KernelTable& table) {
  table.layer_norm[static_cast<int>(kCUDA)] = layer_norm_cuda;
  table.layer_norm_backward[static_cast<int>(kCUDA)] = layer_norm_backward_cuda;
}

}  // namespace graft::kernels::cuda
