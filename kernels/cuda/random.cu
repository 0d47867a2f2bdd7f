// CUDA random kernels: one thread per Philox block, the twin of kernels/cpu/random.cpp.
//
// Element i reads only block offset + i / E at position i % E (kernels/random.h), and the
// block function and the draws are the GRAFT_HOST_DEVICE code the CPU runs, so the GPU
// writes the CPU's numbers: rand and randint bit for bit, randn up to the last-ulp
// differences of the device's logf/sinf/cosf (this file is built without fast math, so
// they are the accurate versions). Each thread runs a block's ten Philox rounds once and
// writes its E consecutive elements; a warp's stores cover 32 * E consecutive elements.
#include <type_traits>

#include "graft/kernels/cuda/common.cuh"
#include "graft/kernels/cuda/cuda_kernels.h"
#include "graft/kernels/random.h"

namespace graft::kernels::cuda {
namespace {

// What element j of a block becomes: the draws of kernels/random.h, one functor per kind.
template <class T>
struct FloatingDraw {
  Distribution distribution;
  __device__ T operator()(const PhiloxBlock& block, int j) const {
    return draw_floating<T>(block, j, distribution);
  }
};

template <class T>
struct IntegerDraw {
  int64_t low;
  uint64_t span;  // high - low, in uint64 since it may exceed INT64_MAX
  __device__ T operator()(const PhiloxBlock& block, int j) const {
    return static_cast<T>(draw_integer(block, j, low, span));
  }
};

// ---- kernels

// The CPU's loop over blocks, one block per thread (grid-stride):
//   for b in [0, ceil(numel / E)):
//     block = philox_block(seed, offset + b)
//     for j in [0, min(E, numel - b * E)): out[b * E + j] = draw(block, j)
template <class T, class Draw>
__global__ void random_kernel(T* out, int64_t numel, uint64_t seed, uint64_t offset, int per_block,
                              Draw draw) {
  const int64_t blocks = (numel + per_block - 1) / per_block;
  const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t b = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; b < blocks;
       b += stride) {
    const PhiloxBlock block = philox_block(seed, offset + static_cast<uint64_t>(b));
    const int64_t first = b * per_block;
    const int count = static_cast<int>(min(static_cast<int64_t>(per_block), numel - first));
    for (int j = 0; j < count; ++j) out[first + j] = draw(block, j);
  }
}

// ---- launchers

template <class T, class Draw>
void launch_random(const RandomArgs& args, int per_block, const Draw& draw) {
  const int64_t blocks = (args.numel + per_block - 1) / per_block;
  random_kernel<T><<<grid_for(blocks), kBlockSize>>>(static_cast<T*>(args.out), args.numel,
                                                     args.seed, args.offset, per_block, draw);
  GRAFT_CUDA_CHECK_LAUNCH();
}

void random_cuda(const RandomArgs& args) {
  if (args.numel == 0) return;
  const int per_block = elements_per_block(args.distribution, args.dtype);
  visit_dtype(args.dtype, [&](auto tag) {
    using T = decltype(tag);
    if (args.distribution == Distribution::kInteger) {
      const uint64_t span = static_cast<uint64_t>(args.high) - static_cast<uint64_t>(args.low);
      launch_random<T>(args, per_block, IntegerDraw<T>{args.low, span});
    } else if constexpr (is_floating_type_v<T>) {
      launch_random<T>(args, per_block, FloatingDraw<T>{args.distribution});
    } else {
      graft::detail::fail("random kernel called for ", args.dtype,
                          "; the op layer only allows floating dtypes for rand/randn");
    }
  });
}

}  // namespace

void register_random(KernelTable& table) { table.random[static_cast<int>(kCUDA)] = &random_cuda; }

}  // namespace graft::kernels::cuda
