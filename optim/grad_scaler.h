// Loss scaling for float16 training, as torch.amp.GradScaler.
//
// float16's smallest normal is 6.1e-5 (subnormals reach 6e-8): the small gradients of a
// float16 backward underflow to zero. Multiplying the loss by a large scale S makes every
// gradient S times larger, away from underflow; dividing the gradients by S before the
// optimizer step undoes it. When S was too large, a gradient overflows to inf (or becomes
// NaN): that step is skipped and S backs off; after growth_interval steps in a row
// without one, S grows. bfloat16 has float32's range and needs none of this.
//
//   graft::amp::GradScaler scaler;             // S = 65536, PyTorch's defaults
//   {
//     graft::AutocastGuard autocast(graft::kCUDA, graft::kFloat16);
//     loss = loss_fn(net(x), y);
//   }
//   scaler.scale(loss).backward();            // gradients are S times too large
//   scaler.unscale_(opt);                     // optional: true gradients, e.g. to clip them
//   scaler.step(opt);                         // opt.step(), unless a gradient is inf or NaN
//   scaler.update();                          // S halves after a skip, doubles after 2000 good
//   steps
//
// The check for inf and NaN is the unscaling's own pass: one fused kernel call over every
// gradient of a device (one launch on CUDA), which also sums the gradients' squares; a sum
// that is not finite means some gradient was not (on the CPU, which sums a float32
// gradient's squares in float, a finite gradient above 1.8e19 counts as one too: it would
// not survive the step either; CUDA sums in double). step()
// reads that one number, the only host synchronisation, as PyTorch's step does.
#pragma once

#include <cstdint>
#include <map>
#include <optional>

#include "graft/core/tensor.h"
#include "graft/io/state_dict.h"
#include "graft/optim/optimizer.h"

namespace graft::amp {

class GradScaler {
 public:
  explicit GradScaler(double init_scale = 65536.0, double growth_factor = 2.0,
                      double backoff_factor = 0.5, int64_t growth_interval = 2000,
                      bool enabled = true);

  // outputs * S: float32 for a 0-d float16 loss (S is a 0-d float32, as in PyTorch), so the
  // scaled loss itself does not overflow. outputs unchanged when disabled. After a bfloat16
  // autocast on the loss's device it warns, once per scaler, that no scaling is needed.
  Tensor scale(const Tensor& outputs) const;

  // Divides every gradient of `optimizer`'s parameters by S in place and records whether any
  // was inf or NaN. At most once per optimizer between update()s; step() calls it when it
  // was not called. float16 gradients are refused: keep float32 parameters and let autocast
  // cast them (AutocastGuard), as PyTorch requires.
  void unscale_(optim::Optimizer& optimizer);

  // optimizer.step() unless a gradient was inf or NaN (unscaling first if needed); true when
  // it stepped. At most once per optimizer between update()s.
  bool step(optim::Optimizer& optimizer);

  // After the step(s) of an iteration: S times backoff_factor when any step was skipped,
  // times growth_factor after growth_interval unskipped steps in a row; or `new_scale`.
  void update(std::optional<double> new_scale = std::nullopt);

  double get_scale() const { return enabled_ ? scale_ : 1.0; }
  bool is_enabled() const { return enabled_; }
  double get_growth_factor() const { return growth_factor_; }
  double get_backoff_factor() const { return backoff_factor_; }
  int64_t get_growth_interval() const { return growth_interval_; }
  // Unskipped steps since the last change of S.
  int64_t get_growth_tracker() const { return growth_tracker_; }

  // PyTorch's keys: "scale", "growth_factor", "backoff_factor", "growth_interval",
  // "_growth_tracker" (0-d float64 and int64), for the checkpoint beside the optimizer's.
  StateDict state_dict() const;
  void load_state_dict(const StateDict& state);

 private:
  // Where an optimizer is between update()s.
  struct OptimizerState {
    bool unscaled = false;
    bool stepped = false;
    Tensor squares;  // the sum of the gradients' squares, on their device; not finite = skip
  };

  double scale_;
  double growth_factor_;
  double backoff_factor_;
  int64_t growth_interval_;
  bool enabled_;
  int64_t growth_tracker_ = 0;
  std::map<const optim::Optimizer*, OptimizerState> per_optimizer_;
  mutable bool warned_bfloat16_ = false;  // scale()'s warning is given once
};

}  // namespace graft::amp
