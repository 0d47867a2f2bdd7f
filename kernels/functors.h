// The scalar functions behind every elementwise op, shared by the CPU and CUDA backends.
//
// Each functor maps scalars of the compute type T to a result; the backends only decide
// how to walk memory. Adding an elementwise op starts with one functor here and one line
// in the op lists of core/op_list.h (docs/adding_an_op.md has the recipe). Math goes through
// `float` overloads for float so that CPU and CUDA round the same way.
#pragma once

#include <cmath>
#include <type_traits>

#include "graft/core/host_device.h"

namespace graft::kernels {

// Functors marked kFloatingOnly are instantiated for float32/float64 only; the op layer
// promotes integer inputs to float before calling them (exp(int) -> float32, as in PyTorch).
template <class Op>
inline constexpr bool floating_only = requires {
  Op::kFloatingOnly;
};
// Functors marked kDividesIntegers divide on integer inputs; the op layer refuses a zero
// divisor for them (a graft::Error, as PyTorch's ZeroDivisionError) before any kernel runs.
template <class Op>
inline constexpr bool divides_integers = requires {
  Op::kDividesIntegers;
};

// Functors marked kScalarInFloat read a 0-d second operand (a number, or a 0-d tensor of a
// wider dtype) in float32 next to float16 and bfloat16 inputs, as PyTorch's CPU kernels read
// the scalar of a multiplication or division in their compute type ("opmath"): x * 0.1 in
// float16 is float(x) * 0.1f rounded once, where float16(0.1) would be a second rounding
// (0.5 / 0.001 gave 499.75, not 500). PyTorch rounds the scalar of +, -, pow and the rest to
// the tensor's dtype first, and so does graft.
template <class Op>
inline constexpr bool scalar_in_float = requires {
  Op::kScalarInFloat;
};

// Functors marked kSignBit act on a float's sign bit alone (IEEE's negate and abs are such bit
// operations): flipping it or clearing it. The CPU loops do just that to 16-bit floats,
// without widening them.
enum class SignBit { kFlip, kClear };
template <class Op>
inline constexpr bool acts_on_sign_bit = requires {
  Op::kSignBit;
};

// ---- unary

struct NegOp {
  static constexpr SignBit kSignBit = SignBit::kFlip;
  template <class T>
  GRAFT_HOST_DEVICE T operator()(T a) const {
    return static_cast<T>(-a);
  }
};
struct AbsOp {
  static constexpr SignBit kSignBit = SignBit::kClear;
  template <class T>
  GRAFT_HOST_DEVICE T operator()(T a) const {
    if constexpr (std::is_unsigned_v<T>)
      return a;
    else if constexpr (std::is_floating_point_v<T>)
      return std::fabs(a);  // the sign bit cleared: +0 from -0, where `a < 0 ? -a : a` kept -0
    else
      return a < T(0) ? static_cast<T>(-a) : a;
  }
};
struct ExpOp {
  static constexpr bool kFloatingOnly = true;
  template <class T>
  GRAFT_HOST_DEVICE T operator()(T a) const {
    return std::exp(a);
  }
};
struct LogOp {
  static constexpr bool kFloatingOnly = true;
  template <class T>
  GRAFT_HOST_DEVICE T operator()(T a) const {
    return std::log(a);
  }
};
struct SqrtOp {
  static constexpr bool kFloatingOnly = true;
  template <class T>
  GRAFT_HOST_DEVICE T operator()(T a) const {
    return std::sqrt(a);
  }
};
struct RsqrtOp {
  static constexpr bool kFloatingOnly = true;
  template <class T>
  GRAFT_HOST_DEVICE T operator()(T a) const {
    return T(1) / std::sqrt(a);
  }
};
struct SinOp {
  static constexpr bool kFloatingOnly = true;
  template <class T>
  GRAFT_HOST_DEVICE T operator()(T a) const {
    return std::sin(a);
  }
};
struct CosOp {
  static constexpr bool kFloatingOnly = true;
  template <class T>
  GRAFT_HOST_DEVICE T operator()(T a) const {
    return std::cos(a);
  }
};
struct TanhOp {
  static constexpr bool kFloatingOnly = true;
  template <class T>
  GRAFT_HOST_DEVICE T operator()(T a) const {
    return std::tanh(a);
  }
};
struct SigmoidOp {
  static constexpr bool kFloatingOnly = true;
  // 1 / (1 + e^-a) overflows harmlessly to 0 for very negative a.
  template <class T>
  GRAFT_HOST_DEVICE T operator()(T a) const {
    return T(1) / (T(1) + std::exp(-a));
  }
};
// ReLU, GELU and SiLU also have `backward(g, a)`: g times their derivative, from `a`, what the
// op's row of autograd's derivative table reads (the output for ReLU, the input for GELU and
// SiLU). The gradient is then one pass over memory (unary_backward in the kernel table)
// instead of the tensor ops its formula takes composed: two passes and a bool tensor for
// ReLU's where(y > 0, g, 0), eight to ten ops for GELU's.
struct ReluOp {
  template <class T>
  GRAFT_HOST_DEVICE T operator()(T a) const {
    return a > T(0) ? a : T(0);
  }
  // relu'(x) is 1 where x > 0, which is where y > 0.
  template <class T>
  GRAFT_HOST_DEVICE T backward(T g, T y) const {
    return y > T(0) ? g : T(0);
  }
};
struct GeluOp {
  static constexpr bool kFloatingOnly = true;
  // The exact GELU, a * Phi(a), as PyTorch's default (approximate='none').
  template <class T>
  GRAFT_HOST_DEVICE T operator()(T a) const {
    return a * T(0.5) * (T(1) + std::erf(a * T(0.70710678118654752440)));
  }
  // GELU'(a) = Phi(a) + a phi(a), phi(a) = e^(-a^2 / 2) / sqrt(2 pi).
  template <class T>
  GRAFT_HOST_DEVICE T backward(T g, T a) const {
    const T cdf = T(0.5) * (T(1) + std::erf(a * T(0.70710678118654752440)));
    const T pdf = std::exp(T(-0.5) * a * a) * T(0.39894228040143267794);
    return g * (cdf + a * pdf);
  }
};
// GELU's tanh approximation (PyTorch's approximate='tanh'): x (1 + tanh u) / 2 with
// u = sqrt(2 / pi) (x + 0.044715 x^3). (1 + tanh u) / 2 is the sigmoid of 2u, so it is computed
// as x / (1 + e^(-2u)): one exp, and no cancellation of 1 + tanh u where x is negative.
struct GeluTanhOp {
  static constexpr bool kFloatingOnly = true;
  static constexpr double kSqrtTwoOverPi = 0.79788456080286535588, kCubic = 0.044715;
  template <class T>
  GRAFT_HOST_DEVICE static T twice_u(T a) {
    return T(2 * kSqrtTwoOverPi) * (a + T(kCubic) * a * a * a);
  }
  template <class T>
  GRAFT_HOST_DEVICE T operator()(T a) const {
    return a / (T(1) + std::exp(-twice_u(a)));
  }
  // (a s)' = s (1 + a (1 - s) 2u'), s = sigmoid(2u), 2u' = 2 sqrt(2 / pi) (1 + 3 0.044715 a^2).
  template <class T>
  GRAFT_HOST_DEVICE T backward(T g, T a) const {
    const T s = T(1) / (T(1) + std::exp(-twice_u(a)));
    const T twice_du = T(2 * kSqrtTwoOverPi) * (T(1) + T(3 * kCubic) * a * a);
    return g * s * (T(1) + a * (T(1) - s) * twice_du);
  }
};
struct SiluOp {
  static constexpr bool kFloatingOnly = true;
  template <class T>
  GRAFT_HOST_DEVICE T operator()(T a) const {
    return a / (T(1) + std::exp(-a));
  }
  // (a s)' = s (1 + a (1 - s)), s = sigmoid(a).
  template <class T>
  GRAFT_HOST_DEVICE T backward(T g, T a) const {
    const T s = T(1) / (T(1) + std::exp(-a));
    return g * s * (T(1) + a * (T(1) - s));
  }
};

// The binary functor (g, a) -> g * op'(a) of a unary functor with a backward.
template <class Op>
struct BackwardOf {
  static constexpr bool kFloatingOnly = true;
  Op op;
  template <class T>
  GRAFT_HOST_DEVICE T operator()(T g, T a) const {
    return op.backward(g, a);
  }
};

template <class Op>
inline constexpr bool has_backward = requires(Op op, float x) {
  op.backward(x, x);
};

struct Log1pOp {
  static constexpr bool kFloatingOnly = true;
  template <class T>
  GRAFT_HOST_DEVICE T operator()(T a) const {
    return std::log1p(a);
  }
};
struct Expm1Op {
  static constexpr bool kFloatingOnly = true;
  template <class T>
  GRAFT_HOST_DEVICE T operator()(T a) const {
    return std::expm1(a);
  }
};
struct ErfOp {
  static constexpr bool kFloatingOnly = true;
  template <class T>
  GRAFT_HOST_DEVICE T operator()(T a) const {
    return std::erf(a);
  }
};
struct TanOp {
  static constexpr bool kFloatingOnly = true;
  template <class T>
  GRAFT_HOST_DEVICE T operator()(T a) const {
    return std::tan(a);
  }
};
struct ReciprocalOp {
  static constexpr bool kFloatingOnly = true;
  template <class T>
  GRAFT_HOST_DEVICE T operator()(T a) const {
    return T(1) / a;
  }
};
// floor, ceil and round keep integers, which are already whole.
struct FloorOp {
  template <class T>
  GRAFT_HOST_DEVICE T operator()(T a) const {
    if constexpr (std::is_floating_point_v<T>)
      return std::floor(a);
    else
      return a;
  }
};
struct CeilOp {
  template <class T>
  GRAFT_HOST_DEVICE T operator()(T a) const {
    if constexpr (std::is_floating_point_v<T>)
      return std::ceil(a);
    else
      return a;
  }
};
struct RoundOp {
  // Halves go to the even neighbour (round(2.5) == 2), as PyTorch and NumPy do: rint in the
  // default rounding mode, not std::round's away-from-zero.
  template <class T>
  GRAFT_HOST_DEVICE T operator()(T a) const {
    if constexpr (std::is_floating_point_v<T>)
      return std::rint(a);
    else
      return a;
  }
};
struct SignOp {
  // -1, 0 or 1 (NaN stays NaN: both comparisons are false, so it falls through to a).
  template <class T>
  GRAFT_HOST_DEVICE T operator()(T a) const {
    if (a > T(0)) return T(1);
    if constexpr (std::is_signed_v<T>) {
      if (a < T(0)) return T(-1);
    }
    return a == T(0) ? T(0) : a;
  }
};
struct SquareOp {
  template <class T>
  GRAFT_HOST_DEVICE T operator()(T a) const {
    return static_cast<T>(a * a);
  }
};

// ---- binary

struct AddOp {
  template <class T>
  GRAFT_HOST_DEVICE T operator()(T a, T b) const {
    return static_cast<T>(a + b);
  }
};
struct SubOp {
  template <class T>
  GRAFT_HOST_DEVICE T operator()(T a, T b) const {
    return static_cast<T>(a - b);
  }
};
struct MulOp {
  static constexpr bool kScalarInFloat = true;
  template <class T>
  GRAFT_HOST_DEVICE T operator()(T a, T b) const {
    return static_cast<T>(a * b);
  }
};
struct DivOp {
  static constexpr bool kFloatingOnly = true;
  static constexpr bool kScalarInFloat = true;
  // Only reached with floating T: integer division promotes to float in the op layer.
  template <class T>
  GRAFT_HOST_DEVICE T operator()(T a, T b) const {
    return a / b;
  }
};
struct PowOp {
  template <class T>
  GRAFT_HOST_DEVICE T operator()(T a, T b) const {
    if constexpr (std::is_floating_point_v<T>) {
      // x^2 and x^1 exactly, as PyTorch special-cases them: the C library's pow rounds them
      // correctly already, CUDA's (within 2 ulps) need not, and they are the common cases
      // (x.pow(2), and its gradient's x^1).
      if (b == T(2)) return a * a;
      if (b == T(1)) return a;
      return std::pow(a, b);
    } else {
      // Integer power by squaring; negative exponents give 0 except for bases 1 and -1.
      if constexpr (std::is_signed_v<T>) {
        if (b < T(0)) {
          if (a == T(1)) return T(1);
          if (a == T(-1)) return (b % 2 == 0) ? T(1) : T(-1);
          return T(0);
        }
      }
      T result = 1, base = a;
      for (T e = b; e > T(0); e /= 2) {
        if (e % 2) result = static_cast<T>(result * base);
        base = static_cast<T>(base * base);
      }
      return result;
    }
  }
};
struct MaximumOp {
  // NaN wins, as in PyTorch's maximum.
  template <class T>
  GRAFT_HOST_DEVICE T operator()(T a, T b) const {
    if constexpr (std::is_floating_point_v<T>) {
      if (a != a) return a;
      if (b != b) return b;
    }
    return a > b ? a : b;
  }
};
struct MinimumOp {
  template <class T>
  GRAFT_HOST_DEVICE T operator()(T a, T b) const {
    if constexpr (std::is_floating_point_v<T>) {
      if (a != a) return a;
      if (b != b) return b;
    }
    return a < b ? a : b;
  }
};

struct Atan2Op {
  static constexpr bool kFloatingOnly = true;
  template <class T>
  GRAFT_HOST_DEVICE T operator()(T a, T b) const {
    return std::atan2(a, b);
  }
};

// fmod and remainder on integers: the op layer refuses a zero divisor before the kernel
// runs (integer division by zero traps), and b == -1 is answered without dividing, since
// INT_MIN % -1 overflows and traps as well.
struct FmodOp {
  static constexpr bool kDividesIntegers = true;
  // C's fmod: the result has the dividend's sign (truncated division).
  template <class T>
  GRAFT_HOST_DEVICE T operator()(T a, T b) const {
    if constexpr (std::is_floating_point_v<T>) {
      return std::fmod(a, b);
    } else {
      if constexpr (std::is_signed_v<T>) {
        if (b == T(-1)) return T(0);
      }
      return static_cast<T>(a % b);
    }
  }
};
struct RemainderOp {
  static constexpr bool kDividesIntegers = true;
  // Python's %: the result has the divisor's sign (floored division), so fmod's result
  // moves by one divisor when the signs differ.
  template <class T>
  GRAFT_HOST_DEVICE T operator()(T a, T b) const {
    const T r = FmodOp{}(a, b);
    if constexpr (std::is_signed_v<T>) {
      if (r != T(0) && ((r < T(0)) != (b < T(0)))) return static_cast<T>(r + b);
    }
    return r;
  }
};

// ---- comparisons (result is bool)

struct EqOp {
  template <class T>
  GRAFT_HOST_DEVICE bool operator()(T a, T b) const {
    return a == b;
  }
};
struct NeOp {
  template <class T>
  GRAFT_HOST_DEVICE bool operator()(T a, T b) const {
    return a != b;
  }
};
struct LtOp {
  template <class T>
  GRAFT_HOST_DEVICE bool operator()(T a, T b) const {
    return a < b;
  }
};
struct LeOp {
  template <class T>
  GRAFT_HOST_DEVICE bool operator()(T a, T b) const {
    return a <= b;
  }
};
struct GtOp {
  template <class T>
  GRAFT_HOST_DEVICE bool operator()(T a, T b) const {
    return a > b;
  }
};
struct GeOp {
  template <class T>
  GRAFT_HOST_DEVICE bool operator()(T a, T b) const {
    return a >= b;
  }
};

// ---- ternary

struct ClampOp {
  // min(max(a, lo), hi), as PyTorch defines it (so lo > hi gives hi everywhere); bounds are
  // already in T (the op layer fills a missing one with +-inf or the dtype's extreme, and
  // answers a NaN one itself). Each select keeps a where the compare fails, so a NaN a
  // propagates without a test of its own: with one, a million floats took 173 us, now 102-119
  // (PyTorch 150; two threads, the 2-core Xeon).
  template <class T>
  GRAFT_HOST_DEVICE T operator()(T a, T lo, T hi) const {
    const T at_least_lo = lo > a ? lo : a;
    return hi < at_least_lo ? hi : at_least_lo;
  }
};

// ---- data movement

struct IdentityOp {
  // copy_: the loop's static_cast to the output type does the dtype conversion.
  template <class T>
  GRAFT_HOST_DEVICE T operator()(T a) const {
    return a;
  }
};

struct WhereOp {
  template <class T>
  GRAFT_HOST_DEVICE T operator()(bool cond, T a, T b) const {
    return cond ? a : b;
  }
};

template <class T>
struct FillOp {
  T value;
  GRAFT_HOST_DEVICE T operator()() const { return value; }
};

}  // namespace graft::kernels
