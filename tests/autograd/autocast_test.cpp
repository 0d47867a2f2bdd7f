// AutocastGuard (autograd/autocast.h): the policy's three kinds of op, gradients back to
// float32 parameters, the cast cache and its version key, nesting, threads and errors.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <thread>

#include "graft/graft.h"
#include "test_util.h"

namespace g = graft;
namespace F = graft::nn::functional;
using g::testing::error_message;
using testing::HasSubstr;

namespace {

TEST(Autocast, OffOutsideEveryGuard) {
  EXPECT_FALSE(g::is_autocast_enabled(g::kCPU));
  EXPECT_FALSE(g::is_autocast_enabled(g::kCUDA));
  EXPECT_EQ(g::get_autocast_dtype(g::kCPU), g::kBFloat16);  // torch.autocast's defaults
  EXPECT_EQ(g::get_autocast_dtype(g::kCUDA), g::kFloat16);
  EXPECT_EQ(g::matmul(g::ones({2, 3}), g::ones({3, 2})).dtype(), g::kFloat32);
}

TEST(Autocast, MatrixProductsRunInTheLowDtype) {
  g::manual_seed(0);
  const g::Tensor a = g::randn({4, 8}), b = g::randn({8, 3}), w = g::randn({3, 8});
  const g::Tensor bias = g::randn({3});
  g::AutocastGuard autocast(g::kCPU, g::kBFloat16);
  EXPECT_TRUE(g::is_autocast_enabled(g::kCPU));
  EXPECT_FALSE(g::is_autocast_enabled(g::kCUDA));
  const g::Tensor product = g::matmul(a, b);
  EXPECT_EQ(product.dtype(), g::kBFloat16);
  // The same as casting by hand.
  EXPECT_TRUE(g::equal(product, g::matmul(a.to(g::kBFloat16), b.to(g::kBFloat16))));
  EXPECT_EQ(g::mm(a, b).dtype(), g::kBFloat16);
  EXPECT_EQ(g::bmm(a.unsqueeze(0), b.unsqueeze(0)).dtype(), g::kBFloat16);
  EXPECT_EQ(F::linear(a, w, bias).dtype(), g::kBFloat16) << "the bias too: no float32 add";
  EXPECT_EQ(F::conv2d(g::randn({1, 2, 5, 5}), g::randn({3, 2, 3, 3}), g::randn({3})).dtype(),
            g::kBFloat16);
  const g::Tensor q = g::randn({1, 2, 4, 8});
  EXPECT_EQ(F::scaled_dot_product_attention(q, q, q).dtype(), g::kBFloat16);
  // float64 is left alone, as PyTorch's autocast does.
  EXPECT_EQ(g::matmul(a.to(g::kFloat64), b.to(g::kFloat64)).dtype(), g::kFloat64);
}

TEST(Autocast, PrecisionSensitiveOpsRunInFloat32) {
  const g::Tensor h = g::randn({4, 5}).to(g::kBFloat16);
  g::AutocastGuard autocast(g::kCPU, g::kBFloat16);
  for (const g::Tensor& out :
       {g::softmax(h, 1), g::log_softmax(h, 1), h.sum(), g::prod(h), g::cumsum(h, 0), g::exp(h),
        g::log(g::abs(h) + 1), g::rsqrt(g::abs(h) + 1), g::pow(h, h), g::norm(h),
        F::layer_norm(h, {5}), F::mse_loss(h, h),
        F::cross_entropy(h, g::tensor({0, 1, 2, 3}, g::kInt64))}) {
    EXPECT_EQ(out.dtype(), g::kFloat32);
  }
  // Everything else keeps its inputs' dtype, promoted as usual.
  EXPECT_EQ(g::relu(h).dtype(), g::kBFloat16);
  EXPECT_EQ((h + g::ones({4, 5})).dtype(), g::kFloat32);
  EXPECT_EQ((h * 2).dtype(), g::kBFloat16);
}

TEST(Autocast, GradientsReachTheFloat32ParametersInTheirDtype) {
  g::manual_seed(1);
  g::nn::Linear layer(8, 4);
  const g::Tensor x = g::randn({16, 8});
  const g::Tensor y = g::tensor(std::vector<int64_t>(16, 1));
  // The float32 reference.
  F::cross_entropy(layer(x), y).backward();
  const g::Tensor want = layer.weight.grad().clone();
  layer.zero_grad();
  g::Tensor loss;
  {
    g::AutocastGuard autocast(g::kCPU, g::kBFloat16);
    const g::Tensor logits = layer(x);
    EXPECT_EQ(logits.dtype(), g::kBFloat16);
    loss = F::cross_entropy(logits, y);
  }
  EXPECT_EQ(loss.dtype(), g::kFloat32);
  loss.backward();
  ASSERT_EQ(layer.weight.grad().dtype(), g::kFloat32);
  EXPECT_TRUE(g::allclose(layer.weight.grad(), want, /*rtol*/ 0.05, /*atol*/ 0.01));
}

TEST(Autocast, AParameterIsCastOncePerGuardUntilItChanges) {
  g::manual_seed(2);
  g::nn::Linear layer(4, 4, /*bias*/ false);
  const g::Tensor x = g::randn({2, 4});
  {
    g::AutocastGuard autocast(g::kCPU);
    const g::Tensor first = layer(x);
    const g::Tensor again = layer(layer(x));
    EXPECT_EQ(g::autocast::cached_casts(), 1) << "one weight, one cast";
    // An optimizer step inside the guard changes the weight's version: the next use casts
    // the new values, not the stale copy.
    first.sum().backward();
    g::optim::SGD sgd(layer.parameters(), /*lr*/ 1.0);
    sgd.step();
    const g::Tensor after = layer(x);
    EXPECT_TRUE(g::equal(after, g::matmul(x.to(g::kBFloat16), layer.weight.to(g::kBFloat16).t())));
    EXPECT_FALSE(g::equal(after, first));
    {
      g::AutocastGuard inner(g::kCPU);
      layer(x);
      EXPECT_EQ(g::autocast::cached_casts(), 1) << "nested guards share the cache";
    }
    // Tensors that are not parameters are cast each time and never cached.
    g::matmul(x, x.t());
    EXPECT_EQ(g::autocast::cached_casts(), 1);
  }
  EXPECT_EQ(g::autocast::cached_casts(), 0) << "the outermost guard's end clears it";
}

// A cast made under NoGradGuard has no edge back to the parameter: cached, it would leave a
// later training use without a gradient. So it is not cached.
TEST(Autocast, ACastWithoutGradModeIsNotReusedForTraining) {
  g::nn::Linear layer(4, 2, /*bias*/ false);
  const g::Tensor x = g::randn({3, 4});
  g::AutocastGuard autocast(g::kCPU);
  {
    g::NoGradGuard no_grad;
    layer(x);
  }
  EXPECT_EQ(g::autocast::cached_casts(), 0);
  layer(x).sum().backward();
  ASSERT_TRUE(layer.weight.grad().defined());
  EXPECT_EQ(layer.weight.grad().dtype(), g::kFloat32);
}

TEST(Autocast, GuardsNestAndRestore) {
  const g::Tensor a = g::ones({2, 2});
  {
    g::AutocastGuard outer(g::kCPU, g::kFloat16);
    EXPECT_EQ(g::matmul(a, a).dtype(), g::kFloat16);
    {
      g::AutocastGuard off(g::kCPU, std::nullopt, /*enabled*/ false);
      EXPECT_EQ(g::matmul(a, a).dtype(), g::kFloat32);
      {
        g::AutocastGuard bf(g::kCPU, g::kBFloat16);
        EXPECT_EQ(g::matmul(a, a).dtype(), g::kBFloat16);
      }
      EXPECT_FALSE(g::is_autocast_enabled(g::kCPU));
    }
    EXPECT_EQ(g::matmul(a, a).dtype(), g::kFloat16);
    // Another thread has its own state: autocast is off there.
    g::DType there = g::kFloat64;
    std::thread([&] { there = g::matmul(a, a).dtype(); }).join();
    EXPECT_EQ(there, g::kFloat32);
    // A guard for CUDA leaves CPU tensors alone.
    g::AutocastGuard cuda(g::kCUDA, g::kBFloat16);
    EXPECT_EQ(g::matmul(a, a).dtype(), g::kFloat16);
  }
  EXPECT_FALSE(g::is_autocast_enabled(g::kCPU));
  EXPECT_EQ(g::get_autocast_dtype(g::kCPU), g::kBFloat16);
}

TEST(Autocast, OnlySixteenBitDtypes) {
  EXPECT_THAT(error_message([] { g::AutocastGuard guard(g::kCPU, g::kFloat32); }),
              HasSubstr("AutocastGuard(): autocast runs in float16 or bfloat16, got float32"));
  EXPECT_FALSE(g::is_autocast_enabled(g::kCPU));
}

}  // namespace
