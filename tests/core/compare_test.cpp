// allclose and equal: whole-tensor comparisons. allclose follows NumPy/PyTorch,
// |a - b| <= atol + rtol * |b| elementwise with broadcasting, NaN never close; equal asks
// for the same shape and the same values, whatever the dtypes.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <vector>

#include "graft/graft.h"
#include "test_util.h"

namespace g = graft;
using g::testing::error_message;
using g::testing::make_tensor;
using testing::HasSubstr;

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();

// allclose written out for an (m, n) `a` against a length-n `b` broadcast over its rows.
bool naive_allclose_rows(const std::vector<double>& a, const std::vector<double>& b, int64_t m,
                         int64_t n, double rtol, double atol) {
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = 0; j < n; ++j) {
      const double x = a[i * n + j], y = b[j];
      if (!(x == y || std::abs(x - y) <= atol + rtol * std::abs(y))) return false;
    }
  return true;
}

}  // namespace

TEST(Allclose, ToleranceIsRelativeToTheSecondArgument) {
  // |100 - 105| = 5 <= 0.0485 * 105 = 5.09, but not <= 0.0485 * 100 = 4.85.
  g::Tensor a = make_tensor({100}, {1}), b = make_tensor({105}, {1});
  EXPECT_TRUE(g::allclose(a, b, 0.0485, 0));
  EXPECT_FALSE(g::allclose(b, a, 0.0485, 0));
  // atol alone: |100 - 105| <= 5.
  EXPECT_TRUE(g::allclose(a, b, 0, 5));
  EXPECT_FALSE(g::allclose(a, b, 0, 4.99));
}

TEST(Allclose, DefaultTolerancesMatchNumPy) {
  // rtol = 1e-5, atol = 1e-8: 1 + 1e-6 is close to 1, 1 + 1e-4 is not; 1e-9 is close to 0.
  g::Tensor one = make_tensor({1}, {});
  EXPECT_TRUE(g::allclose(make_tensor({1 + 1e-6}, {}), one));
  EXPECT_FALSE(g::allclose(make_tensor({1 + 1e-4}, {}), one));
  EXPECT_TRUE(g::allclose(make_tensor({1e-9}, {}), make_tensor({0}, {})));
}

TEST(Allclose, AgreesWithANaiveLoopUnderBroadcasting) {
  const std::vector<double> b = g::testing::sample_values(4, -2, 2, 7);
  std::vector<double> a;
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 4; ++j) a.push_back(b[j] * (1 + 1e-3 * (i - 1)));  // off by -0.1%..0.1%
  g::Tensor ta = make_tensor(a, {3, 4}), tb = make_tensor(b, {4});
  for (double rtol : {1e-4, 9e-4, 1.1e-3}) {
    SCOPED_TRACE(rtol);
    const bool expected = naive_allclose_rows(a, b, 3, 4, rtol, 0);
    EXPECT_EQ(g::allclose(ta, tb, rtol, 0), expected);
    // The same values through a non-contiguous copy and an explicitly expanded b.
    EXPECT_EQ(g::allclose(ta.t().contiguous().t(), tb, rtol, 0), expected);
    EXPECT_EQ(g::allclose(ta, tb.unsqueeze(0).expand({3, 4}), rtol, 0), expected);
  }
  EXPECT_TRUE(g::allclose(ta, tb, 1.1e-3, 0));
  EXPECT_FALSE(g::allclose(ta, tb, 9e-4, 0));
  // (3, 1) against (1, 4): every pair of a column and a row.
  EXPECT_TRUE(g::allclose(make_tensor({5, 5, 5}, {3, 1}), make_tensor({5, 5, 5, 5}, {1, 4})));
}

TEST(Allclose, SlicedViewsCompareTheirLogicalValues) {
  g::Tensor a = make_tensor({1, 9, 2, 9, 3, 9}, {6}, g::kFloat32);
  g::Tensor b = make_tensor({1, 2, 3}, {3}, g::kInt32);
  EXPECT_TRUE(g::allclose(a.index({g::Slice(g::None, g::None, 2)}), b));
  EXPECT_FALSE(g::allclose(a.index({g::Slice(1, g::None, 2)}), b));
}

TEST(Allclose, NaNIsNeverCloseAndInfinitiesOnlyToThemselves) {
  g::Tensor nan = make_tensor({kNaN}, {1});
  EXPECT_FALSE(g::allclose(nan, nan));
  EXPECT_FALSE(g::allclose(nan, make_tensor({1}, {1}), 1, 1e9));
  g::Tensor inf = make_tensor({kInf, -kInf}, {2});
  EXPECT_TRUE(g::allclose(inf, inf));
  EXPECT_FALSE(g::allclose(inf, make_tensor({-kInf, kInf}, {2})));
  EXPECT_FALSE(g::allclose(make_tensor({kInf}, {1}), make_tensor({1e308}, {1}), 1, 1));
}

