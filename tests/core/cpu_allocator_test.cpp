// The CPU allocator (core/cpu_allocator.cpp): every block 64-byte aligned, blocks of 1 MiB
// or more in whole 2 MiB pages, 2 MiB aligned, and freed blocks of 64 KiB or more handed out again
// for a request of the same size class, and poisoned meanwhile under AddressSanitizer; a
// small block's slack inside its malloc'd one is poisoned too.
#include <gtest/gtest.h>
#include <sanitizer/asan_interface.h>

#include <cstdint>
#include <cstring>

#include "graft/core/allocator.h"

namespace g = graft;

namespace {

bool aligned_to(const void* ptr, size_t alignment) {
  return reinterpret_cast<uintptr_t>(ptr) % alignment == 0;
}

}  // namespace

TEST(CpuAllocator, EveryBlockIsAlignedAndWritable) {
  g::Allocator& allocator = g::cpu_allocator();
  for (size_t nbytes : {size_t{0}, size_t{1}, size_t{63}, size_t{4096}, size_t{65535},
                        size_t{65536}, size_t{200000}, (size_t{1} << 20) - 1, size_t{1} << 20,
                        size_t{2} << 20, (size_t{5} << 20) + 1}) {
    void* ptr = allocator.allocate(nbytes, g::kCPU);
    ASSERT_NE(ptr, nullptr) << nbytes;
    EXPECT_TRUE(aligned_to(ptr, g::kCpuAlignment)) << nbytes;
    if (nbytes >= (size_t{1} << 20)) {
      EXPECT_TRUE(aligned_to(ptr, size_t{2} << 20)) << nbytes;
    }
    std::memset(ptr, 0xab, nbytes);
    allocator.deallocate(ptr, nbytes, g::kCPU);
  }
}

TEST(CpuAllocator, FreedBlocksOfASizeClassAreHandedOutAgain) {
  g::Allocator& allocator = g::cpu_allocator();
  // 64 KiB steps below 1 MiB: 200,000 and 196,609 bytes are both 192 KiB + 1 .. 256 KiB.
  void* first = allocator.allocate(200000, g::kCPU);
  allocator.deallocate(first, 200000, g::kCPU);
  void* again = allocator.allocate(196609, g::kCPU);
  EXPECT_EQ(again, first);
  // Two live blocks of one class are distinct; both come back from the cache.
  void* second = allocator.allocate(200000, g::kCPU);
  EXPECT_NE(second, again);
  allocator.deallocate(again, 196609, g::kCPU);
  allocator.deallocate(second, 200000, g::kCPU);
  void* x = allocator.allocate(256 << 10, g::kCPU);
  void* y = allocator.allocate(256 << 10, g::kCPU);
  EXPECT_TRUE((x == first || x == second) && (y == first || y == second) && x != y);
  allocator.deallocate(x, 256 << 10, g::kCPU);
  allocator.deallocate(y, 256 << 10, g::kCPU);
  // 2 MiB steps above: 3 MiB and 4 MiB share the 4 MiB class, and 1 MiB and 1.5 MiB the
  // 2 MiB one.
  void* large = allocator.allocate(size_t{3} << 20, g::kCPU);
  allocator.deallocate(large, size_t{3} << 20, g::kCPU);
  void* large_again = allocator.allocate(size_t{4} << 20, g::kCPU);
  EXPECT_EQ(large_again, large);
  allocator.deallocate(large_again, size_t{4} << 20, g::kCPU);
  void* page = allocator.allocate(size_t{1} << 20, g::kCPU);
  allocator.deallocate(page, size_t{1} << 20, g::kCPU);
  void* page_again = allocator.allocate(size_t{3} << 19, g::kCPU);
  EXPECT_EQ(page_again, page);
  allocator.deallocate(page_again, size_t{3} << 19, g::kCPU);
}

#if defined(__SANITIZE_ADDRESS__)
TEST(CpuAllocatorDeathTest, AUseOfACachedBlockIsCaughtUnderAddressSanitizer) {
  // The block is kept for reuse, not freed, so only its poisoning lets ASan see the bug.
  EXPECT_DEATH(
      {
        g::Allocator& allocator = g::cpu_allocator();
        auto* block = static_cast<char*>(allocator.allocate(200000, g::kCPU));
        allocator.deallocate(block, 200000, g::kCPU);
        *static_cast<volatile char*>(block + 100) = 1;
      },
      "use-after-poison");
}

TEST(CpuAllocator, TheBytesPastASmallBlockArePoisonedUnderAddressSanitizer) {
  // A small block lies inside a larger malloc'd one; whatever slack follows it is poisoned
  // by graft (or is ASan's own redzone where the two end together), so an overflow is caught.
  g::Allocator& allocator = g::cpu_allocator();
  for (size_t nbytes = 1; nbytes <= 200; ++nbytes) {
    auto* block = static_cast<char*>(allocator.allocate(nbytes, g::kCPU));
    EXPECT_FALSE(__asan_address_is_poisoned(block)) << nbytes;
    EXPECT_FALSE(__asan_address_is_poisoned(block + nbytes - 1)) << nbytes;
    EXPECT_TRUE(__asan_address_is_poisoned(block + nbytes)) << nbytes;
    allocator.deallocate(block, nbytes, g::kCPU);
  }
}
#endif
