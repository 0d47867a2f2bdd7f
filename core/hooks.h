// Hooks: the calls core/ makes into the layers above it, as tables of function pointers
// that those layers install.
//
// core/ is a library that links nothing above it (libgraft_core.a names no symbol of
// kernels/ or autograd/; tests/layers/ links it alone to prove it), yet three things in it
// need an upper layer: a tensor on a device other than the CPU takes its memory from that
// backend's allocator (kernels/), every view is recorded by autograd (and a tensor that
// empty() or from_blob() makes may be asked to require grad), and the few
// computations core's own code makes (reshape's copy, the views' backward formulas, the
// host copy behind item() and printing, index() with tensor indices) are ops of the op
// layer. c10 meets the same need for autograd metadata with a factory that autograd
// registers at load time; graft keeps one table per upper layer, each entry the Tensor
// method or function of the same name.
//
// graft::init() (autograd/init.h) installs both tables, and every program that links
// graft::graft runs it before main() (docs/architecture.md, "How the layers are tied
// together"). A CPU tensor can be allocated before that; anything else that needs a hook
// throws graft::Error saying how to install them, never calls through a null pointer.
#pragma once

#include <cstdint>
#include <vector>

#include "graft/core/allocator.h"
#include "graft/core/device.h"
#include "graft/core/scalar.h"
#include "graft/core/tensor.h"

namespace graft::hooks {

// What kernels/ provides (kernels/hooks.cpp).
struct KernelHooks {
  // The allocator of a device backend, or nullptr when this build has none for `type`.
  Allocator* (*backend_allocator)(DeviceType type);
};

// What autograd/ provides (autograd/init.cpp).
struct AutogradHooks {
  bool (*requires_grad)(const Tensor& t);
  void (*requires_grad_)(const Tensor& t);  // for the factories here asked for it (TensorOptions)
  // Gives `view`, just made from `self` by the view op `op`, its autograd side
  // (autograd/views.cpp): it remembers the tensor whose memory it shows, so an in-place
  // write through it reaches that tensor's graph, and when self requires grad it records
  // "<Op>Backward" running `backward`.
  Tensor (*finish_view)(const char* op, const Tensor& self, const Tensor& view,
                        autograd::ViewBackward backward);
  // The op layer, as core/ calls it.
  Tensor (*contiguous)(const Tensor& t);
  Tensor (*to)(const Tensor& t, Device device);
  void (*copy_)(const Tensor& self, const Tensor& src);
  void (*fill_)(const Tensor& self, Scalar value);
  Tensor (*gather)(const Tensor& self, int64_t dim, const Tensor& index);
  Tensor (*scatter_add)(const Tensor& self, int64_t dim, const Tensor& index, const Tensor& src);
  Tensor (*div)(const Tensor& self, const Tensor& other);
  // Tensor::index's advanced part: `self` indexed by tensors, as detail::apply_slicing
  // leaves them (core/tensor_index.h; autograd/advanced_index.h computes it).
  Tensor (*advanced_index)(const Tensor& self, const std::vector<Tensor>& indices);
};

// Installs a table, which must outlive every use (a static of the installing layer). Safe to
// call from any thread; installing again replaces the table.
void install(const KernelHooks& table);
void install(const AutogradHooks& table);

// The installed table; graft::Error when there is none yet.
const KernelHooks& kernels();
const AutogradHooks& autograd();

}  // namespace graft::hooks
