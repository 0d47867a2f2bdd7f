// CUDA optimizer update: every parameter of the list in ONE launch (multi-tensor apply),
// the twin of kernels/cpu/optim.cpp.
//
// A model has tens to hundreds of parameter tensors, many of them small (biases, norms);
// one launch each would cost more in launch latency than the updates move in memory. So
// the host cuts every tensor into chunks of kOptimChunk elements, writes a table of
// (tensor, chunk) pairs and, in front of it, one TypedOptimTensor per parameter (its
// pointers, numel and the coefficients of kernels/optim.h's Step, computed on the host in
// double), copies both to the device in one cudaMemcpyAsync (from pageable memory it is
// staged at once, with no device synchronisation), and launches one block per chunk. The
// update is memory-bound (Adam moves 7 values an element), so the plain per-element loop,
// coalesced across the block, is the whole kernel. When the gradient norm is tracked, each
// block also sums its gradients' squares and writes one partial sum (kernels/optim.h).
#include <cstring>
#include <vector>

#include "graft/core/tensor.h"
#include "graft/kernels/cuda/block_reduce.cuh"
#include "graft/kernels/cuda/common.cuh"
#include "graft/kernels/cuda/cuda_kernels.h"
#include "graft/kernels/optim.h"

namespace graft::kernels::cuda {
namespace {

// A block updates one chunk: 32 elements per thread, and few enough that a mid-sized model
// still spreads over every SM.
static_assert(kOptimChunk == 32 * kBlockSize);

struct ChunkRef {
  int32_t tensor;  // index into the tensor table
  int32_t chunk;   // elements [chunk * kOptimChunk, min((chunk + 1) * kOptimChunk, numel))
};

// ---- kernels

// The CPU's loops, one block per (tensor, chunk):
//   for t in tensors: for i in [0, t.numel): t.update(i)
// and with kSumSquares, grad_sq[block] = the sum of the chunk's grad[i]^2.
template <bool kSumSquares, class Typed>
__global__ void multi_tensor_update_kernel(const Typed* tensors, const ChunkRef* chunks,
                                           double* grad_sq) {
  const ChunkRef chunk = chunks[blockIdx.x];
  const Typed tensor = tensors[chunk.tensor];  // a register copy: stores cannot alias it
  const int64_t begin = static_cast<int64_t>(chunk.chunk) * kOptimChunk;
  const int64_t end = min(begin + kOptimChunk, tensor.numel);
  double sum_squares = 0;
  for (int64_t i = begin + threadIdx.x; i < end; i += blockDim.x) {
    if constexpr (kSumSquares) {
      const double g = tensor.grad[i];
      sum_squares += g * g;
    }
    tensor.update(i);
  }
  if constexpr (kSumSquares) {
    __shared__ double smem[kWarps];
    sum_squares = block_reduce(DoubleSum{}, sum_squares, smem);
    if (threadIdx.x == 0) grad_sq[blockIdx.x] = sum_squares;
  }
}

// ---- launchers

template <class Typed>
void launch_multi_tensor_update(const std::vector<Typed>& tensors, Device device, double* grad_sq) {
  std::vector<ChunkRef> chunks;
  for (size_t t = 0; t < tensors.size(); ++t) {
    const int64_t count = optim_chunks(tensors[t].numel);
    GRAFT_CHECK(count <= INT32_MAX && t <= INT32_MAX, "optimizer step: parameter ", t, " has ",
                tensors[t].numel, " elements, more than the CUDA update's chunk table holds");
    for (int64_t c = 0; c < count; ++c)
      chunks.push_back({static_cast<int32_t>(t), static_cast<int32_t>(c)});
  }
  if (chunks.empty()) return;
  // One buffer: the tensor table, then the chunk table (Typed is 8-byte aligned).
  static_assert(alignof(Typed) % alignof(ChunkRef) == 0);
  const size_t tensor_bytes = tensors.size() * sizeof(Typed);
  const size_t chunk_bytes = chunks.size() * sizeof(ChunkRef);
  std::vector<unsigned char> host(tensor_bytes + chunk_bytes);
  std::memcpy(host.data(), tensors.data(), tensor_bytes);
  std::memcpy(host.data() + tensor_bytes, chunks.data(), chunk_bytes);

  DeviceGuard guard(device);
  const Tensor table =
      empty({static_cast<int64_t>(host.size())}, TensorOptions(kUInt8).device(device));
  auto* table_ptr = static_cast<unsigned char*>(table.data_ptr());
  GRAFT_CUDA_CHECK(
      cudaMemcpyAsync(table_ptr, host.data(), host.size(), cudaMemcpyHostToDevice, nullptr));
  const auto* typed = reinterpret_cast<const Typed*>(table_ptr);
  const auto* chunk_table = reinterpret_cast<const ChunkRef*>(table_ptr + tensor_bytes);
  const auto blocks = static_cast<unsigned>(chunks.size());
  if (grad_sq == nullptr)
    multi_tensor_update_kernel<false><<<blocks, kBlockSize>>>(typed, chunk_table, grad_sq);
  else
    multi_tensor_update_kernel<true><<<blocks, kBlockSize>>>(typed, chunk_table, grad_sq);
  GRAFT_CUDA_CHECK_LAUNCH();
}

void optim_update_cuda(const OptimArgs& args) {
  visit_optim_tensors(args, [&](const auto& tensors) {
    launch_multi_tensor_update(tensors, args.device, args.grad_sq_partials);
  });
}

}  // namespace

void register_optim(KernelTable& table) {
  table.optim_update[static_cast<int>(kCUDA)] = optim_update_cuda;
}

}  // namespace graft::kernels::cuda
