// The autograd, "nn, optim, data", "Reduced precision" and interop examples of the design's
// API.md, compiled and run on the CPU (API.md moves the model to CUDA; here the device is
// whichever graft has), so the contract cannot drift from the code. Each snippet is
// API.md's, shortened where it loops.
#include <gtest/gtest.h>

#include <filesystem>

#include "graft/graft.h"

namespace g = graft;

TEST(ApiContract, Autograd) {
  g::Tensor x = g::randn({4, 3});
  auto w = g::randn({3, 2}).requires_grad_();
  auto loss = g::matmul(x, w).relu().sum();
  loss.backward();  // w.grad() now holds dloss/dw
  EXPECT_EQ(w.grad().shape(), g::Shape({3, 2}));
  {
    g::NoGradGuard no_grad;
    EXPECT_FALSE((w * 2).requires_grad());  // nothing recorded
  }
  auto loss2 = g::matmul(x, w).relu().sum();
  auto grads = g::autograd::grad({loss2}, {w}, {.retain_graph = true, .create_graph = true});
  ASSERT_EQ(grads.size(), 1u);
  EXPECT_TRUE(g::allclose(grads[0], w.grad()));
  EXPECT_TRUE(w.is_leaf());
  EXPECT_EQ(loss.grad_fn()->name(), "SumBackward");
}

TEST(ApiContract, NnOptimData) {
  const auto root = g::data::FashionMNIST::default_root();
  if (!std::filesystem::exists(root / "train-images-idx3-ubyte.gz"))
    GTEST_SKIP() << "Fashion-MNIST is not installed at " << root
                 << " (apt-get install dataset-fashion-mnist)";
  const g::DeviceType device = g::cuda::is_available() ? g::kCUDA : g::kCPU;
  g::nn::Sequential net(g::nn::Conv2d(1, 16, /*kernel*/ 3, /*stride*/ 1, /*padding*/ 1),
                        g::nn::ReLU(), g::nn::MaxPool2d(2), g::nn::Flatten(),
                        g::nn::Linear(16 * 14 * 14, 10));
  net.to(device);
  g::optim::AdamW opt(net.parameters(), /*lr*/ 1e-3, /*weight_decay*/ 1e-2);
  g::data::FashionMNIST train(g::data::FashionMNIST::default_root(), g::data::Split::Train);
  g::data::DataLoader loader(train, /*batch_size*/ 64, /*shuffle*/ true);
  int steps = 0;
  for (auto [x, y] : loader) {  // x: (64, 1, 28, 28) float32, y: (64,) int64
    EXPECT_EQ(x.shape(), g::Shape({64, 1, 28, 28}));
    EXPECT_EQ(y.dtype(), g::kInt64);
    opt.zero_grad();
    auto loss = g::nn::functional::cross_entropy(net(x.to(device)), y.to(device));
    loss.backward();
    opt.step();
    if (++steps == 3) break;
  }
  const auto path = std::filesystem::temp_directory_path() / "graft_api_test_net.safetensors";
  g::save(net.state_dict(), path);  // readable by Python's safetensors
  net.load_state_dict(g::load(path));
  std::filesystem::remove(path);
  EXPECT_EQ(steps, 3);
}

TEST(ApiContract, ReducedPrecision) {
  g::nn::Sequential net(g::nn::Linear(8, 16), g::nn::ReLU(), g::nn::Linear(16, 4));
  g::optim::SGD opt(net.parameters(), /*lr*/ 0.1);
  const g::Tensor x = g::randn({5, 8});
  const g::Tensor y = g::tensor({0, 1, 2, 3, 0}, g::kInt64);

  auto h = g::randn({4, 4}).to(g::kBFloat16);  // kFloat16 likewise; h + 1.5 stays bfloat16
  EXPECT_EQ((h + 1.5).dtype(), g::kBFloat16);
  g::BFloat16 b = h[0][0].item<g::BFloat16>();  // float(b) converts back
  EXPECT_EQ(float(b), h.to(g::kFloat32)[0][0].item<float>());
  g::Tensor loss;
  {
    g::AutocastGuard autocast(g::kCPU, g::kBFloat16);  // or (g::kCUDA, g::kFloat16)
    auto logits = net(x);  // matmul/conv/linear/attention run in bfloat16,
    EXPECT_EQ(logits.dtype(), g::kBFloat16);
    loss = g::nn::functional::cross_entropy(logits, y);  // losses in float32
    EXPECT_EQ(loss.dtype(), g::kFloat32);
  }
  g::amp::GradScaler scaler;  // dynamic loss scaling for float16
  scaler.scale(loss).backward();
  EXPECT_TRUE(scaler.step(opt));  // skipped when a gradient is inf or NaN
  scaler.update();
  EXPECT_EQ(scaler.get_scale(), 65536.0);
}

TEST(ApiContract, Interop) {
  g::Tensor t = g::arange(6).reshape({2, 3});
  DLManagedTensor* m = g::to_dlpack(t);  // legacy ABI (libtorch's at::fromDLPack reads it)
  g::Tensor u = g::from_dlpack(m);       // zero-copy; takes ownership
  DLManagedTensorVersioned* mv = g::to_dlpack_versioned(t);  // DLPack 1.x
  g::Tensor w = g::from_dlpack(mv);
  EXPECT_EQ(u.data_ptr(), t.data_ptr());
  EXPECT_EQ(w.data_ptr(), t.data_ptr());
  EXPECT_TRUE(g::equal(w, t));
}
