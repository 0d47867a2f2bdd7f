// A whole training loss checked end to end: a 2-layer MLP, matmul + bias + relu + matmul +
// bias + log_softmax, the log-probability of each target picked with gather, and the mean
// negative of those (cross entropy). Every parameter's gradient from one backward pass
// must match finite differences, and so must the gradients' own derivatives.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "grad_test_util.h"

namespace g = graft;
using g::autograd::TensorList;
using g::testing::make_tensor;
using g::testing::sample_values;

namespace {

// in = {x (4, 3), w1 (3, 5), b1 (5), w2 (5, 3), b2 (3)}; targets (4,) int64 in [0, 3).
g::Tensor mlp_loss(const TensorList& in, const g::Tensor& targets) {
  const g::Tensor hidden = (g::matmul(in[0], in[1]) + in[2]).relu();  // (4, 5)
  const g::Tensor logits = g::matmul(hidden, in[3]) + in[4];          // (4, 3)
  const g::Tensor log_probs = g::log_softmax(logits, 1);
  return -g::gather(log_probs, 1, targets.unsqueeze(1)).mean();
}

g::Tensor leaf(const g::Shape& shape, uint32_t seed) {
  return make_tensor(sample_values(shape.numel(), -1, 1, seed), shape).requires_grad_();
}

TensorList mlp_inputs() {
  return {leaf({4, 3}, 1), leaf({3, 5}, 2), leaf({5}, 3), leaf({5, 3}, 4), leaf({3}, 5)};
}

g::Tensor targets() { return g::tensor({2, 0, 1, 2}); }

TEST(MlpGrad, LossGradientsMatchFiniteDifferences) {
  const auto loss = [y = targets()](const TensorList& in) { return mlp_loss(in, y); };
  const TensorList inputs = mlp_inputs();
  EXPECT_TRUE(g::autograd::gradcheck(loss, inputs));
  EXPECT_TRUE(g::autograd::gradgradcheck(loss, inputs));
}

// backward() accumulates into each parameter exactly what autograd::grad returns.
TEST(MlpGrad, BackwardFillsEveryParameterGrad) {
  const TensorList inputs = mlp_inputs();
  const TensorList expected = g::autograd::grad({mlp_loss(inputs, targets())}, inputs);
  mlp_loss(inputs, targets()).backward();
  for (size_t i = 0; i < inputs.size(); ++i) {
    ASSERT_TRUE(inputs[i].grad().defined()) << "input " << i;
    EXPECT_EQ(inputs[i].grad().shape(), inputs[i].shape()) << "input " << i;
    EXPECT_TRUE(g::equal(inputs[i].grad(), expected[i])) << "input " << i;
  }
}

}  // namespace
