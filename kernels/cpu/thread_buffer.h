// ThreadBuffer: a thread's own scratch vector, one for each use (Tag), kept from call to call
// while it holds at most kKeptBytes; a larger one is released when the ThreadBuffer that saw
// it goes, as a call that needs that much costs far more than its allocation.
//
// Why kept: a vector of a call's own comes from glibc's heap top or from mmap and, freed, goes
// back to the system (glibc trims beyond 128 KB), so the next call faults its pages in anew:
// 3-4% of conv2's forward (64 images of (32, 14, 14)); the GEMM's packed panels likewise.
//
// Two ThreadBuffers of one (T, Tag) alive on one thread share the vector: each use has its
// own Tag (the GEMM's b panels and its blocks' a panels, the convolution's chunks).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace graft::kernels::cpu {

inline constexpr size_t kKeptBytes = size_t{4} << 20;

template <class T, class Tag>
class ThreadBuffer {
 public:
  ThreadBuffer() : buffer_(kept()) {}
  ~ThreadBuffer() {
    if (buffer_.capacity() * sizeof(T) > kKeptBytes) std::vector<T>().swap(buffer_);
  }
  ThreadBuffer(const ThreadBuffer&) = delete;
  ThreadBuffer& operator=(const ThreadBuffer&) = delete;

  // The vector itself, for a caller that sizes it.
  std::vector<T>& vector() { return buffer_; }
  // Room for at least `count` elements.
  T* data(int64_t count) {
    if (static_cast<int64_t>(buffer_.size()) < count) buffer_.resize(static_cast<size_t>(count));
    return buffer_.data();
  }

 private:
  static std::vector<T>& kept() {
    thread_local std::vector<T> buffer;
    return buffer;
  }
  std::vector<T>& buffer_;
};

}  // namespace graft::kernels::cpu
