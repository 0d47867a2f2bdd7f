// Optimizer: parameter groups, per-parameter state, and the step that updates them all.
//
// One class serves SGD, Adam, AdamW and RMSprop (sgd.h, adam.h, rmsprop.h are thin
// constructors): what differs between them is the hyperparameter block of each group
// (kernels::OptimHyper, a variant over the algorithms' option structs) and the element
// formula the kernels run for it. step() gathers, per group, every parameter that has a
// gradient and makes ONE fused_update call (optim/fused_update.h), which is one kernel
// call per device and dtype: on CUDA, one launch updates the whole group.
//
// State is created on a parameter's first step (zeros of its shape, dtype and device, in
// the slots its algorithm uses) with its own step count, as in PyTorch. state_dict() is a
// flat StateDict, so optimizer state goes into the same safetensors checkpoint as the
// model's weights:
//   "state.<i>.step"            0-d int64, i = the parameter's index over all groups in order
//   "state.<i>.<buffer>"        e.g. "state.0.exp_avg", the parameter's shape
//   "param_groups.<g>.<option>" 0-d float64 (bool options 0-d bool), e.g. "param_groups.0.lr"
#pragma once

#include <string>
#include <vector>

#include "graft/core/tensor.h"
#include "graft/io/state_dict.h"
#include "graft/kernels/optim.h"
#include "graft/optim/fused_update.h"

namespace graft::optim {

// Parameters and the options of their updates. The options' type picks the algorithm and
// must be the optimizer's (SgdOptions for SGD, ...).
struct ParamGroup {
  std::vector<Tensor> params;
  kernels::OptimHyper options;
};

class Optimizer {
 public:
  virtual ~Optimizer() = default;
  Optimizer(const Optimizer&) = delete;
  Optimizer& operator=(const Optimizer&) = delete;

  // One update of every parameter that has a gradient; the others are skipped (their step
  // counts do not advance). Runs under NoGradGuard.
  void step();
  // Drops every parameter's gradient (set_to_none), or fills it with zeros.
  void zero_grad(bool set_to_none = true);

  // The gradient norm as a by-product of step(), for logging it every step: once tracking is
  // on, each step() also sums the squares of the gradients it reads, in the update kernels'
  // own pass over them, where get_total_norm(grads(params)) before the step would read every
  // gradient again (the difference is most of the norm's cost). Off by default.
  void set_grad_norm_tracking(bool on);
  bool grad_norm_tracking() const { return track_grad_norm_; }
  // The global 2-norm of the gradients the last step() used, over every group: what
  // get_total_norm(grads(params)) gave just before it (so after any clipping), up to
  // rounding. A 0-d tensor of the first updated parameter's dtype, on its device (0 in
  // float32 when no parameter had a gradient); reading it with item() is the only
  // synchronisation. An error when that step ran without tracking, or before any step.
  const Tensor& last_grad_norm() const;

  // Adds parameters with options of their own. A parameter may be in only one group.
  void add_param_group(ParamGroup group);
  const std::vector<ParamGroup>& param_groups() const { return groups_; }

  // The learning rate of group `group`, as schedulers read and write it.
  double lr(size_t group) const;
  void set_lr(size_t group, double lr);

  StateDict state_dict() const;
  // Restores state and group options saved by an optimizer of the same kind over
  // parameters of the same shapes in the same groups; anything else is an error naming the
  // key, and nothing is changed.
  void load_state_dict(const StateDict& state_dict);

  // "SGD", "Adam", "AdamW", "RMSprop": how errors name the optimizer.
  const std::string& name() const { return name_; }

 protected:
  Optimizer(std::string name, ParamGroup group);

 private:
  struct ParamState {
    int64_t step = 0;  // 0 until the first update, when the buffers are made
    std::array<Tensor, kernels::kMaxOptimState> buffers;
  };

  std::string name_;
  bool track_grad_norm_ = false;
  Tensor last_grad_norm_;  // undefined when the last step did not track it
  std::vector<ParamGroup> groups_;
  std::vector<std::vector<ParamState>> state_;  // [group][parameter]
};

}  // namespace graft::optim
