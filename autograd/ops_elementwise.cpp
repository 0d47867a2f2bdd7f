// Elementwise ops: unary, binary (with broadcasting and scalars), comparisons, where,
// clamp, masked_fill, and their in-place forms.
//
// Every op follows the same three steps: result dtype by promotion (core/dtype.h), result
// shape by broadcasting (core/shape.h), then one kernel call through the dispatch table.
// Inputs whose dtype differs from the compute dtype are converted first, so kernels see a
// single dtype (mixed-dtype arithmetic is rare enough that the extra copy is the better
// trade against kernels for every dtype pair).
//
// Backward: every unary and binary op has one row in a table of derivatives
// (unary_derivative, binary_derivatives), written with graft ops so create_graph can
// differentiate them again; the scalar forms (`x * 2`) reuse the tensor formulas with the
// scalar as a 0-d constant. In-place forms under autograd compute out of place on a clone
// of self and take over the result's history (ops::assign_in_place), so they need no formulas
// of their own.
#include <cmath>
#include <limits>
#include <numbers>
#include <string>
#include <type_traits>

#include "graft/autograd/autocast.h"
#include "graft/autograd/op_utils.h"
#include "graft/autograd/record.h"
#include "graft/core/op_context.h"
#include "graft/kernels/functors.h"

