// Views under autograd: what a view remembers of its base, and in-place writes through
// views (PyTorch's CopySlices).
//
// A view shares its base's memory, so writing through it changes the base too:
//
//   Tensor y = x * 1;
//   y.narrow(0, 0, 2).mul_(3);  // y is now "3 * y inside rows 0..1, y elsewhere"
//   y.sum().backward();         // x.grad() is 3 on rows 0..1, 1 elsewhere
//
// The in-place op is computed out of place as usual (record.h), then the base's history is
// rebased: y's grad_fn becomes a CopySlices node with two edges, one to y's old history
// (which gets the gradient outside the view) and one to the op's result (which gets the
// gradient inside it). Every other view of y now shows new values through a stale grad_fn;
// the memory's version counter (bumped by every in-place write) tells, and the next time
// one of them is asked for its grad_fn it derives a fresh one from y's current history.
//
// So every view remembers its base (ViewInfo in node.h), whatever chain of view ops made it:
// a view of a view has the same base, and as_strided on the base with the view's sizes,
// strides and offset makes it again. The base is the tensor that is not itself a view,
// except that a leaf that requires grad is the base of its own views (their gradients end
// in it, and writing through them must be refused).
#pragma once

#include "graft/autograd/node.h"

namespace graft::autograd {

// Gives `view`, just made from `self` by the view op `op`, its autograd side: remembers its
// base, and records "<Op>Backward" running `backward` when self requires grad. Every view
// op of core/tensor_views.cpp reaches it through core's hook (core/hooks.h).
Tensor finish_view(const char* op, const Tensor& self, const Tensor& view, ViewBackward backward);

// What `t` remembers as a view; null when it is not one (detach() gives no view).
const ViewInfo* view_info(const Tensor& t);

// Gives a view whose memory was written in place since its grad_fn was derived a grad_fn
// derived from its base's current history. Whatever reads a tensor's grad_fn calls it first.
void refresh_view(const Tensor& t);

// The errors PyTorch gives for an in-place write through a view while grad mode is on: the
// view of a leaf that requires grad, and a view made inside a NoGradGuard of a tensor that
// requires grad (the write would be hidden from autograd).
void check_inplace_view(const char* op, const Tensor& self);

// After an in-place op wrote `result` into the view `self`: the base's history becomes
// CopySlices, and self's grad_fn is derived from it. Returns false when self is no view.
bool rebase_view_history(const Tensor& self, const Tensor& result);

}  // namespace graft::autograd
