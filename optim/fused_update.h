// fused_update: one optimizer step over a list of parameters, checked and handed to the
// device's multi-tensor kernel (kernels/optim.h).
//
// The optimizers (sgd.h, adam.h, rmsprop.h) call this once per parameter group with every
// parameter that has a gradient. Parameters are gathered by (device, dtype), and each such
// set is one kernel call: on CUDA, one launch for all of its parameters. Every check
// happens here, before any kernel runs, so a bad parameter leaves all of them untouched.
#pragma once

#include <array>
#include <string>
#include <vector>

#include "graft/core/tensor.h"
#include "graft/kernels/optim.h"

namespace graft::optim {

// One parameter's part of a step: the parameter (updated in place), its gradient, and the
// algorithm's state buffers in the slots of kernels/optim.h (undefined where unused).
struct ParamUpdate {
  Tensor param;
  Tensor grad;
  std::array<Tensor, kernels::kMaxOptimState> state;
  int64_t step = 0;  // this parameter's step count including this step: 1 on its first
};

// The names of the state slots `hyper` uses, in slot order (PyTorch's state keys:
// "momentum_buffer", "exp_avg", ...); an empty name marks a slot it leaves unused.
std::array<std::string, kernels::kMaxOptimState> state_names(const kernels::OptimHyper& hyper);

// Applies one step of `hyper` to every parameter of `params`. `caller` names the optimizer
// in error messages ("Adam.step()"). Parameters must be contiguous float32 or float64; each
// gradient and used state buffer must match its parameter's shape, dtype and device (a
// non-contiguous gradient is copied; state buffers must be contiguous).
//
// With sum_grad_squares, also returns the sum of the squares of every gradient it read, a
// 0-d float64 tensor on the first parameter's device (0 on the CPU when `params` is empty),
// summed by the update kernels in their own pass over the gradients; otherwise an
// undefined tensor.
Tensor fused_update(const kernels::OptimHyper& hyper, const std::vector<ParamUpdate>& params,
                    const std::string& caller, bool sum_grad_squares = false);

// GradScaler's unscale (optim/grad_scaler.h) through the same kernels: every tensor of
// `grads` multiplied by inv_scale in place, one kernel call per device and dtype, and the
// sum of their squares (as read) returned as fused_update returns it: a 0-d float64 that is
// not finite when some gradient is inf or NaN.
Tensor fused_unscale(const std::vector<Tensor>& grads, double inv_scale, const std::string& caller);

}  // namespace graft::optim
