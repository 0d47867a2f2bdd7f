// use_deterministic_algorithms: with the switch on, the same inputs give the same bits
// whatever the thread count (kernels/settings.h), from single ops up to training steps.
//
// These tests can fail: on this project's machines Eigen's threaded GEMM sums a (256, 2048)
// x (2048, 256) product in another order than its single-threaded one, so matmul without
// the deterministic path gives different bits with 1 and 2 threads.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstring>

#include "graft/graft.h"
#include "settings_scope.h"
#include "test_util.h"

namespace g = graft;
using g::testing::error_message;
using ::testing::HasSubstr;

namespace {

// The bytes of every tensor, in order: equal bytes are equal bits.
std::string bytes_of(const std::vector<g::Tensor>& tensors) {
  std::string out;
  for (const g::Tensor& t : tensors) {
    const g::Tensor c = t.contiguous();
    out.append(static_cast<const char*>(c.data_ptr()), static_cast<size_t>(c.nbytes()));
  }
  return out;
}

// The bytes `fn` computes with 1, 2 and 3 threads in deterministic mode.
std::vector<std::string> with_each_thread_count(const std::function<std::vector<g::Tensor>()>& fn) {
  std::vector<std::string> results;
  for (int threads : {1, 2, 3}) {
    const g::testing::SettingsScope scope(true, threads);
    results.push_back(bytes_of(fn()));
  }
  return results;
}

void expect_all_equal(const std::vector<std::string>& results) {
  for (size_t i = 1; i < results.size(); ++i)
    EXPECT_TRUE(results[i] == results[0]) << "threads " << i + 1 << " differ from 1 thread";
}

g::Tensor sample(const g::Shape& shape, uint32_t seed) {
  return g::testing::make_tensor(g::testing::sample_values(shape.numel(), -1, 1, seed), shape,
                                 g::kFloat32);
}

}  // namespace

TEST(Settings, ThreadCountRoundTripsZeroIsTheDefaultAndNegativeIsAnError) {
  const g::testing::SettingsScope scope({}, 0);
  const int default_threads = g::get_num_threads();
  g::set_num_threads(1);
  EXPECT_EQ(g::get_num_threads(), 1);
  g::set_num_threads(default_threads + 1);
  EXPECT_EQ(g::get_num_threads(), default_threads + 1);
  g::set_num_threads(0);
  EXPECT_EQ(g::get_num_threads(), default_threads);
  EXPECT_THAT(error_message([] { g::set_num_threads(-1); }),
              HasSubstr("set_num_threads(): the thread count must be at least 1 (or 0 for the "
                        "default), got -1"));
}

TEST(Settings, DeterministicAlgorithmsAreOffByDefault) {
  EXPECT_FALSE(g::are_deterministic_algorithms_enabled());
}

TEST(Determinism, MatmulGivesTheSameBitsWhateverTheThreads) {
  const g::Tensor a = sample({256, 2048}, 1), b = sample({2048, 200}, 2);
  const g::Tensor batch_a = sample({6, 40, 96}, 3), batch_b = sample({6, 96, 72}, 4);
  expect_all_equal(with_each_thread_count([&] {
    return std::vector<g::Tensor>{g::matmul(a, b), g::matmul(b.t(), a.t()),
                                  g::matmul(batch_a, batch_b)};
  }));
}

TEST(Determinism, Conv2dAndItsBackwardGiveTheSameBitsWhateverTheThreads) {
  for (int64_t batch : {1, 13}) {
    SCOPED_TRACE(batch);
    const g::Tensor x = sample({batch, 8, 20, 20}, 5);
    const g::Tensor w = sample({16, 8, 3, 3}, 6), bias = sample({16}, 7);
    expect_all_equal(with_each_thread_count([&] {
      const g::Tensor xs = x.detach().requires_grad_(), ws = w.detach().requires_grad_();
      const g::Tensor y = g::conv2d(xs, ws, bias, 1, 1);
      (y * y).sum().backward();
      return std::vector<g::Tensor>{y, xs.grad(), ws.grad()};
    }));
  }
}

// Training steps of a small CNN with Adam, from the same seed: the parameters after the
// steps are the same bits with any thread count (the checkpoint a run would write).
TEST(Determinism, TrainingStepsGiveTheSameParametersWhateverTheThreads) {
  const g::Tensor images = sample({32, 1, 12, 12}, 8);
  const g::Tensor labels = g::remainder(g::arange(32, g::kInt64), 10);
  expect_all_equal(with_each_thread_count([&] {
    g::manual_seed(0);
    g::nn::Sequential model(g::nn::Conv2d(1, 8, 3, 1, 1), g::nn::ReLU(), g::nn::MaxPool2d(2),
                            g::nn::Flatten(), g::nn::Linear(8 * 6 * 6, 64), g::nn::ReLU(),
                            g::nn::Linear(64, 10));
    g::optim::Adam optimizer(model.parameters(), 1e-2);
    for (int step = 0; step < 3; ++step) {
      optimizer.zero_grad();
      g::nn::functional::cross_entropy(model.forward(images), labels).backward();
      optimizer.step();
    }
    return model.parameters();
  }));
}
