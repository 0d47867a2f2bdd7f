// The kernel layer's side of core's hooks (core/hooks.h): core/ allocates memory on a
// device backend through it, without knowing which backends this library was built with.
#pragma once

namespace graft::kernels {

// Installs the kernel layer's table into core/. graft::init() (autograd/init.h) calls it.
void install_core_hooks();

}  // namespace graft::kernels
