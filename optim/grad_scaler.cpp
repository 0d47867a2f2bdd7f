// GradScaler: scaling, the fused unscale-and-check, and PyTorch's update rule; see
// grad_scaler.h.
#include "graft/optim/grad_scaler.h"

#include <cmath>
#include <vector>

#include "graft/autograd/autocast.h"
#include "graft/autograd/grad_mode.h"
#include "graft/autograd/ops.h"
#include "graft/core/warning.h"
#include "graft/optim/fused_update.h"

namespace graft::amp {

GradScaler::GradScaler(double init_scale, double growth_factor, double backoff_factor,
                       int64_t growth_interval, bool enabled)
    : scale_(init_scale),
      growth_factor_(growth_factor),
      backoff_factor_(backoff_factor),
      growth_interval_(growth_interval),
      enabled_(enabled) {
  GRAFT_CHECK(std::isfinite(init_scale) && init_scale > 0,
              "GradScaler(): init_scale must be positive and finite, got ", init_scale);
  GRAFT_CHECK(growth_factor > 1.0, "GradScaler(): growth_factor should be > 1, got ",
              growth_factor);
  GRAFT_CHECK(backoff_factor > 0.0 && backoff_factor < 1.0,
              "GradScaler(): backoff_factor should be in (0, 1), got ", backoff_factor);
  GRAFT_CHECK(growth_interval > 0, "GradScaler(): growth_interval should be positive, got ",
              growth_interval);
}

Tensor GradScaler::scale(const Tensor& outputs) const {
  if (!enabled_) return outputs;
  GRAFT_CHECK(outputs.defined() && is_floating_point(outputs.dtype()),
              "GradScaler.scale(): expected a floating-point tensor (the loss), got ",
              outputs.defined() ? dtype_name(outputs.dtype()) : "an undefined tensor");
  if (!warned_bfloat16_ && autocast::last_guard_dtype(outputs.device().type()) == kBFloat16) {
    warned_bfloat16_ = true;
    warn(
        "GradScaler.scale(): the loss comes after a bfloat16 autocast, which needs no loss "
        "scaling (bfloat16 has float32's range); drop the GradScaler, or construct it with "
        "enabled = false");
  }
  return outputs * full({}, scale_, TensorOptions(kFloat32).device(outputs.device()));
}

void GradScaler::unscale_(optim::Optimizer& optimizer) {
  if (!enabled_) return;
  OptimizerState& state = per_optimizer_[&optimizer];
  GRAFT_CHECK(!state.stepped,
              "GradScaler.unscale_(): called after step(); unscale_() comes before step()");
  GRAFT_CHECK(!state.unscaled,
              "GradScaler.unscale_(): unscale_() has already been called on this optimizer "
              "since the last update()");
  NoGradGuard no_grad;
  std::vector<Tensor> gradients;
  for (const optim::ParamGroup& group : optimizer.param_groups()) {
    for (const Tensor& param : group.params) {
      Tensor& grad = param.mutable_grad();
      if (!grad.defined()) continue;
      GRAFT_CHECK(grad.dtype() != kFloat16,
                  "GradScaler.unscale_(): attempting to unscale float16 gradients (of a "
                  "parameter of shape ",
                  param.shape(),
                  "); keep the parameters in float32 and let autocast cast them "
                  "(graft::AutocastGuard)");
      if (!grad.is_contiguous()) grad = grad.contiguous();  // unscaled in place
      gradients.push_back(grad);
    }
  }
  state.squares = optim::fused_unscale(gradients, 1.0 / scale_, "GradScaler.unscale_()");
  state.unscaled = true;
}

bool GradScaler::step(optim::Optimizer& optimizer) {
  if (!enabled_) {
    optimizer.step();
    return true;
  }
  // A map's references stay valid as unscale_ looks the same entry up.
  OptimizerState& state = per_optimizer_[&optimizer];
  GRAFT_CHECK(!state.stepped,
              "GradScaler.step(): step() has already been called on this optimizer since the "
              "last update()");
  if (!state.unscaled) unscale_(optimizer);
  state.stepped = true;
  if (!std::isfinite(state.squares.item<double>())) return false;
  optimizer.step();
  return true;
}

void GradScaler::update(std::optional<double> new_scale) {
  if (!enabled_) return;
  if (new_scale) {
    GRAFT_CHECK(std::isfinite(*new_scale) && *new_scale > 0,
                "GradScaler.update(): new_scale must be positive and finite, got ", *new_scale);
    scale_ = *new_scale;
  } else {
    bool checked = false, found_inf = false;
    for (const auto& [optimizer, state] : per_optimizer_) {
      if (!state.unscaled) continue;
      checked = true;
      found_inf = found_inf || !std::isfinite(state.squares.item<double>());
    }
    GRAFT_CHECK(checked,
                "GradScaler.update(): no inf checks were recorded prior to update(); call "
                "step(optimizer) (or unscale_(optimizer)) first");
    // PyTorch's _amp_update_scale_.
    if (found_inf) {
      scale_ *= backoff_factor_;
      growth_tracker_ = 0;
    } else if (++growth_tracker_ == growth_interval_) {
      if (std::isfinite(scale_ * growth_factor_)) scale_ *= growth_factor_;
      growth_tracker_ = 0;
    }
  }
  per_optimizer_.clear();
}

StateDict GradScaler::state_dict() const {
  return {{"scale", full({}, scale_, kFloat64)},
          {"growth_factor", full({}, growth_factor_, kFloat64)},
          {"backoff_factor", full({}, backoff_factor_, kFloat64)},
          {"growth_interval", full({}, growth_interval_, kInt64)},
          {"_growth_tracker", full({}, growth_tracker_, kInt64)}};
}

void GradScaler::load_state_dict(const StateDict& state) {
  const auto value = [&](const char* key) {
    const auto it = state.find(key);
    GRAFT_CHECK(it != state.end(), "GradScaler.load_state_dict(): the state has no \"", key,
                "\" (expected scale, growth_factor, backoff_factor, growth_interval and "
                "_growth_tracker)");
    GRAFT_CHECK(it->second.numel() == 1, "GradScaler.load_state_dict(): \"", key,
                "\" must hold one value, got shape ", it->second.shape());
    return it->second.item<double>();
  };
  GradScaler loaded(value("scale"), value("growth_factor"), value("backoff_factor"),
                    static_cast<int64_t>(value("growth_interval")), enabled_);
  const auto tracker = static_cast<int64_t>(value("_growth_tracker"));
  GRAFT_CHECK(tracker >= 0 && tracker < loaded.growth_interval_,
              "GradScaler.load_state_dict(): _growth_tracker ", tracker,
              " is outside [0, growth_interval = ", loaded.growth_interval_, ")");
  scale_ = loaded.scale_;
  growth_factor_ = loaded.growth_factor_;
  backoff_factor_ = loaded.backoff_factor_;
  growth_interval_ = loaded.growth_interval_;
  growth_tracker_ = tracker;
}

}  // namespace graft::amp
