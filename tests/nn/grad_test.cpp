// Gradients of every layer and loss, in float64, with respect to the input and every
// parameter, against central finite differences.
//
// The check runs the module itself (its real parameters, not copies): y = m(x) is
// backpropagated with a fixed pseudo-random v, which gives every input and parameter the
// gradient of the scalar f = sum(v * m(x)); each element of that gradient is then
// compared with (f(t + eps) - f(t - eps)) / 2 eps, perturbing the tensor in place
// (tests/kernels/finite_difference.h). A random v makes this check every column of the
// Jacobian at once (a wrong entry would have to cancel against v by chance).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <functional>

#include "kernels/finite_difference.h"
#include "test_util.h"

namespace g = graft;
namespace nn = graft::nn;
namespace F = graft::nn::functional;
using g::testing::make_tensor;
using g::testing::numeric_gradient;
using g::testing::sample_values;

namespace {

g::Tensor leaf(const g::Shape& shape, uint32_t seed = 1, double lo = -2, double hi = 2) {
  return make_tensor(sample_values(shape.numel(), lo, hi, seed), shape).requires_grad_();
}

// Checks d sum(v * forward()) / dt for each t in `wrt` (float64 leaves that forward()
// reads). Each forward starts from the same seed, for layers that draw random numbers.
void expect_gradients(const std::function<g::Tensor()>& forward, const std::vector<g::Tensor>& wrt,
                      const std::string& what, double tol = 1e-6) {
  const std::function<g::Tensor()> run = [&] {
    g::manual_seed(11);  // dropout draws the same mask every time
    return forward();
  };
  const g::Tensor y = run();
  const g::Tensor v = make_tensor(sample_values(y.numel(), -1, 1, 99), y.shape());
  for (const g::Tensor& t : wrt) t.mutable_grad() = g::Tensor();
  y.backward(v);
  const auto f = [&] {
    g::NoGradGuard no_grad;
    return (run() * v).sum().item<double>();
  };
  for (size_t i = 0; i < wrt.size(); ++i) {
    ASSERT_TRUE(wrt[i].grad().defined()) << what << ": no gradient for input " << i;
    const std::vector<double> analytic = wrt[i].grad().to_vector<double>();
    const std::vector<double> numeric = numeric_gradient(wrt[i], f);
    for (size_t j = 0; j < numeric.size(); ++j)
      EXPECT_NEAR(analytic[j], numeric[j], tol * std::max(1.0, std::abs(numeric[j])))
          << what << ": input " << i << ", element " << j;
  }
}

// The module's input followed by its parameters.
std::vector<g::Tensor> with_parameters(const g::Tensor& x, const nn::Module& m) {
  std::vector<g::Tensor> all = {x};
  for (const g::Tensor& p : m.parameters()) all.push_back(p);
  return all;
}

void expect_module_gradients(nn::Module& m, const g::Tensor& x, const std::string& what) {
  m.to(g::kFloat64);
  expect_gradients([&] { return m(x); }, with_parameters(x, m), what);
}
void expect_module_gradients(nn::Module&& m, const g::Tensor& x, const std::string& what) {
  expect_module_gradients(m, x, what);
}

}  // namespace

TEST(NnGrad, Conv2dInputWeightAndBias) {
  expect_module_gradients(nn::Conv2d(2, 4, 3, 2, 1, 1, 2), leaf({2, 2, 5, 6}), "conv2d");
  expect_module_gradients(nn::Conv2d(3, 2, {2, 3}, 1, {1, 0}, {2, 1}), leaf({3, 5, 5}),
                          "unbatched dilated conv2d");
  nn::Conv2d no_bias(2, 2, 1, 1, 0, 1, 1, /*bias=*/false);
  expect_module_gradients(no_bias, leaf({1, 2, 3, 3}), "conv2d without bias");
}

TEST(NnGrad, Pools) {
  expect_module_gradients(nn::MaxPool2d(2), leaf({2, 2, 4, 5}), "max_pool2d");
  expect_module_gradients(nn::MaxPool2d(3, 2, 1, 1, true), leaf({2, 5, 6}), "max_pool2d ceil");
  expect_module_gradients(nn::AvgPool2d(3, 2, 1, false, false), leaf({1, 2, 5, 5}),
                          "avg_pool2d without pad count");
  expect_module_gradients(nn::AdaptiveAvgPool2d({3, 2}), leaf({2, 2, 5, 5}), "adaptive_avg_pool2d");
}

