// ThreadBuffer: a thread's own scratch vector, one for each use (Tag), kept from call to call
// while it holds at most kKeptBytes. data() serves a larger request from graft's CPU
// allocator instead, for the ThreadBuffer's lifetime: its cache hands the same block back to
// the next call without faults, where a thread's vector would keep that much for good.
//
// Why kept: a vector of a call's own comes from glibc's heap top or from mmap and, freed, goes
// back to the system (glibc trims beyond 128 KB), so the next call faults its pages in anew:
// 3-4% of conv2's forward (64 images of (32, 14, 14)); the GEMM's packed panels likewise.
// Before the allocator served the large ones, a 2048^2 product's packed b (8 MB a pass) was
// a fresh vector at every pass, zero-filled and faulted in: 328 -> 342 GFLOP/s without that.
//
// Two ThreadBuffers of one (T, Tag) alive on one thread share the vector: each use has its
// own Tag (the GEMM's b panels and its blocks' a panels, the convolution's chunks).
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <type_traits>
#include <vector>

#include "graft/core/allocator.h"

namespace graft::kernels::cpu {

inline constexpr size_t kKeptBytes = size_t{4} << 20;

template <class T, class Tag>
class ThreadBuffer {
  static_assert(std::is_trivially_copyable_v<T>, "data() may hand out uninitialized memory");

 public:
  ThreadBuffer() : buffer_(kept()) {}
  ~ThreadBuffer() {
    if (buffer_.capacity() * sizeof(T) > kKeptBytes) std::vector<T>().swap(buffer_);
    release_large();
  }
  ThreadBuffer(const ThreadBuffer&) = delete;
  ThreadBuffer& operator=(const ThreadBuffer&) = delete;

  // The vector itself, for a caller that sizes it.
  std::vector<T>& vector() { return buffer_; }
  // Room for at least `count` elements; the thread's vector (what an earlier call left there
  // kept) up to kKeptBytes, a block of the CPU allocator's (uninitialized) beyond.
  T* data(int64_t count) {
    const size_t elements = static_cast<size_t>(std::max<int64_t>(count, 0));
    if (elements * sizeof(T) > kKeptBytes) {
      if (large_elements_ < elements) {
        release_large();  // first: should the allocation below throw, nothing is freed twice
        large_ = static_cast<T*>(cpu_allocator().allocate(elements * sizeof(T), kCPU));
        large_elements_ = elements;
      }
      return large_;
    }
    if (buffer_.size() < elements) buffer_.resize(elements);
    return buffer_.data();
  }

 private:
  void release_large() {
    if (large_ != nullptr) cpu_allocator().deallocate(large_, large_elements_ * sizeof(T), kCPU);
    large_ = nullptr;
    large_elements_ = 0;
  }
  static std::vector<T>& kept() {
    thread_local std::vector<T> buffer;
    return buffer;
  }
  std::vector<T>& buffer_;
  T* large_ = nullptr;
  size_t large_elements_ = 0;
};

}  // namespace graft::kernels::cpu
