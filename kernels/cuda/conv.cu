// CUDA conv2d and its backward: the twin of kernels/cpu/conv.cpp, over the same Conv2dArgs.
//
// The GEMMs are graft's own CUDA matmul (kernels/cuda/matmul.cu, whichever variant is
// selected), called through the kernel table with MatmulArgs whose batch strides walk the
// images and groups in place; this file adds the memory movers around them:
//  - im2col: the columns of a chunk of images, in one of two layouts (see Columns);
//  - col2im as a gather: each input element sums the column entries that read it, so no
//    two threads write one address and the result is deterministic (no atomics);
//  - a channel-major copy of grad_out, a bias add, a per-channel bias-gradient sum, an add.
// Every floating dtype runs as it is: float16 and bfloat16 products go to the tensor cores
// (the matmul's tensor_core variant, where the operands' strides keep 16-byte alignment), and
// the sums these kernels add up themselves run in float (compute_type_t).
// Forward, per chunk of B images: columns (B, G, rows, P) laid out image by image; out (B,
// G, group_out, P) = weight[g] (group_out, rows) x columns[b, g], one batched GEMM over
// (B, G), written straight into NCHW. Backward: grad_columns[b, g] = weight[g]^T x dy[b, g]
// (weight read transposed in place), gathered back into grad_input; grad_weight[g] =
// dy[g] (group_out, B * P) x columns[g]^T (B * P, rows), one GEMM per group whose inner dim
// runs over the whole chunk (columns laid out row-major over (rows, B, P), grad_out copied
// channel-major), added up over chunks. Chunks keep the workspace under kWorkspaceBytes.
#include <algorithm>
#include <cstdint>
#include <type_traits>

#include "graft/core/allocator.h"
#include "graft/kernels/conv.h"
#include "graft/kernels/cuda/common.cuh"
#include "graft/kernels/cuda/cuda_kernels.h"
#include "graft/kernels/matmul.h"