TEST(NnGrad, ConvAndPoolFullJacobiansPassGradcheck) {
  // autograd::gradcheck builds the whole Jacobian (one backward per output element).
  using g::autograd::TensorList;
  const g::Tensor x = leaf({1, 2, 4, 5}), w = leaf({2, 1, 2, 2}, 2), b = leaf({2}, 3);
  EXPECT_TRUE(g::autograd::gradcheck(
      [](const TensorList& in) { return g::conv2d(in[0], in[1], in[2], 2, 1, 1, 2); }, {x, w, b}));
  EXPECT_TRUE(g::autograd::gradcheck(
      [](const TensorList& in) { return g::max_pool2d(in[0], 2, 1, 1); }, {x}));
  EXPECT_TRUE(g::autograd::gradcheck(
      [](const TensorList& in) { return g::avg_pool2d(in[0], 3, 2, 1, true, false); }, {x}));
  EXPECT_TRUE(g::autograd::gradcheck(
      [](const TensorList& in) {
        return g::adaptive_avg_pool2d(in[0], {3, 2});
      },
      {x}));
}

TEST(NnGrad, ConvAndPoolRefuseDoubleBackward) {
  const g::Tensor x = leaf({1, 1, 4, 4});
  const g::Tensor w = leaf({1, 1, 2, 2}, 2);
  const g::Tensor y = g::max_pool2d(g::conv2d(x, w), 3);
  EXPECT_THAT(g::testing::error_message([&] {
                y.backward(g::ones_like(y), /*retain_graph=*/false, /*create_graph=*/true);
              }),
              ::testing::HasSubstr("max_pool2d(): double backward is not supported"));
  EXPECT_EQ(g::conv2d(x, w).grad_fn()->name(), "Conv2dBackward");
  EXPECT_EQ(g::avg_pool2d(x, 2).grad_fn()->name(), "AvgPool2dBackward");
  EXPECT_FALSE(g::conv2d(x.detach(), w.detach()).requires_grad());
}

TEST(NnGrad, Activations) {
  const g::Tensor x = leaf({3, 4});
  expect_module_gradients(nn::ReLU(), x, "relu");
  expect_module_gradients(nn::GELU(), x, "gelu");
  expect_module_gradients(nn::GELU("tanh"), x, "gelu tanh");
  expect_module_gradients(nn::SiLU(), x, "silu");
  expect_module_gradients(nn::Tanh(), x, "tanh");
  expect_module_gradients(nn::Sigmoid(), x, "sigmoid");
  expect_module_gradients(nn::Dropout(0.3), x, "dropout");
  expect_module_gradients(nn::Softmax(1), x, "softmax");
  expect_module_gradients(nn::LogSoftmax(0), x, "log_softmax");
  expect_module_gradients(nn::Flatten(0), leaf({2, 3, 2}), "flatten");
}

TEST(NnGrad, LinearEmbeddingAndNorms) {
  expect_module_gradients(nn::Linear(4, 3), leaf({2, 5, 4}), "linear");
  nn::Embedding emb(5, 3);
  emb.to(g::kFloat64);
  const g::Tensor idx = make_tensor({0, 1, 4, 4, 1, 2}, {3, 2}, g::kInt64);
  expect_gradients([&] { return emb(idx); }, {emb.weight}, "embedding");
  // With padding_idx = 1 the forward still reads row 1, but it gets no gradient (so finite
  // differences do not apply to it): each other row gets the sum of the output gradients
  // of the positions that picked it.
  nn::Embedding padded(5, 3, /*padding_idx=*/1);
  padded.to(g::kFloat64);
  padded(idx).backward(g::ones({3, 2, 3}, g::kFloat64));
  EXPECT_THAT(padded.weight.grad().to_vector<double>(),
              ::testing::ElementsAre(1, 1, 1, 0, 0, 0, 1, 1, 1, 0, 0, 0, 2, 2, 2));
  nn::BatchNorm2d bn(3);
  bn.to(g::kFloat64);
  bn.weight.detach().copy_(make_tensor({0.5, 1.5, -1}, {3}));
  expect_module_gradients(bn, leaf({3, 3, 2, 2}), "batch_norm2d training");
  bn.eval();
  expect_module_gradients(bn, leaf({3, 3, 2, 2}, 2), "batch_norm2d eval");
  expect_module_gradients(nn::BatchNorm1d(2), leaf({4, 2, 3}), "batch_norm1d (N, C, L)");
  nn::LayerNorm ln({2, 3});
  ln.to(g::kFloat64);
  ln.weight.detach().copy_(make_tensor({1, 2, 3, -1, 0.5, 0.25}, {2, 3}));
  expect_module_gradients(ln, leaf({4, 2, 3}), "layer_norm");
}

