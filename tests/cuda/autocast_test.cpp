// Mixed-precision training against the same training in float32, on the CPU and on CUDA: an
// MLP and a CNN learn a fixed random teacher for 40 SGD steps in float32, under a bfloat16
// autocast, and under a float16 autocast with GradScaler. The products run in the 16-bit
// dtype (checked inside the guard), the parameters and their gradients stay float32, and
// each low-precision run follows the float32 one: every step's loss within 5% of
// float32's, and the last at least 30% below the first. Autocast's rules are checked op by
// op in tests/autograd/autocast_test.cpp; this is the whole step, on each device.
#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "cuda/cuda_test_util.h"

namespace g = graft;
using g::Tensor;

namespace {

struct Precision {
  std::string name;
  std::optional<g::DType> autocast;  // none: float32
  bool scaled = false;               // float16 takes a GradScaler
};

const Precision kPrecisions[] = {
    {"float32", std::nullopt},
    {"bfloat16 autocast", g::kBFloat16},
    {"float16 autocast with GradScaler", g::kFloat16, true},
};

// A model on the GPU, built from the same seed for every precision.
using MakeModel = std::function<std::shared_ptr<g::nn::Module>()>;

// Losses of `steps` SGD steps of the model on (x, labels), in `precision`.
std::vector<double> train(const MakeModel& make_model, const Tensor& x, const Tensor& labels,
                          const Precision& precision, int steps) {
  g::manual_seed(11);
  const std::shared_ptr<g::nn::Module> model = make_model();
  model->to(x.device());
  g::optim::SGD sgd(model->parameters(), /*lr*/ 0.05, /*momentum*/ 0.9);
  g::amp::GradScaler scaler(65536.0, 2.0, 0.5, 2000, precision.scaled);
  std::vector<double> losses;
  for (int step = 0; step < steps; ++step) {
    sgd.zero_grad();
    Tensor loss;
    {
      std::optional<g::AutocastGuard> guard;
      if (precision.autocast) guard.emplace(x.device().type(), *precision.autocast);
      const Tensor logits = model->forward(x);
      EXPECT_EQ(logits.dtype(), precision.autocast.value_or(g::kFloat32));
      loss = g::nn::functional::cross_entropy(logits, labels);
    }
    EXPECT_EQ(loss.dtype(), g::kFloat32);  // cross_entropy runs in float32 under autocast
    losses.push_back(loss.item<double>());
    scaler.scale(loss).backward();
    for (const Tensor& p : model->parameters()) {
      EXPECT_EQ(p.dtype(), g::kFloat32);
      EXPECT_EQ(p.grad().dtype(), g::kFloat32);
    }
    scaler.step(sgd);
    scaler.update();
  }
  return losses;
}

void expect_low_precision_follows_float32(const MakeModel& make_model, const Tensor& x,
                                          const Tensor& labels) {
  constexpr int kSteps = 40;
  const std::vector<double> reference = train(make_model, x, labels, kPrecisions[0], kSteps);
  ASSERT_LT(reference.back(), 0.7 * reference.front()) << "float32 does not learn";
  for (const Precision& precision : kPrecisions) {
    SCOPED_TRACE(precision.name);
    const std::vector<double> losses = train(make_model, x, labels, precision, kSteps);
    for (int step = 0; step < kSteps; ++step)
      EXPECT_NEAR(losses[step], reference[step], 0.05 * reference[step]) << "step " << step;
    EXPECT_LT(losses.back(), 0.7 * losses.front());
  }
}

// Labels of a fixed random linear teacher, so the task is learnable.
Tensor teacher_labels(const Tensor& x_flat, int64_t classes) {
  const Tensor teacher = g::randn({x_flat.size(1), classes}).to(x_flat.device());
  return g::argmax(g::matmul(x_flat, teacher), 1);
}

class AutocastTraining : public ::testing::TestWithParam<g::Device> {
 protected:
  void SetUp() override {
    if (GetParam().is_cuda()) GRAFT_REQUIRE_CUDA();
  }
};

TEST_P(AutocastTraining, MlpStepsFollowTheFloat32Run) {
  g::manual_seed(5);
  const Tensor x = g::randn({256, 64}).to(GetParam());
  const Tensor labels = teacher_labels(x, 10);
  expect_low_precision_follows_float32(
      [] {
        return std::make_shared<g::nn::Sequential>(g::nn::Linear(64, 128), g::nn::ReLU(),
                                                   g::nn::Linear(128, 10));
      },
      x, labels);
}

TEST_P(AutocastTraining, CnnStepsFollowTheFloat32Run) {
  g::manual_seed(6);
  const Tensor x = g::randn({64, 1, 12, 12}).to(GetParam());
  const Tensor labels = teacher_labels(x.view({64, 144}), 10);
  expect_low_precision_follows_float32(
      [] {
        return std::make_shared<g::nn::Sequential>(
            g::nn::Conv2d(1, 8, 3, /*stride*/ 1, /*padding*/ 1), g::nn::ReLU(), g::nn::MaxPool2d(2),
            g::nn::Flatten(), g::nn::Linear(8 * 6 * 6, 10));
      },
      x, labels);
}

INSTANTIATE_TEST_SUITE_P(Devices, AutocastTraining,
                         ::testing::Values(g::Device::cpu(), g::Device::cuda()),
                         [](const auto& info) { return info.param.is_cuda() ? "cuda" : "cpu"; });

}  // namespace
