// fmod and remainder beyond the op registry, whose rows use positive divisors only: the
// sign rules for every sign combination (fmod takes the dividend's sign as C does,
// remainder the divisor's as Python does), on integers and floats, the rounding of
// round() at halves, and what integer division by zero and INT_MIN % -1 do.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <limits>

#include "test_util.h"

namespace g = graft;
using g::testing::error_message;
using g::testing::make_tensor;
using ::testing::HasSubstr;

namespace {

// Every sign combination of dividend and divisor, with and without a remainder.
const std::vector<double> kDividends = {7, -7, 7, -7, 6, -6, 0};
const std::vector<double> kDivisors = {3, 3, -3, -3, 3, -3, -3};
// C's fmod:        7 % 3 = 1, -7 % 3 = -1, 7 % -3 = 1, -7 % -3 = -1
const std::vector<double> kFmod = {1, -1, 1, -1, 0, 0, 0};
// Python's 7 % 3 = 1, -7 % 3 = 2, 7 % -3 = -2, -7 % -3 = -1
const std::vector<double> kRemainder = {1, 2, -2, -1, 0, 0, 0};

}  // namespace

TEST(IntegerDivision, FmodAndRemainderFollowCAndPythonSignRulesOnEveryDtype) {
  for (g::DType dtype : {g::kInt32, g::kInt64, g::kFloat32, g::kFloat64}) {
    const g::Tensor a = make_tensor(kDividends, {7}, dtype);
    const g::Tensor b = make_tensor(kDivisors, {7}, dtype);
    EXPECT_EQ(g::fmod(a, b).dtype(), dtype);
    EXPECT_EQ(g::fmod(a, b).to_vector<double>(), kFmod) << dtype;
    EXPECT_EQ(g::remainder(a, b).to_vector<double>(), kRemainder) << dtype;
  }
}

TEST(IntegerDivision, FloatRemaindersKeepTheirFraction) {
  const g::Tensor a = make_tensor({5.5, -5.5}, {2}, g::kFloat64);
  EXPECT_EQ(g::fmod(a, 2.0).to_vector<double>(), (std::vector<double>{1.5, -1.5}));
  EXPECT_EQ(g::remainder(a, 2.0).to_vector<double>(), (std::vector<double>{1.5, 0.5}));
  EXPECT_EQ(g::remainder(a, -2.0).to_vector<double>(), (std::vector<double>{-0.5, -1.5}));
}

TEST(IntegerDivision, ByZeroIsAnErrorForIntegersInEveryForm) {
  const g::Tensor a = make_tensor({4, 5}, {2}, g::kInt64);
  const g::Tensor with_zero = make_tensor({2, 0}, {2}, g::kInt64);
  EXPECT_THAT(error_message([&] { g::fmod(a, with_zero); }),
              HasSubstr("fmod(): integer division by zero"));
  EXPECT_THAT(error_message([&] { g::remainder(a, 0); }),
              HasSubstr("remainder(): integer division by zero"));
  EXPECT_THAT(error_message([&] { g::remainder(7, with_zero); }), HasSubstr("division by zero"));
  g::Tensor self = a.clone();
  EXPECT_THAT(error_message([&] { self.fmod_(with_zero); }), HasSubstr("division by zero"));
  EXPECT_EQ(self.to_vector<int64_t>(), (std::vector<int64_t>{4, 5}));  // left untouched
}

TEST(IntegerDivision, ByZeroIsNanForFloats) {
  const g::Tensor a = make_tensor({4, -5}, {2}, g::kFloat32);
  for (double v : g::fmod(a, 0.0).to_vector<double>()) EXPECT_TRUE(std::isnan(v));
  for (double v : g::remainder(a, 0.0).to_vector<double>()) EXPECT_TRUE(std::isnan(v));
}

TEST(IntegerDivision, MostNegativeIntegerByMinusOneIsZeroNotATrap) {
  const int64_t lowest = std::numeric_limits<int64_t>::lowest();
  const g::Tensor a = g::full({2}, lowest, g::kInt64);
  EXPECT_EQ(g::fmod(a, -1).to_vector<int64_t>(), (std::vector<int64_t>{0, 0}));
  EXPECT_EQ(g::remainder(a, -1).to_vector<int64_t>(), (std::vector<int64_t>{0, 0}));
  const g::Tensor b = g::full({1}, std::numeric_limits<int32_t>::lowest(), g::kInt32);
  EXPECT_EQ(g::fmod(b, -1).to_vector<int32_t>(), (std::vector<int32_t>{0}));
}

TEST(Rounding, RoundGoesToTheEvenNeighbourAtHalves) {
  const g::Tensor x = make_tensor({0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 2.6}, {7}, g::kFloat32);
  EXPECT_EQ(g::round(x).to_vector<double>(), (std::vector<double>{0, 2, 2, -0, -2, -2, 3}));
  EXPECT_EQ(g::floor(x).to_vector<double>(), (std::vector<double>{0, 1, 2, -1, -2, -3, 2}));
  EXPECT_EQ(g::ceil(x).to_vector<double>(), (std::vector<double>{1, 2, 3, -0, -1, -2, 3}));
}

TEST(Rounding, SignOfZeroIsZeroAndNanStaysNan) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const std::vector<double> got =
      g::sign(make_tensor({-3, 0, 2, nan}, {4}, g::kFloat64)).to_vector<double>();
  EXPECT_EQ(got[0], -1);
  EXPECT_EQ(got[1], 0);
  EXPECT_EQ(got[2], 1);
  EXPECT_TRUE(std::isnan(got[3]));
  EXPECT_EQ(g::sign(make_tensor({-3, 0, 9}, {3}, g::kInt32)).to_vector<int32_t>(),
            (std::vector<int32_t>{-1, 0, 1}));
}