TEST(NnGrad, Losses) {
  const g::Tensor logits = leaf({4, 3});
  const g::Tensor classes = make_tensor({2, -100, 0, 1}, {4}, g::kInt64);
  expect_gradients([&] { return F::cross_entropy(logits, classes); }, {logits}, "cross_entropy");
  expect_gradients([&] { return F::cross_entropy(logits, classes, {.label_smoothing = 0.2}); },
                   {logits}, "cross_entropy smoothed");
  const g::Tensor probs = g::softmax(make_tensor(sample_values(12, -1, 1, 3), {4, 3}), 1);
  expect_gradients([&] { return F::cross_entropy(logits, probs); }, {logits},
                   "cross_entropy probabilities");
  const g::Tensor map = leaf({2, 3, 2});
  expect_gradients(
      [&] {
        return F::nll_loss(map, make_tensor({0, 2, 1, 1}, {2, 2}, g::kInt64),
                           {.reduction = F::Reduction::kSum});
      },
      {map}, "nll_loss (N, C, L)");
  const g::Tensor a = leaf({2, 3}, 4), b = leaf({2, 3}, 5);
  expect_gradients([&] { return F::mse_loss(a, b); }, {a, b}, "mse_loss");
  expect_gradients([&] { return F::l1_loss(a, b, F::Reduction::kNone); }, {a, b}, "l1_loss");
  const g::Tensor y = make_tensor(sample_values(6, 0, 1, 6), {2, 3});
  const g::Tensor pw = leaf({3}, 7, 0.5, 2);
  expect_gradients([&] { return F::binary_cross_entropy_with_logits(a, y, {.pos_weight = pw}); },
                   {a, pw}, "bce_with_logits");
}

TEST(NnGrad, WeightedAndRobustLosses) {
  const g::Tensor logits = leaf({4, 3});
  const g::Tensor classes = make_tensor({2, -100, 0, 1}, {4}, g::kInt64);
  const g::Tensor weight = leaf({3}, 8, 0.5, 2);
  expect_gradients(
      [&] { return F::cross_entropy(logits, classes, {.label_smoothing = 0.2, .weight = weight}); },
      {logits, weight}, "cross_entropy weighted, smoothed");
  const g::Tensor probs = g::softmax(make_tensor(sample_values(12, -1, 1, 3), {4, 3}), 1);
  expect_gradients([&] { return F::cross_entropy(logits, probs, {.weight = weight}); },
                   {logits, weight}, "cross_entropy probabilities weighted");
  const g::Tensor map = leaf({2, 3, 2});
  expect_gradients(
      [&] {
        return F::nll_loss(map, make_tensor({0, 2, 1, 1}, {2, 2}, g::kInt64), {.weight = weight});
      },
      {map, weight}, "nll_loss (N, C, L) weighted");
  // Differences of -4..4 against beta = delta = 1.5, none within eps of the kink.
  const g::Tensor a = leaf({2, 3}, 4, -2, 2), b = leaf({2, 3}, 5, -2, 2);
  expect_gradients([&] { return F::smooth_l1_loss(a, b, F::Reduction::kNone, 1.5); }, {a, b},
                   "smooth_l1_loss");
  expect_gradients([&] { return F::huber_loss(a, b, F::Reduction::kMean, 1.5); }, {a, b},
                   "huber_loss");
  const g::Tensor p = leaf({2, 3}, 6, 0.05, 0.95), q = leaf({2, 3}, 7, 0, 1);
  const g::Tensor w = leaf({3}, 9, 0.5, 2);
  expect_gradients([&] { return F::binary_cross_entropy(p, q, {.weight = w}); }, {p, q, w},
                   "binary_cross_entropy");
}

TEST(NnGrad, PadPassesTheGradientOfTheKeptElements) {
  const g::Tensor x = leaf({2, 3, 4});
  expect_gradients([&] { return F::pad(x, {1, -1, -1, 2}, 0.25); }, {x}, "pad");
}

// binary_cross_entropy's gradient (x - y) / max(x (1 - x), 1e-12), PyTorch's: exactly 0 where
// a certain prediction is right, where the clamped logs' chain rule would give 0 * inf.
TEST(NnGrad, BinaryCrossEntropyGradientAtCertainPredictions) {
  const g::Tensor x = make_tensor({0, 1, 0, 1}, {4}).requires_grad_();
  F::binary_cross_entropy(x, make_tensor({0, 1, 1, 0}, {4}), {.reduction = F::Reduction::kSum})
      .backward();
  EXPECT_THAT(x.grad().to_vector<double>(), ::testing::ElementsAre(0, 0, -1e12, 1e12));
}

TEST(NnGrad, LossGradientsStayFiniteAt1e4) {
  // d cross_entropy / d logits = softmax - one_hot, exactly 0 or +-1 at these extremes:
  // both rows put all probability on class 0 while the target is class 1.
  const g::Tensor x = make_tensor({1e4, -1e4, 0, -1e4}, {2, 2}).requires_grad_();
  F::cross_entropy(x, make_tensor({1, 1}, {2}, g::kInt64), {.reduction = F::Reduction::kSum})
      .backward();
  EXPECT_THAT(x.grad().to_vector<double>(), ::testing::ElementsAre(1, -1, 1, -1));
  // d bce / dx = sigmoid(x) - y.
  const g::Tensor z = make_tensor({1e4, -1e4, 1e4, -1e4}, {4}).requires_grad_();
  F::binary_cross_entropy_with_logits(z, make_tensor({0, 0, 1, 1}, {4}),
                                      {.reduction = F::Reduction::kSum})
      .backward();
  EXPECT_THAT(z.grad().to_vector<double>(), ::testing::ElementsAre(1, 0, 0, -1));
}