namespace graft {

using autograd::TensorList;
using kernels::BinaryOp;
using kernels::ComparisonOp;
using kernels::kernel_table;
using kernels::lookup;
using kernels::UnaryOp;

namespace {

// What `ask` answers for op's functor, handed to it as std::type_identity<Functor>: the one
// way from an op to its functor's compile-time traits (functors.h: floating_only,
// divides_integers, scalar_in_float).
template <class Ask>
bool functor_trait(UnaryOp op, Ask ask) {
  bool answer = false;
#define GRAFT_ASK(name, Functor) \
  if (op == UnaryOp::name) answer = ask(std::type_identity<kernels::Functor>{});
  GRAFT_UNARY_OPS(GRAFT_ASK)
#undef GRAFT_ASK
  return answer;
}
template <class Ask>
bool functor_trait(BinaryOp op, Ask ask) {
  bool answer = false;
#define GRAFT_ASK(name, Functor) \
  if (op == BinaryOp::name) answer = ask(std::type_identity<kernels::Functor>{});
  GRAFT_BINARY_OPS(GRAFT_ASK)
#undef GRAFT_ASK
  return answer;
}
constexpr auto kFloatingOnly = [](auto f) {
  return kernels::floating_only<typename decltype(f)::type>;
};
constexpr auto kDividesIntegers = [](auto f) {
  return kernels::divides_integers<typename decltype(f)::type>;
};
constexpr auto kScalarInFloat = [](auto f) {
  return kernels::scalar_in_float<typename decltype(f)::type>;
};

// Transcendental ops on integers compute in float32, as PyTorch's exp(int_tensor) does.
DType unary_compute_dtype(UnaryOp op, DType dtype) {
  if (op == UnaryOp::neg)
    GRAFT_CHECK(dtype != kBool,
                "neg(): negation, the `-` operator, on a bool tensor is not "
                "supported. Use logical not (x == false) instead");
  const bool floating = functor_trait(op, kFloatingOnly);
  return floating && !is_floating_point(dtype) ? get_default_dtype() : dtype;
}

// ---- derivatives

// What a unary op's derivative reads besides the incoming gradient.
enum class Reads { nothing, input, output };

struct UnaryDerivative {
  Reads reads;
  Tensor (*times)(const Tensor& g, const Tensor& v);  // g * op'(x); v is x or y per `reads`
};

// GELU'(x) = Phi(x) + x phi(x), with Phi(x) = (1 + erf(x / sqrt 2)) / 2.
Tensor gelu_times_derivative(const Tensor& g, const Tensor& x) {
  const Tensor cdf = (erf(x * std::numbers::sqrt2 / 2) + 1) * 0.5;
  const Tensor pdf = exp(x * x * -0.5) * (1 / std::sqrt(2 * std::numbers::pi));
  return g * (cdf + x * pdf);
}

// GELU's tanh form x s, s = sigmoid(2u), u = sqrt(2 / pi) (x + 0.044715 x^3):
// (x s)' = s (1 + x (1 - s) 2u').
Tensor gelu_tanh_times_derivative(const Tensor& g, const Tensor& x) {
  constexpr double kTwiceK = 2 * kernels::GeluTanhOp::kSqrtTwoOverPi;
  constexpr double kCubic = kernels::GeluTanhOp::kCubic;
  const Tensor s = sigmoid((x + x * x * x * kCubic) * kTwiceK);
  return g * s * (1 + x * (1 - s) * ((x * x * (3 * kCubic) + 1) * kTwiceK));
}

// One row per unary op: g times its derivative, from the input x or the output y.
UnaryDerivative unary_derivative(UnaryOp op) {
  using T = const Tensor&;
  switch (op) {
    case UnaryOp::neg:
      return {Reads::nothing, [](T g, T) { return -g; }};
    case UnaryOp::abs:  // sign(x), 0 at 0 as in PyTorch
      return {Reads::input, [](T g, T x) { return where(x > 0, g, where(x < 0, -g, 0.0)); }};
    case UnaryOp::exp:
      return {Reads::output, [](T g, T y) { return g * y; }};
    case UnaryOp::log:
      return {Reads::input, [](T g, T x) { return g / x; }};
    case UnaryOp::sqrt:
      return {Reads::output, [](T g, T y) { return g / (2 * y); }};
    case UnaryOp::rsqrt:  // y = x^(-1/2), y' = -x^(-3/2) / 2 = -y^3 / 2
      return {Reads::output, [](T g, T y) { return g * y * y * y * -0.5; }};
    case UnaryOp::sin:
      return {Reads::input, [](T g, T x) { return g * cos(x); }};
    case UnaryOp::cos:
      return {Reads::input, [](T g, T x) { return -g * sin(x); }};
    case UnaryOp::tanh:
      return {Reads::output, [](T g, T y) { return g * (1 - y * y); }};
    case UnaryOp::sigmoid:
      return {Reads::output, [](T g, T y) { return g * y * (1 - y); }};
    case UnaryOp::relu:
      return {Reads::output, [](T g, T y) { return where(y > 0, g, 0.0); }};
    case UnaryOp::gelu:
      return {Reads::input, gelu_times_derivative};
    case UnaryOp::gelu_tanh:
      return {Reads::input, gelu_tanh_times_derivative};
    case UnaryOp::silu:  // (x s)' = s + x s (1 - s), s = sigmoid(x)
      return {Reads::input, [](T g, T x) {
                const Tensor s = sigmoid(x);
                return g * s * (1 + x * (1 - s));
              }};
    case UnaryOp::log1p:
      return {Reads::input, [](T g, T x) { return g / (x + 1); }};
    case UnaryOp::expm1:  // (e^x - 1)' = e^x = y + 1
      return {Reads::output, [](T g, T y) { return g * (y + 1); }};
    case UnaryOp::erf:  // 2 / sqrt(pi) e^(-x^2)
      return {Reads::input,
              [](T g, T x) { return g * exp(-x * x) * std::numbers::inv_sqrtpi * 2; }};
    case UnaryOp::floor:  // step functions: zero almost everywhere, as in PyTorch
    case UnaryOp::ceil:
    case UnaryOp::round:
    case UnaryOp::sign:
      return {Reads::nothing, [](T g, T) { return zeros_like(g); }};
    case UnaryOp::reciprocal:  // (1/x)' = -1/x^2 = -y^2
      return {Reads::output, [](T g, T y) { return -g * y * y; }};
    case UnaryOp::square:
      return {Reads::input, [](T g, T x) { return g * x * 2; }};
    case UnaryOp::tan:  // tan' = 1 + tan^2
      return {Reads::output, [](T g, T y) { return g * (y * y + 1); }};
    case UnaryOp::kCount:
      break;
  }
  detail::fail("unary_derivative(): no derivative for ", kernels::op_name(op));
}

// Where max/min route the gradient: to the winner, split evenly on ties (as PyTorch).
Tensor winner_grad(const Tensor& g, const Tensor& wins, const Tensor& ties) {
  return where(ties, g / 2, where(wins, g, 0.0));
}

// One row per binary op: g times d(a op b)/da and d(a op b)/db. A gradient is computed only
// when its input requires grad (need_a / need_b); the engine would drop the other.
TensorList binary_derivatives(BinaryOp op, const Tensor& g, const Tensor& a, const Tensor& b,
                              bool need_a, bool need_b) {
  auto when = [](bool need, auto grad) { return need ? Tensor(grad()) : Tensor(); };
  switch (op) {
    case BinaryOp::add:
      return {g, g};
    case BinaryOp::sub:
      return {g, when(need_b, [&] { return -g; })};
    case BinaryOp::mul:
      return {when(need_a, [&] { return g * b; }), when(need_b, [&] { return g * a; })};
    case BinaryOp::div:
      return {when(need_a, [&] { return g / b; }), when(need_b, [&] { return -g * a / (b * b); })};
    case BinaryOp::pow:  // a^b: b a^(b-1), and a^b log(a); both 0 where PyTorch makes them 0
      return {when(need_a, [&] { return where(b == 0, 0.0, g * b * pow(a, b - 1)); }),
              when(need_b, [&] {
                const Tensor d = g * pow(a, b) * log(a);
                return where(a == 0, where(b >= 0, 0.0, d), d);
              })};
    case BinaryOp::maximum:
      return {when(need_a, [&] { return winner_grad(g, a > b, a == b); }),
              when(need_b, [&] { return winner_grad(g, b > a, a == b); })};
    case BinaryOp::minimum:
      return {when(need_a, [&] { return winner_grad(g, a < b, a == b); }),
              when(need_b, [&] { return winner_grad(g, b < a, a == b); })};
    case BinaryOp::atan2: {  // d/da = b / (a^2 + b^2), d/db = -a / (a^2 + b^2)
      // 0 at the origin, where both are 0 / 0, as PyTorch's backward (its reciprocal of the
      // denominator with inf made 0).
      const Tensor denominator = a * a + b * b;
      const Tensor recip = where(denominator == 0, 0.0, reciprocal(denominator));
      return {when(need_a, [&] { return g * b * recip; }),
              when(need_b, [&] { return -g * a * recip; })};
    }
    // a = q b + r with q = trunc(a / b) for fmod, floor(a / b) for remainder: dr/da = 1 and
    // dr/db = -q, where q is the whole number (a - r) / b (rounded off its last-bit error).
    case BinaryOp::fmod:
      return {g, when(need_b, [&] { return -g * round((a - fmod(a, b)) / b); })};
    case BinaryOp::remainder:
      return {g, when(need_b, [&] { return -g * round((a - remainder(a, b)) / b); })};
    case BinaryOp::kCount:
      break;
  }
  detail::fail("binary_derivatives(): no derivative for ", kernels::op_name(op));
}

// ---- forwards

// The ops autocast runs in float32 (autograd/autocast.h): PyTorch's list, as far as graft has
// them.
bool runs_in_float32_under_autocast(UnaryOp op) {
  switch (op) {
    case UnaryOp::exp:
    case UnaryOp::expm1:
    case UnaryOp::log:
    case UnaryOp::log1p:
    case UnaryOp::reciprocal:
    case UnaryOp::rsqrt:
    case UnaryOp::tan:
      return true;
    default:
      return false;
  }
}

// g times op's derivative, from `read` (the input or the output, as op's row of the derivative
// table says), by the op's fused kernel (ReLU, GELU, SiLU: kernel_table().unary_backward), one
// pass instead of the table's composition; an undefined tensor where the device has none. It
// has no derivative of its own, so a backward that records its graph (create_graph) takes the
// composed formula instead.
Tensor fused_unary_backward(UnaryOp op, const Tensor& g, const Tensor& read) {
  if (!read.defined()) return {};  // an op whose derivative reads neither
  const kernels::ElementwiseFn kernel =
      kernel_table().unary_backward[static_cast<int>(op)][static_cast<int>(read.device().type())];
  if (kernel == nullptr || autograd::needs_grad({&g, &read})) return {};
  const DType dtype = promote_types(g.dtype(), read.dtype());
  Tensor out = empty(broadcast_shapes(g.shape(), read.shape(), kernels::op_name(op)),
                     TensorOptions(dtype).device(read.device()));
  ops::run_elementwise(kernel, {out, {g, dtype}, {read, dtype}});
  return out;
}

Tensor unary(UnaryOp op, const Tensor& x_in) {
  const Tensor x = runs_in_float32_under_autocast(op) ? autocast::to_float32(x_in) : x_in;
  const OpContext context(kernels::op_name(op));
  const DType dtype = unary_compute_dtype(op, x.dtype());
  const Tensor in = x.to(dtype);
  Tensor y = empty(x.shape(), TensorOptions(dtype).device(x.device()));
  ops::run_elementwise(
      lookup(kernel_table().unary[static_cast<int>(op)], x.device(), kernels::op_name(op)),
      {y, in});
  if (!autograd::needs_grad({&x})) return y;
  const UnaryDerivative derivative = unary_derivative(op);
  const std::string name = autograd::backward_name(kernels::op_name(op));
  if (derivative.reads == Reads::output)
    return autograd::record(y, name, {x},
                            [op, times = derivative.times](const Tensor& g, const Tensor& out) {
                              if (Tensor fused = fused_unary_backward(op, g, out); fused.defined())
                                return fused;
                              return times(g, out);
                            });
  return autograd::record(
      y, name, {x},
      [op, times = derivative.times,
       sx = derivative.reads == Reads::input ? autograd::save(x)
                                             : autograd::SavedTensor()](const Tensor& g) {
        const Tensor x = sx.get();
        if (Tensor fused = fused_unary_backward(op, g, x); fused.defined()) return fused;
        return times(g, x);
      });
}

DType binary_dtype(BinaryOp op, Operand a, Operand b) {
  const DType dtype = result_type({a, b});
  // Ops of floating-only functors compute integers in the default dtype: int / int is
  // float32, as in Python 3 and PyTorch, and so is atan2 of integers.
  const bool floating = functor_trait(op, kFloatingOnly);
  return floating && !is_floating_point(dtype) ? get_default_dtype() : dtype;
}

// Integer fmod and remainder divide: a zero divisor would trap in the kernel, so it is an
// error here, as PyTorch's ZeroDivisionError. Reads the divisor back (a sync on CUDA).
void check_integer_divisor(BinaryOp op, const Tensor& divisor, DType dtype) {
  if (!functor_trait(op, kDividesIntegers) || is_floating_point(dtype)) return;
  autograd::NoGradGuard no_grad;
  GRAFT_CHECK(!any(divisor == 0).item<bool>(), kernels::op_name(op), "(): integer division by ",
              "zero (ZeroDivisionError): the divisor, a ", divisor.dtype(), " tensor of shape ",
              divisor.shape(), ", holds a 0; convert to a floating dtype to get NaN instead");
}

// The dtype a binary op's second operand enters the kernel in: the op's, except a 0-d one
// (a number, or a 0-d tensor) of an op that reads it in float (kernels::scalar_in_float: mul
// and div) next to a float16 or bfloat16 result, which stays in float32 as PyTorch's CPU
// kernels keep it, so that the product is rounded once.
DType second_operand_dtype(BinaryOp op, DType operand_dtype, bool zero_dim, DType dtype) {
  const bool in_float = functor_trait(op, kScalarInFloat) && is_reduced_floating_point(dtype);
  return in_float && zero_dim && operand_dtype != dtype ? kFloat32 : dtype;
}
DType second_operand_dtype(BinaryOp op, const Tensor& b, DType dtype) {
  return second_operand_dtype(op, b.dtype(), b.dim() == 0, dtype);
}
// Whether the 16-bit `dtype` holds the float32 value of `s` exactly: then the op gives the
// same bits with the number in either dtype, and the 16-bit one keeps float16's own arithmetic
// (h * 2, h / 4).
bool holds_exactly(DType dtype, Scalar s) {
  const auto f = s.to<float>();
  if (dtype == kFloat16) return static_cast<float>(Half(f)) == f;
  if (dtype == kBFloat16) return static_cast<float>(BFloat16(f)) == f;
  return false;
}

// The 0-d tensor of a scalar second operand, in the dtype above. An integer tensor to a
// negative integer power is PyTorch's error for a scalar exponent (a tensor of exponents
// computes it, 0 but for bases 1 and -1).
Tensor second_operand(BinaryOp op, Scalar b, DType dtype, Device device) {
  GRAFT_CHECK(op != BinaryOp::pow || !is_integral(dtype, true) || b.to<int64_t>() >= 0,
              "pow(): integers to negative integer powers are not allowed (exponent ",
              b.to<int64_t>(), " of an ", dtype, " tensor); use a floating tensor, as x.to(",
              get_default_dtype(), ").pow(", b.to<int64_t>(), ")");
  const DType number_dtype = holds_exactly(dtype, b) ? dtype : b.dtype();
  return ops::scalar_tensor(b, second_operand_dtype(op, number_dtype, true, dtype), device);
}

Tensor binary_tensors(BinaryOp op, const Tensor& a, const Tensor& b, DType dtype) {
  const char* name = kernels::op_name(op);
  const OpContext context(name);
  ops::check_same_device(name, {&a, &b});
  const Shape shape = broadcast_shapes(a.shape(), b.shape(), name);
  check_integer_divisor(op, b, dtype);
  Tensor out = empty(shape, TensorOptions(dtype).device(a.device()));
  {
    autograd::NoGradGuard no_grad;  // the conversions below are part of this one op
    ops::run_elementwise(lookup(kernel_table().binary[static_cast<int>(op)], a.device(), name),
                         {out, {a, dtype}, {b, second_operand_dtype(op, b, dtype)}});
  }
  if (!autograd::needs_grad({&a, &b})) return out;
  const bool reads_inputs = op != BinaryOp::add && op != BinaryOp::sub;
  auto saved = [&](const Tensor& t) {
    return reads_inputs ? autograd::save(t) : autograd::SavedTensor();
  };
  return autograd::record(out, autograd::backward_name(name), {a, b},
                          [op, need_a = a.requires_grad(), need_b = b.requires_grad(),
                           sa = saved(a), sb = saved(b)](const Tensor& g) {
                            return binary_derivatives(op, g, sa.get(), sb.get(), need_a, need_b);
                          });
}

Tensor binary_promoted(BinaryOp op, const Tensor& a, const Tensor& b) {
  return binary_tensors(op, a, b, binary_dtype(op, ops::operand(a), ops::operand(b)));
}
Tensor binary_promoted(BinaryOp op, const Tensor& a, Scalar b) {
  const DType dtype = binary_dtype(op, ops::operand(a), ops::operand(b));
  return binary_tensors(op, a, second_operand(op, b, dtype, a.device()), dtype);
}
Tensor binary_promoted(BinaryOp op, Scalar a, const Tensor& b) {
  // A scalar times a tensor is the tensor times the scalar, as libtorch defines it: the
  // scalar read in float next to a 16-bit tensor, as on the right.
  if (op == BinaryOp::mul) return binary_promoted(op, b, a);
  const DType dtype = binary_dtype(op, ops::operand(a), ops::operand(b));
  return binary_tensors(op, ops::scalar_tensor(a, dtype, b.device()), b, dtype);
}

// Autocast runs pow in float32; every other binary op takes its operands as they come,
// uncopied (each copy of a Tensor is two atomic updates of its count).
Tensor float32_under_autocast(const Tensor& t) { return autocast::to_float32(t); }
Scalar float32_under_autocast(Scalar s) { return s; }

template <class A, class B>
Tensor binary(BinaryOp op, const A& a, const B& b) {
  if (op == BinaryOp::pow)
    return binary_promoted(op, float32_under_autocast(a), float32_under_autocast(b));
  return binary_promoted(op, a, b);
}

// self op= other. Runs the kernel straight into self when that is safe: the result dtype
// is self's and `other` does not share self's memory in a different layout (x += x.t()
// would read elements already overwritten). Otherwise computes out of place and copies.
const Tensor& binary_inplace(BinaryOp op, const Tensor& self, const Tensor& other, DType dtype) {
  const char* name = kernels::op_name(op);
  if (autograd::needs_grad({&self, &other}))
    return ops::assign_in_place(
        name, self, {&other}, [&](const Tensor& s) { return binary_tensors(op, s, other, dtype); });
  ops::check_writable(name, self);
  autograd::check_inplace((std::string(name) + "_").c_str(), self);
  ops::check_same_device(name, {&self, &other});
  ops::check_can_cast(name, dtype, self.dtype());
  const bool same_view = other.storage() == self.storage() &&
                         other.storage_offset() == self.storage_offset() &&
                         other.strides() == self.strides() && other.shape() == self.shape();
  const bool overlaps = other.storage() == self.storage() && !same_view;
  if (dtype != self.dtype() || overlaps)
    return ops::assign_in_place(
        name, self, {&other}, [&](const Tensor& s) { return binary_tensors(op, s, other, dtype); });
  GRAFT_CHECK(broadcast_shapes(self.shape(), other.shape(), name) == self.shape(), name,
              "_(): output with shape ", self.shape(), " doesn't match the broadcast shape ",
              broadcast_shapes(self.shape(), other.shape(), name));
  check_integer_divisor(op, other, dtype);
  ops::run_elementwise(lookup(kernel_table().binary[static_cast<int>(op)], self.device(), name),
                       {self, self, {other, second_operand_dtype(op, other, dtype)}});
  self.storage()->bump_version();
  return self;
}

Tensor comparison_tensors(ComparisonOp op, const Tensor& a, const Tensor& b, DType dtype) {
  const char* name = kernels::op_name(op);
  const OpContext context(name);
  ops::check_same_device(name, {&a, &b});
  const Shape shape = broadcast_shapes(a.shape(), b.shape(), name);
  Tensor out = empty(shape, TensorOptions(kBool).device(a.device()));
  ops::run_elementwise(lookup(kernel_table().comparison[static_cast<int>(op)], a.device(), name),
                       {out, {a, dtype}, {b, dtype}});
  return out;
}

Tensor comparison(ComparisonOp op, const Tensor& a, const Tensor& b) {
  return comparison_tensors(op, a, b, result_type({ops::operand(a), ops::operand(b)}));
}
Tensor comparison(ComparisonOp op, const Tensor& a, Scalar b) {
  const DType dtype = result_type({ops::operand(a), ops::operand(b)});
  return comparison_tensors(op, a, ops::scalar_tensor(b, dtype, a.device()), dtype);
}
Tensor comparison(ComparisonOp op, Scalar a, const Tensor& b) {
  const DType dtype = result_type({ops::operand(a), ops::operand(b)});
  return comparison_tensors(op, ops::scalar_tensor(a, dtype, b.device()), b, dtype);
}

}  // namespace

// ---- unary

#define GRAFT_DEFINE_UNARY(name, ...)                                                     \
  Tensor name(const Tensor& x) { return unary(UnaryOp::name, x); }                        \
  const Tensor& name##_(const Tensor& self) {                                             \
    return ops::assign_in_place(#name, self, {},                                          \
                                [](const Tensor& s) { return unary(UnaryOp::name, s); }); \
  }
