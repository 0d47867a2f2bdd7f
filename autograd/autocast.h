// Autocast: mixed precision without rewriting the model, as torch.autocast.
//
//   {
//     graft::AutocastGuard autocast(graft::kCUDA, graft::kBFloat16);
//     auto loss = loss_fn(net(x), y);   // matmuls in bfloat16, the loss in float32
//   }
//   loss.backward();                     // gradients reach the float32 parameters
//
// Inside a guard, ops on tensors of the guard's device type follow one policy, the same on
// every device (PyTorch's CUDA lists; its CPU autocast keeps softmax and norms in bfloat16,
// graft does not):
//   - run in the low dtype: matmul, mm, bmm, linear, conv2d, scaled_dot_product_attention.
//     Their float32 (and float16 or bfloat16) inputs are cast to the guard's dtype;
//     float64 is left alone.
//   - run in float32: softmax, log_softmax, layer_norm, the losses, norm, sum, prod,
//     cumsum, cumprod, logsumexp, exp, expm1, log, log1p, reciprocal, rsqrt, tan, pow.
//     Their 16-bit inputs are cast to float32 (and their results are float32).
//   - every other op takes the widest of its inputs, as type promotion already does.
// The casts are ordinary differentiable ops, so gradients flow back through them in each
// input's own dtype. A float32 leaf that requires grad (a parameter) is cast once per
// guard and reused, keyed on its version counter: an optimizer step inside the guard
// changes the version, and the next use casts again.
//
// The state is per thread and per device type; guards nest, each restoring what it found.
// The cache of casts lives as long as the outermost enabled guard.
#pragma once

#include <optional>

#include "graft/core/device.h"
#include "graft/core/dtype.h"
#include "graft/core/tensor.h"

namespace graft {

class AutocastGuard {
 public:
  // dtype: float16 or bfloat16; by default bfloat16 on the CPU and float16 on CUDA, as
  // torch.autocast. enabled = false turns autocast off for the scope (inside another guard).
  explicit AutocastGuard(DeviceType device, std::optional<DType> dtype = std::nullopt,
                         bool enabled = true);
  ~AutocastGuard();
  AutocastGuard(const AutocastGuard&) = delete;
  AutocastGuard& operator=(const AutocastGuard&) = delete;

 private:
  DeviceType device_;
  bool previous_enabled_;
  DType previous_dtype_;
};

// What the innermost guard of this thread says for `device` (off outside every guard).
bool is_autocast_enabled(DeviceType device);
DType get_autocast_dtype(DeviceType device);

namespace autocast {

// For the ops of the policy above (the op layer calls these on its inputs first; each is
// the input itself when autocast is off for its device or the input is not eligible).
// Casts an undefined tensor to itself.
Tensor to_low_precision(const Tensor& t);  // to the guard's dtype, through the cache
Tensor to_float32(const Tensor& t);        // a 16-bit float to float32

// Casts made since the outermost guard began, for tests and for the curious.
int64_t cached_casts();

// The dtype of the last enabled guard this thread opened for `device`, open or closed (none
// before the first): GradScaler's way to notice bfloat16, which needs no loss scaling.
std::optional<DType> last_guard_dtype(DeviceType device);

}  // namespace autocast

}  // namespace graft
