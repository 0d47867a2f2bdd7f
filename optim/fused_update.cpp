// fused_update: checks, then one kernel call per (device, dtype) of the parameters.
#include "graft/optim/fused_update.h"

#include <algorithm>
#include <utility>
#include <variant>

#include "graft/autograd/grad_mode.h"
#include "graft/autograd/ops.h"
#include "graft/core/error.h"
#include "graft/kernels/dispatch.h"

namespace graft::optim {
namespace {

// The parameters of one kernel call, the contiguous gradients it reads (kept alive until
// the call returns), and where it writes its partial sums of squares when they are asked for.
// The kernels walk every buffer in one contiguous run, so a parameter that is not contiguous
// (a transposed leaf, say) is updated in a contiguous copy, written back after the call; its
// state is contiguous in the same logical order, so the two stay aligned.
struct Batch {
  kernels::OptimArgs args;
  std::vector<Tensor> grad_copies;
  std::vector<std::pair<Tensor, Tensor>> written_back;  // (parameter, its updated copy)
  Tensor grad_sq_partials;
};

void check_buffer(const std::string& caller, size_t index, const Tensor& param,
                  const Tensor& buffer, const std::string& what) {
  GRAFT_CHECK(buffer.defined(), caller, ": parameter ", index, " has no ", what);
  GRAFT_CHECK(buffer.shape() == param.shape() && buffer.dtype() == param.dtype() &&
                  buffer.device() == param.device(),
              caller, ": the ", what, " of parameter ", index, " is ", buffer.dtype(), " ",
              buffer.shape(), " on ", buffer.device(), " but the parameter is ", param.dtype(), " ",
              param.shape(), " on ", param.device(), "; they must match");
}

}  // namespace

std::array<std::string, kernels::kMaxOptimState> state_names(const kernels::OptimHyper& hyper) {
  struct Names {
    std::array<std::string, kernels::kMaxOptimState> operator()(const kernels::SgdHyper& h) {
      return {h.momentum != 0.0 ? "momentum_buffer" : "", "", ""};
    }
    std::array<std::string, kernels::kMaxOptimState> operator()(const kernels::AdamHyper& h) {
      return {"exp_avg", "exp_avg_sq", h.amsgrad ? "max_exp_avg_sq" : ""};
    }
    std::array<std::string, kernels::kMaxOptimState> operator()(const kernels::RmspropHyper& h) {
      return {"square_avg", h.momentum > 0.0 ? "momentum_buffer" : "",
              h.centered ? "grad_avg" : ""};
    }
  };
  return std::visit(Names{}, hyper);
}

namespace {

// fused_update for any rule the kernels run; `names` are the state slots it uses.
Tensor run_update(const kernels::UpdateRule& rule,
                  const std::array<std::string, kernels::kMaxOptimState>& names,
                  const std::vector<ParamUpdate>& params, const std::string& caller,
                  bool sum_grad_squares) {
  std::vector<Batch> batches;
  for (size_t i = 0; i < params.size(); ++i) {
    const ParamUpdate& update = params[i];
    const Tensor& param = update.param;
    GRAFT_CHECK(param.defined(), caller, ": parameter ", i, " is an undefined tensor");
    GRAFT_CHECK(is_floating_point(param.dtype()), caller, ": parameter ", i, " has dtype ",
                param.dtype(), "; optimizers update floating-point parameters only");
    GRAFT_CHECK(update.step >= 1, caller, ": parameter ", i, " has step count ", update.step,
                "; it counts this step, so it must be at least 1");
    check_buffer(caller, i, param, update.grad, "gradient");
    for (int s = 0; s < kernels::kMaxOptimState; ++s) {
      if (names[s].empty()) continue;
      check_buffer(caller, i, param, update.state[s], "state '" + names[s] + "'");
      GRAFT_CHECK(update.state[s].is_contiguous(), caller, ": the state '", names[s],
                  "' of parameter ", i, " is not contiguous");
    }

    auto batch = std::find_if(batches.begin(), batches.end(), [&](const Batch& b) {
      return b.args.device == param.device() && b.args.dtype == param.dtype();
    });
    if (batch == batches.end()) {
      batches.push_back({kernels::OptimArgs{rule, param.dtype(), param.device(), {}}, {}, {}, {}});
      batch = batches.end() - 1;
    }
    kernels::OptimTensor tensor;
    if (param.is_contiguous()) {
      tensor.param = param.data_ptr();
    } else {
      batch->written_back.emplace_back(param, param.contiguous());
      tensor.param = batch->written_back.back().second.data_ptr();
    }
    if (update.grad.is_contiguous()) {
      tensor.grad = update.grad.data_ptr();
    } else {
      batch->grad_copies.push_back(update.grad.contiguous());
      tensor.grad = batch->grad_copies.back().data_ptr();
    }
    for (int s = 0; s < kernels::kMaxOptimState; ++s)
      if (!names[s].empty()) tensor.state[s] = update.state[s].data_ptr();
    tensor.numel = param.numel();
    tensor.step = update.step;
    batch->args.tensors.push_back(tensor);
  }
  for (Batch& batch : batches) {
    if (sum_grad_squares) {
      int64_t chunks = 0;
      for (const kernels::OptimTensor& t : batch.args.tensors)
        chunks += kernels::optim_chunks(t.numel);
      batch.grad_sq_partials = empty({chunks}, TensorOptions(kFloat64).device(batch.args.device));
      batch.args.grad_sq_partials = static_cast<double*>(batch.grad_sq_partials.data_ptr());
    }
    kernels::lookup(kernels::kernel_table().optim_update, batch.args.device,
                    "optimizer step")(batch.args);
    const NoGradGuard no_grad;
    for (const auto& [param, updated] : batch.written_back) param.copy_(updated);
  }
  // In-place writes, as far as autograd's saved-tensor checks are concerned.
  for (const ParamUpdate& update : params) update.param.storage()->bump_version();
  if (!sum_grad_squares) return {};
  if (batches.empty()) return zeros({}, kFloat64);
  // The partial sums stay where they were written: no host synchronisation.
  const Device device = batches.front().args.device;
  Tensor total = sum(batches.front().grad_sq_partials);
  for (size_t b = 1; b < batches.size(); ++b)
    total = total + sum(batches[b].grad_sq_partials).to(device);
  return total;
}

}  // namespace

Tensor fused_update(const kernels::OptimHyper& hyper, const std::vector<ParamUpdate>& params,
                    const std::string& caller, bool sum_grad_squares) {
  return run_update(kernels::update_rule(hyper), state_names(hyper), params, caller,
                    sum_grad_squares);
}

Tensor fused_unscale(const std::vector<Tensor>& grads, double inv_scale,
                     const std::string& caller) {
  std::vector<ParamUpdate> updates;
  for (const Tensor& grad : grads) updates.push_back({grad, grad, {}, 1});
  return run_update(kernels::UnscaleHyper{.inv_scale = inv_scale}, {}, updates, caller, true);
}

}  // namespace graft::optim
