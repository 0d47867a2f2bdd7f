// OptimArgs: one optimizer step over many parameters at once (a multi-tensor update), and
// the per-element update formulas that the CPU and CUDA kernels share.
//
// An optimizer hands the kernel a list of tensors (parameter, gradient, the algorithm's
// state buffers), all contiguous with the same dtype (float32 or float64) on one device,
// and the hyperparameters of their parameter group. The CPU kernel loops over them; the
// CUDA kernel updates them all in ONE launch (kernels/cuda/optim.cu), which is why the
// list, not a single tensor, is the unit of work.
//
// The formulas are PyTorch's single-tensor ("foreach=False") code paths of
// torch/optim/{sgd,adam,rmsprop}.py, step by step and in the same order of operations:
// the scalar coefficients (lr, bias corrections, ...) are computed once per tensor in
// double, as Python does, and cast to the element type, as PyTorch's kernels do. Each
// `*Step<T>` below holds those coefficients for one tensor and updates element i; both
// backends call the same code, so they differ only by the device's rounding (nvcc
// contracts a * b + c into one FMA).
//
// Both backends cut each parameter into chunks of kOptimChunk elements (a CUDA block, a CPU
// task). When asked, they also sum the squares of every chunk's gradient in the same pass,
// one partial sum per chunk, so that a training loop can log the gradient norm without
// reading the gradients a second time (Optimizer::set_grad_norm_tracking).
#pragma once

#include <cmath>
#include <cstdint>
#include <type_traits>
#include <variant>
#include <vector>

#include "graft/core/device.h"
#include "graft/core/dtype.h"
#include "graft/core/error.h"
#include "graft/core/host_device.h"

namespace graft::kernels {

inline constexpr int kMaxOptimState = 3;

// SGD. State: [momentum_buffer] when momentum != 0.
struct SgdHyper {
  double lr = 1e-3;
  double momentum = 0.0;
  double dampening = 0.0;
  double weight_decay = 0.0;
  bool nesterov = false;
  bool maximize = false;
};

// Adam, and AdamW when decoupled_weight_decay. State: [exp_avg, exp_avg_sq,
// max_exp_avg_sq (amsgrad only)].
struct AdamHyper {
  double lr = 1e-3;
  double beta1 = 0.9;
  double beta2 = 0.999;
  double eps = 1e-8;
  double weight_decay = 0.0;
  bool amsgrad = false;
  bool decoupled_weight_decay = false;
  bool maximize = false;
};

// RMSprop. State: [square_avg, momentum_buffer (momentum > 0), grad_avg (centered)].
struct RmspropHyper {
  double lr = 1e-2;
  double alpha = 0.99;
  double eps = 1e-8;
  double weight_decay = 0.0;
  double momentum = 0.0;
  bool centered = false;
  bool maximize = false;
};

// GradScaler's unscale (optim/grad_scaler.h): grad *= inv_scale, in place, no state. Not an
// optimizer: the update kernels run it because they already visit every gradient of a
// device in one call, and sum the squares that tell an inf or NaN gradient.
struct UnscaleHyper {
  double inv_scale = 1.0;
};

// An optimizer's options: one of the algorithms.
using OptimHyper = std::variant<SgdHyper, AdamHyper, RmspropHyper>;
// What the update kernels run: an optimizer's step, or the unscale.
using UpdateRule = std::variant<SgdHyper, AdamHyper, RmspropHyper, UnscaleHyper>;

// An optimizer's options as the rule the kernels run.
inline UpdateRule update_rule(const OptimHyper& hyper) {
  return std::visit([](const auto& h) -> UpdateRule { return h; }, hyper);
}

// One parameter of the update: numel contiguous elements in each buffer.
struct OptimTensor {
  void* param = nullptr;             // updated in place
  const void* grad = nullptr;        // read only
  void* state[kMaxOptimState] = {};  // the algorithm's buffers (see its Hyper), updated in place
  int64_t numel = 0;
  int64_t step = 0;  // this parameter's step count including this step: 1 on its first update
};

struct OptimArgs {
  UpdateRule hyper;
  DType dtype = kFloat32;  // float32 or float64, of every buffer
  Device device;           // where every buffer lives
  std::vector<OptimTensor> tensors;
  // Null, or where the kernel writes, for each chunk in order (tensor 0's chunks, then
  // tensor 1's, ...; optim_chunks() of each), the sum of its gradient's squares, as read
  // (before maximize or weight decay). On `device`. A fixed cut, whatever the threads or
  // the GPU, so the sums are the same on every run. The CPU sums a chunk in the gradient's
  // own type (pairwise), CUDA in double.
  double* grad_sq_partials = nullptr;
};

// Elements per chunk of a parameter's update.
inline constexpr int64_t kOptimChunk = 8192;

inline int64_t optim_chunks(int64_t numel) { return (numel + kOptimChunk - 1) / kOptimChunk; }

// ---- per-element updates
//
// T is the element type of the parameter, its gradient and its state; C, the type the
// update computes in, is T for float and double and float for the 16-bit types (each
// element is loaded into C, updated, and stored back rounded once, as PyTorch's opmath).

// torch/optim/sgd.py, _single_tensor_sgd:
//   g = maximize ? -grad : grad
//   g = g + weight_decay * param                         (weight_decay != 0)
//   buf = first step ? g : momentum * buf + (1 - dampening) * g      (momentum != 0)
//   g = nesterov ? g + momentum * buf : buf                          (momentum != 0)
//   param = param - lr * g
template <class T>
struct SgdStep {
  using C = compute_type_t<T>;
  C lr, momentum, one_minus_dampening, weight_decay;
  bool nesterov, maximize, first_step;

