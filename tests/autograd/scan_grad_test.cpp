// Scan gradients beyond the op registry's rows (tests/ops/scan_rows.cpp), which draw inputs
// without zeros: cumprod at zeros, first order by the segment formula and second order by
// the quadratic one (Note [cumprod backward with zeros] in autograd/ops_scan.cpp).
#include <gtest/gtest.h>

#include "grad_test_util.h"

namespace g = graft;
using g::autograd::TensorList;
using g::testing::make_tensor;

namespace {

g::Tensor leaf(const std::vector<double>& values, const g::Shape& shape) {
  return make_tensor(values, shape).requires_grad_();
}

// dx_k = sum_{j >= k} prod_{i <= j, i != k} x_i with g = 1, written out for x = (2, 0, 3, 0, 5):
//   k = 0: 1 + x1 + x1 x2 + ... = 1 (every later term holds x1 = 0)
//   k = 1: x0 + x0 x2 + x0 x2 x3 + ... = 2 + 6 = 8 (the first zero: terms up to the second)
//   k >= 2: every term holds x1 = 0
// and for a line without zeros, (1, 2, 4): y = (1, 2, 8), dx = (1 + 2 + 8, 1 + 4, 2) = (11, 5, 2).
TEST(CumprodGrad, ZerosGetTheSumOfTheirProducts) {
  const g::Tensor x = leaf({2, 0, 3, 0, 5}, {5});
  g::cumprod(x, 0).sum().backward();
  EXPECT_EQ(x.grad().to_vector<double>(), (std::vector<double>{1, 8, 0, 0, 0}));

  // Lines along dim 0 of a (3, 3): one zero first, one zero last, none.
  const g::Tensor m = leaf({0, 2, 1,  //
                            3, 5, 2,  //
                            4, 0, 4},
                           {3, 3});
  g::cumprod(m, 0).sum().backward();
  // column 0 (0, 3, 4): k = 0 gets 1 + 3 + 12 = 16, the rest 0;
  // column 1 (2, 5, 0): k = 0: 1 + 5 + 0 = 6, k = 1: 2 + 0 = 2, k = 2: 10;
  // column 2 (1, 2, 4): (11, 5, 2) as above.
  EXPECT_EQ(m.grad().to_vector<double>(), (std::vector<double>{16, 6, 11, 0, 2, 5, 0, 10, 2}));
}

// cumprod is a polynomial in x, so central differences are exact enough at zeros too, and
// its second derivatives there include the terms through the zero that the first-order
// formula's masks hold constant.
TEST(CumprodGrad, MatchesFiniteDifferencesAtZerosToSecondOrder) {
  for (const int64_t dim : {0, 1, -1}) {
    SCOPED_TRACE("dim " + std::to_string(dim));
    const auto f = [dim](const TensorList& in) { return g::cumprod(in[0], dim); };
    const g::Tensor x = leaf({0, 2, 3, -1.5, 0, 0, 5, 0.5, 1, 2, 0, 0.25}, {3, 4});
    EXPECT_TRUE(g::autograd::gradcheck(f, {x}));
    EXPECT_TRUE(g::autograd::gradgradcheck(f, {x}));
  }
  const auto line = [](const TensorList& in) { return g::cumprod(in[0], 0); };
  const g::Tensor one_zero = leaf({1.5, -2, 0, 0.5, 3}, {5});
  EXPECT_TRUE(g::autograd::gradcheck(line, {one_zero}));
  EXPECT_TRUE(g::autograd::gradgradcheck(line, {one_zero}));
}

// The gradient of the gradient at a zero, written out for x = (2, 0, 3) and g = (1, 1, 1):
// dx_1 = x0 + x0 x2, so d(dx_1)/dx_0 = 1 + x2 = 4 and d(dx_1)/dx_2 = x0 = 2; the segment
// formula alone would see x1's row only through its masks.
TEST(CumprodGrad, SecondDerivativeThroughAZero) {
  const g::Tensor x = leaf({2, 0, 3}, {3});
  const g::Tensor y = g::cumprod(x, 0).sum();
  const g::Tensor dx = g::autograd::grad({y}, {x}, {.create_graph = true})[0];
  EXPECT_EQ(dx.to_vector<double>(), (std::vector<double>{1, 8, 0}));
  const g::Tensor ddx = g::autograd::grad({dx.index({1})}, {x})[0];
  EXPECT_EQ(ddx.to_vector<double>(), (std::vector<double>{4, 0, 2}));
}

}  // namespace
