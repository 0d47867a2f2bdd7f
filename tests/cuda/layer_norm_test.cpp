// CUDA layer norm (kernels/cuda/layer_norm.cu) against its CPU twin
// (kernels/cpu/layer_norm.cpp), which the op registry (tests/ops/normalization_rows.cpp)
// and tests/autograd/layer_norm_test.cpp check against references in double.
//
// Forward and backward (dx, dweight, dbias) over rows of every kind of length: one element,
// shorter than a warp, one block's width and one past it, several passes of a block; and
// row counts that reach the column sums' edges (no row, one, one past a block of 32 rows,
// more than 1024 blocks' worth of rows at the minimum block). With and without weight and
// bias, float32 and float64, outputs in memory poisoned with NaN.
#include <gtest/gtest.h>

#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "cuda/cuda_test_util.h"
#include "test_util.h"

namespace g = graft;
using g::Tensor;
using g::testing::expect_matches_cpu;
using g::testing::leaf_on;
using g::testing::poison_cuda_cache;

namespace {

struct Grads {
  Tensor y, dx, dweight, dbias;
};

using View = std::function<Tensor(const Tensor&)>;
const View kAsIs = [](const Tensor& t) { return t; };

// layer_norm over the last dim of view(x) on `device`, and its gradients for a fixed upstream
// gradient dy; dx is the gradient of x itself.
Grads run(const Tensor& x, const Tensor& weight, const Tensor& bias, const Tensor& dy,
          g::Device device, const View& view = kAsIs) {
  const Tensor xd = leaf_on(x, device);
  const Tensor wd = weight.defined() ? leaf_on(weight, device) : Tensor();
  const Tensor bd = bias.defined() ? leaf_on(bias, device) : Tensor();
  const Tensor y = g::layer_norm(view(xd), {dy.size(1)}, wd, bd);
  y.backward(dy.to(device));
  return {y, xd.grad(), wd.defined() ? wd.grad() : Tensor(), bd.defined() ? bd.grad() : Tensor()};
}

TEST(CudaLayerNorm, ForwardAndBackwardMatchTheCpu) {
  GRAFT_REQUIRE_CUDA();
  const std::vector<std::pair<int64_t, int64_t>> shapes = {{1, 1},    {3, 7},  {33, 256}, {5, 257},
                                                           {2, 1000}, {0, 64}, {40000, 3}};
  for (const g::DType dtype : {g::kFloat32, g::kFloat64}) {
    const bool f32 = dtype == g::kFloat32;
    for (const auto& [rows, cols] : shapes) {
      for (const bool affine : {true, false}) {
        SCOPED_TRACE(std::string(g::dtype_name(dtype)) + " (" + std::to_string(rows) + ", " +
                     std::to_string(cols) + ")" + (affine ? " affine" : ""));
        const Tensor x = g::randn({rows, cols}, dtype) * 2 + 0.5;
        const Tensor dy = g::randn({rows, cols}, dtype);
        const Tensor weight = affine ? g::randn({cols}, dtype) : Tensor();
        const Tensor bias = affine ? g::randn({cols}, dtype) : Tensor();
        const Grads cpu = run(x, weight, bias, dy, g::Device::cpu());
        poison_cuda_cache(x.nbytes());
        const Grads gpu = run(x, weight, bias, dy, g::Device::cuda());
        const double rtol = f32 ? 1e-5 : 1e-12, atol = f32 ? 1e-5 : 1e-12;
        expect_matches_cpu(gpu.y, cpu.y, rtol, atol);
        expect_matches_cpu(gpu.dx, cpu.dx, rtol, atol);
        if (!affine) continue;
        // Column sums of up to 40000 rows: the blocks differ between the backends.
        expect_matches_cpu(gpu.dweight, cpu.dweight, rtol, f32 ? 1e-3 : 1e-10);
        expect_matches_cpu(gpu.dbias, cpu.dbias, rtol, f32 ? 1e-3 : 1e-10);
      }
    }
  }
}

// Rows whose length is a multiple of four and whose start is aligned to four elements move
// four at an access (two half2 or bfloat162 pairs, a float4) in the forward and dx kernels;
// other rows one at a time. Both forms in every floating dtype, a row of four accesses per
// thread of the block included, and a contiguous view one element past an aligned address
// (its rows cannot take them). A 16-bit result is computed in float and rounded once on both
// backends: a unit in the last place apart at most.
TEST(CudaLayerNorm, WideAccessesWhereAlignedInEveryDtype) {
  GRAFT_REQUIRE_CUDA();
  g::manual_seed(7);
  const std::vector<std::pair<int64_t, int64_t>> shapes = {{33, 256}, {4, 4096}, {5, 6}, {3, 7}};
  for (const g::DType dtype : {g::kFloat32, g::kFloat64, g::kFloat16, g::kBFloat16}) {
    const double tol = dtype == g::kFloat16    ? 2e-3
                       : dtype == g::kBFloat16 ? 1.6e-2
                       : dtype == g::kFloat32  ? 1e-5
                                               : 1e-12;
    for (const auto& [rows, cols] : shapes) {
      for (const bool one_element_in : {false, true}) {
        SCOPED_TRACE(std::string(g::dtype_name(dtype)) + " (" + std::to_string(rows) + ", " +
                     std::to_string(cols) + ")" + (one_element_in ? " one element in" : ""));
        const int64_t r = rows, c = cols;
        const View view = [&](const Tensor& t) {
          return one_element_in ? t.index({g::Slice(1, g::None)}).view({r, c}) : t.view({r, c});
        };
        const Tensor x = g::randn({rows * cols + (one_element_in ? 1 : 0)}, dtype) * 2 + 0.5;
        const Tensor dy = g::randn({rows, cols}, dtype);
        const Tensor weight = g::randn({cols}, dtype), bias = g::randn({cols}, dtype);
        const Grads cpu = run(x, weight, bias, dy, g::Device::cpu(), view);
        poison_cuda_cache(x.nbytes());
        const Grads gpu = run(x, weight, bias, dy, g::Device::cuda(), view);
        expect_matches_cpu(gpu.y, cpu.y, tol, tol);
        expect_matches_cpu(gpu.dx, cpu.dx, tol, tol);
        expect_matches_cpu(gpu.dweight, cpu.dweight, tol, tol);
        expect_matches_cpu(gpu.dbias, cpu.dbias, tol, tol);
      }
    }
  }
}

}  // namespace
