// The kernel layer's hook table (hooks.h): each backend's allocator, read from the slot its
// registration filled in the kernel table.
#include "graft/kernels/hooks.h"

#include "graft/core/hooks.h"
#include "graft/kernels/dispatch.h"

namespace graft::kernels {

namespace {
Allocator* backend_allocator(DeviceType type) {
  return kernel_table().allocator[static_cast<int>(type)];
}

constexpr hooks::KernelHooks kHooks{.backend_allocator = backend_allocator};
}  // namespace

void install_core_hooks() { hooks::install(kHooks); }

}  // namespace graft::kernels
