// CUDA indexing kernels: the twin of kernels/cpu/index.cpp, over the same argument blocks
// (kernels/index.h): gather, index_select and scatter_add. cat and stack need nothing here:
// the op layer builds them from copy_, which is the elementwise copy kernel.
//
// Every kernel is a grid-stride loop over the row-major positions of a shape; a position's
// coordinates give each operand's offset (Nest), and for `self` the index value, not the
// position, supplies the coordinate along `dim`. gather and index_select write each output
// element once and copy elements as raw words of the dtype's width.
//
// scatter_add may add many sources into one element. By default each source is added with
// atomicAdd (float32, float64, int32, int64 -- the last as unsigned long long, which wraps
// the same way), so the order, and the last bits of a float sum, vary from run to run.
// graft::cuda::set_deterministic(true) (defined here: scatter_add is its only user) switches
// to the serial scheme: one thread per slice of self off `dim`, walking `dim` in order, which
// is the CPU's order and so gives the CPU's bits. bool (a logical or, as on the CPU) and
// uint8 have no atomicAdd and always take the serial scheme.
//
// Bad index values: a kernel cannot throw, so it records the smallest bad position (an
// atomicMin into a one-element device buffer); the launcher reads it back, which waits for
// the kernel, then the index value there, and throws the CPU's graft::Error. The smallest
// position in row-major order is the value the single-threaded CPU kernel reports first.
// scatter_add checks every index in a kernel of its own before adding anything, so a failed
// scatter_add_ leaves its tensor untouched.
#include <algorithm>
#include <array>
#include <atomic>
#include <cstdint>
#include <type_traits>

#include "graft/core/tensor.h"
#include "graft/kernels/cuda/common.cuh"
#include "graft/kernels/cuda/cuda_kernels.h"
#include "graft/kernels/cuda/runtime.h"
#include "graft/kernels/index.h"

namespace graft::cuda {
namespace {
std::atomic<bool> g_deterministic{false};
}  // namespace

void set_deterministic(bool deterministic) { g_deterministic.store(deterministic); }
bool deterministic() { return g_deterministic.load(); }

}  // namespace graft::cuda

namespace graft::kernels::cuda {
namespace {

// No position recorded yet: larger than any position, as atomicMin needs.
constexpr unsigned long long kNoBadPosition = ~0ull;

// N operands walked together over `sizes` in row-major order; operand k steps by strides[k].
template <int N>
struct Nest {
  int ndim = 0;
  int64_t sizes[kMaxDims] = {};
  int64_t strides[N][kMaxDims] = {};

  int64_t numel() const {
    int64_t n = 1;
    for (int d = 0; d < ndim; ++d) n *= sizes[d];
    return n;
  }

