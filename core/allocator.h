// Allocators hand out raw device memory; Storage owns what they return.
//
// The CPU allocator returns 64-byte aligned blocks (a cache line, and enough for any SIMD
// load). Other device types register their allocator at start-up (the CUDA backend's
// caching allocator lives in kernels/cuda/), so core/ never depends on a backend.
#pragma once

#include <cstddef>

#include "graft/core/device.h"

namespace graft {

class Allocator {
 public:
  virtual ~Allocator() = default;
  virtual void* allocate(size_t nbytes, Device device) = 0;
  virtual void deallocate(void* ptr, Device device) = 0;
};

inline constexpr size_t kCpuAlignment = 64;

// The allocator for `type`; a graft::Error naming the device when none is registered.
Allocator& allocator_for(Device device);
void register_allocator(DeviceType type, Allocator* allocator);

}  // namespace graft
