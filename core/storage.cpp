// The lookup of allocators by device, and Storage::allocate.
#include "graft/core/storage.h"

#include "graft/core/allocator.h"
#include "graft/core/error.h"
#include "graft/core/hooks.h"

namespace graft {

Allocator& allocator_for(Device device) {
  if (device.is_cpu()) return cpu_allocator();
  // Only the kernel layer knows which backends this library was built with.
  Allocator* allocator = hooks::kernels().backend_allocator(device.type());
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