  SgdStep(const SgdHyper& h, int64_t step)
      : lr(static_cast<C>(h.lr)),
        momentum(static_cast<C>(h.momentum)),
        one_minus_dampening(static_cast<C>(1.0 - h.dampening)),
        weight_decay(static_cast<C>(h.weight_decay)),
        nesterov(h.nesterov),
        maximize(h.maximize),
        first_step(step == 1) {}

  GRAFT_HOST_DEVICE void operator()(int64_t i, T* param, const T* grad, T* const* state) const {
    const C p = param[i];
    C g = maximize ? -static_cast<C>(grad[i]) : static_cast<C>(grad[i]);
    if (weight_decay != C(0)) g = g + weight_decay * p;
    if (momentum != C(0)) {
      const C buf =
          first_step ? g : momentum * static_cast<C>(state[0][i]) + one_minus_dampening * g;
      state[0][i] = static_cast<T>(buf);
      g = nesterov ? g + momentum * buf : buf;
    }
    param[i] = static_cast<T>(p - lr * g);
  }
};

// torch/optim/adam.py, _single_tensor_adam (AdamW is decoupled_weight_decay):
//   g = maximize ? -grad : grad
//   param = param * (1 - lr * weight_decay)      (weight_decay != 0, decoupled)
//   g = g + weight_decay * param                 (weight_decay != 0, not decoupled)
//   exp_avg = exp_avg + (1 - beta1) * (g - exp_avg)          (lerp)
//   exp_avg_sq = beta2 * exp_avg_sq + (1 - beta2) * g * g
//   max_sq = max(max_sq, exp_avg_sq)             (amsgrad; then used for exp_avg_sq below)
//   denom = sqrt(exp_avg_sq) / sqrt(1 - beta2^step) + eps
//   param = param - lr / (1 - beta1^step) * (exp_avg / denom)
template <class T>
struct AdamStep {
  using C = compute_type_t<T>;
  C step_size, bias_correction2_sqrt, eps, one_minus_beta1, beta2, one_minus_beta2;
  C weight_decay, decay_factor;  // decay_factor = 1 - lr * weight_decay (decoupled)
  bool amsgrad, decoupled, maximize;

  AdamStep(const AdamHyper& h, int64_t step)
      : step_size(static_cast<C>(h.lr / (1.0 - std::pow(h.beta1, static_cast<double>(step))))),
        bias_correction2_sqrt(
            static_cast<C>(std::sqrt(1.0 - std::pow(h.beta2, static_cast<double>(step))))),
        eps(static_cast<C>(h.eps)),
        one_minus_beta1(static_cast<C>(1.0 - h.beta1)),
        beta2(static_cast<C>(h.beta2)),
        one_minus_beta2(static_cast<C>(1.0 - h.beta2)),
        weight_decay(static_cast<C>(h.weight_decay)),
        decay_factor(static_cast<C>(1.0 - h.lr * h.weight_decay)),
        amsgrad(h.amsgrad),
        decoupled(h.decoupled_weight_decay),
        maximize(h.maximize) {}

  GRAFT_HOST_DEVICE void operator()(int64_t i, T* param, const T* grad, T* const* state) const {
    C g = maximize ? -static_cast<C>(grad[i]) : static_cast<C>(grad[i]);
    C p = param[i];
    if (weight_decay != C(0)) {
      if (decoupled) {
        p = p * decay_factor;
      } else {
        g = g + weight_decay * p;
      }
    }
    C exp_avg = state[0][i];
    C exp_avg_sq = state[1][i];
    exp_avg = exp_avg + one_minus_beta1 * (g - exp_avg);
    exp_avg_sq = beta2 * exp_avg_sq + one_minus_beta2 * g * g;
    state[0][i] = static_cast<T>(exp_avg);
    state[1][i] = static_cast<T>(exp_avg_sq);
    C second_moment = exp_avg_sq;
    if (amsgrad) {
      const C max_so_far = state[2][i];
      second_moment = max_so_far > exp_avg_sq ? max_so_far : exp_avg_sq;
      state[2][i] = static_cast<T>(second_moment);
    }
    const C denom = std::sqrt(second_moment) / bias_correction2_sqrt + eps;
    param[i] = static_cast<T>(p - step_size * (exp_avg / denom));
  }
};

// torch/optim/rmsprop.py, _single_tensor_rmsprop:
//   g = maximize ? -grad : grad
//   g = g + weight_decay * param                               (weight_decay != 0)
//   square_avg = alpha * square_avg + (1 - alpha) * g * g
//   grad_avg = grad_avg + (1 - alpha) * (g - grad_avg)         (centered, lerp)
//   avg = sqrt(square_avg - grad_avg * grad_avg) + eps          (centered)
//   avg = sqrt(square_avg) + eps                                (otherwise)
//   buf = momentum * buf + g / avg; param = param - lr * buf    (momentum > 0)
//   param = param - lr * (g / avg)                              (otherwise)
template <class T>
struct RmspropStep {
  using C = compute_type_t<T>;
  C lr, alpha, one_minus_alpha, eps, weight_decay, momentum;
  bool centered, maximize;