TEST(Allclose, MixedDtypesCompareByValue) {
  g::Tensor ints = make_tensor({1, 2, 3}, {3}, g::kInt32);
  EXPECT_TRUE(g::allclose(ints, make_tensor({1, 2, 3}, {3}, g::kFloat32)));
  EXPECT_TRUE(g::allclose(make_tensor({1, 0}, {2}, g::kBool), make_tensor({1, 0}, {2}, g::kUInt8)));
  // Two integers are close within atol, as numbers.
  EXPECT_TRUE(g::allclose(ints, make_tensor({2, 3, 4}, {3}, g::kInt64), 0, 1));
  EXPECT_FALSE(g::allclose(ints, make_tensor({2, 3, 4}, {3}, g::kInt64), 0, 0.5));
}

TEST(Allclose, EmptyTensorsAreClose) { EXPECT_TRUE(g::allclose(g::empty({0, 3}), g::empty({3}))); }

TEST(Allclose, ShapesThatDoNotBroadcastAreAnError) {
  const std::string message = error_message([] {
    g::allclose(make_tensor({1, 2, 3}, {3}), make_tensor({1, 2}, {2}));
  });
  EXPECT_THAT(message, HasSubstr("allclose()"));
  EXPECT_THAT(message, HasSubstr("(3,) and (2,) cannot be broadcast together"));
}

TEST(Allclose, OperandsMustShareADevice) {
  float data[2] = {};
  g::Tensor device = g::from_blob(data, {2}, g::TensorOptions().device(g::Device::cuda(0)));
  EXPECT_THAT(error_message([&] {
                g::allclose(make_tensor({0, 0}, {2}), device);
              }),
              HasSubstr("allclose(): Expected all tensors to be on the same device"));
  EXPECT_THAT(error_message([&] {
                g::equal(make_tensor({0, 0}, {2}), device);
              }),
              HasSubstr("equal(): Expected all tensors to be on the same device"));
}

TEST(Equal, SameShapeAndValues) {
  g::Tensor a = make_tensor({1, 2, 3, 4}, {2, 2}, g::kInt64);
  EXPECT_TRUE(g::equal(a, make_tensor({1, 2, 3, 4}, {2, 2}, g::kInt64)));
  EXPECT_FALSE(g::equal(a, make_tensor({1, 2, 3, 5}, {2, 2}, g::kInt64)));
  // A transposed view equals the transposed values.
  EXPECT_TRUE(g::equal(a.t(), make_tensor({1, 3, 2, 4}, {2, 2}, g::kInt64)));
  EXPECT_TRUE(g::equal(g::empty({0, 2}), g::empty({0, 2}, g::kInt32)));
  EXPECT_TRUE(g::equal(make_tensor({5}, {}), make_tensor({5}, {})));
}

TEST(Equal, DifferentShapesAreNotEqualEvenWhenTheyBroadcast) {
  EXPECT_FALSE(g::equal(make_tensor({1, 2, 3}, {3}), make_tensor({1, 2, 3}, {1, 3})));
  EXPECT_FALSE(g::equal(make_tensor({1}, {}), make_tensor({1}, {1})));
  EXPECT_FALSE(g::equal(g::empty({0, 2}), g::empty({2, 0})));
}

TEST(Equal, DtypesMayDiffer) {
  EXPECT_TRUE(g::equal(make_tensor({1, 2}, {2}, g::kInt32), make_tensor({1, 2}, {2}, g::kFloat64)));
  EXPECT_TRUE(g::equal(make_tensor({1, 0}, {2}, g::kBool), make_tensor({1, 0}, {2}, g::kInt64)));
  EXPECT_FALSE(g::equal(make_tensor({0.5}, {1}, g::kFloat32), make_tensor({0}, {1}, g::kInt32)));
}

TEST(Equal, NaNIsUnequalAndInfinityEqual) {
  EXPECT_FALSE(g::equal(make_tensor({kNaN}, {1}), make_tensor({kNaN}, {1})));
  EXPECT_TRUE(g::equal(make_tensor({kInf}, {1}), make_tensor({kInf}, {1}, g::kFloat32)));
}

TEST(Equal, LargeInt64ValuesCompareExactly) {
  // 2^53 and 2^53 + 1 are the same double but different int64 values.
  const int64_t big = int64_t{1} << 53;
  g::Tensor a = g::empty({1}, g::kInt64), b = g::empty({1}, g::kInt64);
  a.data_ptr<int64_t>()[0] = big;
  b.data_ptr<int64_t>()[0] = big + 1;
  EXPECT_FALSE(g::equal(a, b));
  EXPECT_FALSE(g::allclose(a, b, 0, 0));
  EXPECT_TRUE(g::allclose(a, b, 0, 1));
  EXPECT_TRUE(g::equal(a, a.clone()));
  // The extremes are 2^64 - 1 apart; the difference must not overflow.
  a.data_ptr<int64_t>()[0] = std::numeric_limits<int64_t>::min();
  b.data_ptr<int64_t>()[0] = std::numeric_limits<int64_t>::max();
  EXPECT_FALSE(g::allclose(a, b, 0, 1e19));
  EXPECT_TRUE(g::allclose(a, b, 0, 1.9e19));
}
