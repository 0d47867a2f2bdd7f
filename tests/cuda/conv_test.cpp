// CUDA conv2d, the pools and their backwards (kernels/cuda/conv.cu, pool.cu) against their
// CPU twins (kernels/cpu/conv.cpp, pool.cpp), which tests/kernels/conv_test.cpp and
// pool_test.cpp check against naive loops and finite differences.
//
// Convolutions: a table of shapes through every path of conv.cu (im2col or the pointwise
// shortcut, groups through depthwise, stride, padding, dilation, the Fashion-MNIST CNN's
// two layers), each forward and all three gradients, in float32 and float64, with every
// matmul variant the CUDA backend offers (the conv's GEMMs go through it with transposed
// and broadcast operands). The CPU and the GPU sum the GEMMs' products in different orders,
// so float32 allows 1e-4. float16 and bfloat16 run on CUDA as they are (tensor-core products
// where the strides keep 16-byte alignment, float sums) while the CPU rounds float32 results
// once, so they allow a few units in the last place of the result's largest value. Pools:
// the GPU runs the CPU's window code and adds the backward's shares in the CPU's order, so
// max values and indices must be identical and averages equal up to the last bit of a
// division (1e-6 / 1e-14 allowed). Outputs land in memory poisoned with NaN.
#include <gtest/gtest.h>

#include <string>
#include <tuple>
#include <vector>

#include "cuda/cuda_test_util.h"
#include "test_util.h"

namespace g = graft;
using g::IntPair;
using g::Shape;
using g::Tensor;
using g::testing::expect_matches_cpu;
using g::testing::poison_cuda_cache;