namespace graft::kernels::cuda {
namespace {

// Bytes of scratch (columns and friends) one conv call may hold.
constexpr int64_t kWorkspaceBytes = int64_t{256} << 20;

// Where column entry (image b, row r = (c, i, j), pixel p) lives: b * image_stride +
// r * row_stride + p. Image by image: image_stride = C * kh * kw * P, row_stride = P.
// Row-major over (rows, B * P): image_stride = P, row_stride = B * P.
struct Columns {
  int64_t image_stride, row_stride;
};

// ---- kernels

// Plain loop: for b < images, r < C * kh * kw, p < P: columns[b, r, p] = x[b, c, ih, iw] or 0.
template <class T>
__global__ void im2col_kernel(const T* __restrict__ x, T* __restrict__ columns, Conv2dGeometry g,
                              int64_t images, Columns layout) {
  const int64_t plane = g.out_plane(), rows = g.in_channels * g.kernel_size();
  const int64_t total = images * rows * plane;
  for (int64_t idx = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; idx < total;
       idx += int64_t{gridDim.x} * blockDim.x) {
    const int64_t p = idx % plane, r = (idx / plane) % rows, b = idx / (plane * rows);
    const int64_t c = r / g.kernel_size(), i = (r / g.kernel_w) % g.kernel_h, j = r % g.kernel_w;
    const int64_t ih = (p / g.out_w) * g.stride_h - g.pad_h + i * g.dilation_h;
    const int64_t iw = (p % g.out_w) * g.stride_w - g.pad_w + j * g.dilation_w;
    const bool inside = ih >= 0 && ih < g.in_h && iw >= 0 && iw < g.in_w;
    columns[b * layout.image_stride + r * layout.row_stride + p] =
        inside ? x[((b * g.in_channels + c) * g.in_h + ih) * g.in_w + iw] : T(0);
  }
}

// Plain loop: for each input element (b, c, ih, iw): dx = sum over taps (i, j) with
// ih = oh * stride_h - pad_h + i * dilation_h (and likewise for w) of columns[b, (c, i, j), p].
template <class T>
__global__ void col2im_kernel(const T* __restrict__ columns, T* __restrict__ dx, Conv2dGeometry g,
                              int64_t images, Columns layout) {
  const int64_t total = images * g.in_channels * g.in_plane();
  for (int64_t idx = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; idx < total;
       idx += int64_t{gridDim.x} * blockDim.x) {
    const int64_t iw = idx % g.in_w, ih = (idx / g.in_w) % g.in_h;
    const int64_t c = (idx / g.in_plane()) % g.in_channels,
                  b = idx / (g.in_plane() * g.in_channels);
    using C = compute_type_t<T>;
    C sum = 0;
    for (int64_t i = 0; i < g.kernel_h; ++i) {
      const int64_t h = ih + g.pad_h - i * g.dilation_h;  // oh * stride_h
      if (h < 0 || h % g.stride_h != 0 || h / g.stride_h >= g.out_h) continue;
      for (int64_t j = 0; j < g.kernel_w; ++j) {
        const int64_t w = iw + g.pad_w - j * g.dilation_w;
        if (w < 0 || w % g.stride_w != 0 || w / g.stride_w >= g.out_w) continue;
        const int64_t r = (c * g.kernel_h + i) * g.kernel_w + j;
        const int64_t p = (h / g.stride_h) * g.out_w + w / g.stride_w;
        sum += static_cast<C>(columns[b * layout.image_stride + r * layout.row_stride + p]);
      }
    }
    dx[idx] = static_cast<T>(sum);
  }
}

// Plain loop: for b < images, o < out_channels, p < P: y[b, o, p] += bias[o].
template <class T>
__global__ void add_bias_kernel(T* __restrict__ y, const T* __restrict__ bias, int64_t total,
                                int64_t channels, int64_t plane) {
  for (int64_t idx = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; idx < total;
       idx += int64_t{gridDim.x} * blockDim.x) {
    using C = compute_type_t<T>;
    y[idx] =
        static_cast<T>(static_cast<C>(y[idx]) + static_cast<C>(bias[(idx / plane) % channels]));
  }
}

// Plain loop: dst[o, b, p] = src[b, o, p] for b < images (grad_out made channel-major).
template <class T>
__global__ void channel_major_kernel(const T* __restrict__ src, T* __restrict__ dst, int64_t images,
                                     int64_t channels, int64_t plane) {
  const int64_t total = images * channels * plane;
  for (int64_t idx = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; idx < total;
       idx += int64_t{gridDim.x} * blockDim.x) {
    const int64_t p = idx % plane, b = (idx / plane) % images, o = idx / (plane * images);
    dst[idx] = src[(b * channels + o) * plane + p];
  }
}

template <class T>
__global__ void add_into_kernel(T* __restrict__ dst, const T* __restrict__ src, int64_t total) {
  for (int64_t idx = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; idx < total;
       idx += int64_t{gridDim.x} * blockDim.x) {
    using C = compute_type_t<T>;
    dst[idx] = static_cast<T>(static_cast<C>(dst[idx]) + static_cast<C>(src[idx]));
  }
}

// One block per channel o: db[o] = sum over b < batch, p < P of dy[b, o, p]; each thread sums
// a strided share, then a tree in shared memory (a fixed order: deterministic).
template <class T>
__global__ void bias_grad_kernel(const T* __restrict__ dy, T* __restrict__ db, int64_t batch,
                                 int64_t channels, int64_t plane) {
  using C = compute_type_t<T>;
  __shared__ C partial[kBlockSize];
  for (int64_t o = blockIdx.x; o < channels; o += gridDim.x) {
    C sum = 0;
    for (int64_t k = threadIdx.x; k < batch * plane; k += blockDim.x)
      sum += static_cast<C>(dy[((k / plane) * channels + o) * plane + k % plane]);
    partial[threadIdx.x] = sum;
    __syncthreads();
    for (int half = kBlockSize / 2; half > 0; half /= 2) {
      if (threadIdx.x < half) partial[threadIdx.x] += partial[threadIdx.x + half];
      __syncthreads();
    }
    if (threadIdx.x == 0) db[o] = static_cast<T>(partial[0]);
    __syncthreads();  // partial is rewritten for the next channel
  }
}

// ---- launchers

// Device scratch from the caching allocator, returned when the call ends.
class Workspace {
 public:
  Workspace(Device device, int64_t nbytes)
      : device_(device),
        nbytes_(static_cast<size_t>(nbytes)),
        data_(nbytes > 0 ? allocator_for(device).allocate(nbytes_, device) : nullptr) {}
  ~Workspace() {
    if (data_ != nullptr) allocator_for(device_).deallocate(data_, nbytes_, device_);
  }
  Workspace(const Workspace&) = delete;
  Workspace& operator=(const Workspace&) = delete;
  template <class T>
  T* as() const {
    return static_cast<T*>(data_);
  }

