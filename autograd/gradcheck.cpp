// Finite-difference gradient checks; see gradcheck.h.
#include "graft/autograd/gradcheck.h"

#include <cmath>
#include <cstdint>

#include "graft/autograd/engine.h"
#include "graft/autograd/ops.h"

namespace graft::autograd {
namespace {

// A fresh float64 tensor shaped like `like`, on its device, holding `values`.
Tensor from_values(const std::vector<double>& values, const Tensor& like, bool requires_grad) {
  Tensor t = tensor(values, TensorOptions(kFloat64)).reshape(like.shape()).to(like.device());
  return requires_grad ? t.requires_grad_() : t;
}

// Every output's values, with element j of input i moved by `delta`.
std::vector<std::vector<double>> evaluate_shifted(const Function& fn, const TensorList& inputs,
                                                  size_t i, int64_t j, double delta) {
  TensorList shifted = inputs;
  std::vector<double> values = inputs[i].to_vector<double>();
  values[static_cast<size_t>(j)] += delta;
  shifted[i] = from_values(values, inputs[i], /*requires_grad=*/true);
  std::vector<std::vector<double>> out;
  for (const Tensor& t : fn(shifted)) out.push_back(t.to_vector<double>());
  return out;
}

// A tensor shaped like `t`: 1 at flat index k, 0 elsewhere.
Tensor one_hot(const Tensor& t, int64_t k) {
  std::vector<double> values(static_cast<size_t>(t.numel()), 0.0);
  values[static_cast<size_t>(k)] = 1;
  return tensor(values, TensorOptions(t.dtype())).reshape(t.shape()).to(t.device());
}

}  // namespace

bool gradcheck(const Function& fn, const TensorList& inputs, double eps, double atol, double rtol) {
  std::vector<size_t> checked;
  for (size_t i = 0; i < inputs.size(); ++i) {
    if (!inputs[i].defined() || !inputs[i].requires_grad()) continue;
    GRAFT_CHECK(inputs[i].dtype() == kFloat64, "gradcheck(): input ", i, " is ", inputs[i].dtype(),
                "; finite differences need float64 inputs (convert with .to(graft::kFloat64))");
    checked.push_back(i);
  }
  GRAFT_CHECK(!checked.empty(),
              "gradcheck(): no input requires grad; call requires_grad_() on the inputs whose "
              "gradients should be checked");
  const TensorList outputs = fn(inputs);
  TensorList wrt;
  for (size_t i : checked) wrt.push_back(inputs[i]);

  for (size_t o = 0; o < outputs.size(); ++o) {
    const Tensor& out = outputs[o];
    const int64_t rows = out.numel();
    // analytic[c][k][j]: d out[k] / d input checked[c][j], one backward pass per k.
    std::vector<std::vector<std::vector<double>>> analytic(checked.size());
    for (size_t c = 0; c < checked.size(); ++c)
      analytic[c].assign(static_cast<size_t>(rows),
                         std::vector<double>(static_cast<size_t>(inputs[checked[c]].numel())));
    if (out.requires_grad()) {
      for (int64_t k = 0; k < rows; ++k) {
        const TensorList grads =
            grad({out}, wrt,
                 {.grad_outputs = {one_hot(out, k)}, .retain_graph = true, .allow_unused = true});
        for (size_t c = 0; c < checked.size(); ++c)
          if (grads[c].defined())
            analytic[c][static_cast<size_t>(k)] = grads[c].to_vector<double>();
      }
    }
    for (size_t c = 0; c < checked.size(); ++c) {
      const size_t i = checked[c];
      for (int64_t j = 0; j < inputs[i].numel(); ++j) {
        const auto plus = evaluate_shifted(fn, inputs, i, j, eps);
        const auto minus = evaluate_shifted(fn, inputs, i, j, -eps);
        for (int64_t k = 0; k < rows; ++k) {
          const double numeric =
              (plus[o][static_cast<size_t>(k)] - minus[o][static_cast<size_t>(k)]) / (2 * eps);
          const double a = analytic[c][static_cast<size_t>(k)][static_cast<size_t>(j)];
          GRAFT_CHECK(std::abs(a - numeric) <= atol + rtol * std::abs(numeric),
                      "gradcheck(): Jacobian mismatch for output ", o, " with respect to input ", i,
                      ": d output[", k, "] / d input[", j, "] (flat indices) is ", a,
                      " analytically but ", numeric, " numerically (eps ", eps, ", atol ", atol,
                      ", rtol ", rtol, ")");
        }
      }
    }
  }
  return true;
}

bool gradcheck(const SingleOutputFunction& fn, const TensorList& inputs, double eps, double atol,
               double rtol) {
  return gradcheck(Function([&](const TensorList& in) { return TensorList{fn(in)}; }), inputs, eps,
                   atol, rtol);
}

bool gradgradcheck(const Function& fn, const TensorList& inputs, const TensorList& grad_outputs,
                   double eps, double atol, double rtol) {
  const TensorList outputs = fn(inputs);
  GRAFT_CHECK(grad_outputs.empty() || grad_outputs.size() == outputs.size(),
              "gradgradcheck(): got ", grad_outputs.size(), " grad_outputs for ", outputs.size(),
              " outputs");
  // v: the given gradients, or fixed pseudo-random ones in [-1, 1) (an LCG, so the check
  // is reproducible and leaves graft's random stream alone).
  TensorList v;
  uint32_t state = 12345;
  for (size_t o = 0; o < outputs.size(); ++o) {
    if (!grad_outputs.empty()) {
      v.push_back(grad_outputs[o].detach().to(kFloat64).clone().requires_grad_());
      continue;
    }
    std::vector<double> values(static_cast<size_t>(outputs[o].numel()));
    for (double& x : values) {
      state = state * 1664525u + 1013904223u;
      x = 2.0 * static_cast<double>(state >> 8) / static_cast<double>(1u << 24) - 1.0;
    }
    v.push_back(from_values(values, outputs[o], /*requires_grad=*/true));
  }
  const size_t n = inputs.size();
  const Function first_order = [&fn, n](const TensorList& args) {
    const TensorList xs(args.begin(), args.begin() + static_cast<std::ptrdiff_t>(n));
    const TensorList outs = fn(xs);
    TensorList used_outs, used_v, wrt;
    for (size_t o = 0; o < outs.size(); ++o)
      if (outs[o].requires_grad()) {
        used_outs.push_back(outs[o]);
        used_v.push_back(args[n + o]);
      }
    for (const Tensor& x : xs)
      if (x.defined() && x.requires_grad()) wrt.push_back(x);
    if (used_outs.empty()) {
      TensorList zeros;
      for (const Tensor& x : wrt) zeros.push_back(zeros_like(x));
      return zeros;
    }
    TensorList grads =
        grad(used_outs, wrt, {.grad_outputs = used_v, .create_graph = true, .allow_unused = true});
    for (size_t c = 0; c < grads.size(); ++c)
      if (!grads[c].defined()) grads[c] = zeros_like(wrt[c]);
    return grads;
  };
  TensorList args = inputs;
  args.insert(args.end(), v.begin(), v.end());
  return gradcheck(first_order, args, eps, atol, rtol);
}

bool gradgradcheck(const SingleOutputFunction& fn, const TensorList& inputs,
                   const TensorList& grad_outputs, double eps, double atol, double rtol) {
  return gradgradcheck(Function([&](const TensorList& in) { return TensorList{fn(in)}; }), inputs,
                       grad_outputs, eps, atol, rtol);
}

}  // namespace graft::autograd