GRAFT_UNARY_OPS(GRAFT_DEFINE_UNARY)
#undef GRAFT_DEFINE_UNARY

// ---- binary

#define GRAFT_DEFINE_BINARY(name, ...)                                                            \
  Tensor name(const Tensor& a, const Tensor& b) { return binary(BinaryOp::name, a, b); }          \
  Tensor name(const Tensor& a, Scalar b) { return binary(BinaryOp::name, a, b); }                 \
  Tensor name(Scalar a, const Tensor& b) { return binary(BinaryOp::name, a, b); }                 \
  const Tensor& name##_(const Tensor& self, const Tensor& other) {                                \
    return binary_inplace(BinaryOp::name, self, other,                                            \
                          binary_dtype(BinaryOp::name, ops::operand(self), ops::operand(other))); \
  }                                                                                               \
  const Tensor& name##_(const Tensor& self, Scalar other) {                                       \
    const DType dtype = binary_dtype(BinaryOp::name, ops::operand(self), ops::operand(other));    \
    return binary_inplace(BinaryOp::name, self,                                                   \
                          second_operand(BinaryOp::name, other, dtype, self.device()), dtype);    \
  }
GRAFT_BINARY_OPS(GRAFT_DEFINE_BINARY)
#undef GRAFT_DEFINE_BINARY

