// Gradients of advanced indexing by hand, beside the registry's gradcheck and gradgradcheck
// rows (tests/ops/advanced_index_rows.cpp): repeated indices add up, index_put_ zeroes
// self's gradient where it wrote (and keeps it with accumulate), values get the gradient at
// the positions they were written to, summed over the dims they were broadcast along, and
// the node names say which op ran.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "grad_test_util.h"

namespace g = graft;
using g::Slice;
using g::Tensor;
using g::testing::make_tensor;

namespace {

Tensor ints(const std::vector<double>& values, const g::Shape& shape) {
  return make_tensor(values, shape, g::kInt64);
}
Tensor leaf(const std::vector<double>& values, const g::Shape& shape) {
  return make_tensor(values, shape).requires_grad_();
}
std::vector<double> grad_of(const Tensor& t) { return t.grad().to_vector<double>(); }

TEST(AdvancedIndexGrad, RepeatedIndicesAddUp) {
  const Tensor x = leaf({1, 2, 3}, {3});
  const Tensor y = x.index({ints({0, 2, 0, -3}, {2, 2})});  // x[0] read three times
  EXPECT_EQ(y.grad_fn()->name(), "IndexBackward");
  y.backward(make_tensor({1, 2, 3, 4}, {2, 2}));
  EXPECT_EQ(grad_of(x), (std::vector<double>{8, 0, 2}));  // 1 + 3 + 4, -, 2
  // Through a mask of two dims: each true element gets its row's gradient.
  const Tensor m = leaf({1, 2, 3, 4}, {2, 2});
  m.index({make_tensor({0, 1, 1, 0}, {2, 2}, g::kBool)}).sum().backward();
  EXPECT_EQ(grad_of(m), (std::vector<double>{0, 1, 1, 0}));
}

TEST(AdvancedIndexGrad, IndexPutZeroesOverwrittenPositionsAndSumsBroadcastValues) {
  const Tensor x = leaf({1, 2, 3, 4, 5, 6}, {2, 3});
  const Tensor v = leaf({10, 20}, {2});
  // y[:, [2, 0]] = v: v broadcast over the 2 rows, so dv sums the two rows' gradients.
  // The write goes through the view y[:, :] (the slice), so y's node is CopySlices.
  const Tensor y = x * 1;
  y.index_put_({Slice(), ints({2, 0}, {2})}, v);
  EXPECT_EQ(y.grad_fn()->name(), "CopySlices");
  y.backward(make_tensor({1, 2, 3, 4, 5, 6}, {2, 3}));
  EXPECT_EQ(grad_of(x), (std::vector<double>{0, 2, 0, 0, 5, 0}));  // columns 0 and 2 written
  EXPECT_EQ(grad_of(v), (std::vector<double>{3 + 6, 1 + 4}));      // v[0] -> col 2, v[1] -> col 0
}

TEST(AdvancedIndexGrad, AccumulateKeepsSelfsGradientAndRepeatsAdd) {
  const Tensor x = leaf({1, 2, 3}, {3});
  const Tensor v = leaf({10, 20, 30}, {3});
  const Tensor y = x * 1;
  y.index_put_({ints({1, 1, 2}, {3})}, v, /*accumulate=*/true);
  EXPECT_EQ(y.grad_fn()->name(), "IndexPutBackward");
  EXPECT_EQ(y.to_vector<double>(), (std::vector<double>{1, 32, 33}));
  y.backward(make_tensor({1, 2, 3}, {3}));
  EXPECT_EQ(grad_of(x), (std::vector<double>{1, 2, 3}));
  EXPECT_EQ(grad_of(v), (std::vector<double>{2, 2, 3}));
}

TEST(AdvancedIndexGrad, SecondDerivativeThroughIndex) {
  // f(x) = sum(x[idx]^2) with x[1] read twice: df/dx1 = 2 * 2 x1, d2f/dx1^2 = 4.
  const Tensor x = leaf({1, 2, 3}, {3});
  const Tensor idx = ints({1, 1, 0}, {3});
  const Tensor f = (x.index({idx}) * x.index({idx})).sum();
  const Tensor dx = g::autograd::grad({f}, {x}, {.create_graph = true})[0];
  EXPECT_EQ(dx.to_vector<double>(), (std::vector<double>{2, 8, 0}));
  const Tensor d2 = g::autograd::grad({dx.index({ints({1}, {1})}).sum()}, {x})[0];
  EXPECT_EQ(d2.to_vector<double>(), (std::vector<double>{0, 4, 0}));
}

}  // namespace
