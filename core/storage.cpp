// The CPU allocator, the lookup of device allocators, and Storage::allocate.
#include "graft/core/storage.h"

#include <cstdlib>
#include <new>

#include "graft/core/allocator.h"
#include "graft/core/error.h"

namespace graft {
namespace {

class CpuAllocator final : public Allocator {
 public:
  void* allocate(size_t nbytes, Device) override {
    // aligned_alloc wants a multiple of the alignment; never ask for 0 bytes.
    const size_t rounded = (nbytes + kCpuAlignment - 1) / kCpuAlignment * kCpuAlignment;
    void* ptr = std::aligned_alloc(kCpuAlignment, rounded == 0 ? kCpuAlignment : rounded);
    GRAFT_CHECK(ptr != nullptr, "CPU out of memory: tried to allocate ", nbytes, " bytes");
    return ptr;
  }
  void deallocate(void* ptr, Device) override { std::free(ptr); }
};

}  // namespace

Allocator& allocator_for(Device device) {
  static CpuAllocator cpu;
  if (device.is_cpu()) return cpu;
  Allocator* allocator = backend_allocator(device.type());
  GRAFT_CHECK(allocator != nullptr, "cannot allocate memory on ", device,
              ": this build of graft has no CUDA support (configure with -DGRAFT_CUDA=ON on a "
              "machine with the CUDA toolkit)");
  return *allocator;
}

std::shared_ptr<Storage> Storage::allocate(size_t nbytes, Device device) {
  Allocator& allocator = allocator_for(device);
  void* data = allocator.allocate(nbytes, device);
  return std::make_shared<Storage>(
      data, nbytes, device, [&allocator, device](void* p) { allocator.deallocate(p, device); });
}

}  // namespace graft
