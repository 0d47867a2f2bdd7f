// Allocators hand out raw device memory; Storage owns what they return.
//
// The CPU allocator returns 64-byte aligned blocks (a cache line, and enough for any SIMD
// load). Other device types get theirs from their backend (the CUDA backend's caching
// allocator lives in kernels/cuda/) through the kernel layer's hook (core/hooks.h).
#pragma once

#include <cstddef>
#include <string>

#include "graft/core/device.h"

namespace graft {

class Allocator {
 public:
  virtual ~Allocator() = default;
  virtual void* allocate(size_t nbytes, Device device) = 0;
  // Hands back a block allocate() returned; `nbytes` is the size it was asked for (a sized
  // free, like C++'s sized operator delete), so an allocator needs no lookup to know it.
  virtual void deallocate(void* ptr, size_t nbytes, Device device) = 0;
};

inline constexpr size_t kCpuAlignment = 64;

// The CPU allocator (cpu_allocator.cpp).
Allocator& cpu_allocator();

// The allocator for `device`; a graft::Error naming the device when this build has none.
Allocator& allocator_for(Device device);

// "1125899906842624 bytes (1.00 PiB)": a size for an out-of-memory message, exact and
// readable.
std::string describe_bytes(size_t nbytes);

}  // namespace graft