namespace {

const g::Device kCuda = g::Device::cuda();
constexpr g::DType kFloating[] = {g::kFloat32, g::kFloat64};

struct ConvCase {
  Shape x, w;
  IntPair stride, padding, dilation;
  int64_t groups;
  bool bias;
};

const ConvCase kConvCases[] = {
    {{3, 2, 9, 7}, {4, 2, 3, 3}, 1, 1, 1, 1, true},
    {{2, 4, 11, 13}, {6, 2, 3, 2}, {2, 1}, {1, 0}, {1, 2}, 2, true},
    {{3, 6, 8, 8}, {6, 1, 3, 3}, 1, 1, 1, 6, false},  // depthwise
    {{3, 5, 7, 9}, {7, 5, 1, 1}, 1, 0, 1, 1, true},   // pointwise
    {{1, 3, 10, 10}, {2, 3, 5, 5}, 2, 2, 2, 1, false},
    {{64, 1, 28, 28}, {32, 1, 3, 3}, 1, 1, 1, 1, true},    // Fashion-MNIST CNN, layer 1
    {{64, 32, 14, 14}, {64, 32, 3, 3}, 1, 1, 1, 1, true},  // layer 2
    {{0, 2, 5, 5}, {3, 2, 3, 3}, 1, 1, 1, 1, true},        // empty batch
};

// Four units in the last place of a 16-bit dtype's values near `scale`.
double ulps_16_bit(g::DType dtype, double scale) {
  return 4 * scale * (dtype == g::kBFloat16 ? 0x1p-8 : 0x1p-11);
}
double largest(const Tensor& t) {
  return t.numel() == 0 ? 0.0 : t.abs().max().to(g::kFloat64).item<double>();
}

// CUDA's result against the CPU's: float32 within rtol and atol (float64 1e-10 both), a
// 16-bit dtype within four units in the last place of the result's largest value.
void expect_conv_result(const Tensor& got, const Tensor& want, g::DType dtype, double rtol,
                        double atol) {
  if (g::is_reduced_floating_point(dtype)) {
    const double ulps = ulps_16_bit(dtype, largest(want));
    expect_matches_cpu(got, want, 0, ulps);
  } else {
    const bool f32 = dtype == g::kFloat32;
    expect_matches_cpu(got, want, f32 ? rtol : 1e-10, f32 ? atol : 1e-10);
  }
}

void expect_conv_parity(const ConvCase& k, g::DType dtype) {
  SCOPED_TRACE("x " + k.x.str() + ", w " + k.w.str() + ", " + g::dtype_name(dtype) +
               ", matmul variant " + g::cuda::matmul_variant());
  const Tensor x = g::randn(k.x, dtype), w = g::randn(k.w, dtype);
  const Tensor b = k.bias ? g::randn({k.w[0]}, dtype) : Tensor();
  const Tensor want = g::conv2d(x, w, b, k.stride, k.padding, k.dilation, k.groups);
  poison_cuda_cache(want.nbytes());
  const Tensor xc = x.to(kCuda), wc = w.to(kCuda), bc = k.bias ? b.to(kCuda) : Tensor();
  expect_conv_result(g::conv2d(xc, wc, bc, k.stride, k.padding, k.dilation, k.groups), want, dtype,
                     1e-4, 1e-4);

  const Tensor dy = g::randn(want.shape(), dtype);
  const auto [dx, dw, db] = g::conv2d_backward(dy, x, w, k.stride, k.padding, k.dilation, k.groups);
  poison_cuda_cache(x.nbytes());
  poison_cuda_cache(w.nbytes());
  const auto [dxc, dwc, dbc] =
      g::conv2d_backward(dy.to(kCuda), xc, wc, k.stride, k.padding, k.dilation, k.groups);
  expect_conv_result(dxc, dx, dtype, 1e-4, 1e-4);
  // grad_weight and grad_bias sum over the batch and pixels: up to 64 * 196 terms.
  expect_conv_result(dwc, dw, dtype, 1e-4, 1e-2);
  expect_conv_result(dbc, db, dtype, 1e-4, 1e-2);
}

TEST(CudaConv2d, MatchesTheCpuForwardAndBackward) {
  GRAFT_REQUIRE_CUDA();
  g::manual_seed(1);
  for (g::DType dtype : kFloating)
    for (const ConvCase& k : kConvCases) expect_conv_parity(k, dtype);
}

// float16 and bfloat16 without float32 copies. The last case's strides keep 16-byte alignment
// (256 pixels, 144 column rows, 2048 pixels of a batch), so every GEMM of its forward and
// backward runs on the tensor cores; the others' GEMMs take the SIMT kernel.
TEST(CudaConv2d, SixteenBitMatchesTheCpu) {
  GRAFT_REQUIRE_CUDA();
  g::manual_seed(3);
  const ConvCase aligned = {{8, 16, 16, 16}, {32, 16, 3, 3}, 1, 1, 1, 1, true};
  for (g::DType dtype : {g::kBFloat16, g::kFloat16})
    for (const ConvCase& k : {kConvCases[0], kConvCases[1], kConvCases[2], kConvCases[3],
                              kConvCases[6], kConvCases[7], aligned})
      expect_conv_parity(k, dtype);
}

TEST(CudaConv2d, MatchesTheCpuWithEveryMatmulVariant) {
  GRAFT_REQUIRE_CUDA();
  g::manual_seed(2);
  const std::string previous = g::cuda::matmul_variant();
  for (const std::string& variant : g::cuda::matmul_variants()) {
    g::cuda::set_matmul_variant(variant);
    for (const ConvCase& k : {kConvCases[1], kConvCases[3]}) expect_conv_parity(k, g::kFloat32);
  }
  g::cuda::set_matmul_variant(previous);
}

TEST(CudaConv2d, ReadsNonContiguousAndUnbatchedInputs) {
  GRAFT_REQUIRE_CUDA();
  g::manual_seed(3);
  const Tensor x = g::randn({2, 3, 9, 8}), w = g::randn({4, 3, 3, 3});
  const Tensor xt = x.transpose(2, 3).contiguous().transpose(2, 3);
  const Tensor xc = x.to(kCuda).transpose(2, 3).contiguous().transpose(2, 3);
  expect_matches_cpu(g::conv2d(xc, w.to(kCuda), {}, 2, 1), g::conv2d(xt, w, {}, 2, 1), 1e-4, 1e-4);
  expect_matches_cpu(g::conv2d(xc.select(0, 1), w.to(kCuda), {}, 2, 1),
                     g::conv2d(x.select(0, 1), w, {}, 2, 1), 1e-4, 1e-4);
}

struct PoolCase {
  Shape x;
  IntPair kernel;
  std::optional<IntPair> stride;
  IntPair padding, dilation;
  bool ceil_mode;
};

const PoolCase kPoolCases[] = {
    {{64, 32, 28, 28}, 2, std::nullopt, 0, 1, false},  // the CNN's pool
    {{2, 3, 7, 6}, 3, 2, 1, 1, true},
    {{1, 2, 5, 5}, 2, 2, 1, 1, true},
    {{3, 1, 6, 9}, {2, 3}, IntPair{1, 2}, {1, 0}, 1, false},
    {{2, 5, 4}, 2, 1, 0, 1, false},
    {{2, 1, 8, 8}, 3, 2, 1, 2, false},  // dilation (max pool only)
    {{2, 1, 3, 3}, 2, 1, 2, 4, false},  // windows of padding alone: -inf, index -1
    {{0, 2, 7, 6}, 3, 2, 1, 1, false},  // empty batch
};

TEST(CudaPool2d, MaxPoolMatchesTheCpuExactly) {
  GRAFT_REQUIRE_CUDA();
  g::manual_seed(4);
  for (g::DType dtype : kFloating)
    for (const PoolCase& k : kPoolCases) {
      SCOPED_TRACE(k.x.str());
      const Tensor x = g::randn(k.x, dtype);
      const auto [out, index] =
          g::max_pool2d_with_indices(x, k.kernel, k.stride, k.padding, k.dilation, k.ceil_mode);
      poison_cuda_cache(out.nbytes());
      const auto [outc, indexc] = g::max_pool2d_with_indices(x.to(kCuda), k.kernel, k.stride,
                                                             k.padding, k.dilation, k.ceil_mode);
      expect_matches_cpu(outc, out);
      expect_matches_cpu(indexc, index);
      const Tensor dy = g::randn(out.shape(), dtype);
      poison_cuda_cache(x.nbytes());
      expect_matches_cpu(g::max_pool2d_backward(dy.to(kCuda), k.x, indexc, k.kernel, k.stride,
                                                k.padding, k.dilation, k.ceil_mode),
                         g::max_pool2d_backward(dy, k.x, index, k.kernel, k.stride, k.padding,
                                                k.dilation, k.ceil_mode));
    }
}

TEST(CudaPool2d, AveragePoolsMatchTheCpu) {
  GRAFT_REQUIRE_CUDA();
  g::manual_seed(5);
  for (g::DType dtype : kFloating) {
    const double tol = dtype == g::kFloat32 ? 1e-6 : 1e-14;
    for (const PoolCase& k : kPoolCases) {
      if (k.dilation.h != 1) continue;
      for (bool include_pad : {true, false}) {
        SCOPED_TRACE(k.x.str() + (include_pad ? " counting padding" : ""));
        const Tensor x = g::randn(k.x, dtype), xc = x.to(kCuda);
        const Tensor out =
            g::avg_pool2d(x, k.kernel, k.stride, k.padding, k.ceil_mode, include_pad);
        poison_cuda_cache(out.nbytes());
        expect_matches_cpu(
            g::avg_pool2d(xc, k.kernel, k.stride, k.padding, k.ceil_mode, include_pad), out, tol,
            tol);
        const Tensor dy = g::randn(out.shape(), dtype);
        poison_cuda_cache(x.nbytes());
        expect_matches_cpu(g::avg_pool2d_backward(dy.to(kCuda), k.x, k.kernel, k.stride, k.padding,
                                                  k.ceil_mode, include_pad),
                           g::avg_pool2d_backward(dy, k.x, k.kernel, k.stride, k.padding,
                                                  k.ceil_mode, include_pad),
                           tol, tol);
      }
    }
    for (const auto& [shape, size] : {std::pair<Shape, IntPair>{{2, 3, 7, 5}, {3, 2}},
                                      {{64, 64, 7, 7}, 1},
                                      {{1, 1, 2, 3}, {3, 5}}}) {
      SCOPED_TRACE("adaptive " + shape.str());
      const Tensor x = g::randn(shape, dtype);
      const Tensor out = g::adaptive_avg_pool2d(x, size);
      expect_matches_cpu(g::adaptive_avg_pool2d(x.to(kCuda), size), out, tol, tol);
      const Tensor dy = g::randn(out.shape(), dtype);
      expect_matches_cpu(g::adaptive_avg_pool2d_backward(dy.to(kCuda), shape),
                         g::adaptive_avg_pool2d_backward(dy, shape), tol, tol);
    }
  }
}

}  // namespace
