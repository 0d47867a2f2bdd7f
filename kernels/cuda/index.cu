// CUDA indexing kernels: the walks of gather, index_select and scatter for
// kernels/index_kernels.h, which builds their nests and checks their index values, and
// nonzero. cat and stack need nothing here: the op layer builds them from copy_, which is
// the elementwise copy kernel.
//
// Every kernel is a grid-stride loop over the positions of a nest, a position's coordinates
// giving each operand's offset. gather and index_select write each output element once and
// copy elements as raw words of the dtype's width.
//
// scatter may add (or write) many sources into one element. By default each source is
// added with atomicAdd (float32, float64, int32, int64 -- the last as unsigned long long,
// which wraps the same way), so the order, and the last bits of a float sum, vary from run
// to run; a write is a plain store, and of several stores to one element an unspecified one
// stays. graft::use_deterministic_algorithms(true) (kernels/settings.h) switches to the
// serial scheme: one thread per slice of self off `dim`, walking `dim` in order, which is
// the CPU's order and so gives the CPU's bits, and the CPU's last write.
// bool (a logical or, as on the CPU), uint8 and the 16-bit floats have no atomicAdd here
// and always add by the serial scheme.
//
// nonzero is a stream compaction in three launches over tiles of kNonzeroTile flags
// (PyTorch's compacts with CUB too): count each tile's true flags; an exclusive sum of the
// counts (cub::DeviceScan) gives each tile its first output row; then each tile is read
// again in rounds of one flag per thread, a block-wide exclusive sum (cub::BlockScan) of
// the flags giving each true one its row, so rows come out in row-major order. The op layer
// has counted the flags already (it sized the output), so no count comes back here.
//
// Bad index values: a kernel cannot throw, so it records the smallest bad position (an
// atomicMin into a one-element device buffer); the launcher reads it back, which waits for
// the kernel, then the index value there, and throws the CPU's graft::Error. The smallest
// position in row-major order is the value the single-threaded CPU kernel reports first.
#include <algorithm>
#include <cstdint>
#include <cub/block/block_reduce.cuh>
#include <cub/block/block_scan.cuh>
#include <cub/device/device_scan.cuh>
#include <type_traits>

#include "graft/core/tensor.h"
#include "graft/kernels/cuda/common.cuh"
#include "graft/kernels/cuda/cuda_kernels.h"
#include "graft/kernels/cuda/runtime.h"
#include "graft/kernels/index_kernels.h"
#include "graft/kernels/settings.h"

