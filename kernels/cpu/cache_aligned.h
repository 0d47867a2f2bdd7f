// Memory that starts on a 64-byte cache line, for the operands a kernel reads and writes in
// whole vectors. std::vector's memory (glibc's malloc) starts 16 bytes into a line or 48, and
// then a 32-byte access at the same offset touches two lines every other time, a 64-byte one
// always: DirectConv's AVX2 forward took 8-14% longer on its repacked weight so placed (one
// thread of the 2-core EPYC, the same run with an aligned copy). graft's tensors come from its
// CPU allocator, aligned to a line already (kCpuAlignment, core/allocator.h).
#pragma once

#include <cstddef>
#include <cstdint>
#include <new>
#include <vector>

#include "graft/core/allocator.h"

namespace graft::kernels::cpu {

// An allocator for std::vector whose blocks start on a cache line.
template <class T>
struct CacheLineAllocator {
  using value_type = T;
  CacheLineAllocator() = default;
  template <class U>
  CacheLineAllocator(const CacheLineAllocator<U>&) {}
  T* allocate(size_t n) {
    return static_cast<T*>(::operator new (n * sizeof(T), std::align_val_t{kCpuAlignment}));
  }
  // The unsized form: Clang declares the sized one only under -fsized-deallocation.
  void deallocate(T* p, size_t) { ::operator delete (p, std::align_val_t{kCpuAlignment}); }
  friend bool operator==(const CacheLineAllocator&, const CacheLineAllocator&) { return true; }
};

template <class T>
using CacheAlignedVector = std::vector<T, CacheLineAllocator<T>>;

// The first element of p, p + 1, ... that starts a cache line (p + kCpuAlignment /
// sizeof(T) - 1 at most): for a caller that places its own data in a vector it does not own.
template <class T>
T* first_on_cache_line(T* p) {
  const auto address = reinterpret_cast<uintptr_t>(p);
  return p + (kCpuAlignment - address % kCpuAlignment) % kCpuAlignment / sizeof(T);
}

}  // namespace graft::kernels::cpu
