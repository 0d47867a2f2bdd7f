// The CPU allocator: 64-byte aligned blocks, with large blocks cached for reuse.
//
// A large fresh block is expensive in a way a small one is not: glibc serves it with mmap,
// and the first write to each 4 KiB page faults (16384 faults for a 64 MiB tensor, several
// times the cost of the op that fills it), and free() unmaps it again. Elementwise ops on
// big tensors allocate a same-sized output every call, so freed blocks of 1 MiB or more are
// kept, keyed by size rounded to 2 MiB, and handed out again; the cache holds at most
// kMaxCachedBytes and frees what does not fit. Fresh large blocks are 2 MiB aligned and
// marked MADV_HUGEPAGE so that, where transparent huge pages are enabled, their first touch
// costs one fault per 2 MiB instead of 512.
#include <sys/mman.h>

#include <algorithm>
#include <cstdlib>
#include <map>
#include <mutex>
#include <unordered_map>
#include <vector>

#include "graft/core/allocator.h"
#include "graft/core/error.h"

namespace graft {
namespace {

constexpr size_t kLargeBlock = size_t{1} << 20;
constexpr size_t kHugePage = size_t{2} << 20;
constexpr size_t kMaxCachedBytes = size_t{1} << 30;

void* aligned_or_throw(size_t alignment, size_t nbytes, size_t requested) {
  void* ptr = std::aligned_alloc(alignment, nbytes);
  if (ptr == nullptr) [[unlikely]]
    throw OutOfMemoryError(
        detail::make_message("CPU out of memory: tried to allocate ", describe_bytes(requested),
                             ". Free tensors you no longer need or use smaller batches"));
  return ptr;
}

class CpuAllocator final : public Allocator {
 public:
  void* allocate(size_t nbytes, Device) override {
    if (nbytes < kLargeBlock) {
      // aligned_alloc wants a multiple of the alignment; never ask for 0 bytes.
      const size_t rounded = std::max<size_t>((nbytes + kCpuAlignment - 1) / kCpuAlignment, 1);
      return aligned_or_throw(kCpuAlignment, rounded * kCpuAlignment, nbytes);
    }
    const size_t size = (nbytes + kHugePage - 1) / kHugePage * kHugePage;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      auto cached = free_blocks_.find(size);
      if (cached != free_blocks_.end() && !cached->second.empty()) {
        void* ptr = cached->second.back();
        cached->second.pop_back();
        cached_bytes_ -= size;
        large_size_[ptr] = size;
        return ptr;
      }
    }
    void* ptr = aligned_or_throw(kHugePage, size, nbytes);
    madvise(ptr, size, MADV_HUGEPAGE);  // a hint: harmless where THP is off
    std::lock_guard<std::mutex> lock(mutex_);
    large_size_[ptr] = size;
    return ptr;
  }

  void deallocate(void* ptr, Device) override {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      auto it = large_size_.find(ptr);
      if (it != large_size_.end()) {
        const size_t size = it->second;
        large_size_.erase(it);
        if (cached_bytes_ + size <= kMaxCachedBytes) {
          free_blocks_[size].push_back(ptr);
          cached_bytes_ += size;
          return;
        }
      }
    }
    std::free(ptr);
  }

 private:
  std::mutex mutex_;
  std::unordered_map<void*, size_t> large_size_;      // live large block -> its size
  std::map<size_t, std::vector<void*>> free_blocks_;  // size -> cached blocks
  size_t cached_bytes_ = 0;
};

}  // namespace

Allocator& cpu_allocator() {
  // Never destroyed: tensors in static storage may free their blocks after main returns.
  static auto* allocator = new CpuAllocator();
  return *allocator;
}

}  // namespace graft