  // offsets[k]: operand k's offset at row-major position `flat`.
  __host__ __device__ void offsets_at(int64_t flat, int64_t (&offsets)[N]) const {
    for (int k = 0; k < N; ++k) offsets[k] = 0;
    for (int d = ndim - 1; d >= 0; --d) {
      const int64_t q = flat / sizes[d], c = flat - q * sizes[d];
      for (int k = 0; k < N; ++k) offsets[k] += c * strides[k][d];
      flat = q;
    }
  }
};

// The nest over sizes[0, ndim), leaving out dim `skip` when it is one of them.
template <int N>
Nest<N> make_nest(int ndim, const int64_t* sizes, const std::array<const int64_t*, N>& strides,
                  int skip = -1) {
  Nest<N> nest;
  for (int d = 0; d < ndim; ++d) {
    if (d == skip) continue;
    nest.sizes[nest.ndim] = sizes[d];
    for (int k = 0; k < N; ++k) nest.strides[k][nest.ndim] = strides[k][d];
    ++nest.ndim;
  }
  return nest;
}

// `strides` with a 0 at `dim`: self's loop strides, where the index value gives that offset.
std::array<int64_t, kMaxDims> without_dim(const int64_t* strides, int dim) {
  std::array<int64_t, kMaxDims> out{};
  std::copy(strides, strides + kMaxDims, out.begin());
  out[dim] = 0;
  return out;
}

// One unsigned compare tests both k < 0 and k >= size.
__device__ bool out_of_range(int64_t k, int64_t size) {
  return static_cast<uint64_t>(k) >= static_cast<uint64_t>(size);
}

template <class T>
inline constexpr bool kHasAtomicAdd = std::is_same_v<T, float> || std::is_same_v<T, double> ||
                                      std::is_same_v<T, int32_t> || std::is_same_v<T, int64_t>;

template <class T>
__device__ void atomic_add(T* dst, T v) {
  if constexpr (std::is_same_v<T, int64_t>)
    atomicAdd(reinterpret_cast<unsigned long long*>(dst), static_cast<unsigned long long>(v));
  else
    atomicAdd(dst, v);
}

// ---- kernels

// Plain loop: for each position p of the nest: k = index[p]; if k is out of range, record
// p; else out[p] = self[p with p[dim] = k]. E is an unsigned word of the element's width.
// Operands: 0 out, 1 self (stride 0 along dim), 2 index.
template <class E, class I>
__global__ void gather_kernel(const __grid_constant__ Nest<3> nest, int64_t numel,
                              E* __restrict__ out, const E* __restrict__ self,
                              const I* __restrict__ index, int64_t self_step, int64_t self_dim_size,
                              unsigned long long* first_bad) {
  for (int64_t p = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; p < numel;
       p += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    int64_t offsets[3];
    nest.offsets_at(p, offsets);
    const int64_t k = index[offsets[2]];
    if (out_of_range(k, self_dim_size)) {
      atomicMin(first_bad, static_cast<unsigned long long>(p));
      continue;
    }
    out[offsets[0]] = self[offsets[1] + k * self_step];
  }
}

// Plain loop: for each position p of the nest: if index[p] is out of range, record p.
__global__ void check_index_kernel(const __grid_constant__ Nest<1> nest, int64_t numel,
                                   const int64_t* __restrict__ index, int64_t self_dim_size,
                                   unsigned long long* first_bad) {
  for (int64_t p = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; p < numel;
       p += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    int64_t offset[1];
    nest.offsets_at(p, offset);
    if (out_of_range(index[offset[0]], self_dim_size))
      atomicMin(first_bad, static_cast<unsigned long long>(p));
  }
}

// Plain loop: for each position p of the nest: self[p with p[dim] = index[p]] += src[p],
// in any order. Operands: 0 self (stride 0 along dim), 1 index, 2 src.
template <class T>
__global__ void scatter_add_atomic_kernel(const __grid_constant__ Nest<3> nest, int64_t numel,
                                          T* self, const int64_t* __restrict__ index,
                                          const T* __restrict__ src, int64_t self_step) {
  for (int64_t p = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; p < numel;
       p += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    int64_t offsets[3];
    nest.offsets_at(p, offsets);
    atomic_add(self + offsets[0] + index[offsets[1]] * self_step, src[offsets[2]]);
  }
}

// Plain loop: for each slice s (a position of the nest, which leaves out dim), for i < n in
// order: self[s, index[s, i]] += src[s, i]. Slices touch disjoint elements of self, so no
// two threads meet. Operands as in scatter_add_atomic_kernel.
template <class T>
__global__ void scatter_add_serial_kernel(const __grid_constant__ Nest<3> slices,
                                          int64_t slice_count, int64_t n, T* self,
                                          const int64_t* __restrict__ index,
                                          const T* __restrict__ src, int64_t self_step,
                                          int64_t index_step, int64_t src_step) {
  for (int64_t s = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; s < slice_count;
       s += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    int64_t offsets[3];
    slices.offsets_at(s, offsets);
    for (int64_t i = 0; i < n; ++i) {
      T& dst = self[offsets[0] + index[offsets[1] + i * index_step] * self_step];
      // The sum in the promoted int is cast back: for bool that is a logical or, as on the CPU.
      dst = static_cast<T>(dst + src[offsets[2] + i * src_step]);
    }
  }
}

// ---- launchers

// The device buffer a kernel records its smallest bad position in, on the current device.
class BadIndex {
 public:
  BadIndex() {
    int device = 0;
    GRAFT_CUDA_CHECK(cudaGetDevice(&device));
    buffer_ = empty({1}, TensorOptions(kInt64).device(Device::cuda(device)));
    GRAFT_CUDA_CHECK(cudaMemsetAsync(data(), 0xFF, sizeof(unsigned long long)));  // kNoBadPosition
  }

  unsigned long long* data() const { return static_cast<unsigned long long*>(buffer_.data_ptr()); }

  // Waits for the kernel; when it recorded a position, reads the index value there (the
  // nest walks the index's offsets) and throws the CPU kernel's error.
  template <class I>
  void throw_if_found(const char* op, int dim, int64_t size, const Nest<1>& index_nest,
                      const I* index) const {
    unsigned long long position = kNoBadPosition;
    GRAFT_CUDA_CHECK(cudaMemcpy(&position, data(), sizeof(position), cudaMemcpyDeviceToHost));
    if (position == kNoBadPosition) return;
    int64_t offset[1];
    index_nest.offsets_at(static_cast<int64_t>(position), offset);
    I value = 0;
    GRAFT_CUDA_CHECK(cudaMemcpy(&value, index + offset[0], sizeof(I), cudaMemcpyDeviceToHost));
    detail::fail(op, "(): index ", static_cast<int64_t>(value), " is out of bounds for dimension ",
                 dim, " with size ", size);
  }

