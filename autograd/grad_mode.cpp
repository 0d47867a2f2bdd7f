// The thread_local grad-mode flag behind GradMode.
#include "graft/autograd/grad_mode.h"

namespace graft::autograd {
namespace {
thread_local bool grad_enabled = true;
}  // namespace

bool GradMode::is_enabled() { return grad_enabled; }
void GradMode::set_enabled(bool enabled) { grad_enabled = enabled; }

}  // namespace graft::autograd
