// Post-accumulate-grad hooks and queued callbacks: the two engine features data-parallel
// training is built on (distributed/data_parallel.cpp). A post-accumulate hook must see the
// gradient already added into grad() (a plain hook sees it before), once per pass even when
// the leaf is reached along several paths; queued callbacks run after every node.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "test_util.h"

namespace g = graft;
using g::testing::error_message;
using ::testing::HasSubstr;

namespace {

TEST(PostAccumulateGradHook, SeesTheAccumulatedGradientOncePerPass) {
  g::Tensor w = g::tensor({1.0, 2.0}).requires_grad_();
  std::vector<std::vector<double>> seen;
  w.register_post_accumulate_grad_hook(
      [&](const g::Tensor& leaf) { seen.push_back(leaf.grad().to_vector<double>()); });
  // Two paths to w: the engine sums them before the leaf's one accumulation.
  ((w * 3).sum() + (w * w).sum()).backward();
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0], (std::vector<double>{5.0, 7.0}));  // 3 + 2w
  // A second pass adds into grad(): the hook sees the running total.
  (w * 3).sum().backward();
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[1], (std::vector<double>{8.0, 10.0}));
}

TEST(PostAccumulateGradHook, RunsAfterTheGradientHooks) {
  g::Tensor w = g::tensor({1.0}).requires_grad_();
  std::vector<std::string> order;
  w.register_hook([&](const g::Tensor& grad) {
    order.push_back("hook");
    return grad * 10;
  });
  w.register_post_accumulate_grad_hook([&](const g::Tensor& leaf) {
    order.push_back("post " + std::to_string(leaf.grad().item<double>()));
  });
  (w * 2).sum().backward();
  EXPECT_EQ(order, (std::vector<std::string>{"hook", "post 20.000000"}));
}

TEST(PostAccumulateGradHook, OnlyOnLeavesThatRequireGrad) {
  g::Tensor plain = g::tensor({1.0});
  EXPECT_THAT(error_message([&] { plain.register_post_accumulate_grad_hook([](auto&) {}); }),
              HasSubstr("leaf tensors that require grad"));
  g::Tensor w = g::tensor({1.0}).requires_grad_();
  g::Tensor y = w * 2;
  EXPECT_THAT(error_message([&] { y.register_post_accumulate_grad_hook([](auto&) {}); }),
              HasSubstr("leaf tensors that require grad"));
}

TEST(QueueCallback, RunsAfterEveryLeafHasItsGradient) {
  g::Tensor a = g::tensor({1.0}).requires_grad_();
  g::Tensor b = g::tensor({2.0}).requires_grad_();
  std::vector<std::string> order;
  bool queued = false;
  a.register_post_accumulate_grad_hook([&](const g::Tensor&) {
    order.push_back("a");
    if (queued) return;
    queued = true;
    g::autograd::queue_callback([&] {
      order.push_back("callback: b has " +
                      std::string(b.grad().defined() ? "its gradient" : "nothing"));
      g::autograd::queue_callback([&] { order.emplace_back("queued by a callback"); });
    });
  });
  b.register_post_accumulate_grad_hook([&](const g::Tensor&) { order.push_back("b"); });
  (a * b).sum().backward();
  ASSERT_EQ(order.size(), 4u);
  EXPECT_EQ(order[2], "callback: b has its gradient");
  EXPECT_EQ(order[3], "queued by a callback");
  // The next pass starts with no callbacks left over.
  order.clear();
  (a * b).sum().backward();
  EXPECT_EQ(order.size(), 2u);
}

TEST(QueueCallback, AlsoAtTheEndOfAutogradGrad) {
  g::Tensor x = g::tensor({3.0}).requires_grad_();
  bool ran = false;
  g::Tensor y = x * x;
  y.register_hook([&](const g::Tensor& grad) {
    g::autograd::queue_callback([&] { ran = true; });
    return grad;
  });
  g::autograd::grad({y.sum()}, {x});
  EXPECT_TRUE(ran);
}

TEST(QueueCallback, OutsideABackwardPassIsAnError) {
  EXPECT_THAT(error_message([] { g::autograd::queue_callback([] {}); }),
              HasSubstr("no backward pass is running"));
}

}  // namespace
