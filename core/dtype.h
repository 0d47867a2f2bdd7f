// Element types, their C++ twins, and type promotion.
//
// graft's dtypes almost form a single chain, bool < uint8 < int32 < int64 < {float16,
// bfloat16} < float32 < float64, so promoting two dtypes is mostly taking the larger one; the
// two 16-bit floats sit side by side, and meeting each other they give float32 (neither holds
// the other's values). What makes promotion subtle is *who* takes part: see result_type().
#pragma once

#include <cstdint>
#include <ostream>
#include <type_traits>

#include "graft/core/error.h"
#include "graft/core/half.h"

namespace graft {

enum class DType : uint8_t {
  kBool,
  kUInt8,
  kInt32,
  kInt64,
  kFloat16,
  kBFloat16,
  kFloat32,
  kFloat64
};

inline constexpr DType kBool = DType::kBool;
inline constexpr DType kUInt8 = DType::kUInt8;
inline constexpr DType kInt32 = DType::kInt32;
inline constexpr DType kInt64 = DType::kInt64;
inline constexpr DType kFloat16 = DType::kFloat16;    // IEEE binary16; graft::Half
inline constexpr DType kBFloat16 = DType::kBFloat16;  // bfloat16; graft::BFloat16
inline constexpr DType kFloat32 = DType::kFloat32;
inline constexpr DType kFloat64 = DType::kFloat64;
inline constexpr int kNumDTypes = 8;

// The default dtype: what a floating-point result takes when nothing else decides, as
// PyTorch's torch.get_default_dtype(). Factories without a dtype (empty, zeros, rand, full
// with a floating value, ...), tensor() from float or double values, the float that
// integers become in true division, exp and the other float-only ops, and a floating C++
// number meeting an integer tensor all take it. float32 unless set_default_dtype changes
// it; the setting is process-wide (an atomic), and only floating dtypes are accepted.
DType get_default_dtype();
void set_default_dtype(DType dtype);

const char* dtype_name(DType dtype);  // "float32", ...
std::ostream& operator<<(std::ostream& out, DType dtype);

constexpr int64_t element_size(DType dtype) {
  switch (dtype) {
    case kBool:
    case kUInt8:
      return 1;
    case kFloat16:
    case kBFloat16:
      return 2;
    case kInt32:
    case kFloat32:
      return 4;
    case kInt64:
    case kFloat64:
      return 8;
  }
  return 0;
}

constexpr bool is_floating_point(DType dtype) { return dtype >= kFloat16; }
// float16 and bfloat16: stored in 16 bits, computed in float32.
constexpr bool is_reduced_floating_point(DType dtype) {
  return dtype == kFloat16 || dtype == kBFloat16;
}
constexpr bool is_integral(DType dtype, bool include_bool = false) {
  return include_bool ? !is_floating_point(dtype) : (!is_floating_point(dtype) && dtype != kBool);
}

// The larger of two dtypes in the promotion chain; float16 with bfloat16 is float32.
constexpr DType promote_types(DType a, DType b) {
  if (is_reduced_floating_point(a) && is_reduced_floating_point(b) && a != b) return kFloat32;
  return a > b ? a : b;
}

// C++ type <-> dtype.
template <class T>
struct dtype_of;
template <>
struct dtype_of<bool> {
  static constexpr DType value = kBool;
};
template <>
struct dtype_of<uint8_t> {
  static constexpr DType value = kUInt8;
};
template <>
struct dtype_of<int32_t> {
  static constexpr DType value = kInt32;
};
template <>
struct dtype_of<int64_t> {
  static constexpr DType value = kInt64;
};
template <>
struct dtype_of<Half> {
  static constexpr DType value = kFloat16;
};
template <>
struct dtype_of<BFloat16> {
  static constexpr DType value = kBFloat16;
};
template <>
struct dtype_of<float> {
  static constexpr DType value = kFloat32;
};
template <>
struct dtype_of<double> {
  static constexpr DType value = kFloat64;
};
template <class T>
inline constexpr DType dtype_of_v = dtype_of<std::remove_cv_t<T>>::value;

// Calls fn(T{}) with T the C++ type of `dtype`: the one dtype switch every kernel uses.
// `op` names the caller for the error message of an unsupported dtype.
template <class Fn>
decltype(auto) visit_dtype(DType dtype, Fn&& fn) {
  switch (dtype) {
    case kBool:
      return fn(bool{});
    case kUInt8:
      return fn(uint8_t{});
    case kInt32:
      return fn(int32_t{});
    case kInt64:
      return fn(int64_t{});
    case kFloat16:
      return fn(Half{});
    case kBFloat16:
      return fn(BFloat16{});
    case kFloat32:
      return fn(float{});
    case kFloat64:
      return fn(double{});
  }
  detail::fail("unknown dtype ", static_cast<int>(dtype));
}

// visit_dtype for the kernels of floating dtypes, float16 and bfloat16 computed in float32
// (softmax, pooling, layer norm, attention and conv on both backends): fn(T{}) for those four,
// and any other dtype a bug in the op layer, which rejects it with the user-facing message.
template <class Fn>
void visit_floating_or_16_bit_dtype(const char* kernel, DType dtype, Fn&& fn) {
  visit_dtype(dtype, [&](auto tag) {
    using T = decltype(tag);
    if constexpr (std::is_floating_point_v<T> || is_float16_v<T>) {
      fn(tag);
    } else {
      detail::fail(kernel, " kernel called with ", dtype, "; the op layer should have rejected it");
    }
  });
}

// Operands of an op take part in promotion with three priorities, as in PyTorch: tensors
// with dimensions decide first; 0-d tensors and then plain C++ numbers only raise the
// *category* (bool < integer < floating), taking the category's default dtype. So
// int32_tensor + 2.5 is float32, float32_tensor + float64_0d is float32, and
// uint8_tensor + 1000 stays uint8 (as PyTorch wraps).
enum class OperandKind : uint8_t { kScalar, kZeroDim, kTensor };

struct Operand {
  DType dtype;
  OperandKind kind;
};

DType result_type(std::initializer_list<Operand> operands);

}  // namespace graft