#define GRAFT_DEFINE_COMPARISON(name, ...)                                                       \
  Tensor name(const Tensor& a, const Tensor& b) { return comparison(ComparisonOp::name, a, b); } \
  Tensor name(const Tensor& a, Scalar b) { return comparison(ComparisonOp::name, a, b); }        \
  Tensor name(Scalar a, const Tensor& b) { return comparison(ComparisonOp::name, a, b); }
GRAFT_COMPARISON_OPS(GRAFT_DEFINE_COMPARISON)
#undef GRAFT_DEFINE_COMPARISON

// ---- where, clamp, masked_fill

namespace {
Tensor where_impl(const Tensor& cond, const Tensor& a, const Tensor& b, DType dtype) {
  ops::check_same_device("where", {&cond, &a, &b});
  GRAFT_CHECK(cond.dtype() == kBool, "where(): expected condition to be a bool tensor, but got ",
              cond.dtype(), "; compare first, e.g. where(x > 0, ...)");
  const Shape shape =
      broadcast_shapes(broadcast_shapes(cond.shape(), a.shape(), "where"), b.shape(), "where");
  Tensor out = empty(shape, TensorOptions(dtype).device(cond.device()));
  {
    autograd::NoGradGuard no_grad;
    ops::run_elementwise(lookup(kernel_table().where, cond.device(), "where"),
                         {out, cond, {a, dtype}, {b, dtype}});
  }
  return autograd::record(out, "WhereBackward", {a, b},
                          [sc = autograd::save(cond), need_a = a.requires_grad(),
                           need_b = b.requires_grad()](const Tensor& g) {
                            const Tensor c = sc.get();
                            return TensorList{need_a ? where(c, g, 0.0) : Tensor(),
                                              need_b ? where(c, 0.0, g) : Tensor()};
                          });
}
}  // namespace

