// The installed hook tables (hooks.h): one atomic pointer per table, because graft::init()
// may run on any thread while another makes views. The pointers are constant-initialised,
// so they are null, never garbage, even for code that runs before any static constructor.
#include "graft/core/hooks.h"

#include <atomic>

#include "graft/core/error.h"

namespace graft::hooks {

namespace {
std::atomic<const KernelHooks*> kernel_hooks{nullptr};
std::atomic<const AutogradHooks*> autograd_hooks{nullptr};

// An acquire load: a plain load on x86-64, and it pairs with install()'s release store so
// that a reader sees the whole table.
template <class Table>
const Table& installed(const std::atomic<const Table*>& slot, const char* layer) {
  const Table* table = slot.load(std::memory_order_acquire);
  if (table == nullptr) [[unlikely]]
    detail::fail("graft: core/ needs the ", layer,
                 " layer, whose hooks are not installed: link graft::graft (it installs them "
                 "before main()), or call graft::init() (graft/autograd/init.h) first");
  return *table;
}
}  // namespace

void install(const KernelHooks& table) { kernel_hooks.store(&table, std::memory_order_release); }
void install(const AutogradHooks& table) {
  autograd_hooks.store(&table, std::memory_order_release);
}

const KernelHooks& kernels() { return installed(kernel_hooks, "kernels"); }
const AutogradHooks& autograd() { return installed(autograd_hooks, "autograd"); }

}  // namespace graft::hooks
