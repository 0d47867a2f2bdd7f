// Broadcasting, undone: sum_to and its adjoint expand_to.
//
// An op that broadcasts an input of shape (3, 1) against (1, 4) produces a (3, 4) result,
// so the gradient arriving for that input is (3, 4) too; summing it over the broadcast
// dims gives back (3, 1). The engine does that once for every gradient (engine.cpp), so
// no backward formula has to. Both functions are differentiable (each is the other's
// backward), which keeps create_graph working through broadcasting.
#pragma once

#include "graft/core/tensor.h"

namespace graft::autograd {

// `x` summed over the dims in which `shape` was broadcast to x's shape; `shape` must
// broadcast to x.shape(). Returns x itself when the shapes already match.
Tensor sum_to(const Tensor& x, const Shape& shape);

// `x` broadcast to `shape` (an expand), recording ExpandBackward = sum_to.
Tensor expand_to(const Tensor& x, const Shape& shape);

// True when `from` broadcasts to exactly `to` (aligned from the right, sizes equal or 1).
bool broadcasts_to(const Shape& from, const Shape& to);

}  // namespace graft::autograd
