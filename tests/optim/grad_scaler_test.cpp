// amp::GradScaler (optim/grad_scaler.h) against PyTorch's rules: scaled gradients unscaled
// exactly (the scales are powers of two), a step with an inf or NaN gradient skipped and the
// scale backed off, growth after growth_interval clean steps, the call-order errors, and
// its state in a checkpoint.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "graft/graft.h"
#include "test_util.h"

namespace g = graft;
using g::amp::GradScaler;
using g::testing::error_message;
using testing::HasSubstr;

namespace {

// The seed first, so that every Training starts from the same weights and data.
struct Seeded {
  Seeded() { g::manual_seed(7); }
};

// A one-layer model, its loss on fixed data, and SGD over it.
struct Training : Seeded {
  g::Tensor loss() { return g::square(layer(x)).mean(); }
  g::nn::Linear layer{3, 2};
  g::optim::SGD sgd{layer.parameters(), /*lr*/ 0.5};
  g::Tensor x = g::randn({4, 3});
};

TEST(GradScaler, PyTorchsDefaults) {
  const GradScaler scaler;
  EXPECT_EQ(scaler.get_scale(), 65536.0);
  EXPECT_EQ(scaler.get_growth_factor(), 2.0);
  EXPECT_EQ(scaler.get_backoff_factor(), 0.5);
  EXPECT_EQ(scaler.get_growth_interval(), 2000);
  EXPECT_TRUE(scaler.is_enabled());
}

TEST(GradScaler, ScalesTheLossAndAHalfLossBecomesFloat32) {
  GradScaler scaler(1024.0);
  EXPECT_EQ(scaler.scale(g::full({}, 3.0)).item<float>(), 3072.0f);
  // 0-d float16 * 0-d float32 is float32, so 60000 * 1024 does not overflow float16.
  const g::Tensor scaled = scaler.scale(g::full({}, 60000.0, g::kFloat16));
  EXPECT_EQ(scaled.dtype(), g::kFloat32);
  EXPECT_EQ(scaled.item<double>(), 60000.0 * 1024);
}

TEST(GradScaler, AScaledStepIsThePlainStep) {
  Training plain, scaled;
  plain.loss().backward();
  plain.sgd.step();
  GradScaler scaler(4096.0);
  scaler.scale(scaled.loss()).backward();
  EXPECT_TRUE(scaler.step(scaled.sgd));
  scaler.update();
  // Powers of two: scaling and unscaling are exact, so the parameters agree to the bit.
  EXPECT_TRUE(g::equal(scaled.layer.weight, plain.layer.weight));
  EXPECT_TRUE(g::equal(scaled.layer.bias, plain.layer.bias));
  EXPECT_EQ(scaler.get_scale(), 4096.0);
  EXPECT_EQ(scaler.get_growth_tracker(), 1);
}

TEST(GradScaler, UnscaleGivesTheTrueGradientsForClipping) {
  Training plain, scaled;
  plain.loss().backward();
  GradScaler scaler(256.0);
  scaler.scale(scaled.loss()).backward();
  EXPECT_TRUE(g::equal(scaled.layer.weight.grad(), plain.layer.weight.grad() * 256));
  scaler.unscale_(scaled.sgd);
  EXPECT_TRUE(g::equal(scaled.layer.weight.grad(), plain.layer.weight.grad()));
  g::optim::clip_grad_norm_(scaled.layer.parameters(), 0.1);
  EXPECT_TRUE(scaler.step(scaled.sgd)) << "step() does not unscale a second time";
  EXPECT_THAT(error_message([&] { scaler.unscale_(scaled.sgd); }),
              HasSubstr("called after step()"));
  EXPECT_THAT(
      error_message([&] { scaler.step(scaled.sgd); }),
      HasSubstr("step() has already been called on this optimizer since the last update()"));
  scaler.update();
}

TEST(GradScaler, AnInfOrNanGradientSkipsTheStepAndBacksOff) {
  for (double bad : {std::numeric_limits<double>::infinity(), std::nan("")}) {
    Training s;
    GradScaler scaler(1024.0);
    scaler.scale(s.loss()).backward();
    s.layer.bias.grad().index_put_({1}, bad);
    const g::Tensor before = s.layer.weight.detach().clone();
    EXPECT_FALSE(scaler.step(s.sgd));
    EXPECT_TRUE(g::equal(s.layer.weight, before)) << "no parameter moved";
    scaler.update();
    EXPECT_EQ(scaler.get_scale(), 512.0);
    EXPECT_EQ(scaler.get_growth_tracker(), 0);
  }
}

// A huge but finite gradient (its square beyond float32's range) is not an inf: the step
// runs, as PyTorch's element-wise check lets it, and the tracked norm is the true one.
TEST(GradScaler, AHugeFiniteGradientIsNotAnInf) {
  Training s;
  GradScaler scaler(1024.0);
  scaler.scale(s.loss()).backward();
  s.layer.bias.grad().index_put_({1}, 1024.0 * 1e25);
  EXPECT_TRUE(scaler.step(s.sgd));
  scaler.update();
  EXPECT_EQ(scaler.get_scale(), 1024.0);
  EXPECT_FLOAT_EQ(s.layer.bias.grad()[1].item<float>(), 1e25f);  // unscaled

  s.sgd.set_grad_norm_tracking(true);
  s.sgd.zero_grad();
  s.loss().backward();
  s.layer.bias.grad().fill_(0.0);
  s.layer.weight.grad().fill_(0.0);
  s.layer.weight.grad().index_put_({0, 0}, 3e20);
  s.layer.weight.grad().index_put_({1, 2}, 4e20);
  s.sgd.step();
  EXPECT_FLOAT_EQ(s.sgd.last_grad_norm().item<float>(), 5e20f);
}

TEST(GradScaler, GrowsAfterGrowthIntervalCleanSteps) {
  Training s;
  GradScaler scaler(8.0, /*growth_factor*/ 4.0, /*backoff_factor*/ 0.25, /*growth_interval*/ 3);
  for (int step = 1; step <= 3; ++step) {
    s.sgd.zero_grad();
    scaler.scale(s.loss()).backward();
    EXPECT_TRUE(scaler.step(s.sgd));
    scaler.update();
    EXPECT_EQ(scaler.get_scale(), step < 3 ? 8.0 : 32.0) << "step " << step;
  }
  EXPECT_EQ(scaler.get_growth_tracker(), 0);
  scaler.update(2.0);  // a scale of the caller's
  EXPECT_EQ(scaler.get_scale(), 2.0);
}

TEST(GradScaler, CallOrderAndBadInputAreClearErrors) {
  Training s;
  GradScaler scaler;
  EXPECT_THAT(error_message([&] { scaler.update(); }),
              HasSubstr("no inf checks were recorded prior to update()"));
  scaler.scale(s.loss()).backward();
  scaler.unscale_(s.sgd);
  EXPECT_THAT(error_message([&] { scaler.unscale_(s.sgd); }),
              HasSubstr("unscale_() has already been called on this optimizer"));
  EXPECT_THAT(error_message([] { GradScaler(1.0, /*growth_factor*/ 0.5); }),
              HasSubstr("growth_factor should be > 1"));
  EXPECT_THAT(error_message([] { GradScaler(-1.0); }), HasSubstr("init_scale must be positive"));
  // float16 parameters: PyTorch refuses their gradients too.
  g::nn::Linear half(2, 2);
  half.to(g::kFloat16);
  g::optim::SGD sgd(half.parameters(), 0.1);
  GradScaler fresh;
  fresh.scale(half(g::ones({1, 2}, g::kFloat16)).sum()).backward();
  EXPECT_THAT(error_message([&] { fresh.unscale_(sgd); }),
              HasSubstr("attempting to unscale float16 gradients"));
}

TEST(GradScaler, DisabledIsAPlainStep) {
  Training s;
  GradScaler scaler(65536.0, 2.0, 0.5, 2000, /*enabled*/ false);
  const g::Tensor loss = s.loss();
  EXPECT_TRUE(scaler.scale(loss).is_same(loss));
  EXPECT_EQ(scaler.get_scale(), 1.0);
  loss.backward();
  EXPECT_TRUE(scaler.step(s.sgd));
  scaler.update();
}

TEST(GradScaler, WarnsOnceThatABfloat16AutocastNeedsNoScaling) {
  std::vector<std::string> warnings;
  const g::WarningHandler previous =
      g::set_warning_handler([&](const std::string& message) { warnings.push_back(message); });
  const GradScaler scaler;
  const g::Tensor loss = g::ones({});
  { const g::AutocastGuard autocast(g::kCPU, g::kFloat16); }
  scaler.scale(loss);
  EXPECT_TRUE(warnings.empty()) << "float16 autocast is what loss scaling is for";
  { const g::AutocastGuard autocast(g::kCPU, g::kBFloat16); }
  scaler.scale(loss);
  scaler.scale(loss);
  g::set_warning_handler(previous);
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_THAT(warnings[0], HasSubstr("after a bfloat16 autocast, which needs no loss scaling"));
  // A disabled scaler is the fix the warning names, and says nothing.
  const GradScaler disabled(65536.0, 2.0, 0.5, 2000, /*enabled=*/false);
  warnings.clear();
  g::set_warning_handler([&](const std::string& message) { warnings.push_back(message); });
  disabled.scale(loss);
  g::set_warning_handler(previous);
  EXPECT_TRUE(warnings.empty());
}

TEST(GradScaler, StateDictRoundTrips) {
  Training s;
  GradScaler scaler(64.0, 2.0, 0.5, 10);
  scaler.scale(s.loss()).backward();
  scaler.step(s.sgd);
  scaler.update();
  GradScaler restored;
  restored.load_state_dict(scaler.state_dict());
  EXPECT_EQ(restored.get_scale(), 64.0);
  EXPECT_EQ(restored.get_growth_interval(), 10);
  EXPECT_EQ(restored.get_growth_tracker(), 1);
  g::StateDict broken = scaler.state_dict();
  broken.erase("scale");
  EXPECT_THAT(error_message([&] { restored.load_state_dict(broken); }),
              HasSubstr("the state has no \"scale\""));
}

}  // namespace
