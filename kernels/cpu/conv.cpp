// CPU conv2d and its backward: im2col + one GEMM per image and group (graft's AVX-512 GEMM for
// float32 where the CPU has it, Eigen's elsewhere), or, for the stride-1 float32 convolutions
// it serves, DirectConv (direct_conv.h): the same GEMM reading the padded image's windows in
// place, with no columns at all. bfloat16 convolutions and their gradients go to AMX's tiles or
// AVX512-BF16's dot products where bfloat16_conv.h takes them. Other float16 and bfloat16 ones run
// the float32 code an image at a time: each image (and the weight, once) widened into a thread's
// buffer, each image's result rounded as it is stored, so that a 16-bit convolution never holds
// float32 copies of whole tensors. (The op layer made those copies before: for a (16, 32, 64, 64)
// float16 input, 8 MB more for the input and as much for the output.) The bits are those of the
// float32 convolution of the widened operands, rounded once.
//
// For each image, im2col copies the input into a (channels * kernel taps, out_h * out_w)
// column matrix (kernels/conv.h), whose rows of group g are the block [g * rows, (g + 1) *
// rows); the convolution of the group is then out[g] = weight[g] x columns[g], a plain GEMM
// (graft's own AVX-512 one reads weight and columns in place). A pointwise conv (1x1, stride 1, no
// padding) multiplies the input itself. The backward runs the same GEMMs the other way round:
//   grad_columns[g] = weight[g]^T x grad_out[g], scattered back by col2im into grad_input;
//   grad_weight[g]  = sum over images of grad_out[g] x columns[g]^T;
//   grad_bias[c]    = sum over images and pixels of grad_out[c].
// Threads: the batch is cut into a few chunks per thread (parallel.h's kChunksPerThread),
// each with its own column buffer (and its own grad_weight accumulator, summed in chunk
// order afterwards, so the result does not depend on which thread finishes first); the GEMMs
// run single-threaded inside each (matmul.cpp says why). A forward with fewer images than
// threads shares each image's GEMM instead (cut_images): Eigen's by blocks of output columns,
// graft's own by its output blocks; the backward of such a batch still runs on one thread. Under
// use_deterministic_algorithms (kernels/settings.h) the chunks are a fixed number, so that the
// grad_weight partials do not depend on the thread count, and the forward never cuts an image.
#include <Eigen/Core>
#include <algorithm>
#include <optional>
#include <type_traits>
#include <vector>

#include "graft/kernels/conv.h"
#include "graft/kernels/cpu/bfloat16_conv.h"
#include "graft/kernels/cpu/cpu_kernels.h"
#include "graft/kernels/cpu/direct_conv.h"
#include "graft/kernels/cpu/half_blocks.h"
#include "graft/kernels/cpu/packed_gemm.h"
#include "graft/kernels/cpu/parallel.h"
#include "graft/kernels/cpu/tap_range.h"
#include "graft/kernels/cpu/thread_buffer.h"
#include "graft/kernels/settings.h"

namespace graft::kernels::cpu {
namespace {

template <class T>
using Matrix = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
template <class T>
using MatrixMap = Eigen::Map<Matrix<T>>;
template <class T>
using ConstMatrixMap = Eigen::Map<const Matrix<T>>;
// A block of columns of a row-major matrix whose rows are `stride` elements apart.
template <class T>
using ColumnBlockMap = Eigen::Map<Matrix<T>, Eigen::Unaligned, Eigen::OuterStride<>>;
template <class T>
using ConstColumnBlockMap = Eigen::Map<const Matrix<T>, Eigen::Unaligned, Eigen::OuterStride<>>;

// Multiply-adds below which a block of output columns is not worth a task of its own.
constexpr int64_t kColumnBlockWork = int64_t{1} << 16;

// out (m, n), contiguous, = a (m, k) x b (k, n) (+= with accumulate), operands read through
// their (row, column) strides, by graft's AVX-512 GEMM (packed_gemm.h) where the CPU runs it
// for T: it reads the weights and columns in place and runs 16-wide FMAs where Eigen, built
// for AVX2, runs 8. Its blocks spread over the threads outside a region and run on the caller
// inside one (a batch chunk), and its bits do not depend on which. False, nothing done,
// elsewhere, and where the output is smaller than one of its tiles (the first layer's
// 9-column weight gradient): Eigen is faster there.
template <class T>
bool packed_product(const T* a, int64_t a_row, int64_t a_col, const T* b, int64_t b_row,
                    int64_t b_col, T* out, int64_t m, int64_t k, int64_t n,
                    bool accumulate = false) {
  if constexpr (std::is_same_v<T, float>)
    return packed_gemm_if_it_pays({a, a_row, a_col}, {b, b_row, b_col}, out, m, k, n, accumulate);
  return false;
}

// The direct path (direct_conv.h) for one product of g, when wanted and where it serves. It
// runs float32 only; elsewhere, and where it does not serve, each call answers false and does
// nothing, for the columns to take over.
template <class T>
class DirectPath {
 public:
  using Product = DirectConv::Product;
  DirectPath(const Conv2dGeometry& g, Product product, const T* weight, bool wanted = true) {
    if constexpr (std::is_same_v<T, float>) {
      if (wanted && DirectConv::serves(g, product)) conv_.emplace(g, product, weight);
    }
  }

