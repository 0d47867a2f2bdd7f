// What every CUDA kernel file of graft shares: error checking, launch geometry, and the
// device guard.
//
// Every CUDA call goes through GRAFT_CUDA_CHECK and every launch is followed by
// GRAFT_CUDA_CHECK_LAUNCH(), so a failure becomes a graft::Error naming the call, the file
// and the line instead of a silent wrong result later. All kernels run on the legacy
// default stream: ops are ordered, and the caching allocator can reuse a block as soon as
// its tensor dies.
#pragma once

#include <cuda_runtime.h>

#include <algorithm>
#include <cstdint>

#include "graft/core/device.h"
#include "graft/core/error.h"

#define GRAFT_CUDA_CHECK(expr)                                                                  \
  do {                                                                                          \
    const cudaError_t graft_cuda_status = (expr);                                               \
    if (graft_cuda_status != cudaSuccess) [[unlikely]]                                          \
      ::graft::detail::fail("CUDA error: ", cudaGetErrorString(graft_cuda_status), " (", #expr, \
                            " at ", __FILE__, ":", __LINE__, ")");                              \
  } while (false)

// After a <<<...>>> launch: reports a bad configuration or an earlier asynchronous fault.
#define GRAFT_CUDA_CHECK_LAUNCH() GRAFT_CUDA_CHECK(cudaGetLastError())

namespace graft::kernels::cuda {

inline constexpr int kBlockSize = 256;

// Blocks for a grid-stride loop over n items: enough to fill the GPU, never more than the
// work needs (kernels loop when n exceeds grid * block).
inline unsigned grid_for(int64_t n, int block = kBlockSize) {
  const int64_t blocks = (n + block - 1) / block;
  return static_cast<unsigned>(std::clamp<int64_t>(blocks, 1, 65535 * 8));
}

// Makes `device` current for the guard's lifetime, restoring the previous one after.
class DeviceGuard {
 public:
  explicit DeviceGuard(Device device) {
    GRAFT_CUDA_CHECK(cudaGetDevice(&previous_));
    if (device.index() != previous_) GRAFT_CUDA_CHECK(cudaSetDevice(device.index()));
  }
  ~DeviceGuard() { cudaSetDevice(previous_); }
  DeviceGuard(const DeviceGuard&) = delete;
  DeviceGuard& operator=(const DeviceGuard&) = delete;

 private:
  int previous_ = 0;
};

}  // namespace graft::kernels::cuda
