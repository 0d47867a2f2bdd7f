// Scalar: a plain C++ number passed to an op (`t + 2`, `full({2}, 7.0)`, `fill_(true)`).
//
// It remembers whether it was a bool, an integer or a floating-point number, because that
// category takes part in type promotion (int32_tensor + 2 stays int32; + 2.5 gives float32).
#pragma once

#include <cstdint>
#include <type_traits>

#include "graft/core/dtype.h"

namespace graft {

class Scalar {
 public:
  template <class T, std::enable_if_t<std::is_arithmetic_v<T>, int> = 0>
  Scalar(T value) {  // NOLINT(google-explicit-constructor)
    if constexpr (std::is_same_v<T, bool>) {
      dtype_ = kBool;
      i_ = value;
    } else if constexpr (std::is_integral_v<T>) {
      dtype_ = kInt64;
      i_ = static_cast<int64_t>(value);
    } else {
      dtype_ = kFloat64;
      d_ = static_cast<double>(value);
    }
  }

  template <class Format>
  Scalar(Float16<Format> value)  // NOLINT(google-explicit-constructor)
      : dtype_(kFloat64), d_(static_cast<float>(value)) {}

  // kBool, kInt64 or kFloat64: the category this number brings to promotion.
  DType dtype() const { return dtype_; }
  bool is_floating_point() const { return dtype_ == kFloat64; }

  template <class T>
  T to() const {
    return dtype_ == kFloat64 ? static_cast<T>(d_) : static_cast<T>(i_);
  }

 private:
  DType dtype_;
  int64_t i_ = 0;
  double d_ = 0;
};

}  // namespace graft
