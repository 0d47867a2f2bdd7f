// TensorOptions: the dtype and device a factory should use.
//
// Implicit from a DType or a Device, so `zeros({2}, kInt64)` and `randn({2}, Device::cuda())`
// read naturally; the builder form combines them: `TensorOptions().dtype(kInt64).device(kCUDA)`.
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

  // The dtype, or `fallback` when none was given (factories pick get_default_dtype(),
  // arange picks by its arguments, tensor() by its values).
  DType dtype_or(DType fallback) const { return dtype_.value_or(fallback); }
  bool has_dtype() const { return dtype_.has_value(); }
  Device device() const { return device_.value_or(Device::cpu()); }
  Device device_or(Device fallback) const { return device_.value_or(fallback); }

 private:
  std::optional<DType> dtype_;
  std::optional<Device> device_;
};

}  // namespace graft
