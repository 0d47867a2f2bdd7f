// var/std take libtorch's argument order, (dims, correction = 1, keepdim = false), and a bool
// where the correction goes does not compile (Note [var/std take no bool] in autograd/ops.h):
// graft's old order var(x, dims, keepdim, correction) and libtorch's var(x, dim, unbiased,
// keepdim) would otherwise compile into something else.
#include <gtest/gtest.h>

#include "test_util.h"

namespace g = graft;
using g::testing::make_tensor;

namespace {

template <class... Args>
concept var_compiles = requires(const g::Tensor& x, Args... args) {
  g::var(x, args...);
};
template <class... Args>
concept std_compiles = requires(const g::Tensor& x, Args... args) {
  g::std(x, args...);
};
template <class... Args>
concept var_method_compiles = requires(const g::Tensor& x, Args... args) {
  x.var(args...);
};
template <class... Args>
concept std_method_compiles = requires(const g::Tensor& x, Args... args) {
  x.std(args...);
};

// The new order compiles, with or without the defaults.
static_assert(var_compiles<> && var_compiles<g::Dims> && var_compiles<g::Dims, int> &&
              var_compiles<g::Dims, int64_t, bool>);
static_assert(std_compiles<g::Dims, int, bool> && var_method_compiles<g::Dims, int, bool> &&
              std_method_compiles<g::Dims, int, bool> && var_method_compiles<int>);
// A bool after dims, in graft's old order or as libtorch's `unbiased`, does not.
static_assert(!var_compiles<g::Dims, bool> && !var_compiles<g::Dims, bool, int> &&
              !var_compiles<g::Dims, bool, bool>);
static_assert(!std_compiles<g::Dims, bool> && !std_compiles<g::Dims, bool, int>);
static_assert(!var_method_compiles<g::Dims, bool> && !var_method_compiles<g::Dims, bool, int>);
static_assert(!std_method_compiles<g::Dims, bool> && !std_method_compiles<g::Dims, bool, bool>);

// Rows [1 2 3 4] and [2 4 6 8]: squared deviations from the means 2.5 and 5 sum to 5 and 20,
// so the sample variances (correction 1, / 3) are 5/3 and 20/3, the population ones (/ 4)
// 1.25 and 5.
g::Tensor rows() { return make_tensor({1, 2, 3, 4, 2, 4, 6, 8}, {2, 4}); }

void expect_near(const g::Tensor& t, const std::vector<double>& want) {
  const std::vector<double> got = t.to_vector<double>();
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < want.size(); ++i) EXPECT_NEAR(got[i], want[i], 1e-12) << "element " << i;
}

}  // namespace

TEST(VarStdOrder, ThirdArgumentIsTheCorrection) {
  expect_near(g::var(rows(), {1}), {5.0 / 3, 20.0 / 3});
  expect_near(g::var(rows(), {1}, 1), {5.0 / 3, 20.0 / 3});
  expect_near(g::var(rows(), {1}, 0), {1.25, 5});
  expect_near(g::var(rows(), {1}, 2), {2.5, 10});  // / (4 - 2)
  expect_near(g::std(rows(), {1}, 0), {std::sqrt(1.25), std::sqrt(5.0)});
  expect_near(rows().var({1}, 0), {1.25, 5});
  expect_near(rows().std({1}, 1), {std::sqrt(5.0 / 3), std::sqrt(20.0 / 3)});
}

TEST(VarStdOrder, FourthArgumentIsKeepdim) {
  EXPECT_EQ(g::var(rows(), {1}).shape(), (g::Shape{2}));
  EXPECT_EQ(g::var(rows(), {1}, 1, false).shape(), (g::Shape{2}));
  EXPECT_EQ(g::var(rows(), {1}, 1, true).shape(), (g::Shape{2, 1}));
  EXPECT_EQ(g::std(rows(), {0}, 0, true).shape(), (g::Shape{1, 4}));
  EXPECT_EQ(rows().var({1}, 0, true).shape(), (g::Shape{2, 1}));
  expect_near(rows().var({1}, 0, true), {1.25, 5});
  EXPECT_EQ(rows().std({}, 1, true).shape(), (g::Shape{1, 1}));
}

TEST(VarStdOrder, MethodsWithOneArgument) {
  // All eight values: mean 3.75, squared deviations sum to 37.5.
  EXPECT_NEAR(rows().var().item<double>(), 37.5 / 7, 1e-12);
  EXPECT_NEAR(rows().var(0).item<double>(), 37.5 / 8, 1e-12);
  EXPECT_NEAR(rows().std(0).item<double>(), std::sqrt(37.5 / 8), 1e-12);
  // A braced list is dims, not a correction.
  expect_near(rows().var({1}), {5.0 / 3, 20.0 / 3});
  expect_near(rows().std({0}), {std::sqrt(0.5), std::sqrt(2.0), std::sqrt(4.5), std::sqrt(8.0)});
}
