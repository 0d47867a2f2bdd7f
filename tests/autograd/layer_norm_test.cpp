// layer_norm beyond the op registry's rows (tests/ops/normalization_rows.cpp), which use
// small shapes: the fused kernels on shapes that take the threaded paths against the
// composition of generic ops they replaced, the same bits whatever the threads, rows far
// from zero (where a one-pass variance would cancel), 16-bit rows against float32's, and the
// errors.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <utility>
#include <vector>

#include "graft/graft.h"
#include "settings_scope.h"
#include "test_util.h"

namespace g = graft;
using g::Tensor;
using g::testing::error_message;
using ::testing::HasSubstr;

namespace {

// The composition graft used before the fused kernels: autograd differentiates its parts.
Tensor composed_layer_norm(const Tensor& x, const Tensor& weight, const Tensor& bias) {
  const Tensor mean = x.mean({-1}, true);
  const Tensor var = x.var({-1}, /*correction=*/0, /*keepdim=*/true);
  return (x - mean) * g::rsqrt(var + 1e-5) * weight + bias;
}

struct Result {
  Tensor y, dx, dweight, dbias;
};

template <class Fn>
Result forward_backward(const Tensor& x, const Tensor& weight, const Tensor& bias, const Tensor& dy,
                        Fn layer_norm) {
  const Tensor xl = x.detach().requires_grad_(), wl = weight.detach().requires_grad_(),
               bl = bias.detach().requires_grad_();
  const Tensor y = layer_norm(xl, wl, bl);
  y.backward(dy);
  return {y.detach(), xl.grad(), wl.grad(), bl.grad()};
}

Result fused(const Tensor& x, const Tensor& weight, const Tensor& bias, const Tensor& dy) {
  return forward_backward(x, weight, bias, dy,
                          [](const Tensor& a, const Tensor& w, const Tensor& b) {
                            return g::layer_norm(a, {a.size(-1)}, w, b);
                          });
}

TEST(LayerNorm, FusedKernelsMatchTheComposedOpsOnThreadedShapes) {
  // 3000 rows of 300: the forward's rows and the backward's blocks of rows spread over threads.
  const Tensor x = g::randn({3, 1000, 300}, g::kFloat64) * 3 + 1;
  const Tensor weight = g::randn({300}, g::kFloat64), bias = g::randn({300}, g::kFloat64);
  const Tensor dy = g::randn({3, 1000, 300}, g::kFloat64);
  const Result got = fused(x, weight, bias, dy);
  const Result want = forward_backward(x, weight, bias, dy, composed_layer_norm);
  EXPECT_TRUE(g::allclose(got.y, want.y, 1e-12, 1e-12));
  EXPECT_TRUE(g::allclose(got.dx, want.dx, 1e-10, 1e-10));
  EXPECT_TRUE(g::allclose(got.dweight, want.dweight, 1e-10, 1e-10));
  EXPECT_TRUE(g::allclose(got.dbias, want.dbias, 1e-10, 1e-10));
}

TEST(LayerNorm, SameBitsWhateverTheThreads) {
  const Tensor x = g::randn({2000, 96}), weight = g::randn({96}), bias = g::randn({96});
  const Tensor dy = g::randn({2000, 96});
  std::vector<Result> results;
  for (int threads : {1, 2, 3}) {
    const g::testing::SettingsScope scope(std::nullopt, threads);
    results.push_back(fused(x, weight, bias, dy));
  }
  for (size_t i = 1; i < results.size(); ++i) {
    SCOPED_TRACE("threads " + std::to_string(i + 1) + " against 1");
    EXPECT_TRUE(g::equal(results[i].y, results[0].y));
    EXPECT_TRUE(g::equal(results[i].dx, results[0].dx));
    EXPECT_TRUE(g::equal(results[i].dweight, results[0].dweight));
    EXPECT_TRUE(g::equal(results[i].dbias, results[0].dbias));
  }
}

TEST(LayerNorm, RowsFarFromZeroKeepTheirSmallVariance) {
  // float32 rows around 1e4 whose spread is 1e-2: E[x^2] - E[x]^2 would lose every digit of
  // the variance (1e8 - 1e8); the kernel's two passes in double keep it.
  const Tensor noise = g::randn({8, 512}, g::kFloat64) * 1e-2;
  const Tensor x = (noise + 1e4).to(g::kFloat32);
  const Tensor y = g::layer_norm(x, {512});
  const Tensor x64 = x.to(g::kFloat64);
  const Tensor want = (x64 - x64.mean({-1}, true)) *
                      g::rsqrt(x64.var({-1}, /*correction=*/0, /*keepdim=*/true) + 1e-5);
  EXPECT_TRUE(g::allclose(y.to(g::kFloat64), want, 1e-3, 1e-3));
}

TEST(LayerNorm, SixteenBitRowsAreTheFloat32ResultsRounded) {
  // The CPU kernels widen float16 and bfloat16 rows a few at a time and compute in float32:
  // output and gradients with the bits of the float32 op on widened values, rounded (as the
  // casts around it gave before). Rows over threads and over several widened blocks; widths
  // with every kind of 16-lane tail, and one wider than a block of widened rows.
  for (const auto& [rows, cols] :
       std::vector<std::pair<int64_t, int64_t>>{{1000, 96}, {37, 333}, {5, 5000}, {300, 1}}) {
    for (const g::DType dtype : {g::kFloat16, g::kBFloat16}) {
      SCOPED_TRACE(std::to_string(rows) + " x " + std::to_string(cols) + " " +
                   g::dtype_name(dtype));
      const Tensor x = (g::randn({rows, cols}) * 2 + 1).to(dtype);
      const Tensor weight = g::randn({cols}).to(dtype), bias = g::randn({cols}).to(dtype);
      const Tensor dy = g::randn({rows, cols}).to(dtype);
      const Result got = fused(x, weight, bias, dy);
      const Result want = fused(x.to(g::kFloat32), weight.to(g::kFloat32), bias.to(g::kFloat32),
                                dy.to(g::kFloat32));
      EXPECT_EQ(got.y.dtype(), dtype);
      EXPECT_TRUE(g::equal(got.y, want.y.to(dtype)));
      EXPECT_TRUE(g::equal(got.dx, want.dx.to(dtype)));
      EXPECT_TRUE(g::equal(got.dweight, want.dweight.to(dtype)));
      EXPECT_TRUE(g::equal(got.dbias, want.dbias.to(dtype)));
    }
  }
}

// An nn::LayerNorm (float32 parameters) over 16-bit activations outside autocast, as
// PyTorch's CPU kernel takes it: the float32 op on the widened input, rounded once to the
// input's dtype; the gradients come back in each tensor's own dtype.
TEST(LayerNorm, SixteenBitInputWithFloat32ParametersComputesInFloat32) {
  g::nn::LayerNorm norm(8);
  for (const g::DType dtype : {g::kFloat16, g::kBFloat16}) {
    const Tensor x = g::randn({4, 8}).to(dtype).requires_grad_();
    const Tensor y = norm(x);
    EXPECT_EQ(y.dtype(), dtype);
    const Tensor want =
        g::layer_norm(x.detach().to(g::kFloat32), {8}, norm.weight.detach(), norm.bias.detach());
    EXPECT_TRUE(g::equal(y.detach(), want.to(dtype)));
    y.sum().backward();
    EXPECT_EQ(x.grad().dtype(), dtype);
    EXPECT_EQ(norm.weight.grad().dtype(), g::kFloat32);
    norm.zero_grad();
  }
}

TEST(LayerNorm, OverEveryDimDifferentiatesTwice) {
  // normalized_shape is x's whole shape: one row, no leading dims to sum dweight over.
  const Tensor x = g::randn({3, 4}, g::kFloat64).requires_grad_();
  const Tensor w = g::randn({3, 4}, g::kFloat64).requires_grad_();
  const Tensor b = g::randn({3, 4}, g::kFloat64).requires_grad_();
  const auto fn = [](const g::autograd::TensorList& in) {
    return g::layer_norm(in[0], {3, 4}, in[1], in[2]);
  };
  EXPECT_TRUE(g::autograd::gradcheck(fn, {x, w, b}));
  EXPECT_TRUE(g::autograd::gradgradcheck(fn, {x, w, b}));
}

TEST(LayerNorm, ModuleUsesTheFusedOp) {
  // LayerNorm(4) is over the last dim, as PyTorch's nn.LayerNorm(4); a shape takes braces.
  EXPECT_EQ(g::nn::LayerNorm(4).normalized_shape, g::Shape({4}));
  EXPECT_EQ(g::nn::LayerNorm({2, 4}).normalized_shape, g::Shape({2, 4}));
  g::nn::LayerNorm norm(4);
  const Tensor x = g::randn({2, 4}).requires_grad_();
  const Tensor y = norm(x);
  ASSERT_NE(y.grad_fn(), nullptr);
  EXPECT_EQ(y.grad_fn()->name(), "LayerNormBackward");
}

TEST(LayerNorm, BadInputsAreClearErrors) {
  const Tensor x = g::randn({2, 3});
  EXPECT_THAT(error_message([&] {
                g::layer_norm(g::ones({2, 3}, g::kInt64), {3});
              }),
              HasSubstr("layer_norm(): expected a floating-point input, but got input of dtype "
                        "int64 and shape (2, 3)"));
  EXPECT_THAT(error_message([&] { g::layer_norm(x, {2}); }),
              HasSubstr("layer_norm(): input of shape (2, 3) must end with normalized_shape (2,)"));
  EXPECT_THAT(
      error_message([&] { g::layer_norm(x, {3}, g::ones({2})); }),
      HasSubstr("layer_norm(): expected weight of normalized_shape (3,), but got shape (2,)"));
  EXPECT_THAT(error_message([&] { g::layer_norm(x, {3}, {}, g::ones({3}, g::kFloat64)); }),
              HasSubstr("layer_norm(): expected bias of the input's dtype float32, but got "
                        "float64; convert it with .to(float32)"));
}

}  // namespace
