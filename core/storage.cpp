// The lookup of allocators by device, Storage::allocate, and sizes for out-of-memory messages.
#include "graft/core/storage.h"

#include <iomanip>
#include <sstream>

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

std::string describe_bytes(size_t nbytes) {
  static const char* const units[] = {"bytes", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
  double size = static_cast<double>(nbytes);
  int unit = 0;
  while (size >= 1024 && unit < 6) {
    size /= 1024;
    ++unit;
  }
  std::ostringstream text;
  text << nbytes << " bytes";
  if (unit > 0)
    text << " (" << std::fixed << std::setprecision(2) << size << " " << units[unit] << ")";
  return text.str();
}

std::shared_ptr<Storage> Storage::allocate(size_t nbytes, Device device) {
  Allocator& allocator = allocator_for(device);
  void* data = allocator.allocate(nbytes, device);
  return std::make_shared<Storage>(data, nbytes, device, allocator);
}

}  // namespace graft