 private:
  Device device_;
  size_t nbytes_;
  void* data_;
};

// Images per chunk: as many as keep `per_image` elements each within the workspace.
int64_t chunk_images(int64_t batch, int64_t per_image, int64_t element_size) {
  const int64_t fit = kWorkspaceBytes / std::max<int64_t>(per_image * element_size, 1);
  return std::clamp<int64_t>(fit, 1, std::max<int64_t>(batch, 1));
}

template <class T>
void im2col(const T* x, T* columns, const Conv2dGeometry& g, int64_t images, Columns layout) {
  im2col_kernel<T>
      <<<grid_for(images * g.in_channels * g.kernel_size() * g.out_plane()), kBlockSize>>>(
          x, columns, g, images, layout);
  GRAFT_CUDA_CHECK_LAUNCH();
}

// out[batch..] (m, n) = a (m, k) x b (k, n) through the table's CUDA matmul. Each operand:
// data, row and column strides, and strides along up to two batch dims of sizes `batch`.
struct Operand {
  const void* data;
  int64_t row_stride, col_stride, batch_strides[2];
};
void gemm(DType dtype, Device device, int64_t m, int64_t k, int64_t n, int batch_ndim,
          const int64_t* batch, const Operand& a, const Operand& b, void* out) {
  MatmulArgs args;
  args.dtype = dtype;
  args.m = m, args.k = k, args.n = n;
  args.batch_ndim = batch_ndim;
  MatmulOperand* operands[2] = {&args.a, &args.b};
  const Operand* sources[2] = {&a, &b};
  for (int s = 0; s < 2; ++s) {
    operands[s]->data = sources[s]->data;
    operands[s]->row_stride = sources[s]->row_stride;
    operands[s]->col_stride = sources[s]->col_stride;
    for (int d = 0; d < batch_ndim; ++d)
      operands[s]->batch_strides[d] = sources[s]->batch_strides[d];
  }
  for (int d = 0; d < batch_ndim; ++d) args.batch_sizes[d] = batch[d];
  args.out = out;
  lookup(kernel_table().matmul, device, "conv2d")(args);
}

template <class T>
void conv2d_cuda_typed(const Conv2dArgs& args) {
  const Conv2dGeometry& g = args.geometry;
  const int64_t rows = g.column_rows(), plane = g.out_plane(), group_out = g.group_out_channels();
  const int64_t image_columns = g.groups * rows * plane;
  const int64_t chunk = chunk_images(g.batch, image_columns, sizeof(T));
  const Workspace workspace(args.device, g.is_pointwise() ? 0 : chunk * image_columns * sizeof(T));
  const T* x = static_cast<const T*>(args.input);
  T* y = static_cast<T*>(args.output);
  for (int64_t n0 = 0; n0 < g.batch; n0 += chunk) {
    const int64_t images = std::min(chunk, g.batch - n0);
    const T* columns = x + n0 * g.in_channels * g.in_plane();  // pointwise: the input itself
    if (!g.is_pointwise()) {
      im2col(columns, workspace.as<T>(), g, images, {image_columns, plane});
      columns = workspace.as<T>();
    }
    // out (images, G, group_out, P) = weight[g] (group_out, rows) x columns[b, g] (rows, P)
    const int64_t batch[2] = {images, g.groups};
    gemm(args.dtype, args.device, group_out, rows, plane, 2, batch,
         {args.weight, rows, 1, {0, group_out * rows}},
         {columns, plane, 1, {image_columns, rows * plane}}, y + n0 * g.out_channels * plane);
  }
  if (args.bias != nullptr) {
    const int64_t total = g.batch * g.out_channels * plane;
    add_bias_kernel<T><<<grid_for(total), kBlockSize>>>(y, static_cast<const T*>(args.bias), total,
                                                        g.out_channels, plane);
    GRAFT_CUDA_CHECK_LAUNCH();
  }
}

template <class T>
void grad_input_cuda(const Conv2dBackwardArgs& args) {
  const Conv2dGeometry& g = args.geometry;
  const int64_t rows = g.column_rows(), plane = g.out_plane(), group_out = g.group_out_channels();
  const int64_t image_columns = g.groups * rows * plane;
  const int64_t chunk = chunk_images(g.batch, image_columns, sizeof(T));
  const Workspace workspace(args.device, g.is_pointwise() ? 0 : chunk * image_columns * sizeof(T));
  const T* dy = static_cast<const T*>(args.grad_output);
  T* dx = static_cast<T*>(args.grad_input);
  for (int64_t n0 = 0; n0 < g.batch; n0 += chunk) {
    const int64_t images = std::min(chunk, g.batch - n0);
    T* dx_chunk = dx + n0 * g.in_channels * g.in_plane();
    // A pointwise conv's columns are its input, so its grad_columns are grad_input.
    T* grad_columns = g.is_pointwise() ? dx_chunk : workspace.as<T>();
    // grad_columns (images, G, rows, P) = weight[g]^T (rows, group_out) x dy[b, g] (group_out, P)
    const int64_t batch[2] = {images, g.groups};
    gemm(args.dtype, args.device, rows, group_out, plane, 2, batch,
         {args.weight, 1, rows, {0, group_out * rows}},
         {dy + n0 * g.out_channels * plane, plane, 1, {g.out_channels * plane, group_out * plane}},
         grad_columns);
    if (!g.is_pointwise()) {
      col2im_kernel<T><<<grid_for(images * g.in_channels * g.in_plane()), kBlockSize>>>(
          grad_columns, dx_chunk, g, images, {image_columns, plane});
      GRAFT_CUDA_CHECK_LAUNCH();
    }
  }
}

template <class T>
void grad_weight_cuda(const Conv2dBackwardArgs& args) {
  const Conv2dGeometry& g = args.geometry;
  const int64_t rows = g.column_rows(), plane = g.out_plane(), group_out = g.group_out_channels();
  const int64_t weight_numel = g.out_channels * rows;
  T* dw = static_cast<T*>(args.grad_weight);
  if (g.batch == 0) {
    GRAFT_CUDA_CHECK(cudaMemsetAsync(dw, 0, weight_numel * sizeof(T)));
    return;
  }
  // Per image: its columns and its channel-major grad_out; per call: one partial grad_weight.
  // Each piece starts 16 bytes on from the last, as the tensor-core GEMM reads and writes its
  // operands (one piece at an odd 16-bit offset would send the product to the SIMT kernel).
  const int64_t per_image = g.groups * rows * plane + g.out_channels * plane;
  const int64_t chunk = chunk_images(g.batch, per_image, sizeof(T));
  constexpr int64_t kAligned = 16 / sizeof(T);
  const auto aligned = [](int64_t count) { return (count + kAligned - 1) / kAligned * kAligned; };
  const int64_t columns_size = aligned(chunk * g.groups * rows * plane);
  const int64_t dy_size = aligned(chunk * g.out_channels * plane);
  const Workspace workspace(
      args.device, (columns_size + dy_size + (chunk < g.batch ? weight_numel : 0)) * sizeof(T));
  T* columns = workspace.as<T>();
  T* dy_channels = columns + columns_size;
  T* partial = dy_channels + dy_size;
  for (int64_t n0 = 0; n0 < g.batch; n0 += chunk) {
    const int64_t images = std::min(chunk, g.batch - n0), inner = images * plane;
    im2col(static_cast<const T*>(args.input) + n0 * g.in_channels * g.in_plane(), columns, g,
           images, {plane, inner});
    channel_major_kernel<T><<<grid_for(images * g.out_channels * plane), kBlockSize>>>(
        static_cast<const T*>(args.grad_output) + n0 * g.out_channels * plane, dy_channels, images,
        g.out_channels, plane);
    GRAFT_CUDA_CHECK_LAUNCH();
    // grad_weight[g] (group_out, rows) = dy[g] (group_out, B * P) x columns[g]^T (B * P, rows)
    const int64_t batch[1] = {g.groups};
    T* out = n0 == 0 ? dw : partial;
    gemm(args.dtype, args.device, group_out, inner, rows, 1, batch,
         {dy_channels, inner, 1, {group_out * inner, 0}}, {columns, 1, inner, {rows * inner, 0}},
         out);
    if (out == partial) {
      add_into_kernel<T><<<grid_for(weight_numel), kBlockSize>>>(dw, partial, weight_numel);
      GRAFT_CUDA_CHECK_LAUNCH();
    }
  }
}

template <class T>
void conv2d_backward_cuda_typed(const Conv2dBackwardArgs& args) {
  const Conv2dGeometry& g = args.geometry;
  if (args.grad_input != nullptr && g.batch > 0) grad_input_cuda<T>(args);
  if (args.grad_weight != nullptr) grad_weight_cuda<T>(args);
  if (args.grad_bias != nullptr) {
    bias_grad_kernel<T><<<grid_for(g.out_channels, 1), kBlockSize>>>(
        static_cast<const T*>(args.grad_output), static_cast<T*>(args.grad_bias), g.batch,
        g.out_channels, g.out_plane());
    GRAFT_CUDA_CHECK_LAUNCH();
  }
}

void conv2d_cuda(const Conv2dArgs& args) {
  if (args.geometry.batch * args.geometry.out_channels * args.geometry.out_plane() == 0) return;
  visit_floating_or_16_bit_dtype("conv2d", args.dtype,
                                 [&](auto tag) { conv2d_cuda_typed<decltype(tag)>(args); });
}

void conv2d_backward_cuda(const Conv2dBackwardArgs& args) {
  visit_floating_or_16_bit_dtype("conv2d_backward", args.dtype, [&](auto tag) {
    conv2d_backward_cuda_typed<decltype(tag)>(args);
  });
}

}  // namespace

void register_conv(KernelTable& table) {
  table.conv2d[static_cast<int>(kCUDA)] = &conv2d_cuda;
  table.conv2d_backward[static_cast<int>(kCUDA)] = &conv2d_backward_cuda;
}

}  // namespace graft::kernels::cuda
