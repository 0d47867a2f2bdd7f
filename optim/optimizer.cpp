// Optimizer: groups, lazily made state, the fused step, and the flat state dict.
#include "graft/optim/optimizer.h"

#include <set>
#include <variant>

#include "graft/autograd/grad_mode.h"
#include "graft/autograd/ops.h"
#include "graft/core/error.h"

namespace graft::optim {
namespace {

// Calls f(name, field) for every option of a hyperparameter block, in a fixed order; the names are
// PyTorch's (beta1/beta2 spell out its `betas` pair).
template <class H, class F>
void for_each_option(H& h, F&& f) {
  using Hyper = std::remove_const_t<H>;
  f("lr", h.lr);
  f("weight_decay", h.weight_decay);
  f("maximize", h.maximize);
  if constexpr (std::is_same_v<Hyper, kernels::SgdHyper>) {
    f("momentum", h.momentum);
    f("dampening", h.dampening);
    f("nesterov", h.nesterov);
  } else if constexpr (std::is_same_v<Hyper, kernels::AdamHyper>) {
    f("beta1", h.beta1);
    f("beta2", h.beta2);
    f("eps", h.eps);
    f("amsgrad", h.amsgrad);
    f("decoupled_weight_decay", h.decoupled_weight_decay);
  } else {
    f("alpha", h.alpha);
    f("eps", h.eps);
    f("momentum", h.momentum);
    f("centered", h.centered);
  }
}

// PyTorch's constructor checks, naming the optimizer and the value.
void check_options(const std::string& name, const kernels::OptimHyper& options) {
  std::visit(
      [&](const auto& h) {
        using Hyper = std::decay_t<decltype(h)>;
        GRAFT_CHECK(h.lr >= 0.0, name, ": invalid learning rate ", h.lr, "; it must be >= 0");
        GRAFT_CHECK(h.weight_decay >= 0.0, name, ": invalid weight_decay ", h.weight_decay,
                    "; it must be >= 0");
        if constexpr (std::is_same_v<Hyper, kernels::SgdHyper>) {
          GRAFT_CHECK(h.momentum >= 0.0, name, ": invalid momentum ", h.momentum,
                      "; it must be >= 0");
          GRAFT_CHECK(!h.nesterov || (h.momentum > 0.0 && h.dampening == 0.0), name,
                      ": nesterov momentum requires a momentum > 0 and zero "
                      "dampening (got "
                      "momentum ",
                      h.momentum, ", dampening ", h.dampening, ")");
        } else if constexpr (std::is_same_v<Hyper, kernels::AdamHyper>) {
          GRAFT_CHECK(h.eps >= 0.0, name, ": invalid eps ", h.eps, "; it must be >= 0");
          GRAFT_CHECK(h.beta1 >= 0.0 && h.beta1 < 1.0, name, ": invalid beta1 ", h.beta1,
                      "; it must be in [0, 1)");
          GRAFT_CHECK(h.beta2 >= 0.0 && h.beta2 < 1.0, name, ": invalid beta2 ", h.beta2,
                      "; it must be in [0, 1)");
        } else {
          GRAFT_CHECK(h.eps >= 0.0, name, ": invalid eps ", h.eps, "; it must be >= 0");
          GRAFT_CHECK(h.momentum >= 0.0, name, ": invalid momentum ", h.momentum,
                      "; it must be >= 0");
          GRAFT_CHECK(h.alpha >= 0.0, name, ": invalid alpha ", h.alpha, "; it must be >= 0");
        }
      },
      options);
}

Tensor scalar(double value) { return full({}, value, TensorOptions(kFloat64)); }

// The 0-d tensor `key` of `dict`; a missing or non-scalar entry is an error naming it.
double read_scalar(const std::string& who, const StateDict& dict, const std::string& key) {
  const auto it = dict.find(key);
  GRAFT_CHECK(it != dict.end(), who, ".load_state_dict(): missing key '", key, "'");
  GRAFT_CHECK(it->second.numel() == 1, who, ".load_state_dict(): '", key,
              "' must hold one value, got shape ", it->second.shape());
  return it->second.item<double>();
}

}  // namespace

Optimizer::Optimizer(std::string name, ParamGroup group) : name_(std::move(name)) {
  GRAFT_CHECK(!group.params.empty(), name_,
              ": optimizer got an empty parameter list; pass the tensors to optimize, such as "
              "a module's parameters()");
  add_param_group(std::move(group));
}

void Optimizer::add_param_group(ParamGroup group) {
  check_options(name_, group.options);
  if (!groups_.empty()) {
    const kernels::OptimHyper& first = groups_.front().options;
    const auto* adam = std::get_if<kernels::AdamHyper>(&group.options);
    GRAFT_CHECK(
        group.options.index() == first.index() &&
            (adam == nullptr || adam->decoupled_weight_decay ==
                                    std::get<kernels::AdamHyper>(first).decoupled_weight_decay),
        name_,
        ".add_param_group(): the group's options are for another algorithm; "
        "give "
        "it the options type of ",
        name_);
  }
  for (size_t i = 0; i < group.params.size(); ++i) {
    const Tensor& param = group.params[i];
    GRAFT_CHECK(param.defined(), name_, ": parameter ", i, " of the group is undefined");
    GRAFT_CHECK(param.is_leaf(), name_, ": can't optimize a non-leaf tensor (parameter ", i,
                " of the group); optimize the tensor it was computed from, or "
                "a detach()ed copy");
    for (const ParamGroup& other : groups_)
      for (const Tensor& p : other.params)
        GRAFT_CHECK(!p.is_same(param), name_,
                    ": some parameters appear in more than one parameter group");
    for (size_t j = 0; j < i; ++j)
      GRAFT_CHECK(!group.params[j].is_same(param), name_, ": parameter ", i,
                  " of the group is the same tensor as parameter ", j);
  }
  state_.emplace_back(group.params.size());
  groups_.push_back(std::move(group));
}

double Optimizer::lr(size_t group) const {
  GRAFT_CHECK(group < groups_.size(), name_, ": no parameter group ", group, " (there are ",
              groups_.size(), ")");
  return std::visit([](const auto& h) { return h.lr; }, groups_[group].options);
}

void Optimizer::set_lr(size_t group, double lr) {
  GRAFT_CHECK(group < groups_.size(), name_, ": no parameter group ", group, " (there are ",
              groups_.size(), ")");
  GRAFT_CHECK(lr >= 0.0, name_, ": invalid learning rate ", lr, "; it must be >= 0");
  std::visit([&](auto& h) { h.lr = lr; }, groups_[group].options);
}

void Optimizer::zero_grad(bool set_to_none) {
  for (const ParamGroup& group : groups_) {
    for (const Tensor& param : group.params) {
      Tensor& grad = param.mutable_grad();
      if (!grad.defined()) continue;
      if (set_to_none) {
        grad = Tensor();
      } else {
        grad = grad.detach();
        grad.zero_();
      }
    }
  }
}

void Optimizer::step() {
  NoGradGuard no_grad;
  last_grad_norm_ = Tensor();
  Tensor sum_squares;  // over the groups, when tracked
  DType dtype = kFloat32;
  for (size_t g = 0; g < groups_.size(); ++g) {
    const auto names = state_names(groups_[g].options);
    std::vector<ParamUpdate> updates;
    std::vector<ParamState*> stepped;
    for (size_t i = 0; i < groups_[g].params.size(); ++i) {
      const Tensor& param = groups_[g].params[i];
      Tensor grad = param.grad();
      if (!grad.defined()) continue;
      ParamState& state = state_[g][i];
      for (int s = 0; s < kernels::kMaxOptimState; ++s)
        if (!names[s].empty() && !state.buffers[s].defined()) state.buffers[s] = zeros_like(param);
      updates.push_back({param, grad, state.buffers, state.step + 1});
      stepped.push_back(&state);
    }
    const Tensor group_sum =
        fused_update(groups_[g].options, updates, name_ + ".step()", track_grad_norm_);
    for (ParamState* state : stepped) ++state->step;
    if (!track_grad_norm_ || updates.empty()) continue;
    if (!sum_squares.defined()) {
      sum_squares = group_sum;
      dtype = updates.front().param.dtype();
    } else {
      sum_squares = sum_squares + group_sum.to(sum_squares.device());
    }
  }
  if (track_grad_norm_)
    last_grad_norm_ = sum_squares.defined() ? sqrt(sum_squares).to(dtype) : zeros({});
}

void Optimizer::set_grad_norm_tracking(bool on) { track_grad_norm_ = on; }

const Tensor& Optimizer::last_grad_norm() const {
  GRAFT_CHECK(last_grad_norm_.defined(), name_,
              ".last_grad_norm(): the last step() did not compute the gradient norm (",
              track_grad_norm_ ? "no step has run since tracking was turned on" : "tracking is off",
              "); call set_grad_norm_tracking(true) before step()");
  return last_grad_norm_;
}

StateDict Optimizer::state_dict() const {
  StateDict dict;
  size_t index = 0;
  for (size_t g = 0; g < groups_.size(); ++g) {
    const std::string prefix = "param_groups." + std::to_string(g) + ".";
    std::visit(
        [&](const auto& h) {
          for_each_option(h, [&](const char* option, const auto& value) {
            dict[prefix + option] = scalar(static_cast<double>(value));
            if constexpr (std::is_same_v<std::decay_t<decltype(value)>, bool>)
              dict[prefix + option] = dict[prefix + option].to(kBool);
          });
        },
        groups_[g].options);
    const auto names = state_names(groups_[g].options);
    for (const ParamState& state : state_[g]) {
      const std::string key = "state." + std::to_string(index++) + ".";
      if (state.step == 0) continue;
      dict[key + "step"] = full({}, state.step, TensorOptions(kInt64));
      for (int s = 0; s < kernels::kMaxOptimState; ++s)
        if (!names[s].empty()) dict[key + names[s]] = state.buffers[s];
    }
  }
  return dict;
}

void Optimizer::load_state_dict(const StateDict& dict) {
  const std::string who = name_;
  std::set<std::string> used;
  // Read everything into copies first: a bad entry must leave the optimizer unchanged.
  std::vector<ParamGroup> groups = groups_;
  std::vector<std::vector<ParamState>> states = state_;
  size_t index = 0;
  for (size_t g = 0; g < groups.size(); ++g) {
    const std::string prefix = "param_groups." + std::to_string(g) + ".";
    std::visit(
        [&](auto& h) {
          for_each_option(h, [&](const char* option, auto& value) {
            value =
                static_cast<std::decay_t<decltype(value)>>(read_scalar(who, dict, prefix + option));
            used.insert(prefix + option);
          });
        },
        groups[g].options);
    check_options(who, groups[g].options);
    const auto names = state_names(groups[g].options);
    for (size_t i = 0; i < groups[g].params.size(); ++i) {
      const Tensor& param = groups[g].params[i];
      const std::string key = "state." + std::to_string(index++) + ".";
      ParamState& state = states[g][i];
      state = ParamState{};
      if (!dict.contains(key + "step")) continue;
      const double step = read_scalar(who, dict, key + "step");
      GRAFT_CHECK(step >= 1 && step == static_cast<double>(static_cast<int64_t>(step)), who,
                  ".load_state_dict(): '", key, "step' must be a positive integer, got ", step);
      state.step = static_cast<int64_t>(step);
      used.insert(key + "step");
      for (int s = 0; s < kernels::kMaxOptimState; ++s) {
        if (names[s].empty()) continue;
        const auto it = dict.find(key + names[s]);
        GRAFT_CHECK(it != dict.end(), who, ".load_state_dict(): missing key '", key, names[s], "'");
        GRAFT_CHECK(it->second.shape() == param.shape(), who, ".load_state_dict(): '", key,
                    names[s], "' has shape ", it->second.shape(), " but its parameter has shape ",
                    param.shape());
        // A copy of the parameter's dtype and device: the dict's tensors stay the caller's.
        state.buffers[s] = it->second.to(param.dtype()).to(param.device()).clone();
        used.insert(key + names[s]);
      }
    }
  }
  for (const auto& [key, value] : dict)
    GRAFT_CHECK(used.contains(key), who, ".load_state_dict(): unexpected key '", key,
                "' (the saved optimizer had other parameter groups, parameters "
                "or options)");
  groups_ = std::move(groups);
  state_ = std::move(states);
}

}  // namespace graft::optim
