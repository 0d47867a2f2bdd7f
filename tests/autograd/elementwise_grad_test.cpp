// gradcheck and gradgradcheck (float64, finite differences) for every elementwise op, its
// scalar forms and its in-place form, over contiguous, transposed, step-sliced, broadcast
// and 0-d inputs. One row per op form: adding an op is adding a row.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "grad_test_util.h"

namespace g = graft;
using g::autograd::TensorList;
using g::testing::kAny;
using g::testing::kPositive;
using g::testing::Layout;
using g::testing::make_leaf;
using g::testing::Range;

namespace {

// The scalar side of `x op s` / `s op x`: inside both ranges above.
constexpr double kScalar = 1.25;

struct Row {
  std::string name;
  int arity;
  Range range[2];
  std::function<g::Tensor(const TensorList&)> fn;
  bool in_place = false;  // writes into its first input's shape: no (3, 1) x (1, 4) layout
};

void PrintTo(const Row& row, std::ostream* out) { *out << row.name; }

// The computation on a copy of the first input, which the in-place form then overwrites.
g::Tensor scratch(const g::Tensor& t) { return t * 1; }

#define UNARY_ROWS(op, range)                                                           \
  Row{#op, 1, {range, range}, [](const TensorList& in) { return g::op(in[0]); }}, Row { \
#op "_",                                                                  \
          1,                                                                        \
          {range, range},                                                           \
          [](const TensorList& in) {                                                \
            g::Tensor s = scratch(in[0]);                                           \
            g::op##_(s);                                                            \
            return s;                                                               \
          },                                                                        \
          true             \
  }

#define BINARY_ROWS(op, range_a, range_b)                                                    \
  Row{#op, 2, {range_a, range_b}, [](const TensorList& in) { return g::op(in[0], in[1]); }}, \
      Row{#op "_tensor_scalar",                                                              \
          1,                                                                                 \
          {range_a, range_a},                                                                \
          [](const TensorList& in) { return g::op(in[0], kScalar); }},                       \
      Row{#op "_scalar_tensor",                                                              \
          1,                                                                                 \
          {range_b, range_b},                                                                \
          [](const TensorList& in) { return g::op(kScalar, in[0]); }},                       \
      Row {                                                                                  \
#op "_",                                                                           \
          2,                                                                                 \
          {range_a, range_b},                                                                \
          [](const TensorList& in) {                                                         \
            g::Tensor s = scratch(in[0]);                                                    \
            g::op##_(s, in[1]);                                                              \
            return s;                                                                        \
          },                                                                                 \
          true         \
  }

const Row kRows[] = {
    UNARY_ROWS(neg, kAny),
    UNARY_ROWS(abs, kAny),
    UNARY_ROWS(exp, kAny),
    UNARY_ROWS(log, kPositive),
    UNARY_ROWS(sqrt, kPositive),
    UNARY_ROWS(rsqrt, kPositive),
    UNARY_ROWS(sin, kAny),
    UNARY_ROWS(cos, kAny),
    UNARY_ROWS(tanh, kAny),
    UNARY_ROWS(sigmoid, kAny),
    UNARY_ROWS(relu, kAny),
    UNARY_ROWS(gelu, kAny),
    UNARY_ROWS(silu, kAny),
    BINARY_ROWS(add, kAny, kAny),
    BINARY_ROWS(sub, kAny, kAny),
    BINARY_ROWS(mul, kAny, kAny),
    BINARY_ROWS(div, kAny, kPositive),
    BINARY_ROWS(pow, kPositive, kAny),
    BINARY_ROWS(maximum, kAny, kAny),
    BINARY_ROWS(minimum, kAny, kAny),
    Row{"where",
        2,
        {kAny, kAny},
        [](const TensorList& in) { return g::where(in[0].detach() > 0, in[0], in[1]); }},
    Row{"where_tensor_scalar",
        1,
        {kAny, kAny},
        [](const TensorList& in) { return g::where(in[0].detach() > 0, in[0], kScalar); }},
    Row{"where_scalar_tensor",
        1,
        {kAny, kAny},
        [](const TensorList& in) { return g::where(in[0].detach() > 0, kScalar, in[0]); }},
    Row{"clamp", 1, {kAny, kAny}, [](const TensorList& in) { return g::clamp(in[0], -0.5, 0.8); }},
    Row{"clamp_min", 1, {kAny, kAny}, [](const TensorList& in) { return g::clamp(in[0], -0.5); }},
    Row{"clamp_max",
        1,
        {kAny, kAny},
        [](const TensorList& in) { return g::clamp(in[0], std::nullopt, 0.8); }},
    Row{"clamp_",
        1,
        {kAny, kAny},
        [](const TensorList& in) {
          g::Tensor s = scratch(in[0]);
          s.clamp_(-0.5, 0.8);
          return s;
        },
        true},
    Row{"masked_fill",
        1,
        {kAny, kAny},
        [](const TensorList& in) { return g::masked_fill(in[0], in[0].detach() > 0.5, 2.0); }},
    Row{"masked_fill_",
        1,
        {kAny, kAny},
        [](const TensorList& in) {
          g::Tensor s = scratch(in[0]);
          s.masked_fill_(in[0].detach() > 0.5, 2.0);
          return s;
        },
        true},
    Row{"clone", 1, {kAny, kAny}, [](const TensorList& in) { return in[0].clone(); }},
    Row{"contiguous", 1, {kAny, kAny}, [](const TensorList& in) { return in[0].contiguous(); }},
    Row{"copy_",
        1,
        {kAny, kAny},
        [](const TensorList& in) {
          g::Tensor s = g::zeros(in[0].shape(), g::kFloat64);
          s.copy_(in[0]);
          return s;
        },
        true},
};

// Input k of a row in `layout`, a (2, 3) float64 leaf that requires grad. Broadcast means
// (3, 1) against (1, 4) for two inputs, and a stride-0 expanded (1, 3) -> (2, 3) leaf for one.
g::Tensor make_input(const Row& row, Layout layout, int k) {
  const auto seed = static_cast<uint32_t>(k + 1);
  if (layout == Layout::broadcast && row.arity == 2)
    return make_leaf(k == 0 ? g::Shape{3, 1} : g::Shape{1, 4}, Layout::contiguous, row.range[k],
                     seed);
  return make_leaf({2, 3}, layout, row.range[k], seed);
}

class ElementwiseGrad : public ::testing::TestWithParam<std::tuple<Row, Layout>> {};

TEST_P(ElementwiseGrad, MatchesFiniteDifferencesToSecondOrder) {
  const auto& [row, layout] = GetParam();
  if (row.in_place && row.arity == 2 && layout == Layout::broadcast)
    GTEST_SKIP() << "an in-place result keeps self's shape: no (3, 1) x (1, 4)";
  TensorList inputs;
  for (int k = 0; k < row.arity; ++k) inputs.push_back(make_input(row, layout, k));
  EXPECT_TRUE(g::autograd::gradcheck(row.fn, inputs));
  EXPECT_TRUE(g::autograd::gradgradcheck(row.fn, inputs));
}

INSTANTIATE_TEST_SUITE_P(AllOps, ElementwiseGrad,
                         ::testing::Combine(::testing::ValuesIn(kRows),
                                            ::testing::ValuesIn(g::testing::kAllLayouts)),
                         [](const auto& info) {
                           return std::get<0>(info.param).name + "_" +
                                  g::testing::layout_name(std::get<1>(info.param));
                         });

}  // namespace
