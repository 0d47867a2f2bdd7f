// TensorOptions: the dtype and device a factory should use, and whether its tensor requires
// grad.
//
// Implicit from a DType or a Device, so `zeros({2}, kInt64)` and `randn({2}, Device::cuda())`
// read naturally; the builder form combines them:
// `TensorOptions().dtype(kFloat64).device(kCUDA).requires_grad()`.
#pragma once

#include <optional>

#include "graft/core/device.h"
#include "graft/core/dtype.h"

namespace graft {

class TensorOptions {
 public:
  TensorOptions() = default;
  TensorOptions(DType dtype) : dtype_(dtype) {}      // NOLINT(google-explicit-constructor)
  TensorOptions(Device device) : device_(device) {}  // NOLINT(google-explicit-constructor)
  TensorOptions(DeviceType type) : device_(type) {}  // NOLINT(google-explicit-constructor)

  TensorOptions dtype(DType dtype) const {
    TensorOptions o = *this;
    o.dtype_ = dtype;
    return o;
  }
  TensorOptions device(Device device) const {
    TensorOptions o = *this;
    o.device_ = device;
    return o;
  }
  // The factory's tensor a leaf that requires grad (floating dtypes only, as requires_grad_).
  // `requires_grad()` is the builder here, as `requires_grad(true)` is libtorch's; what it
  // holds reads as requires_grad_or.
  TensorOptions requires_grad(bool requires_grad = true) const {
    TensorOptions o = *this;
    o.requires_grad_ = requires_grad;
    return o;
  }

  // The dtype, or `fallback` when none was given (factories pick get_default_dtype(),
  // arange picks by its arguments, tensor() by its values).
  DType dtype_or(DType fallback) const { return dtype_.value_or(fallback); }
  bool has_dtype() const { return dtype_.has_value(); }
  Device device() const { return device_.value_or(Device::cpu()); }
  Device device_or(Device fallback) const { return device_.value_or(fallback); }
  bool requires_grad_or(bool fallback) const { return requires_grad_.value_or(fallback); }

 private:
  std::optional<DType> dtype_;
  std::optional<Device> device_;
  std::optional<bool> requires_grad_;
};

}  // namespace graft
