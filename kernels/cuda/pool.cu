// CUDA max and average pooling and their backwards: the twins of kernels/cpu/pool.cpp, over
// the same Pool2dArgs.
//
// One thread per output element in the forwards; they call the same host-device window
// functions as the CPU (kernels/pool.h), so the max, its index and each average come out
// bit for bit as on the CPU. The backwards are gathers, one thread per input element: it
// visits the outputs whose windows may hold it (PoolAxis::outputs_touching) in ascending
// order and adds their shares, the order in which the CPU's scatter adds them, so no atomics
// are needed and the results are deterministic. A max-pool index outside its plane matches
// no input element and is ignored. float16 and bfloat16 run as they are: the max compares
// 16-bit values (exact), and every sum runs in float (compute_type_t), rounded once.
#include <cstdint>
#include <type_traits>

#include "graft/kernels/cuda/common.cuh"
#include "graft/kernels/cuda/cuda_kernels.h"
#include "graft/kernels/pool.h"

namespace graft::kernels::cuda {
namespace {

// ---- kernels

// Plain loop: for each output (q, oh, ow): y, index = window_max(plane q, oh, ow).
template <class T>
__global__ void max_pool2d_kernel(Pool2dArgs a) {
  const int64_t out_plane = a.rows.out * a.cols.out, total = a.planes * out_plane;
  for (int64_t idx = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; idx < total;
       idx += int64_t{gridDim.x} * blockDim.x) {
    const int64_t q = idx / out_plane, o = idx % out_plane;
    const T* x = static_cast<const T*>(a.input) + q * a.rows.in * a.cols.in;
    window_max(a.rows, a.cols, x, o / a.cols.out, o % a.cols.out, static_cast<T*>(a.output)[idx],
               a.indices[idx]);
  }
}

// Plain loop: for each input (q, ih, iw): dx = sum of dy[o] over the outputs o of plane q
// whose index is ih * in_w + iw.
template <class T>
__global__ void max_pool2d_backward_kernel(Pool2dArgs a) {
  const int64_t in_plane = a.rows.in * a.cols.in, out_plane = a.rows.out * a.cols.out;
  const int64_t total = a.planes * in_plane;
  for (int64_t idx = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; idx < total;
       idx += int64_t{gridDim.x} * blockDim.x) {
    const int64_t q = idx / in_plane, i = idx % in_plane;
    const T* dy = static_cast<const T*>(a.input) + q * out_plane;
    const int64_t* indices = a.indices + q * out_plane;
    int64_t oh_lo, oh_hi, ow_lo, ow_hi;
    a.rows.outputs_touching(i / a.cols.in, oh_lo, oh_hi);
    a.cols.outputs_touching(i % a.cols.in, ow_lo, ow_hi);
    compute_type_t<T> sum = 0;
    for (int64_t oh = oh_lo; oh < oh_hi; ++oh)
      for (int64_t ow = ow_lo; ow < ow_hi; ++ow) {
        const int64_t o = oh * a.cols.out + ow;
        if (indices[o] == i) sum += static_cast<compute_type_t<T>>(dy[o]);
      }
    static_cast<T*>(a.output)[idx] = static_cast<T>(sum);
  }
}

// Plain loop: for each output (q, oh, ow): y = sum of x over its window / divisor.
template <class T>
__global__ void avg_pool2d_kernel(Pool2dArgs a) {
  using C = compute_type_t<T>;
  const int64_t out_plane = a.rows.out * a.cols.out, total = a.planes * out_plane;
  for (int64_t idx = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; idx < total;
       idx += int64_t{gridDim.x} * blockDim.x) {
    const int64_t q = idx / out_plane, o = idx % out_plane;
    const T* x = static_cast<const T*>(a.input) + q * a.rows.in * a.cols.in;
    const PoolSpan rs = a.rows.avg_span(o / a.cols.out), cs = a.cols.avg_span(o % a.cols.out);
    C sum = 0;
    for (int64_t ih = rs.begin; ih < rs.end; ++ih)
      for (int64_t iw = cs.begin; iw < cs.end; ++iw) sum += static_cast<C>(x[ih * a.cols.in + iw]);
    static_cast<T*>(a.output)[idx] =
        static_cast<T>(sum / static_cast<C>(avg_divisor(rs, cs, a.count_include_pad)));
  }
}

// Plain loop: for each input (q, ih, iw): dx = sum of dy[o] / divisor(o) over the windows o
// of plane q that hold it.
template <class T>
__global__ void avg_pool2d_backward_kernel(Pool2dArgs a) {
  using C = compute_type_t<T>;
  const int64_t in_plane = a.rows.in * a.cols.in, out_plane = a.rows.out * a.cols.out;
  const int64_t total = a.planes * in_plane;
  for (int64_t idx = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; idx < total;
       idx += int64_t{gridDim.x} * blockDim.x) {
    const int64_t q = idx / in_plane, ih = (idx % in_plane) / a.cols.in, iw = idx % a.cols.in;
    const T* dy = static_cast<const T*>(a.input) + q * out_plane;
    int64_t oh_lo, oh_hi, ow_lo, ow_hi;
    a.rows.outputs_touching(ih, oh_lo, oh_hi);
    a.cols.outputs_touching(iw, ow_lo, ow_hi);
    C sum = 0;
    for (int64_t oh = oh_lo; oh < oh_hi; ++oh) {
      const PoolSpan rs = a.rows.avg_span(oh);
      if (ih < rs.begin || ih >= rs.end) continue;
      for (int64_t ow = ow_lo; ow < ow_hi; ++ow) {
        const PoolSpan cs = a.cols.avg_span(ow);
        if (iw < cs.begin || iw >= cs.end) continue;
        sum += static_cast<C>(dy[oh * a.cols.out + ow]) /
               static_cast<C>(avg_divisor(rs, cs, a.count_include_pad));
      }
    }
    static_cast<T*>(a.output)[idx] = static_cast<T>(sum);
  }
}

// ---- launchers

// Runs launch(T{}, grid) for a floating dtype (16-bit ones too) over `elements` threads' worth
// of work.
template <class Launch>
void launch_floating(const Pool2dArgs& a, int64_t elements, const Launch& launch) {
  if (elements == 0) return;
  visit_floating_or_16_bit_dtype("pooling", a.dtype, [&](auto tag) {
    launch(tag, grid_for(elements));
    GRAFT_CUDA_CHECK_LAUNCH();
  });
}

int64_t outputs(const Pool2dArgs& a) { return a.planes * a.rows.out * a.cols.out; }
int64_t inputs(const Pool2dArgs& a) { return a.planes * a.rows.in * a.cols.in; }

void max_pool2d_cuda(const Pool2dArgs& a) {
  launch_floating(a, outputs(a), [&](auto tag, unsigned grid) {
    max_pool2d_kernel<decltype(tag)><<<grid, kBlockSize>>>(a);
  });
}

void max_pool2d_backward_cuda(const Pool2dArgs& a) {
  launch_floating(a, inputs(a), [&](auto tag, unsigned grid) {
    max_pool2d_backward_kernel<decltype(tag)><<<grid, kBlockSize>>>(a);
  });
}

void avg_pool2d_cuda(const Pool2dArgs& a) {
  launch_floating(a, outputs(a), [&](auto tag, unsigned grid) {
    avg_pool2d_kernel<decltype(tag)><<<grid, kBlockSize>>>(a);
  });
}

void avg_pool2d_backward_cuda(const Pool2dArgs& a) {
  launch_floating(a, inputs(a), [&](auto tag, unsigned grid) {
    avg_pool2d_backward_kernel<decltype(tag)><<<grid, kBlockSize>>>(a);
  });
}

}  // namespace

void register_pool(KernelTable& table) {
  const int cuda = static_cast<int>(kCUDA);
  table.max_pool2d[cuda] = &max_pool2d_cuda;
  table.max_pool2d_backward[cuda] = &max_pool2d_backward_cuda;
  table.avg_pool2d[cuda] = &avg_pool2d_cuda;
  table.avg_pool2d_backward[cuda] = &avg_pool2d_backward_cuda;
}

}  // namespace graft::kernels::cuda