namespace graft::kernels::cuda {
namespace {

// No position recorded yet: larger than any position, as atomicMin needs.
constexpr unsigned long long kNoBadPosition = ~0ull;

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

// Plain loop: for each position p of the nest: self[p with p[dim] = index[p]] += src[p]
// (atomically), or = src[p], in any order. Operands: 0 self (stride 0 along dim), 1 index,
// 2 src.
template <bool Accumulate, class T>
__global__ void scatter_parallel_kernel(const __grid_constant__ Nest<3> nest, int64_t numel,
                                        T* self, const int64_t* __restrict__ index,
                                        const T* __restrict__ src, int64_t self_step) {
  for (int64_t p = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; p < numel;
       p += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    int64_t offsets[3];
    nest.offsets_at(p, offsets);
    T* dst = self + offsets[0] + index[offsets[1]] * self_step;
    if constexpr (Accumulate)
      atomic_add(dst, src[offsets[2]]);
    else
      *dst = src[offsets[2]];
  }
}

// Plain loop: for each slice s (a position of the nest, which leaves out dim), for i < n in
// order: self[s, index[s, i]] += src[s, i] (or = src[s, i]). Slices touch disjoint elements
// of self, so no two threads meet. Operands as in scatter_parallel_kernel.
template <bool Accumulate, class T>
__global__ void scatter_serial_kernel(const __grid_constant__ Nest<3> slices, int64_t slice_count,
                                      int64_t n, T* self, const int64_t* __restrict__ index,
                                      const T* __restrict__ src, int64_t self_step,
                                      int64_t index_step, int64_t src_step) {
  for (int64_t s = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; s < slice_count;
       s += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    int64_t offsets[3];
    slices.offsets_at(s, offsets);
    for (int64_t i = 0; i < n; ++i)
      scatter_one<Accumulate>(self[offsets[0] + index[offsets[1] + i * index_step] * self_step],
                              src[offsets[2] + i * src_step]);
  }
}

// nonzero's tiles: kNonzeroRounds rounds of one flag per thread.
constexpr int kNonzeroRounds = 8;
constexpr int64_t kNonzeroTile = int64_t{kBlockSize} * kNonzeroRounds;

// Plain loop: tile_counts[t] = the number of true flags among flags[t * kNonzeroTile, (t + 1)
// * kNonzeroTile). One block per tile (grid-stride over tiles; the loop is block-uniform).
__global__ void nonzero_count_kernel(const bool* __restrict__ flags, int64_t numel, int64_t tiles,
                                     int64_t* __restrict__ tile_counts) {
  using Reduce = cub::BlockReduce<int, kBlockSize>;
  __shared__ typename Reduce::TempStorage temp;
  for (int64_t t = blockIdx.x; t < tiles; t += gridDim.x) {
    int count = 0;
    for (int r = 0; r < kNonzeroRounds; ++r) {
      const int64_t p = t * kNonzeroTile + int64_t{r} * kBlockSize + threadIdx.x;
      count += p < numel && flags[p] ? 1 : 0;
    }
    const int total = Reduce(temp).Sum(count);
    if (threadIdx.x == 0) tile_counts[t] = total;
    __syncthreads();  // temp is reused by the block's next tile
  }
}

// Plain loop: for each flat position p in order with flags[p], the next row of out (from
// tile_rows[p's tile] on) gets p's coordinates. Rounds and threads go in flag order.
__global__ void nonzero_write_kernel(const __grid_constant__ NonzeroArgs args, int64_t tiles,
                                     const int64_t* __restrict__ tile_rows) {
  using Scan = cub::BlockScan<int, kBlockSize>;
  __shared__ typename Scan::TempStorage temp;
  for (int64_t t = blockIdx.x; t < tiles; t += gridDim.x) {
    int64_t row = tile_rows[t];
    for (int r = 0; r < kNonzeroRounds; ++r) {
      const int64_t p = t * kNonzeroTile + int64_t{r} * kBlockSize + threadIdx.x;
      const int flag = p < args.numel && args.flags[p] ? 1 : 0;
      int before = 0, round_total = 0;
      Scan(temp).ExclusiveSum(flag, before, round_total);
      if (flag) {
        int64_t* coord = args.out + (row + before) * args.ndim;
        for (int64_t d = args.ndim - 1, rest = p; d >= 0; --d) {
          coord[d] = rest % args.sizes[d];
          rest /= args.sizes[d];
        }
      }
      row += round_total;
      __syncthreads();  // temp is reused by the next round
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
  void throw_if_found(const IndexBound& bound, const Nest<1>& index_nest, const I* index) const {
    unsigned long long position = kNoBadPosition;
    GRAFT_CUDA_CHECK(cudaMemcpy(&position, data(), sizeof(position), cudaMemcpyDeviceToHost));
    if (position == kNoBadPosition) return;
    int64_t offset[1];
    index_nest.offsets_at(static_cast<int64_t>(position), offset);
    I value = 0;
    GRAFT_CUDA_CHECK(cudaMemcpy(&value, index + offset[0], sizeof(I), cudaMemcpyDeviceToHost));
    bound.fail(value);
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
    case 2:
      return fn(uint16_t{});
    case 4:
      return fn(uint32_t{});
    case 8:
      return fn(uint64_t{});
    default:
      detail::fail("index kernel: no element word for ", dtype);
  }
}

// The CUDA walks for index_kernels.h.
struct CudaIndexLoops {
  template <class I>
  static void gather(const GatherLoop<I>& loop) {
    const int64_t numel = loop.nest.numel();
    const BadIndex bad;
    visit_element_word(loop.dtype, [&](auto word) {
      using E = decltype(word);
      gather_kernel<E, I><<<grid_for(numel), kBlockSize>>>(
          loop.nest, numel, reinterpret_cast<E*>(loop.out), reinterpret_cast<const E*>(loop.self),
          loop.index, loop.self_step, loop.bound.size, bad.data());
      GRAFT_CUDA_CHECK_LAUNCH();
    });
    bad.throw_if_found(loop.bound, loop.nest.operand(2), loop.index);
  }

  static void check_index(const IndexBound& bound, const Nest<1>& index_nest,
                          const int64_t* index) {
    const int64_t numel = index_nest.numel();
    const BadIndex bad;
    check_index_kernel<<<grid_for(numel), kBlockSize>>>(index_nest, numel, index, bound.size,
                                                        bad.data());
    GRAFT_CUDA_CHECK_LAUNCH();
    bad.throw_if_found(bound, index_nest, index);
  }

  template <bool Accumulate, class T>
  static void scatter(const ScatterLoop<T>& loop) {
    if constexpr (!Accumulate || kHasAtomicAdd<T>) {
      if (!graft::are_deterministic_algorithms_enabled()) {
        const int64_t numel = loop.nest.numel();
        scatter_parallel_kernel<Accumulate, T><<<grid_for(numel), kBlockSize>>>(
            loop.nest, numel, loop.self, loop.index, loop.src, loop.self_step);
        GRAFT_CUDA_CHECK_LAUNCH();
        return;
      }
    }
    // The CPU's order: dim innermost, one thread per row of that nest.
    const Nest<3> by_dim = loop.nest.with_innermost(loop.dim);
    const Nest<3> slices = by_dim.rows();
    const int64_t slice_count = slices.numel();
    scatter_serial_kernel<Accumulate, T><<<grid_for(slice_count), kBlockSize>>>(
        slices, slice_count, by_dim.inner_size(), loop.self, loop.index, loop.src, loop.self_step,
        by_dim.inner_stride(1), by_dim.inner_stride(2));
    GRAFT_CUDA_CHECK_LAUNCH();
  }
};

// Scratch memory on the current device.
Tensor scratch(int64_t nbytes) {
  int device = 0;
  GRAFT_CUDA_CHECK(cudaGetDevice(&device));
  return empty({nbytes}, TensorOptions(kUInt8).device(Device::cuda(device)));
}

void nonzero_cuda(const NonzeroArgs& args) {
  const int64_t tiles = (args.numel + kNonzeroTile - 1) / kNonzeroTile;
  if (tiles == 0) return;
  const Tensor counts = scratch(2 * tiles * static_cast<int64_t>(sizeof(int64_t)));
  int64_t* tile_counts = static_cast<int64_t*>(counts.data_ptr());
  int64_t* tile_rows = tile_counts + tiles;
  const unsigned grid = grid_for(tiles, 1);
  nonzero_count_kernel<<<grid, kBlockSize>>>(args.flags, args.numel, tiles, tile_counts);
  GRAFT_CUDA_CHECK_LAUNCH();
  size_t temp_bytes = 0;
  GRAFT_CUDA_CHECK(
      cub::DeviceScan::ExclusiveSum(nullptr, temp_bytes, tile_counts, tile_rows, tiles));
  const Tensor temp = scratch(std::max<int64_t>(static_cast<int64_t>(temp_bytes), 1));
  GRAFT_CUDA_CHECK(
      cub::DeviceScan::ExclusiveSum(temp.data_ptr(), temp_bytes, tile_counts, tile_rows, tiles));
  nonzero_write_kernel<<<grid, kBlockSize>>>(args, tiles, tile_rows);
  GRAFT_CUDA_CHECK_LAUNCH();
}

}  // namespace

void register_index(KernelTable& table) {
  register_index_kernels<CudaIndexLoops>(table, kCUDA);
  table.nonzero[static_cast<int>(kCUDA)] = &nonzero_cuda;
}

}  // namespace graft::kernels::cuda
