// graft::init() (init.h): installs the hooks of kernels/ and autograd/, the layers core/
// calls up into. It lives here, in the lowest layer that sees every installer; the layers
// above (io, nn, optim, data) call only downward and install nothing.
//
// Why the start-up function is kept by a linker option (graft::graft's INTERFACE link
// options carry LINKER:--undefined=graft_init_at_startup) and not by a static object alone:
// a static library contributes an object file only when something references it, so a lone
// static initialiser here would be dropped from every program that never names init().
// Linking libgraft_autograd.a whole (WHOLE_ARCHIVE) would keep it too, but CMake refuses one
// library linked both whole and plainly in one program, and the layers above link it plainly.
#include "graft/autograd/init.h"

#include <mutex>

#include "graft/autograd/advanced_index.h"
#include "graft/autograd/views.h"
#include "graft/core/hooks.h"
#include "graft/kernels/hooks.h"

namespace graft {

namespace {
// The op layer as core/ calls it: each entry is the Tensor method of its name.
constexpr hooks::AutogradHooks kAutogradHooks{
    .requires_grad = [](const Tensor& t) { return t.requires_grad(); },
    .requires_grad_ = [](const Tensor& t) { t.requires_grad_(); },
    .finish_view = autograd::finish_view,
    .contiguous = [](const Tensor& t) { return t.contiguous(); },
    .to = [](const Tensor& t, Device device) { return t.to(device); },
    .copy_ = [](const Tensor& self, const Tensor& src) { self.copy_(src); },
    .fill_ = [](const Tensor& self, Scalar value) { self.fill_(value); },
    .gather = [](const Tensor& self, int64_t dim,
                 const Tensor& index) { return self.gather(dim, index); },
    .scatter_add = [](const Tensor& self, int64_t dim, const Tensor& index,
                      const Tensor& src) { return self.scatter_add(dim, index, src); },
    .div = [](const Tensor& self, const Tensor& other) { return self.div(other); },
    .advanced_index = advanced_index,
};
}  // namespace

void init() {
  static std::once_flag once;
  std::call_once(once, [] {
    kernels::install_core_hooks();
    hooks::install(kAutogradHooks);
  });
}

}  // namespace graft

// Runs init() when the program starts. Priority 101, the first one programs may use, puts it
// ahead of every constructor of default priority, graft's and the user's alike: it only
// stores two pointers, so nothing it needs is constructed later.
extern "C" [[gnu::constructor(101)]] void graft_init_at_startup() { graft::init(); }
