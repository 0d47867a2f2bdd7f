// Registry rows of the elementwise ops: every op of core/op_list.h in each of its forms
// (tensor, scalar on either side, in place), where, clamp, masked_fill and the copies.
// References are std:: math in double; domains keep inputs off kinks and poles.
#include <cmath>
#include <numbers>

#include "op_info.h"

namespace graft::testing {
namespace {

// The scalar side of `x op s` / `s op x`: inside every range below.
constexpr double kScalar = 1.25;

InputSpec input(Range range = kAny) { return {{2, 3}, range}; }

// An elementwise op's out-of-place and in-place rows. The in-place form keeps self's dtype,
// so an op that promotes integers refuses them in place.
void add_unary(std::vector<OpInfo>& rows, const std::string& op, Tensor (*fn)(const Tensor&),
               const Tensor& (*fn_)(const Tensor&), double (*reference)(double), Range range,
               Integers integers) {
  OpInfo row;
  row.name = op;
  row.op = op;
  row.inputs = {input(range)};
  row.call = single([fn](const TensorList& in) { return fn(in[0]); });
  row.reference = pointwise(reference);
  row.integers = integers;
  rows.push_back(row);
  row.name = op + "_";
  row.call = single([fn_](const TensorList& in) {
    Tensor self = writable(in[0]);
    return fn_(self);
  });
  row.in_place = true;
  row.integers = integers == Integers::promote ? Integers::refuse : integers;
  rows.push_back(row);
}

double gelu_reference(double x) { return 0.5 * x * (1 + std::erf(x / std::numbers::sqrt2)); }

#define GRAFT_UNARY_ROW(op, reference, range, integers) \
  add_unary(rows, #op, &graft::op, &graft::op##_, reference, range, Integers::integers)

void add_unary_rows(std::vector<OpInfo>& rows) {
  using std::abs;
  GRAFT_UNARY_ROW(
      neg, [](double x) { return -x; }, kAny, keep);
  GRAFT_UNARY_ROW(
      abs, [](double x) { return std::abs(x); }, kAny, keep);
  GRAFT_UNARY_ROW(
      exp, [](double x) { return std::exp(x); }, kAny, promote);
  GRAFT_UNARY_ROW(
      log, [](double x) { return std::log(x); }, kPositive, promote);
  GRAFT_UNARY_ROW(
      sqrt, [](double x) { return std::sqrt(x); }, kPositive, promote);
  GRAFT_UNARY_ROW(
      rsqrt, [](double x) { return 1 / std::sqrt(x); }, kPositive, promote);
  GRAFT_UNARY_ROW(
      sin, [](double x) { return std::sin(x); }, kAny, promote);
  GRAFT_UNARY_ROW(
      cos, [](double x) { return std::cos(x); }, kAny, promote);
  GRAFT_UNARY_ROW(
      tanh, [](double x) { return std::tanh(x); }, kAny, promote);
  GRAFT_UNARY_ROW(
      sigmoid, [](double x) { return 1 / (1 + std::exp(-x)); }, kAny, promote);
  GRAFT_UNARY_ROW(
      relu, [](double x) { return x > 0 ? x : 0; }, kAny, keep);
  GRAFT_UNARY_ROW(gelu, gelu_reference, kAny, promote);
  GRAFT_UNARY_ROW(
      gelu_tanh,
      [](double x) {
        return 0.5 * x *
               (1 + std::tanh(std::sqrt(2 / std::numbers::pi) * (x + 0.044715 * x * x * x)));
      },
      kAny, promote);
  GRAFT_UNARY_ROW(
      silu, [](double x) { return x / (1 + std::exp(-x)); }, kAny, promote);
  GRAFT_UNARY_ROW(
      log1p, [](double x) { return std::log1p(x); }, (Range{-0.5, 2}), promote);
  GRAFT_UNARY_ROW(
      expm1, [](double x) { return std::expm1(x); }, kAny, promote);
  GRAFT_UNARY_ROW(
      erf, [](double x) { return std::erf(x); }, kAny, promote);
  // The step functions' gradient is zero: random inputs are never within the finite
  // difference's step of a jump.
  GRAFT_UNARY_ROW(
      floor, [](double x) { return std::floor(x); }, kAny, keep);
  GRAFT_UNARY_ROW(
      ceil, [](double x) { return std::ceil(x); }, kAny, keep);
  GRAFT_UNARY_ROW(
      round, [](double x) { return std::nearbyint(x); }, kAny, keep);
  GRAFT_UNARY_ROW(
      sign, [](double x) { return double((x > 0) - (x < 0)); }, kAny, keep);
  GRAFT_UNARY_ROW(
      reciprocal, [](double x) { return 1 / x; }, kPositive, promote);
  GRAFT_UNARY_ROW(
      square, [](double x) { return x * x; }, kAny, keep);
  GRAFT_UNARY_ROW(
      tan, [](double x) { return std::tan(x); }, (Range{-1.2, 1.2}), promote);
}
#undef GRAFT_UNARY_ROW

using BinaryFn = Tensor (*)(const Tensor&, const Tensor&);
using TensorScalarFn = Tensor (*)(const Tensor&, Scalar);
using ScalarTensorFn = Tensor (*)(Scalar, const Tensor&);
using BinaryInPlaceFn = const Tensor& (*)(const Tensor&, const Tensor&);

struct BinaryForms {
  BinaryFn tensors;
  TensorScalarFn tensor_scalar;
  ScalarTensorFn scalar_tensor;
  BinaryInPlaceFn in_place;  // null for comparisons
};

// A binary op's rows: two tensors (broadcast: (3, 1) against (1, 4)), a scalar on either
// side, and in place. A float scalar promotes integer tensors, as in PyTorch.
void add_binary(std::vector<OpInfo>& rows, const std::string& op, BinaryForms forms,
                double (*reference)(double, double), Range range_a, Range range_b,
                Integers integers, bool comparison) {
  OpInfo row;
  row.op = op;
  row.integers = integers;
  row.differentiable = !comparison;
  if (comparison) row.result_dtype = [](DType) { return kBool; };

  row.name = op;
  row.inputs = {{{2, 3}, range_a, Shape{3, 1}}, {{2, 3}, range_b, Shape{1, 4}}};
  row.call = single([f = forms.tensors](const TensorList& in) { return f(in[0], in[1]); });
  row.reference = pointwise(reference);
  rows.push_back(row);

  if (!comparison) row.integers = Integers::promote;
  row.name = op + "_tensor_scalar";
  row.inputs = {input(range_a)};
  row.call = single([f = forms.tensor_scalar](const TensorList& in) { return f(in[0], kScalar); });
  row.reference = pointwise([reference](double a) { return reference(a, kScalar); });
  rows.push_back(row);

  row.name = op + "_scalar_tensor";
  row.inputs = {input(range_b)};
  row.call = single([f = forms.scalar_tensor](const TensorList& in) { return f(kScalar, in[0]); });
  row.reference = pointwise([reference](double b) { return reference(kScalar, b); });
  rows.push_back(row);

  if (forms.in_place == nullptr) return;
  row.name = op + "_";
  row.inputs = {input(range_a), input(range_b)};
  row.call = single([f = forms.in_place](const TensorList& in) {
    Tensor self = writable(in[0]);
    return f(self, in[1]);
  });
  row.reference = pointwise(reference);
  // In place keeps self's shape: no (3, 1) x (1, 4); and self's dtype.
  row.layouts = {Layout::contiguous, Layout::transposed, Layout::sliced, Layout::zero_dim,
                 Layout::empty};
  row.in_place = true;
  row.integers = integers == Integers::promote ? Integers::refuse : integers;
  rows.push_back(row);
}

#define GRAFT_BINARY_ROW(op, reference, range_a, range_b, integers)                              \
  add_binary(rows, #op, {&graft::op, &graft::op, &graft::op, &graft::op##_}, reference, range_a, \
             range_b, Integers::integers, false)
#define GRAFT_COMPARISON_ROW(op, reference)                                                   \
  add_binary(rows, #op, {&graft::op, &graft::op, &graft::op, nullptr}, reference, kAny, kAny, \
             Integers::keep, true)

void add_binary_rows(std::vector<OpInfo>& rows) {
  GRAFT_BINARY_ROW(
      add, [](double a, double b) { return a + b; }, kAny, kAny, keep);
  GRAFT_BINARY_ROW(
      sub, [](double a, double b) { return a - b; }, kAny, kAny, keep);
  GRAFT_BINARY_ROW(
      mul, [](double a, double b) { return a * b; }, kAny, kAny, keep);
  GRAFT_BINARY_ROW(
      div, [](double a, double b) { return a / b; }, kAny, kPositive, promote);
  // Exponents from [0, 2]: integer bases to negative powers are not integers.
  GRAFT_BINARY_ROW(
      pow, [](double a, double b) { return std::pow(a, b); }, kPositive, (Range{0, 2}), keep);
  GRAFT_BINARY_ROW(
      maximum, [](double a, double b) { return std::max(a, b); }, kAny, kAny, keep);
  GRAFT_BINARY_ROW(
      minimum, [](double a, double b) { return std::min(a, b); }, kAny, kAny, keep);
  GRAFT_BINARY_ROW(
      atan2, [](double a, double b) { return std::atan2(a, b); }, kAny, kPositive, promote);
  // Positive divisors here (integers then never divide by zero); the sign rules for
  // negative ones and the zero-divisor error are tests/kernels/integer_division_test.cpp's.
  GRAFT_BINARY_ROW(
      fmod, [](double a, double b) { return std::fmod(a, b); }, kAny, kPositive, keep);
  GRAFT_BINARY_ROW(
      remainder, [](double a, double b) { return a - b * std::floor(a / b); }, kAny, kPositive,
      keep);
  GRAFT_COMPARISON_ROW(eq, [](double a, double b) { return double(a == b); });
  GRAFT_COMPARISON_ROW(ne, [](double a, double b) { return double(a != b); });
  GRAFT_COMPARISON_ROW(lt, [](double a, double b) { return double(a < b); });
  GRAFT_COMPARISON_ROW(le, [](double a, double b) { return double(a <= b); });
  GRAFT_COMPARISON_ROW(gt, [](double a, double b) { return double(a > b); });
  GRAFT_COMPARISON_ROW(ge, [](double a, double b) { return double(a >= b); });
}
#undef GRAFT_BINARY_ROW
#undef GRAFT_COMPARISON_ROW

OpInfo row_of(std::string name, std::string op, std::vector<InputSpec> inputs,
              std::function<Tensor(const TensorList&)> call, Reference reference,
              Integers integers) {
  OpInfo row;
  row.name = std::move(name);
  row.op = std::move(op);
  row.inputs = std::move(inputs);
  row.call = single(std::move(call));
  row.reference = std::move(reference);
  row.integers = integers;
  return row;
}

// where, clamp, masked_fill and the copies. The conditions and masks come from the
// inputs' own values, detached: they choose, they are not differentiated.
void add_selection_rows(std::vector<OpInfo>& rows) {
  auto pick = [](double x, double a, double b) { return x > 0 ? a : b; };
  rows.push_back(row_of(
      "where", "where", {{{2, 3}, kAny, Shape{3, 1}}, {{2, 3}, kAny, Shape{1, 4}}},
      [](const TensorList& in) { return where(in[0].detach() > 0, in[0], in[1]); },
      [pick](const std::vector<RefTensor>& in) {
        return pointwise([pick](double a, double b) { return pick(a, a, b); })(in);
      },
      Integers::keep));
  rows.push_back(row_of(
      "method_where", "where", {{{2, 3}, kAny, Shape{3, 1}}, {{2, 3}, kAny, Shape{1, 4}}},
      [](const TensorList& in) { return in[0].where(in[0].detach() > 0, in[1]); },
      [pick](const std::vector<RefTensor>& in) {
        return pointwise([pick](double a, double b) { return pick(a, a, b); })(in);
      },
      Integers::keep));
  rows.push_back(row_of(
      "where_tensor_scalar", "where", {input()},
      [](const TensorList& in) { return where(in[0].detach() > 0, in[0], kScalar); },
      pointwise([pick](double a) { return pick(a, a, kScalar); }), Integers::promote));
  rows.push_back(row_of(
      "where_scalar_tensor", "where", {input()},
      [](const TensorList& in) { return where(in[0].detach() > 0, kScalar, in[0]); },
      pointwise([pick](double a) { return pick(a, kScalar, a); }), Integers::promote));

  rows.push_back(row_of(
      "clamp", "clamp", {input()}, [](const TensorList& in) { return clamp(in[0], -0.5, 0.8); },
      pointwise([](double x) { return std::clamp(x, -0.5, 0.8); }), Integers::promote));
  rows.push_back(row_of(
      "clamp_min", "clamp", {input()}, [](const TensorList& in) { return clamp(in[0], -0.5); },
      pointwise([](double x) { return std::max(x, -0.5); }), Integers::promote));
  rows.push_back(row_of(
      "clamp_max", "clamp", {input()},
      [](const TensorList& in) { return clamp(in[0], std::nullopt, 0.8); },
      pointwise([](double x) { return std::min(x, 0.8); }), Integers::promote));
  rows.push_back(row_of(
      "clamp_int_bounds", "clamp", {input()},
      [](const TensorList& in) { return clamp(in[0], -1, 1); },
      pointwise([](double x) { return std::clamp(x, -1.0, 1.0); }), Integers::keep));
  OpInfo clamp_in_place = row_of(
      "clamp_", "clamp", {input()},
      [](const TensorList& in) {
        Tensor self = writable(in[0]);
        return clamp_(self, -0.5, 0.8);
      },
      pointwise([](double x) { return std::clamp(x, -0.5, 0.8); }), Integers::refuse);
  clamp_in_place.in_place = true;
  rows.push_back(clamp_in_place);

  auto fill_above = [](double x) { return x > 0.5 ? 2.0 : x; };
  rows.push_back(row_of(
      "masked_fill", "masked_fill", {input()},
      [](const TensorList& in) { return masked_fill(in[0], in[0].detach() > 0.5, 2.0); },
      pointwise(fill_above), Integers::keep));
  OpInfo masked_fill_in_place = row_of(
      "masked_fill_", "masked_fill", {input()},
      [](const TensorList& in) {
        Tensor self = writable(in[0]);
        return masked_fill_(self, self.detach() > 0.5, 2.0);
      },
      pointwise(fill_above), Integers::keep);
  masked_fill_in_place.in_place = true;
  rows.push_back(masked_fill_in_place);

  auto identity = pointwise([](double x) { return x; });
  rows.push_back(row_of(
      "clone", "clone", {input()}, [](const TensorList& in) { return in[0].clone(); }, identity,
      Integers::keep));
  rows.push_back(row_of(
      "contiguous", "contiguous", {input()},
      [](const TensorList& in) { return in[0].contiguous(); }, identity, Integers::keep));
  rows.push_back(row_of(
      "copy_", "copy_", {input()},
      [](const TensorList& in) {
        Tensor s = zeros(in[0].shape(), TensorOptions(in[0].dtype()).device(in[0].device()));
        return s.copy_(in[0]);
      },
      identity, Integers::keep));
  // copy_into records no gradient: it is the kernel under copy_.
  OpInfo copy_into_row = row_of(
      "copy_into", "copy_into", {input()},
      [](const TensorList& in) {
        Tensor s = empty(in[0].shape(), TensorOptions(in[0].dtype()).device(in[0].device()));
        copy_into(s, in[0]);
        return s;
      },
      identity, Integers::keep);
  copy_into_row.differentiable = false;
  rows.push_back(copy_into_row);
}

}  // namespace

std::vector<OpInfo> elementwise_rows() {
  std::vector<OpInfo> rows;
  add_unary_rows(rows);
  add_binary_rows(rows);
  add_selection_rows(rows);
  return rows;
}

}  // namespace graft::testing
