// nn::init: gains and fans against PyTorch's table, and each fill's statistics over a large
// tensor (bounds of the uniform ones, mean and std of all; tolerances are several standard
// errors of the estimate, so a wrong constant fails while sampling noise does not).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>

#include "test_util.h"

namespace g = graft;
namespace init = graft::nn::init;
using g::testing::error_message;
using init::FanMode;
using init::Nonlinearity;
using ::testing::HasSubstr;

namespace {

struct Stats {
  double min, max, mean, std;
};

Stats stats(const g::Tensor& t) {
  const std::vector<double> v = t.to_vector<double>();
  Stats s{INFINITY, -INFINITY, 0, 0};
  for (double x : v) {
    s.min = std::min(s.min, x);
    s.max = std::max(s.max, x);
    s.mean += x / static_cast<double>(v.size());
  }
  for (double x : v) s.std += (x - s.mean) * (x - s.mean) / static_cast<double>(v.size());
  s.std = std::sqrt(s.std);
  return s;
}

// A weight (out = 400, in = 50, 3, 3): fan_in = 450, fan_out = 3600; 180000 samples.
g::Tensor weight(g::DType dtype = g::kFloat32) { return g::empty({400, 50, 3, 3}, dtype); }

void expect_uniform(const g::Tensor& t, double bound) {
  const Stats s = stats(t);
  EXPECT_GE(s.min, -bound);
  EXPECT_LE(s.max, bound);
  EXPECT_GT(s.max, 0.99 * bound);  // the whole range is used
  EXPECT_NEAR(s.mean, 0, 0.01 * bound);
  EXPECT_NEAR(s.std, bound / std::sqrt(3.0), 0.01 * bound);  // std of U(-b, b) = b / sqrt 3
}

void expect_normal(const g::Tensor& t, double mean, double std) {
  const Stats s = stats(t);
  EXPECT_NEAR(s.mean, mean, 0.01 * std);
  EXPECT_NEAR(s.std, std, 0.01 * std);
}

}  // namespace

TEST(NnInit, GainsAndFansFollowPyTorch) {
  EXPECT_EQ(init::calculate_gain(Nonlinearity::kLinear), 1);
  EXPECT_EQ(init::calculate_gain(Nonlinearity::kSigmoid), 1);
  EXPECT_DOUBLE_EQ(init::calculate_gain(Nonlinearity::kTanh), 5.0 / 3);
  EXPECT_DOUBLE_EQ(init::calculate_gain(Nonlinearity::kReLU), std::sqrt(2.0));
  EXPECT_DOUBLE_EQ(init::calculate_gain(Nonlinearity::kLeakyReLU), std::sqrt(2 / 1.0001));
  EXPECT_DOUBLE_EQ(init::calculate_gain(Nonlinearity::kLeakyReLU, std::sqrt(5.0)),
                   std::sqrt(1.0 / 3));
  EXPECT_DOUBLE_EQ(init::calculate_gain(Nonlinearity::kSELU), 0.75);
  using Fans = std::pair<int64_t, int64_t>;
  EXPECT_EQ(init::calculate_fan_in_and_fan_out(weight()), Fans(450, 3600));
  EXPECT_EQ(init::calculate_fan_in_and_fan_out(g::empty({3, 7})), Fans(7, 3));
  EXPECT_THAT(error_message([] { init::calculate_fan_in_and_fan_out(g::empty({5})); }),
              HasSubstr("calculate_fan_in_and_fan_out(): fan in and fan out can not be computed "
                        "for a tensor with fewer than 2 dims, but got shape (5,)"));
  EXPECT_THAT(error_message([] { init::kaiming_uniform_(g::empty({5})); }),
              HasSubstr("nn::init::kaiming_uniform_(): fan in and fan out can not be computed"));
}

TEST(NnInit, KaimingFills) {
  g::manual_seed(0);
  // Leaky ReLU of slope sqrt(5) (Linear's default): bound = sqrt(1/3) sqrt(3 / 450).
  expect_uniform(init::kaiming_uniform_(weight(), std::sqrt(5.0)), 1 / std::sqrt(450.0));
  expect_uniform(
      init::kaiming_uniform_(weight(g::kFloat64), 0, FanMode::kFanOut, Nonlinearity::kReLU),
      std::sqrt(2.0) * std::sqrt(3.0 / 3600));
  expect_normal(init::kaiming_normal_(weight(), 0, FanMode::kFanIn, Nonlinearity::kReLU), 0,
                std::sqrt(2.0 / 450));
}

TEST(NnInit, XavierFills) {
  g::manual_seed(1);
  expect_uniform(init::xavier_uniform_(weight(), 2.0), 2 * std::sqrt(6.0 / 4050));
  expect_normal(init::xavier_normal_(weight()), 0, std::sqrt(2.0 / 4050));
}

TEST(NnInit, PlainFillsWorkOnViewsAndParametersWithoutRecording) {
  g::manual_seed(2);
  const g::Tensor p = g::zeros({300, 600}).requires_grad_();
  expect_uniform(init::uniform_(p, -0.5, 0.5), 0.5);
  EXPECT_TRUE(p.is_leaf());
  expect_normal(init::normal_(p, 3, 2), 3, 2);
  init::ones_(p);
  EXPECT_EQ(stats(p).min, 1);
  EXPECT_EQ(stats(p).max, 1);
  init::zeros_(p);
  EXPECT_EQ(stats(p).max, 0);
  // A strided view is written through.
  const g::Tensor base = g::zeros({4, 4});
  init::constant_(base.t().narrow(0, 1, 2), 7);
  EXPECT_EQ(stats(base).max, 7);
  EXPECT_EQ(base.sum().item<double>(), 7 * 8);
  EXPECT_THAT(error_message([] { init::normal_(g::zeros({2}, g::kInt64)); }),
              HasSubstr("nn::init::normal_(): expected a defined floating-point tensor, but got "
                        "int64"));
  EXPECT_THAT(error_message([] { init::uniform_(g::zeros({2}), 1, 0); }),
              HasSubstr("expected a <= b, but got a=1 and b=0"));
}
