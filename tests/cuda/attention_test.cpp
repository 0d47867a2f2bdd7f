// CUDA fused attention (kernels/cuda/attention.cu) against its CPU twin
// (kernels/cpu/attention.cpp), which the op registry (tests/ops/attention_rows.cpp) and
// tests/nn/attention_test.cpp check against references in double.
//
// Forward and the three gradients, causal or not, float32, float64, float16 and bfloat16 (the
// 16-bit types computed in float by both), over sizes that cut every tile: a query or key
// count of one, below a warp, one past a block's 16 rows and the 32-row tiles, more queries
// than keys and fewer (the causal diagonal off the corner), head dims that are not multiples
// of 32 and differ between values and keys, up to the kernel's 128; several batch-heads; no
// queries; no keys (zeros). Outputs land in memory poisoned with NaN. With dropout, the two
// devices draw the same mask from the same seed, so they agree as closely as without.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "cuda/cuda_test_util.h"
#include "graft/kernels/dispatch.h"
#include "test_util.h"

namespace g = graft;
using g::Tensor;
using g::testing::expect_matches_cpu;
using g::testing::leaf_on;
using g::testing::poison_cuda_cache;

namespace {

struct Case {
  int64_t batch, heads, queries, keys, features, value_features;
};

struct Result {
  Tensor out, dq, dk, dv;
};

// The fused kernels' output and gradients on `device`; with dropout, the mask of the
// generator's state after manual_seed(dropout_seed).
Result run(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& dout, bool causal,
           g::Device device, double dropout = 0.0, uint64_t dropout_seed = 0) {
  const Tensor qd = leaf_on(q, device), kd = leaf_on(k, device), vd = leaf_on(v, device);
  if (dropout > 0) g::manual_seed(dropout_seed);
  const Tensor out =
      g::nn::functional::scaled_dot_product_attention(qd, kd, vd, {}, dropout, causal);
  out.backward(dout.to(device));
  return {out, qd.grad(), kd.grad(), vd.grad()};
}

double tolerance(g::DType dtype) {
  switch (dtype) {
    case g::kFloat64:
      return 1e-12;
    case g::kFloat16:
      return 4e-3;
    case g::kBFloat16:
      return 3e-2;
    default:
      return 2e-5;
  }
}

TEST(CudaAttention, ForwardAndBackwardMatchTheCpu) {
  GRAFT_REQUIRE_CUDA();
  const std::vector<Case> cases = {{1, 1, 1, 1, 1, 1},     {2, 3, 17, 33, 40, 24},
                                   {1, 2, 70, 37, 64, 64}, {1, 1, 129, 129, 32, 96},
                                   {3, 1, 5, 300, 8, 8},   {1, 1, 20, 20, 128, 128},
                                   {2, 2, 0, 9, 16, 16}};
  for (const g::DType dtype : {g::kFloat32, g::kFloat64, g::kFloat16, g::kBFloat16}) {
    for (const Case& c : cases) {
      for (const bool causal : {false, true}) {
        SCOPED_TRACE(std::string(g::dtype_name(dtype)) + " B=" + std::to_string(c.batch) +
                     " H=" + std::to_string(c.heads) + " L=" + std::to_string(c.queries) +
                     " S=" + std::to_string(c.keys) + " E=" + std::to_string(c.features) +
                     " Ev=" + std::to_string(c.value_features) + (causal ? " causal" : ""));
        const Tensor q = g::randn({c.batch, c.heads, c.queries, c.features}, dtype);
        const Tensor k = g::randn({c.batch, c.heads, c.keys, c.features}, dtype);
        const Tensor v = g::randn({c.batch, c.heads, c.keys, c.value_features}, dtype);
        const Tensor dout = g::randn({c.batch, c.heads, c.queries, c.value_features}, dtype);
        const Result cpu = run(q, k, v, dout, causal, g::Device::cpu());
        poison_cuda_cache(q.nbytes() + k.nbytes() + v.nbytes());
        const Result gpu = run(q, k, v, dout, causal, g::Device::cuda());
        // The 16-bit types: both sides compute in float from the same inputs and round each
        // stored value once, so they differ by the float sums' order, then a step of the type.
        const double tol = tolerance(dtype);
        expect_matches_cpu(gpu.out, cpu.out, tol, tol);
        expect_matches_cpu(gpu.dq, cpu.dq, tol, tol);
        expect_matches_cpu(gpu.dk, cpu.dk, tol, tol);
        expect_matches_cpu(gpu.dv, cpu.dv, tol, tol);
      }
    }
  }
}

// Dropout inside the kernels: each lane draws its probability's mask from the Philox stream
// where the CPU's tiles draw it, in the forward and again in both backward kernels, so the
// devices keep and drop the same probabilities. Sizes that cut the tiles and the Philox
// blocks of four (S = 37: a row's mask starts mid-block), several batch-heads (the draws are
// numbered by batch-head), p = 1 (everything dropped: zeros). The math path, were it taken,
// would draw another mask (dropout()'s), and the two would not agree.
TEST(CudaAttention, DropoutMatchesTheCpuFromOneSeed) {
  GRAFT_REQUIRE_CUDA();
  const std::vector<Case> cases = {{2, 3, 17, 37, 40, 24}, {1, 2, 70, 70, 64, 64}};
  for (const g::DType dtype : {g::kFloat32, g::kFloat64, g::kBFloat16}) {
    for (const Case& c : cases) {
      for (const bool causal : {false, true}) {
        for (const double dropout : {0.2, 1.0}) {
          SCOPED_TRACE(std::string(g::dtype_name(dtype)) + " L=" + std::to_string(c.queries) +
                       " S=" + std::to_string(c.keys) + (causal ? " causal" : "") + " dropout " +
                       std::to_string(dropout));
          const Tensor q = g::randn({c.batch, c.heads, c.queries, c.features}, dtype);
          const Tensor k = g::randn({c.batch, c.heads, c.keys, c.features}, dtype);
          const Tensor v = g::randn({c.batch, c.heads, c.keys, c.value_features}, dtype);
          const Tensor dout = g::randn({c.batch, c.heads, c.queries, c.value_features}, dtype);
          const Result cpu = run(q, k, v, dout, causal, g::Device::cpu(), dropout, 7);
          const Result gpu = run(q, k, v, dout, causal, g::Device::cuda(), dropout, 7);
          const double tol = tolerance(dtype);
          expect_matches_cpu(gpu.out, cpu.out, tol, tol);
          expect_matches_cpu(gpu.dq, cpu.dq, tol, tol);
          expect_matches_cpu(gpu.dk, cpu.dk, tol, tol);
          expect_matches_cpu(gpu.dv, cpu.dv, tol, tol);
          if (dropout == 1.0) {
            EXPECT_TRUE(g::equal(gpu.out.cpu(), g::zeros_like(cpu.out)));
          }
        }
      }
    }
  }
}

// The op layer asks the kernels whether head dims fit before it takes the fused path: past
// 128, or past the block's shared memory (float64 at 128 needs 129 KB for the backward's key
// tiles, more than an RTX 30 or 40 grants), the math path runs, so that a fused forward is
// never followed by a backward that cannot launch (ForwardAndBackwardMatchTheCpu runs that
// size either way).
TEST(CudaAttention, HeadDimsFitAsTheGpuAllows) {
  GRAFT_REQUIRE_CUDA();
  const auto fits = g::kernels::kernel_table().attention_fits[static_cast<int>(g::kCUDA)];
  ASSERT_NE(fits, nullptr);
  const g::Device cuda = g::Device::cuda();
  for (const bool with_backward : {false, true}) {
    EXPECT_TRUE(fits(cuda, g::kFloat32, 64, 64, with_backward));  // 33 KB a block at most
    EXPECT_TRUE(fits(cuda, g::kBFloat16, 64, 64, with_backward));
    EXPECT_FALSE(fits(cuda, g::kFloat32, 129, 64, with_backward));
    EXPECT_FALSE(fits(cuda, g::kFloat32, 64, 129, with_backward));
  }
  // The backward's tiles are the larger: where they fit, the forward's do.
  for (const g::DType dtype : {g::kFloat32, g::kFloat64}) {
    if (fits(cuda, dtype, 128, 128, true)) {
      EXPECT_TRUE(fits(cuda, dtype, 128, 128, false));
    }
  }
}

TEST(CudaAttention, NoKeysGivesZerosAndNoGradient) {
  GRAFT_REQUIRE_CUDA();
  const Tensor q = g::randn({2, 5, 8}).to(g::Device::cuda()).requires_grad_();
  const Tensor k = g::randn({2, 0, 8}).to(g::Device::cuda()).requires_grad_();
  const Tensor v = g::randn({2, 0, 4}).to(g::Device::cuda()).requires_grad_();
  const Tensor out = g::nn::functional::scaled_dot_product_attention(q, k, v);
  EXPECT_TRUE(g::equal(out.cpu(), g::zeros({2, 5, 4})));
  out.sum().backward();
  EXPECT_TRUE(g::equal(q.grad().cpu(), g::zeros({2, 5, 8})));
}

TEST(CudaAttention, RunsAreBitwiseEqual) {
  // No atomics: dq, dk and dv each have one writer and one order of summation.
  GRAFT_REQUIRE_CUDA();
  const Tensor q = g::randn({4, 2, 100, 64}), k = g::randn({4, 2, 90, 64}),
               v = g::randn({4, 2, 90, 48}), dout = g::randn({4, 2, 100, 48});
  const Result a = run(q, k, v, dout, true, g::Device::cuda());
  const Result b = run(q, k, v, dout, true, g::Device::cuda());
  EXPECT_TRUE(g::equal(a.out.cpu(), b.out.cpu()));
  EXPECT_TRUE(g::equal(a.dq.cpu(), b.dq.cpu()));
  EXPECT_TRUE(g::equal(a.dk.cpu(), b.dk.cpu()));
  EXPECT_TRUE(g::equal(a.dv.cpu(), b.dv.cpu()));
}

}  // namespace
