// Pool2dArgs: max and average pooling over the planes of an NCHW tensor.
//
// The op layer makes the input contiguous and views it as (planes, in_h, in_w), planes =
// batch * channels; each plane is pooled on its own. One PoolAxis per spatial dim says
// where the window of each output index lies, in the same terms for the CPU and CUDA
// kernels (its functions are host-device): fixed windows (kernel, stride, padding,
// dilation) for max_pool2d and avg_pool2d, or PyTorch's adaptive windows, which split the
// input into `out` nearly equal overlapping ranges, for adaptive_avg_pool2d. Plain C++ (no
// Eigen, no Tensor) so that the CUDA backend fills the same struct.
#pragma once

#include <cmath>
#include <cstdint>

#include "graft/core/dtype.h"
#include "graft/core/host_device.h"

namespace graft::kernels {

// A window's input range [begin, end), already clipped to the input, and the divisor an
// average over it uses when padding counts (its length before clipping to the input).
struct PoolSpan {
  int64_t begin = 0, end = 0, padded_length = 0;
};

struct PoolAxis {
  int64_t in = 0, out = 0;
  int64_t kernel = 1, stride = 1, pad = 0, dilation = 1;
  bool adaptive = false;  // PyTorch's adaptive windows; kernel/stride/pad/dilation unused

  // First input index of output o's window; the taps are first + t * dilation, t < kernel.
  GRAFT_HOST_DEVICE int64_t first_tap(int64_t o) const { return o * stride - pad; }

  // The average pool's window of output o (dilation is 1 there). A fixed window may reach
  // into the right padding but no further (ceil_mode windows stop at in + pad).
  GRAFT_HOST_DEVICE PoolSpan avg_span(int64_t o) const {
    if (adaptive) {
      const int64_t begin = o * in / out, end = ((o + 1) * in + out - 1) / out;
      return {begin, end, end - begin};
    }
    const int64_t begin = first_tap(o);
    const int64_t end = begin + kernel < in + pad ? begin + kernel : in + pad;
    return {begin < 0 ? 0 : begin, end < in ? end : in, end - begin};
  }

  // Outputs [lo, hi) whose windows may hold input index i (a superset: callers check).
  GRAFT_HOST_DEVICE void outputs_touching(int64_t i, int64_t& lo, int64_t& hi) const {
    if (adaptive) {
      lo = i * out / in;
      hi = ((i + 1) * out + in - 1) / in;
    } else {
      const int64_t reach = i + pad - (kernel - 1) * dilation;  // first_tap(o) >= reach
      lo = reach <= 0 ? 0 : (reach + stride - 1) / stride;
      hi = (i + pad) / stride + 1;
    }
    if (hi > out) hi = out;
  }
};

// Whether tap value v takes the window's max from `best`, the first tap's value or the winner
// so far: a larger value or any NaN does (so NaN wins, the last of several), an equal one
// does not (ties keep the first tap). Every max pooling loop, on either backend, decides so.
// A select rather than a branch (`|`, not `||`): which tap wins is data, as good as random,
// and a mispredicted branch per tap is slower than all the arithmetic around it.
template <class T>
GRAFT_HOST_DEVICE bool takes_max(T v, T best) {
  return (v > best) | (v != v);
}

// The max of a window none of whose taps lands in the input (a dilated window can straddle
// it, all its taps in the padding): -inf, as PyTorch's, with index -1, which the backwards
// skip: such an output has no input to send its gradient to.
template <class T>
GRAFT_HOST_DEVICE T empty_window_max() {
  return static_cast<T>(-INFINITY);
}

// The max of output (oh, ow)'s window in one (rows.in, cols.in) plane and its flat index.
// NaN wins (as in PyTorch: a NaN input makes the max NaN); ties keep the first tap.
// The running max lives in locals, written out once at the end: through the output
// references the compiler would store and reload it at every tap, since the output might
// alias the plane.
template <class T>
GRAFT_HOST_DEVICE void window_max(const PoolAxis& rows, const PoolAxis& cols, const T* plane,
                                  int64_t oh, int64_t ow, T& max_out, int64_t& index_out) {
  T best = empty_window_max<T>();
  int64_t best_index = -1;
  for (int64_t th = 0; th < rows.kernel; ++th) {
    const int64_t ih = rows.first_tap(oh) + th * rows.dilation;
    if (ih < 0 || ih >= rows.in) continue;
    for (int64_t tw = 0; tw < cols.kernel; ++tw) {
      const int64_t iw = cols.first_tap(ow) + tw * cols.dilation;
      if (iw < 0 || iw >= cols.in) continue;
      const T v = plane[ih * cols.in + iw];
      const bool take = (best_index < 0) | takes_max(v, best);
      best = take ? v : best;
      best_index = take ? ih * cols.in + iw : best_index;
    }
  }
  max_out = best;
  index_out = best_index;
}

// What the average over window (rs, cs) divides its sum by.
GRAFT_HOST_DEVICE inline int64_t avg_divisor(const PoolSpan& rs, const PoolSpan& cs,
                                             bool count_include_pad) {
  return count_include_pad ? rs.padded_length * cs.padded_length
                           : (rs.end - rs.begin) * (cs.end - cs.begin);
}

// Forward: input (planes, rows.in, cols.in) -> output (planes, rows.out, cols.out).
// Backward: input = grad_output (planes, rows.out, cols.out) -> output = grad_input
// (planes, rows.in, cols.in), every element written.
struct Pool2dArgs {
  DType dtype = kFloat32;  // a floating dtype, of input and output alike (float16 and
                           // bfloat16 computed in float32)
  int64_t planes = 0;
  PoolAxis rows, cols;
  bool count_include_pad = true;  // average pools: divide by the padded window's size
  const void* input = nullptr;
  void* output = nullptr;
  // Max pools: the argmax of each window as h * in_w + w within its plane, (planes,
  // rows.out, cols.out); written by the forward, read by the backward.
  int64_t* indices = nullptr;
};

}  // namespace graft::kernels