  RmspropStep(const RmspropHyper& h, int64_t /*step: RMSprop has no bias correction*/)
      : lr(static_cast<C>(h.lr)),
        alpha(static_cast<C>(h.alpha)),
        one_minus_alpha(static_cast<C>(1.0 - h.alpha)),
        eps(static_cast<C>(h.eps)),
        weight_decay(static_cast<C>(h.weight_decay)),
        momentum(static_cast<C>(h.momentum)),
        centered(h.centered),
        maximize(h.maximize) {}

  GRAFT_HOST_DEVICE void operator()(int64_t i, T* param, const T* grad, T* const* state) const {
    const C p = param[i];
    C g = maximize ? -static_cast<C>(grad[i]) : static_cast<C>(grad[i]);
    if (weight_decay != C(0)) g = g + weight_decay * p;
    const C square_avg = alpha * static_cast<C>(state[0][i]) + one_minus_alpha * g * g;
    state[0][i] = static_cast<T>(square_avg);
    C avg;
    if (centered) {
      const C grad_avg =
          static_cast<C>(state[2][i]) + one_minus_alpha * (g - static_cast<C>(state[2][i]));
      state[2][i] = static_cast<T>(grad_avg);
      avg = std::sqrt(square_avg - grad_avg * grad_avg) + eps;
    } else {
      avg = std::sqrt(square_avg) + eps;
    }
    if (momentum > C(0)) {
      const C buf = momentum * static_cast<C>(state[1][i]) + g / avg;
      state[1][i] = static_cast<T>(buf);
      param[i] = static_cast<T>(p - lr * buf);
    } else {
      param[i] = static_cast<T>(p - lr * (g / avg));
    }
  }
};

// The unscale: param is the gradient itself (the same buffer as grad). Each element is read
// and written at its own index only, which the vectorised update loops allow.
template <class T>
struct UnscaleStep {
  using C = compute_type_t<T>;
  C inv_scale;

  UnscaleStep(const UnscaleHyper& h, int64_t /*step*/) : inv_scale(static_cast<C>(h.inv_scale)) {}

  GRAFT_HOST_DEVICE void operator()(int64_t i, T* param, const T* grad, T* const* /*state*/) const {
    param[i] = static_cast<T>(static_cast<C>(grad[i]) * inv_scale);
  }
};

// The Step type of a Hyper type, for element type T.
template <class T, class Hyper>
struct StepOf;
template <class T>
struct StepOf<T, SgdHyper> {
  using type = SgdStep<T>;
};
template <class T>
struct StepOf<T, AdamHyper> {
  using type = AdamStep<T>;
};
template <class T>
struct StepOf<T, RmspropHyper> {
  using type = RmspropStep<T>;
};
template <class T>
struct StepOf<T, UnscaleHyper> {
  using type = UnscaleStep<T>;
};

// One tensor of the update with typed pointers and its coefficients: what a backend's loop
// (or a CUDA block) reads. Trivially copyable, so a table of them can be copied to a device.
template <class T, class Step>
struct TypedOptimTensor {
  T* param;
  const T* grad;
  T* state[kMaxOptimState];
  int64_t numel;
  Step step;

  GRAFT_HOST_DEVICE void update(int64_t i) const { step(i, param, grad, state); }
};

// Calls fn(std::vector<TypedOptimTensor<T, Step>>) once, with T and Step those of args
// (a floating type; SgdStep, AdamStep, RmspropStep or UnscaleStep); a non-floating dtype is an
// error.
template <class Fn>
void visit_optim_tensors(const OptimArgs& args, const Fn& fn) {
  std::visit(
      [&](const auto& hyper) {
        using Hyper = std::decay_t<decltype(hyper)>;
        visit_dtype(args.dtype, [&](auto tag) {
          using T = decltype(tag);
          if constexpr (is_floating_type_v<T>) {
            using Step = typename StepOf<T, Hyper>::type;
            std::vector<TypedOptimTensor<T, Step>> typed;
            typed.reserve(args.tensors.size());
            for (const OptimTensor& t : args.tensors) {
              typed.push_back({static_cast<T*>(t.param),
                               static_cast<const T*>(t.grad),
                               {static_cast<T*>(t.state[0]), static_cast<T*>(t.state[1]),
                                static_cast<T*>(t.state[2])},
                               t.numel,
                               Step(hyper, t.step)});
            }
            fn(typed);
          } else {
            graft::detail::fail("optimizer update kernel called for ", args.dtype,
                                "; the optimizer only allows floating-point parameters");
          }
        });
      },
      args.hyper);
}

}  // namespace graft::kernels
