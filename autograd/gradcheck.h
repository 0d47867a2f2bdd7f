// gradcheck / gradgradcheck: a function's analytic gradients (the backward formulas, run
// by the engine) against finite differences, as torch.autograd.gradcheck does.
//
//   auto f = [](const graft::autograd::TensorList& in) { return in[0] * in[1].exp(); };
//   graft::autograd::gradcheck(f, {x, w});  // x, w: float64, requires_grad_()
//
// Every input that requires grad is checked (they must be float64: central differences
// in float32 are too coarse for any useful tolerance). For each output and input the
// Jacobian is built column by column from (f(x + eps e_j) - f(x - eps e_j)) / 2 eps, and
// row by row from backward passes with one-hot output gradients, then compared element by
// element: |analytic - numeric| <= atol + rtol |numeric|. The first mismatch throws a
// graft::Error naming the output, the input, both element indices and both values.
//
// gradgradcheck does the same for the gradients themselves: it checks the function
// (inputs, v) -> grad(f(inputs), inputs, v, create_graph) with fixed random v, which
// differentiates every backward formula once more.
#pragma once

#include <functional>

#include "graft/autograd/node.h"

namespace graft::autograd {

using Function = std::function<TensorList(const TensorList& inputs)>;
using SingleOutputFunction = std::function<Tensor(const TensorList& inputs)>;

// Returns true, or throws a graft::Error describing the first mismatch.
bool gradcheck(const Function& fn, const TensorList& inputs, double eps = 1e-6, double atol = 1e-5,
               double rtol = 1e-3);
bool gradcheck(const SingleOutputFunction& fn, const TensorList& inputs, double eps = 1e-6,
               double atol = 1e-5, double rtol = 1e-3);

// `grad_outputs`: the v above, one per output (default: fixed pseudo-random values).
bool gradgradcheck(const Function& fn, const TensorList& inputs,
                   const TensorList& grad_outputs = {}, double eps = 1e-6, double atol = 1e-5,
                   double rtol = 1e-3);
bool gradgradcheck(const SingleOutputFunction& fn, const TensorList& inputs,
                   const TensorList& grad_outputs = {}, double eps = 1e-6, double atol = 1e-5,
                   double rtol = 1e-3);

}  // namespace graft::autograd
