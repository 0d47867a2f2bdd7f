// graft::init(): ties the layers together at run time.
//
// Each layer is a library that links only the layers below it, so where core/ needs an
// upper layer (a backend's allocator, recording a view, the copy behind reshape) it calls
// through a hook table (core/hooks.h) that init() fills. A program that links graft::graft
// never calls it: graft::graft makes the linker keep this file's start-up function, which
// runs init() before main() and before any ordinary static constructor, so even a global
// Tensor may be made with views. Call it yourself only in a program that links graft's layer
// libraries (graft::autograd, graft::nn, ...) without graft::graft; until then, whatever
// needs a hook throws a graft::Error saying so.
#pragma once

namespace graft {

// Installs the hooks of kernels/ and autograd/ into core/. Idempotent and thread-safe.
void init();

}  // namespace graft