Tensor where(const Tensor& cond, const Tensor& a, const Tensor& b) {
  return where_impl(cond, a, b, result_type({ops::operand(a), ops::operand(b)}));
}
Tensor where(const Tensor& cond, const Tensor& a, Scalar b) {
  const DType dtype = result_type({ops::operand(a), ops::operand(b)});
  return where_impl(cond, a, ops::scalar_tensor(b, dtype, cond.device()), dtype);
}
Tensor where(const Tensor& cond, Scalar a, const Tensor& b) {
  const DType dtype = result_type({ops::operand(a), ops::operand(b)});
  return where_impl(cond, ops::scalar_tensor(a, dtype, cond.device()), b, dtype);
}

Tensor clamp(const Tensor& x, std::optional<Scalar> min, std::optional<Scalar> max) {
  GRAFT_CHECK(min || max, "clamp(): at least one of 'min' or 'max' must not be None");
  GRAFT_CHECK(x.dtype() != kBool, "clamp(): not implemented for bool tensors");
  DType dtype = x.dtype();
  if (min) dtype = result_type({ops::operand(x), ops::operand(*min)});
  if (max) dtype = promote_types(dtype, result_type({ops::operand(x), ops::operand(*max)}));
  // A missing bound is the dtype's extreme, so one kernel serves clamp_min, clamp_max, clamp.
  const Scalar lowest = visit_dtype(dtype, [](auto tag) -> Scalar {
    using T = decltype(tag);
    if constexpr (is_floating_type_v<T>)
      return -std::numeric_limits<double>::infinity();
    else
      return static_cast<int64_t>(std::numeric_limits<T>::lowest());
  });
  const Scalar highest = visit_dtype(dtype, [](auto tag) -> Scalar {
    using T = decltype(tag);
    if constexpr (is_floating_type_v<T>)
      return std::numeric_limits<double>::infinity();
    else
      return static_cast<int64_t>(std::numeric_limits<T>::max());
  });
  Tensor out = empty(x.shape(), TensorOptions(dtype).device(x.device()));
  // A NaN bound makes every element NaN, as in PyTorch; the kernel's selects would pass it by.
  const auto nan = [](const std::optional<Scalar>& bound) {
    return bound && bound->is_floating_point() && std::isnan(bound->to<double>());
  };
  if (nan(min) || nan(max))
    out.fill_(std::numeric_limits<double>::quiet_NaN());
  else
    ops::run_elementwise(lookup(kernel_table().clamp, x.device(), "clamp"),
                         {out,
                          {x, dtype},
                          ops::scalar_tensor(min.value_or(lowest), dtype, x.device()),
                          ops::scalar_tensor(max.value_or(highest), dtype, x.device())});
  // The gradient passes strictly inside (min, max) and is 0 where a bound took over, at the
  // bound itself too (PyTorch's minimum-norm subgradient since 2.15, that of relu and
  // hardtanh; it was 1 there before) and for NaN.
  return autograd::record(out, "ClampBackward", {x},
                          [sx = autograd::save(x), min, max](const Tensor& g) {
                            const Tensor input = sx.get();
                            Tensor kept = g;
                            if (min) kept = where(input > *min, kept, 0.0);
                            if (max) kept = where(input < *max, kept, 0.0);
                            return kept;
                          });
}

const Tensor& clamp_(const Tensor& self, std::optional<Scalar> min, std::optional<Scalar> max) {
  return ops::assign_in_place("clamp", self, {},
                              [&](const Tensor& s) { return clamp(s, min, max); });
}

// A where() with the fill value as a constant, so where's backward serves it.
Tensor masked_fill(const Tensor& x, const Tensor& mask, Scalar value) {
  GRAFT_CHECK(mask.dtype() == kBool, "masked_fill(): expected a bool mask, but got ", mask.dtype());
  broadcast_shapes(x.shape(), mask.shape(), "masked_fill");
  ops::check_value_fits("masked_fill", value, x.dtype());
  return where(mask, ops::scalar_tensor(value, x.dtype(), x.device()), x).to(x.dtype());
}

const Tensor& masked_fill_(const Tensor& self, const Tensor& mask, Scalar value) {
  return ops::assign_in_place("masked_fill", self, {},
                              [&](const Tensor& s) { return masked_fill(s, mask, value); });
}

}  // namespace graft
