// graft::cuda: what a program asks about the CUDA side of graft.
//
// Plain C++ (no CUDA headers), so every build has it: a CPU-only build answers
// is_available() == false and device_count() == 0, and the memory functions say that
// there is no CUDA backend.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace graft::cuda {

// True when this build has the CUDA backend and the machine shows at least one device.
bool is_available();
int device_count();

// The caching allocator's bookkeeping for one device, in bytes.
struct MemoryStats {
  int64_t allocated = 0;       // held by live tensors
  int64_t reserved = 0;        // obtained from cudaMalloc: allocated + cached free blocks
  int64_t peak_allocated = 0;  // the most `allocated` has been since start-up
};
MemoryStats memory_stats(int device = 0);
// Returns every cached free block to the driver (cudaFree); live tensors are untouched.
void empty_cache();
// Waits for all work queued on the current device.
void synchronize();

// The CUDA matmul kernel every CUDA matmul/mm/bmm uses from now on, by name: one of
// matmul_variants(), the steps of kernels/cuda/matmul_variants.cuh ("naive", "coalesced",
// "smem_tiled", "register_tiled_2d", "vectorized", "warp_tiled"), its tensor-core step
// ("tensor_core", the default: float16 and bfloat16 on the tensor cores, every other dtype on
// warp_tiled) and "cublas", the vendor baseline. An unknown name is an error listing the
// valid ones. A build without the CUDA
// backend has no variants: matmul_variants() is empty, matmul_variant() is "", and
// set_matmul_variant() is an error.
void set_matmul_variant(const std::string& name);
std::string matmul_variant();
std::vector<std::string> matmul_variants();

}  // namespace graft::cuda