 private:
  Tensor buffer_;
};

// Calls fn(E{}) with E the unsigned word as wide as one element of `dtype`.
template <class Fn>
void visit_element_word(DType dtype, const Fn& fn) {
  switch (element_size(dtype)) {
    case 1:
      return fn(uint8_t{});
    case 4:
      return fn(uint32_t{});
    case 8:
      return fn(uint64_t{});
    default:
      detail::fail("index kernel: no element word for ", dtype);
  }
}

// gather, and index_select with its 1-D index broadcast over the other dims (stride 0).
template <class I>
void gather_cuda(const char* op, int ndim, int dim, const int64_t* sizes, int64_t self_dim_size,
                 const StridedOperand& out, const StridedOperand& self, const I* index,
                 const int64_t* index_strides) {
  const auto self_loop = without_dim(self.strides, dim);
  const auto nest = make_nest<3>(ndim, sizes, {out.strides, self_loop.data(), index_strides});
  const int64_t numel = nest.numel();
  if (numel == 0) return;
  const BadIndex bad;
  visit_element_word(out.dtype, [&](auto word) {
    using E = decltype(word);
    gather_kernel<E, I><<<grid_for(numel), kBlockSize>>>(
        nest, numel, reinterpret_cast<E*>(out.data), reinterpret_cast<const E*>(self.data), index,
        self.strides[dim], self_dim_size, bad.data());
    GRAFT_CUDA_CHECK_LAUNCH();
  });
  bad.throw_if_found(op, dim, self_dim_size, make_nest<1>(ndim, sizes, {index_strides}), index);
}

void gather_launch(const GatherArgs& args) {
  gather_cuda("gather", args.ndim, args.dim, args.sizes, args.self_dim_size, args.out, args.self,
              reinterpret_cast<const int64_t*>(args.index.data), args.index.strides);
}

void index_select_launch(const IndexSelectArgs& args) {
  int64_t index_strides[kMaxDims] = {};  // the 1-D index broadcast over every other dim
  index_strides[args.dim] = args.index_stride;
  auto run = [&](const auto* index) {
    gather_cuda("index_select", args.ndim, args.dim, args.sizes, args.self_dim_size, args.out,
                args.self, index, index_strides);
  };
  if (args.index_dtype == kInt32) {
    run(static_cast<const int32_t*>(args.index));
  } else {
    GRAFT_CHECK(args.index_dtype == kInt64,
                "index_select(): the kernel takes an int32 or int64 index, got ", args.index_dtype);
    run(static_cast<const int64_t*>(args.index));
  }
}

void scatter_add_launch(const ScatterAddArgs& args) {
  const auto* index = reinterpret_cast<const int64_t*>(args.index.data);
  const auto index_nest = make_nest<1>(args.ndim, args.sizes, {args.index.strides});
  const int64_t numel = index_nest.numel();
  if (numel == 0) return;
  {
    const BadIndex bad;
    check_index_kernel<<<grid_for(numel), kBlockSize>>>(index_nest, numel, index,
                                                        args.self_dim_size, bad.data());
    GRAFT_CUDA_CHECK_LAUNCH();
    bad.throw_if_found("scatter_add", args.dim, args.self_dim_size, index_nest, index);
  }

  const auto self_loop = without_dim(args.self.strides, args.dim);
  const int64_t self_step = args.self.strides[args.dim];
  const std::array<const int64_t*, 3> strides = {self_loop.data(), args.index.strides,
                                                 args.src.strides};
  visit_dtype(args.self.dtype, [&](auto tag) {
    using T = decltype(tag);
    T* self = reinterpret_cast<T*>(args.self.data);
    const T* src = reinterpret_cast<const T*>(args.src.data);
    if constexpr (kHasAtomicAdd<T>) {
      if (!graft::cuda::deterministic()) {
        const auto nest = make_nest<3>(args.ndim, args.sizes, strides);
        scatter_add_atomic_kernel<T>
            <<<grid_for(numel), kBlockSize>>>(nest, numel, self, index, src, self_step);
        GRAFT_CUDA_CHECK_LAUNCH();
        return;
      }
    }
    const auto slices = make_nest<3>(args.ndim, args.sizes, strides, args.dim);
    const int64_t slice_count = slices.numel();
    scatter_add_serial_kernel<T><<<grid_for(slice_count), kBlockSize>>>(
        slices, slice_count, args.sizes[args.dim], self, index, src, self_step,
        args.index.strides[args.dim], args.src.strides[args.dim]);
    GRAFT_CUDA_CHECK_LAUNCH();
  });
}

}  // namespace

void register_index(KernelTable& table) {
  constexpr int device = static_cast<int>(kCUDA);
  table.gather[device] = &gather_launch;
  table.index_select[device] = &index_select_launch;
  table.scatter_add[device] = &scatter_add_launch;
}

}  // namespace graft::kernels::cuda
