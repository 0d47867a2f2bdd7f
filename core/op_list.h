// The op lists: the one place an elementwise op or a reduction is named.
//
// Each list is an X-macro, X(name, Functor): every layer expands it into what it needs,
// so adding a line here adds the op everywhere at once:
//   core/tensor.h            the Tensor methods (t.exp(), t.exp_())
//   kernels/dispatch.h       the enums and the kernel table's rows
//   kernels/elementwise_kernels.h   each backend's registrations (Functor is used there)
//   autograd/ops.h           the free functions and their in-place forms
//   autograd/ops_elementwise.cpp    their definitions; the derivative table has a
//                            `case` per op, so -Wswitch (an error in CI) names a missing one
//   tests/ops/               the op registry, whose coverage test fails for an op without
//                            a row (docs/adding_an_op.md has the whole recipe)
// This header holds names only, no code, which is why it may sit in the bottom layer that
// every other layer includes: core/ never expands the Functor column.
#pragma once

// Unary ops keep the input dtype (integers are promoted first for kFloatingOnly functors).
// clang-format off
#define GRAFT_UNARY_OPS(X) \
  X(neg, NegOp) \
  X(abs, AbsOp) \
  X(exp, ExpOp) \
  X(log, LogOp) \
  X(sqrt, SqrtOp) \
  X(rsqrt, RsqrtOp) \
  X(sin, SinOp) \
  X(cos, CosOp) \
  X(tanh, TanhOp) \
  X(sigmoid, SigmoidOp) \
  X(relu, ReluOp) \
  X(gelu, GeluOp) \
  X(gelu_tanh, GeluTanhOp) \
  X(silu, SiluOp) \
  X(log1p, Log1pOp) \
  X(expm1, Expm1Op) \
  X(erf, ErfOp) \
  X(floor, FloorOp) \
  X(ceil, CeilOp) \
  X(round, RoundOp) \
  X(sign, SignOp) \
  X(reciprocal, ReciprocalOp) \
  X(square, SquareOp) \
  X(tan, TanOp)
// clang-format on

// Binary ops compute in the promoted dtype and return it; each has scalar and in-place forms.
// clang-format off
#define GRAFT_BINARY_OPS(X) \
  X(add, AddOp) \
  X(sub, SubOp) \
  X(mul, MulOp) \
  X(div, DivOp) \
  X(pow, PowOp) \
  X(maximum, MaximumOp) \
  X(minimum, MinimumOp) \
  X(atan2, Atan2Op) \
  X(fmod, FmodOp) \
  X(remainder, RemainderOp)
// clang-format on

// Comparisons compute in the promoted dtype and return bool; no in-place forms.
// clang-format off
#define GRAFT_COMPARISON_OPS(X) \
  X(eq, EqOp) \
  X(ne, NeOp) \
  X(lt, LtOp) \
  X(le, LeOp) \
  X(gt, GtOp) \
  X(ge, GeOp)
// clang-format on

// Reductions with a kernel of their own: the kernel table's rows (mean, std and logsumexp
// compose these).
// clang-format off
#define GRAFT_REDUCE_OPS(X) \
  X(sum) \
  X(prod) \
  X(max) \
  X(min) \
  X(argmax) \
  X(argmin) \
  X(all) \
  X(any) \
  X(var) \
  X(norm)
// clang-format on

// The public reductions spelled f(x, dims = {}, keepdim = false), free function and method.
// clang-format off
#define GRAFT_DIMS_REDUCTIONS(X) \
  X(sum) \
  X(mean) \
  X(prod) \
  X(max) \
  X(min) \
  X(logsumexp) \
  X(all) \
  X(any)
// clang-format on
