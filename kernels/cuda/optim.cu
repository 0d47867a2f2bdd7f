// CUDA optimizer update: every parameter of the list in ONE launch (multi-tensor apply),
// the twin of kernels/cpu/optim.cpp.
//
// A model has tens to hundreds of parameter tensors, many of them small (biases, norms);
// one launch each would cost more in launch latency than the updates move in memory. So
// the host cuts every tensor into chunks of kChunkSize elements, writes a table of
// (tensor, chunk) pairs and, in front of it, one TypedOptimTensor per parameter (its
// pointers, numel and the coefficients of kernels/optim.h's Step, computed on the host in
// double), copies both to the device in one cudaMemcpyAsync (from pageable memory it is
// staged at once, with no device synchronisation), and launches one block per chunk. The
// update is memory-bound (Adam moves 7 values an element), so the plain per-element loop,
// coalesced across the block, is the whole kernel.
#include <cstring>
#include <vector>

#include "graft/core/tensor.h"
#include "graft/kernels/cuda/common.cuh"
#include "graft/kernels/cuda/cuda_kernels.h"
#include "graft/kernels/optim.h"

namespace graft::kernels::cuda {
namespace {

// Elements a block updates: 32 per thread, and few enough that a mid-sized model still
// spreads over every SM.
constexpr int64_t kChunkSize = 32 * kBlockSize;

struct ChunkRef {
  int32_t tensor;  // index into the tensor table
  int32_t chunk;   // elements [chunk * kChunkSize, min((chunk + 1) * kChunkSize, numel))
};

// ---- kernels

// The CPU's loops, one block per (tensor, chunk):
//   for t in tensors: for i in [0, t.numel): t.update(i)
template <class Typed>
__global__ void multi_tensor_update_kernel(const Typed* tensors, const ChunkRef* chunks) {
  const ChunkRef chunk = chunks[blockIdx.x];
  const Typed tensor = tensors[chunk.tensor];  // a register copy: stores cannot alias it
  const int64_t begin = static_cast<int64_t>(chunk.chunk) * kChunkSize;
  const int64_t end = min(begin + kChunkSize, tensor.numel);
  for (int64_t i = begin + threadIdx.x; i < end; i += blockDim.x) tensor.update(i);
}

// ---- launchers

template <class Typed>
void launch_multi_tensor_update(const std::vector<Typed>& tensors, Device device) {
  std::vector<ChunkRef> chunks;
  for (size_t t = 0; t < tensors.size(); ++t) {
    const int64_t count = (tensors[t].numel + kChunkSize - 1) / kChunkSize;
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
  multi_tensor_update_kernel<<<static_cast<unsigned>(chunks.size()), kBlockSize>>>(
      reinterpret_cast<const Typed*>(table_ptr),
      reinterpret_cast<const ChunkRef*>(table_ptr + tensor_bytes));
  GRAFT_CUDA_CHECK_LAUNCH();
}

void optim_update_cuda(const OptimArgs& args) {
  visit_optim_tensors(
      args, [&](const auto& tensors) { launch_multi_tensor_update(tensors, args.device); });
}

}  // namespace

void register_optim(KernelTable& table) {
  table.optim_update[static_cast<int>(kCUDA)] = optim_update_cuda;
}

}  // namespace graft::kernels::cuda