  bool run(const T* image, const T* bias, T* out, std::vector<T>& workspace) const {
    if constexpr (std::is_same_v<T, float>) {
      if (conv_) conv_->run(image, bias, out, workspace);
    }
    return conv_.has_value();
  }
  bool add_weight_grad(const T* image, const T* grad_out, T* accumulator,
                       std::vector<T>& workspace) const {
    if constexpr (std::is_same_v<T, float>) {
      if (conv_) conv_->add_weight_grad(image, grad_out, accumulator, workspace);
    }
    return conv_.has_value();
  }
  bool unpack_weight_grad(const T* accumulator, T* grad_weight) const {
    if constexpr (std::is_same_v<T, float>) {
      if (conv_) conv_->unpack_weight_grad(accumulator, grad_weight);
    }
    return conv_.has_value();
  }

 private:
  std::optional<DirectConv> conv_;
};

// The thread buffers of a 16-bit convolution's widened images and unrounded results.
struct WidenedImage {};
struct WidenedGrad {};
struct ComputedImage {};

// The outputs of a row that each kernel column j reads inside the input (tap_range.h), for
// every j: the same for every row, channel and kernel row, so worked out once an image, where
// working them out (a division) for each 14-element row of conv2's columns, with a library
// call to fill or copy each part, took 26% of its forward on AVX2.
std::vector<TapRange> inside_columns(const Conv2dGeometry& g) {
  std::vector<TapRange> inside(static_cast<size_t>(g.kernel_w));
  for (int64_t j = 0; j < g.kernel_w; ++j)
    inside[static_cast<size_t>(j)] =
        outputs_reading_inside(j * g.dilation_w - g.pad_w, g.stride_w, g.in_w, g.out_w);
  return inside;
}

// x (C, H, W) -> columns (C * kernel_h * kernel_w, out_h * out_w), zeros for padding.
template <class T>
void im2col(const Conv2dGeometry& g, const T* x, T* columns) {
  const std::vector<TapRange> inside = inside_columns(g);
  T* dst = columns;
  for (int64_t c = 0; c < g.in_channels; ++c) {
    for (int64_t i = 0; i < g.kernel_h; ++i) {
      for (int64_t j = 0; j < g.kernel_w; ++j) {
        const auto [lo, hi] = inside[static_cast<size_t>(j)];
        const int64_t offset = j * g.dilation_w - g.pad_w;  // input column of output 0
        for (int64_t oh = 0; oh < g.out_h; ++oh, dst += g.out_w) {
          const int64_t ih = oh * g.stride_h - g.pad_h + i * g.dilation_h;
          if (ih < 0 || ih >= g.in_h) {
            std::fill(dst, dst + g.out_w, T(0));
            continue;
          }
          const T* src = x + (c * g.in_h + ih) * g.in_w;
          for (int64_t ow = 0; ow < lo; ++ow) dst[ow] = T(0);
          if (g.stride_w == 1) {
            for (int64_t ow = lo; ow < hi; ++ow) dst[ow] = src[ow + offset];
          } else {
            for (int64_t ow = lo; ow < hi; ++ow) dst[ow] = src[ow * g.stride_w + offset];
          }
          for (int64_t ow = hi; ow < g.out_w; ++ow) dst[ow] = T(0);
        }
      }
    }
  }
}

// The adjoint of im2col: dx (C, H, W) = sum of the columns' entries over the taps that read
// each input element (padding entries are dropped).
template <class T>
void col2im(const Conv2dGeometry& g, const T* columns, T* dx) {
  std::fill(dx, dx + g.in_channels * g.in_plane(), T(0));
  const std::vector<TapRange> inside = inside_columns(g);
  const T* src = columns;
  for (int64_t c = 0; c < g.in_channels; ++c) {
    for (int64_t i = 0; i < g.kernel_h; ++i) {
      for (int64_t j = 0; j < g.kernel_w; ++j) {
        const auto [lo, hi] = inside[static_cast<size_t>(j)];
        const int64_t offset = j * g.dilation_w - g.pad_w;
        for (int64_t oh = 0; oh < g.out_h; ++oh, src += g.out_w) {
          const int64_t ih = oh * g.stride_h - g.pad_h + i * g.dilation_h;
          if (ih < 0 || ih >= g.in_h) continue;
          T* dst = dx + (c * g.in_h + ih) * g.in_w;
          for (int64_t ow = lo; ow < hi; ++ow) dst[ow * g.stride_w + offset] += src[ow];
        }
      }
    }
  }
}

// Chunks of the batch in deterministic mode: enough to keep 16 threads busy.
constexpr int64_t kDeterministicChunks = 16;

// How many chunks for_each_batch_chunk cuts a batch into: a few per thread, or a fixed
// number in deterministic mode; never more than the images.
int64_t batch_chunks(int64_t batch) {
  const int64_t wanted = are_deterministic_algorithms_enabled()
                             ? kDeterministicChunks
                             : available_threads() * kChunksPerThread;
  return std::clamp<int64_t>(wanted, 1, std::max<int64_t>(batch, 1));
}

// Calls fn(chunk, begin, end) for the batch_chunks(batch) consecutive chunks of [0, batch),
// the chunks in parallel.
template <class Fn>
void for_each_batch_chunk(int64_t batch, int64_t chunks, const Fn& fn) {
  auto run = [&](int64_t chunk) {
    fn(chunk, chunk * batch / chunks, (chunk + 1) * batch / chunks);
  };
  parallel_blocks(chunks, run);
}

// The workspace of the chunks a thread runs (padded images, columns, products): the
// thread's own (thread_buffer.h).
struct ChunkWorkspace {};

// The columns of image x: x itself for a pointwise conv, else im2col into `buffer`.
template <class T>
const T* columns_of(const Conv2dGeometry& g, const T* x, std::vector<T>& buffer) {
  if (g.is_pointwise()) return x;
  buffer.resize(static_cast<size_t>(g.groups * g.column_rows() * g.out_plane()));
  im2col(g, x, buffer.data());
  return buffer.data();
}

// Whether the threads share each image's GEMMs rather than the batch: when there are fewer
// images than threads (a batch of one, at inference). Not in deterministic mode: Eigen may
// order a block's sums unlike the whole product's, so the bits would depend on the threads.
bool cut_images(const Conv2dGeometry& g) {
  return g.batch < available_threads() && !are_deterministic_algorithms_enabled();
}

template <class T>
void add_bias(const Conv2dGeometry& g, const T* bias, T* out) {
  if (bias == nullptr) return;
  MatrixMap<T>(out, g.out_channels, g.out_plane()).colwise() +=
      Eigen::Map<const Eigen::Matrix<T, Eigen::Dynamic, 1>>(bias, g.out_channels);
}

// conv2d of storage type S, computed in T.
template <class S>
void conv2d_typed(const Conv2dArgs& args) {
  using T = compute_type_t<S>;
  const Conv2dGeometry& g = args.geometry;
  const int64_t rows = g.column_rows(), plane = g.out_plane(), group_out = g.group_out_channels();
  const int64_t image_size = g.in_channels * g.in_plane(), out_size = g.out_channels * plane;
  const S* x = static_cast<const S*>(args.input);
  S* y = static_cast<S*>(args.output);
  std::vector<T> weight_space, bias_space;
  const T* w = as_compute(static_cast<const S*>(args.weight), g.out_channels * rows, weight_space);
  const T* bias = args.bias != nullptr
                      ? as_compute(static_cast<const S*>(args.bias), g.out_channels, bias_space)
                      : nullptr;
  const bool cut = cut_images(g);
  const DirectPath<T> direct(g, DirectConv::Product::kOutput, w);
  // Cut images make one chunk: it runs on the caller, outside any region, so that the
  // column blocks inside it spread over the threads.
  const int64_t column_grain =
      cut ? std::max<int64_t>(1, kColumnBlockWork / std::max<int64_t>(group_out * rows, 1)) : plane;
  for_each_batch_chunk(
      g.batch, cut ? 1 : batch_chunks(g.batch), [&](int64_t, int64_t begin, int64_t end) {
        ThreadBuffer<T, ChunkWorkspace> workspace;
        ThreadBuffer<T, WidenedImage> image_space;
        ThreadBuffer<T, ComputedImage> result_space;
        std::vector<T>& buffer = workspace.vector();
        for (int64_t n = begin; n < end; ++n) {
          const T* xn = as_compute(x + n * image_size, image_size, image_space.vector());
          T* yn = computed_at(y + n * out_size, out_size, result_space.vector());
          if (direct.run(xn, bias, yn, buffer)) {
            store_computed(yn, y + n * out_size, out_size);
            continue;
          }
          const T* columns = columns_of(g, xn, buffer);
          for (int64_t k = 0; k < g.groups; ++k) {
            if (packed_product(w + k * group_out * rows, rows, 1, columns + k * rows * plane, plane,
                               1, yn + k * group_out * plane, group_out, rows, plane))
              continue;
            parallel_for(0, plane, column_grain, [&](int64_t first, int64_t last) {
              // out[k][:, first:last] = weight[k] (group_out, rows) x columns[k][:, first:last]
              ColumnBlockMap<T>(yn + k * group_out * plane + first, group_out, last - first,
                                Eigen::OuterStride<>(plane))
                  .noalias() = ConstMatrixMap<T>(w + k * group_out * rows, group_out, rows) *
                               ConstColumnBlockMap<T>(columns + k * rows * plane + first, rows,
                                                      last - first, Eigen::OuterStride<>(plane));
            });
          }
          add_bias(g, bias, yn);
          store_computed(yn, y + n * out_size, out_size);
        }
      });
}

// conv2d_backward of storage type S, computed in T.
template <class S>
void conv2d_backward_typed(const Conv2dBackwardArgs& args) {
  using T = compute_type_t<S>;
  const Conv2dGeometry& g = args.geometry;
  const int64_t rows = g.column_rows(), plane = g.out_plane(), group_out = g.group_out_channels();
  const int64_t image_size = g.in_channels * g.in_plane(), out_size = g.out_channels * plane;
  const S* dy = static_cast<const S*>(args.grad_output);
  const S* x = static_cast<const S*>(args.input);
  S* dx = static_cast<S*>(args.grad_input);
  S* dw = static_cast<S*>(args.grad_weight);
  std::vector<T> weight_space;
  const T* w = args.weight != nullptr ? as_compute(static_cast<const S*>(args.weight),
                                                   g.out_channels * rows, weight_space)
                                      : nullptr;

  if (dx != nullptr || dw != nullptr) {
    // One grad_weight accumulator per chunk, in the columns' layout or the direct path's.
    const int64_t chunks = batch_chunks(g.batch);
    const DirectPath<T> direct_x(g, DirectConv::Product::kGradInput, w, dx != nullptr);
    const DirectPath<T> direct_w(g, DirectConv::Product::kGradWeight, nullptr, dw != nullptr);
    std::vector<Matrix<T>> partial(dw != nullptr ? static_cast<size_t>(chunks) : 0);
    for_each_batch_chunk(g.batch, chunks, [&](int64_t chunk, int64_t begin, int64_t end) {
      ThreadBuffer<T, ChunkWorkspace> workspace;
      ThreadBuffer<T, WidenedGrad> grad_space;
      ThreadBuffer<T, WidenedImage> image_space;
      ThreadBuffer<T, ComputedImage> result_space;
      std::vector<T>& buffer = workspace.vector();
      if (dw != nullptr) partial[chunk] = Matrix<T>::Zero(g.out_channels, rows);
      for (int64_t n = begin; n < end; ++n) {
        const T* dyn = as_compute(dy + n * out_size, out_size, grad_space.vector());
        T* dxn = dx != nullptr ? computed_at(dx + n * image_size, image_size, result_space.vector())
                               : nullptr;
        if (dx != nullptr && !direct_x.run(dyn, static_cast<const T*>(nullptr), dxn, buffer)) {
          // A pointwise conv's columns are the input, so its grad_columns are grad_input.
          T* grad_columns = dxn;
          if (!g.is_pointwise()) {
            buffer.resize(static_cast<size_t>(g.groups * rows * plane));
            grad_columns = buffer.data();
          }
          for (int64_t k = 0; k < g.groups; ++k) {
            // grad_columns[k] (rows, plane) = weight[k]^T (rows, group_out) x dy[k]
            if (packed_product(w + k * group_out * rows, 1, rows, dyn + k * group_out * plane,
                               plane, 1, grad_columns + k * rows * plane, rows, group_out, plane))
              continue;
            MatrixMap<T>(grad_columns + k * rows * plane, rows, plane).noalias() =
                ConstMatrixMap<T>(w + k * group_out * rows, group_out, rows).transpose() *
                ConstMatrixMap<T>(dyn + k * group_out * plane, group_out, plane);
          }
          if (!g.is_pointwise()) col2im(g, grad_columns, dxn);
        }
        if (dx != nullptr) store_computed(dxn, dx + n * image_size, image_size);
        if (dw != nullptr) {
          const T* xn = as_compute(x + n * image_size, image_size, image_space.vector());
          if (direct_w.add_weight_grad(xn, dyn, partial[chunk].data(), buffer)) continue;
          const T* columns = columns_of(g, xn, buffer);
          for (int64_t k = 0; k < g.groups; ++k) {
            // grad_weight[k] (group_out, rows) += dy[k] (group_out, plane) x columns[k]^T
            if (packed_product(dyn + k * group_out * plane, plane, 1, columns + k * rows * plane, 1,
                               plane, partial[chunk].data() + k * group_out * rows, group_out,
                               plane, rows, /*accumulate=*/true))
              continue;
            partial[chunk].middleRows(k * group_out, group_out).noalias() +=
                ConstMatrixMap<T>(dyn + k * group_out * plane, group_out, plane) *
                ConstMatrixMap<T>(columns + k * rows * plane, rows, plane).transpose();
          }
        }
      }
    });
    if (dw != nullptr) {
      Matrix<T> total = Matrix<T>::Zero(g.out_channels, rows);
      for (int64_t chunk = 0; chunk < chunks; ++chunk) total += partial[chunk];
      // The direct path's accumulators hold its own layout (W^T per group).
      std::vector<T> dw_space;
      T* const dw_computed = computed_at(dw, g.out_channels * rows, dw_space);
      if (!direct_w.unpack_weight_grad(total.data(), dw_computed))
        MatrixMap<T>(dw_computed, g.out_channels, rows) = total;
      store_computed(dw_computed, dw, g.out_channels * rows);
    }
  }

  if (args.grad_bias != nullptr) {
    // Channels over the threads, each summed by one in a fixed order.
    S* db = static_cast<S*>(args.grad_bias);
    const int64_t grain =
        std::max<int64_t>(1, kParallelGrain / std::max<int64_t>(g.batch * plane, 1));
    parallel_for(0, g.out_channels, grain, [&](int64_t first, int64_t last) {
      ThreadBuffer<T, WidenedGrad> grad_space;
      for (int64_t c = first; c < last; ++c) {
        T total = 0;
        for (int64_t n = 0; n < g.batch; ++n) {
          const T* channel =
              as_compute(dy + (n * g.out_channels + c) * plane, plane, grad_space.vector());
          total += ConstMatrixMap<T>(channel, 1, plane).sum();
        }
        db[c] = S(total);
      }
    });
  }
}

void conv2d_cpu(const Conv2dArgs& args) {
  if (args.geometry.batch * args.geometry.out_channels * args.geometry.out_plane() == 0) return;
  if (args.dtype == kBFloat16 && bfloat16_conv2d_takes(args.geometry)) return bfloat16_conv2d(args);
  visit_floating_or_16_bit_dtype("conv2d", args.dtype,
                                 [&](auto tag) { conv2d_typed<decltype(tag)>(args); });
}

void conv2d_backward_cpu(const Conv2dBackwardArgs& args) {
  if (args.dtype == kBFloat16 && bfloat16_conv2d_backward_takes(args.geometry))
    return bfloat16_conv2d_backward(args);
  visit_floating_or_16_bit_dtype("conv2d_backward", args.dtype,
                                 [&](auto tag) { conv2d_backward_typed<decltype(tag)>(args); });
}

}  // namespace

void register_conv(KernelTable& table) {
  table.conv2d[static_cast<int>(kCPU)] = &conv2d_cpu;
  table.conv2d_backward[static_cast<int>(kCPU)] = &conv2d_backward_cpu;
}

}  // namespace graft::kernels::cpu
