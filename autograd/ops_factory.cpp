// Factories: tensor(), zeros, ones, full, the *_like forms, arange, linspace, eye.
//
// Constant fills are empty(...).fill_(v) on the target device, since fill_ dispatches.
// Factories whose values vary (tensor, arange, linspace) build them on the CPU in a
// natural compute type and convert with .to(dtype).to(device), so the conversion and the
// transfer are the copy machinery every other op uses. Default dtypes follow PyTorch:
// get_default_dtype() (float32) for floating results, int64 for plain integers.
#include <algorithm>
#include <cmath>
#include <type_traits>

#include "graft/autograd/op_utils.h"
#include "graft/core/op_context.h"

namespace graft {

namespace {

// tensor()'s dtype for values of type T, as libtorch's torch::tensor: float and double give
// the default dtype, plain ints int64, bool, uint8_t, Half and BFloat16 their own.
template <class T>
DType inferred_dtype() {
  if constexpr (std::is_floating_point_v<T>) return get_default_dtype();
  return std::is_same_v<T, int32_t> ? kInt64 : dtype_of_v<T>;
}

// A CPU tensor of `shape` in T's dtype whose row-major elements `write` stores through the
// pointer it gets, converted to the options' dtype (or `fallback`) and device.
template <class T, class Write>
Tensor from_host_values(const Shape& shape, TensorOptions options, DType fallback,
                        const Write& write) {
  Tensor host = empty(shape, dtype_of_v<T>);
  write(static_cast<T*>(host.data_ptr()));
  return detail::with_requires_grad(host.to(options.dtype_or(fallback)).to(options.device()),
                                    options);
}

// A 1-D CPU tensor of n elements of T, element i = value(i).
template <class T, class Value>
Tensor host_sequence(int64_t n, const Value& value) {
  Tensor out = empty({n}, dtype_of_v<T>);
  T* data = static_cast<T*>(out.data_ptr());
  for (int64_t i = 0; i < n; ++i) data[i] = value(i);
  return out;
}

Tensor filled(const char* op, const Shape& shape, TensorOptions options, Scalar value) {
  const OpContext context(op);
  Tensor out = empty(shape, options.requires_grad(false));
  out.fill_(value);
  return detail::with_requires_grad(out, options);
}

}  // namespace

// ---- tensor() from C++ values

template <class T>
Tensor tensor(std::initializer_list<T> values, TensorOptions options) {
  return from_host_values<T>({static_cast<int64_t>(values.size())}, options, inferred_dtype<T>(),
                             [&](T* out) { std::copy(values.begin(), values.end(), out); });
}

template <class T>
Tensor tensor(std::initializer_list<std::initializer_list<T>> values, TensorOptions options) {
  const auto rows = static_cast<int64_t>(values.size());
  const int64_t cols = rows == 0 ? 0 : static_cast<int64_t>(values.begin()->size());
  int64_t row = 0;
  for (const auto& values_of_row : values) {
    GRAFT_CHECK(static_cast<int64_t>(values_of_row.size()) == cols,
                "tensor(): expected a rectangular nested list; row ", row, " has ",
                values_of_row.size(), " elements, row 0 has ", cols);
    ++row;
  }
  return from_host_values<T>({rows, cols}, options, inferred_dtype<T>(), [&](T* out) {
    for (const auto& values_of_row : values)
      out = std::copy(values_of_row.begin(), values_of_row.end(), out);
  });
}

template <class T>
Tensor tensor(const std::vector<T>& values, TensorOptions options) {
  return from_host_values<T>({static_cast<int64_t>(values.size())}, options, inferred_dtype<T>(),
                             [&](T* out) { std::copy(values.begin(), values.end(), out); });
}

#define GRAFT_INSTANTIATE_TENSOR(T)                                                          \
  template Tensor tensor<T>(std::initializer_list<T>, TensorOptions);                        \
  template Tensor tensor<T>(std::initializer_list<std::initializer_list<T>>, TensorOptions); \
  template Tensor tensor<T>(const std::vector<T>&, TensorOptions);
GRAFT_INSTANTIATE_TENSOR(bool)
GRAFT_INSTANTIATE_TENSOR(uint8_t)
GRAFT_INSTANTIATE_TENSOR(int32_t)
GRAFT_INSTANTIATE_TENSOR(int64_t)
GRAFT_INSTANTIATE_TENSOR(Half)
GRAFT_INSTANTIATE_TENSOR(BFloat16)
GRAFT_INSTANTIATE_TENSOR(float)
GRAFT_INSTANTIATE_TENSOR(double)
#undef GRAFT_INSTANTIATE_TENSOR

// ---- constant fills

Tensor zeros(const Shape& shape, TensorOptions options) {
  return filled("zeros", shape, options, 0);
}
Tensor ones(const Shape& shape, TensorOptions options) { return filled("ones", shape, options, 1); }

Tensor full(const Shape& shape, Scalar value, TensorOptions options) {
  // Without a dtype the value decides, as in PyTorch: 7 -> int64, true -> bool, 7.0 -> the
  // default dtype.
  const DType dtype = value.is_floating_point() ? get_default_dtype() : value.dtype();
  return filled("full", shape, options.dtype(options.dtype_or(dtype)), value);
}

Tensor zeros_like(const Tensor& t) { return full_like(t, 0); }
Tensor ones_like(const Tensor& t) { return full_like(t, 1); }

Tensor full_like(const Tensor& t, Scalar value) {
  const OpContext context("full_like");
  Tensor out = empty_like(t);
  out.fill_(value);
  return out;
}

// ---- ranges

Tensor arange(Scalar end, TensorOptions options) { return arange(0, end, 1, options); }

Tensor arange(Scalar start, Scalar end, Scalar step, TensorOptions options) {
  const bool integral =
      !start.is_floating_point() && !end.is_floating_point() && !step.is_floating_point();
  const double start_d = start.to<double>(), end_d = end.to<double>(), step_d = step.to<double>();
  GRAFT_CHECK(std::isfinite(start_d) && std::isfinite(end_d) && std::isfinite(step_d),
              "arange(): unsupported range: ", start_d, " -> ", end_d, " with step ", step_d);
  GRAFT_CHECK(step_d != 0, "arange(): step must be nonzero");
  GRAFT_CHECK(step_d > 0 ? end_d >= start_d : end_d <= start_d,
              "arange(): upper bound and larger bound inconsistent with step sign (start ", start_d,
              ", end ", end_d, ", step ", step_d, ")");
  const double size_d = std::ceil((end_d - start_d) / step_d);
  GRAFT_CHECK(size_d < 0x1p62, "arange(): the range ", start_d, " -> ", end_d, " with step ",
              step_d, " would have ", size_d, " elements, too many to allocate");
  Tensor values;
  if (integral) {
    // Exact in 64-bit unsigned arithmetic, which wraps where int64 would overflow.
    const auto first = start.to<int64_t>(), last = end.to<int64_t>(), by = step.to<int64_t>();
    const uint64_t span =
        by > 0 ? uint64_t(last) - uint64_t(first) : uint64_t(first) - uint64_t(last);
    const uint64_t stride = by > 0 ? uint64_t(by) : 0 - uint64_t(by);
    const auto n = static_cast<int64_t>(span / stride + (span % stride != 0));
    values = host_sequence<int64_t>(n, [&](int64_t i) {
      return static_cast<int64_t>(uint64_t(first) + uint64_t(i) * uint64_t(by));
    });
  } else {
    // In double, then rounded to the dtype, as PyTorch's CPU arange does.
    values = host_sequence<double>(static_cast<int64_t>(size_d), [&](int64_t i) {
      return start_d + static_cast<double>(i) * step_d;
    });
  }
  return detail::with_requires_grad(
      values.to(options.dtype_or(integral ? kInt64 : get_default_dtype())).to(options.device()),
      options);
}

namespace {

// PyTorch's linspace: in T, the first half counted up from `first`, the second half down
// from `last`, so both endpoints are exact and the rounding is symmetric.
template <class T>
Tensor linspace_values(T first, T last, int64_t steps) {
  if (steps == 1) return host_sequence<T>(1, [&](int64_t) { return first; });
  const T step = (last - first) / static_cast<T>(steps - 1);
  const int64_t halfway = steps / 2;
  return host_sequence<T>(steps, [&](int64_t i) {
    return i < halfway ? first + step * static_cast<T>(i)
                       : last - step * static_cast<T>(steps - 1 - i);
  });
}

}  // namespace

Tensor linspace(double start, double end, int64_t steps, TensorOptions options) {
  GRAFT_CHECK(steps >= 0, "linspace(): number of steps must be non-negative, got ", steps);
  const DType dtype = options.dtype_or(get_default_dtype());
  // float32, float16 and bfloat16 compute in float, float64 in double; integer dtypes in
  // double from truncated endpoints (linspace(0.5, 3.7, 5, kInt64) runs from 0 to 3), all as
  // PyTorch does.
  Tensor values;
  if (dtype == kFloat32 || is_reduced_floating_point(dtype)) {
    values = linspace_values<float>(static_cast<float>(start), static_cast<float>(end), steps);
  } else if (dtype == kFloat64) {
    values = linspace_values<double>(start, end, steps);
  } else {
    values = linspace_values<double>(std::trunc(start), std::trunc(end), steps);
  }
  return detail::with_requires_grad(values.to(dtype).to(options.device()), options);
}

// ---- eye

Tensor eye(int64_t n, TensorOptions options) { return eye(n, n, options); }

Tensor eye(int64_t n, int64_t m, TensorOptions options) {
  GRAFT_CHECK(n >= 0, "eye(): n must be greater or equal to 0, got ", n);
  GRAFT_CHECK(m >= 0, "eye(): m must be greater or equal to 0, got ", m);
  Tensor out = zeros({n, m}, options.requires_grad(false));
  out.diagonal().fill_(1);
  return detail::with_requires_grad(out, options);
}

}  // namespace graft
