// allclose and equal: whole-tensor comparisons that answer with a bool.
//
// They serve tests and asserts, not hot loops, so they favour plain correctness over speed:
// both operands are broadcast, copied to the host and compared element by element in one
// wide type: int64 when both are integral (or bool), so that int64 values beyond 2^53 compare
// exactly, and double otherwise. Mixed dtypes compare by value, as NumPy does.
#include <cmath>
#include <cstdint>
#include <vector>

#include "graft/autograd/op_utils.h"

namespace graft {
namespace {

// True when pred(a[i], b[i]) holds for every element of a and b broadcast to `shape`.
template <class T, class Pred>
bool all_pairs(const Tensor& a, const Tensor& b, const Shape& shape, Pred pred) {
  // Detached: comparing values takes no part in autograd.
  const std::vector<T> x = a.detach().expand(shape).to_vector<T>();
  const std::vector<T> y = b.detach().expand(shape).to_vector<T>();
  for (size_t i = 0; i < x.size(); ++i)
    if (!pred(x[i], y[i])) return false;
  return true;
}

// |x - y| as a double. Integers subtract before rounding (2^53 + 1 and 2^53 differ by 1, not
// 0) and in unsigned arithmetic, where the difference of any two int64 values fits.
double abs_difference(int64_t x, int64_t y) {
  const auto ux = static_cast<uint64_t>(x), uy = static_cast<uint64_t>(y);
  return static_cast<double>(x > y ? ux - uy : uy - ux);
}
double abs_difference(double x, double y) { return std::abs(x - y); }

// Calls fn(T{}) with the type both tensors compare in.
template <class Fn>
bool with_compare_type(const Tensor& a, const Tensor& b, Fn fn) {
  const bool integral = is_integral(a.dtype(), true) && is_integral(b.dtype(), true);
  return integral ? fn(int64_t{}) : fn(double{});
}

}  // namespace

bool allclose(const Tensor& a, const Tensor& b, double rtol, double atol) {
  ops::check_same_device("allclose", {&a, &b});
  const Shape shape = broadcast_shapes(a.shape(), b.shape(), "allclose");
  return with_compare_type(a, b, [&](auto tag) {
    using T = decltype(tag);
    return all_pairs<T>(a, b, shape, [&](T x, T y) {
      // Equal values are close even when infinite; otherwise the error must be finite and
      // within tolerance (a NaN fails both tests).
      if (x == y) return true;
      const double error = abs_difference(x, y);
      return std::isfinite(error) && error <= atol + rtol * std::abs(static_cast<double>(y));
    });
  });
}

bool equal(const Tensor& a, const Tensor& b) {
  ops::check_same_device("equal", {&a, &b});
  if (a.shape() != b.shape()) return false;
  return with_compare_type(a, b, [&](auto tag) {
    using T = decltype(tag);
    return all_pairs<T>(a, b, a.shape(), [](T x, T y) { return x == y; });
  });
}

}  // namespace graft
