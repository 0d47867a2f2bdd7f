// The CPU allocator: 64-byte aligned blocks, with all but small ones cached for reuse.
//
// A fresh block that is not small is expensive in a way a small one is not: glibc serves
// it with mmap, or from the top of its heap, and either way it gives the pages back to the
// system when the block is freed (munmap, or trimming the heap), so the next block of the
// same size faults on the first write to each 4 KiB page again (16384 faults for a 64 MiB
// tensor, several times the cost of the op that fills it). A training step allocates the
// same activations and gradients every step, so freed blocks of kCachedBlock or more are
// kept, keyed by size rounded to a size class, and handed out again; the cache holds at
// most kMaxCachedBytes and frees what does not fit. The MLP's training step ran twice as
// fast once its 64 KiB-1 MiB blocks were cached too (docs/performance.md, "Threads on a
// busy machine"). Blocks of 1 MiB or more take whole 2 MiB pages, aligned and marked
// MADV_HUGEPAGE, so that where transparent huge pages are enabled their first touch costs one
// fault per 2 MiB instead of 512, and the TLB maps each with one entry: a GPT training step
// (the cpu config, whose (768, 512) activations take 1.5 MiB), 2-core Xeon, 11 runs
// alternating with the old rule, 23.4 -> 22.9 ms on average (lower in 10 of the 11 pairs). Under
// AddressSanitizer a cached block is poisoned until it is handed out again, so a use after free is
// still caught.
//
// A small block is a plain malloc of 64 bytes more than asked, aligned up inside it, with
// malloc's own address kept in the 8 bytes before the block for the free. glibc's
// aligned_alloc (2.36, Debian 12's) never takes a chunk from its per-thread cache: it carves
// one out of a larger chunk and frees the pieces, at every call, where malloc and free of a
// cached size are a few loads. The 1-element add, which allocates one small block, went from
// 222 to 175-195 ns (2-core Xeon, alternating runs). The slack around the block is poisoned
// under AddressSanitizer, so an overflow of a small tensor is still caught.
#include <sanitizer/asan_interface.h>
#include <sys/mman.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>
#include <vector>

#include "graft/core/allocator.h"
#include "graft/core/error.h"

namespace graft {
namespace {

constexpr size_t kCachedBlock = size_t{64} << 10;  // smaller blocks: small_block, never cached
constexpr size_t kHugePage = size_t{2} << 20;
constexpr size_t kHugeFrom = size_t{1} << 20;  // blocks in huge pages from here on
constexpr size_t kMaxCachedBytes = size_t{1} << 30;

// The size class of a cached block: a multiple of 64 KiB below 1 MiB (at most 64 KiB
// wasted), of 2 MiB above (at most half the block wasted: 1.5 MiB takes 2).
size_t size_class(size_t nbytes) {
  const size_t step = nbytes < kHugeFrom ? kCachedBlock : kHugePage;
  return (nbytes + step - 1) / step * step;
}

[[noreturn]] void out_of_memory(size_t requested) {
  throw OutOfMemoryError(
      detail::make_message("CPU out of memory: tried to allocate ", describe_bytes(requested),
                           ". Free tensors you no longer need or use smaller batches"));
}

void* aligned_or_throw(size_t alignment, size_t nbytes, size_t requested) {
  void* ptr = std::aligned_alloc(alignment, nbytes);
  if (ptr == nullptr) [[unlikely]]
    out_of_memory(requested);
  return ptr;
}

void* small_block(size_t nbytes) {
  char* raw = static_cast<char*>(std::malloc(nbytes + kCpuAlignment));
  if (raw == nullptr) [[unlikely]]
    out_of_memory(nbytes);
  // The first aligned address with room for the pointer before it: malloc's blocks are at
  // least 8-byte aligned, so it lies at most 64 bytes in and the block ends inside raw's.
  const uintptr_t first = reinterpret_cast<uintptr_t>(raw) + sizeof(void*);
  char* block = reinterpret_cast<char*>((first + kCpuAlignment - 1) & ~(kCpuAlignment - 1));
  std::memcpy(block - sizeof(void*), &raw, sizeof(void*));
  ASAN_POISON_MEMORY_REGION(raw, block - sizeof(void*) - raw);
  ASAN_POISON_MEMORY_REGION(block + nbytes, raw + kCpuAlignment - block);
  return block;
}

void free_small_block(void* block) {
  char* raw;
  std::memcpy(&raw, static_cast<char*>(block) - sizeof(void*), sizeof(void*));
  std::free(raw);
}

class CpuAllocator final : public Allocator {
 public:
  void* allocate(size_t nbytes, Device) override {
    if (nbytes < kCachedBlock) return small_block(nbytes);
    const size_t size = size_class(nbytes);
    {
      std::lock_guard<std::mutex> lock(mutex_);
      auto cached = free_blocks_.find(size);
      if (cached != free_blocks_.end() && !cached->second.empty()) {
        void* ptr = cached->second.back();
        cached->second.pop_back();
        cached_bytes_ -= size;
        ASAN_UNPOISON_MEMORY_REGION(ptr, size);
        return ptr;
      }
    }
    const bool huge = size >= kHugePage;
    void* ptr = aligned_or_throw(huge ? kHugePage : kCpuAlignment, size, nbytes);
    if (huge) madvise(ptr, size, MADV_HUGEPAGE);  // a hint: harmless where THP is off
    return ptr;
  }

  // The requested size tells a small block (back to malloc, no lock) from a cached one, and
  // gives the latter's class.
  void deallocate(void* ptr, size_t nbytes, Device) override {
    if (nbytes < kCachedBlock) return free_small_block(ptr);
    const size_t size = size_class(nbytes);
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (cached_bytes_ + size <= kMaxCachedBytes) {
        ASAN_POISON_MEMORY_REGION(ptr, size);
        free_blocks_[size].push_back(ptr);
        cached_bytes_ += size;
        return;
      }
    }
    std::free(ptr);
  }

 private:
  std::mutex mutex_;
  std::map<size_t, std::vector<void*>> free_blocks_;  // size class -> cached blocks
  size_t cached_bytes_ = 0;
};

}  // namespace

Allocator& cpu_allocator() {
  // Never destroyed: tensors in static storage may free their blocks after main returns.
  static auto* allocator = new CpuAllocator();
  return *allocator;
}

}  // namespace graft
