// The CUDA multi-tensor optimizer update (kernels/cuda/optim.cu) against its CPU twin
// (kernels/cpu/optim.cpp), which tests/optim/fused_update_test.cpp checks against the
// update rules written out in double.
//
// One call updates parameters of sizes that reach every edge of the chunking: empty, one
// element, one short of, exactly and one past a chunk (8192 elements), and a large odd size
// over many chunks, for every algorithm and option set, float32 and float64, several steps
// with fresh gradients, and the partial sums of the gradients' squares. State starts from random
// values (never zeros), so a chunk the kernel skips, or an element of the wrong tensor, shows. Both
// devices run the same formulas (kernels/optim.h); they differ by nvcc's fused multiply-adds only.
#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

#include "cuda/cuda_test_util.h"
#include "graft/optim/fused_update.h"
#include "test_util.h"

namespace graft::optim {
namespace {

using testing::expect_matches_cpu;
using testing::make_tensor;
using testing::sample_values;

const std::vector<int64_t> kSizes = {0, 1, 8191, 8192, 8193, 100003};

// A CPU tensor of `n` values in [lo, hi) from `seed`.
Tensor values(int64_t n, DType dtype, uint32_t seed, double lo = -1.0, double hi = 1.0) {
  return make_tensor(sample_values(n, lo, hi, seed), {n}, dtype);
}

void check_parity(const kernels::OptimHyper& hyper, DType dtype) {
  const auto names = state_names(hyper);
  std::vector<ParamUpdate> cpu(kSizes.size()), gpu(kSizes.size());
  for (size_t t = 0; t < kSizes.size(); ++t) {
    cpu[t].param = values(kSizes[t], dtype, 10 + t);
    // Averages of squares must be >= their mean squared (RMSprop centered): positive.
    for (int s = 0; s < kernels::kMaxOptimState; ++s)
      if (!names[s].empty()) cpu[t].state[s] = values(kSizes[t], dtype, 20 + 3 * t + s, 0.5, 1.0);
    gpu[t].param = cpu[t].param.cuda();
    for (int s = 0; s < kernels::kMaxOptimState; ++s)
      if (!names[s].empty()) gpu[t].state[s] = cpu[t].state[s].cuda();
  }
  const bool f32 = dtype == kFloat32;
  for (int step = 1; step <= 3; ++step) {
    for (size_t t = 0; t < kSizes.size(); ++t) {
      cpu[t].grad = values(kSizes[t], dtype, 100 * step + t);
      gpu[t].grad = cpu[t].grad.cuda();
      cpu[t].step = gpu[t].step = step + static_cast<int64_t>(t);  // counts differ per tensor
    }
    // Step 2 also sums the gradients' squares (block by block on the GPU).
    const bool sum_squares = step == 2;
    const Tensor cpu_sum = fused_update(hyper, cpu, "cpu", sum_squares);
    const Tensor gpu_sum = fused_update(hyper, gpu, "cuda", sum_squares);
    if (sum_squares) {
      EXPECT_TRUE(gpu_sum.is_cuda());
      // The CPU sums float32 chunks in float (pairwise), CUDA in double.
      expect_matches_cpu(gpu_sum, cpu_sum, f32 ? 1e-6 : 1e-12, 0);
    }
    for (size_t t = 0; t < kSizes.size(); ++t) {
      SCOPED_TRACE("step " + std::to_string(step) + ", size " + std::to_string(kSizes[t]));
      expect_matches_cpu(gpu[t].param, cpu[t].param, f32 ? 1e-5 : 1e-12, f32 ? 1e-6 : 1e-14);
      for (int s = 0; s < kernels::kMaxOptimState; ++s)
        if (!names[s].empty())
          expect_matches_cpu(gpu[t].state[s], cpu[t].state[s], f32 ? 1e-5 : 1e-12,
                             f32 ? 1e-6 : 1e-14);
    }
  }
}

const std::vector<std::pair<std::string, kernels::OptimHyper>> kCases = {
    {"sgd", kernels::SgdHyper{.lr = 0.1}},
    {"sgd nesterov + decay",
     kernels::SgdHyper{.lr = 0.1, .momentum = 0.9, .weight_decay = 0.01, .nesterov = true}},
    {"sgd dampening, maximize",
     kernels::SgdHyper{.lr = 0.1, .momentum = 0.9, .dampening = 0.2, .maximize = true}},
    {"adam", kernels::AdamHyper{.lr = 0.01, .weight_decay = 0.1}},
    {"adamw amsgrad",
     kernels::AdamHyper{
         .lr = 0.01, .weight_decay = 0.1, .amsgrad = true, .decoupled_weight_decay = true}},
    {"rmsprop", kernels::RmspropHyper{.weight_decay = 0.1}},
    {"rmsprop centered + momentum",
     kernels::RmspropHyper{.alpha = 0.9, .momentum = 0.5, .centered = true, .maximize = true}},
};

TEST(CudaOptim, FusedUpdateMatchesTheCpu) {
  GRAFT_REQUIRE_CUDA();
  for (const DType dtype : {kFloat32, kFloat64}) {
    for (const auto& [name, hyper] : kCases) {
      SCOPED_TRACE(name + " " + dtype_name(dtype));
      check_parity(hyper, dtype);
    }
  }
}

TEST(CudaOptim, ParametersOnBothDevicesAreUpdatedInOneCall) {
  GRAFT_REQUIRE_CUDA();
  ParamUpdate on_cpu{make_tensor({1.0}, {1}), make_tensor({1.0}, {1}), {}, 1};
  ParamUpdate on_gpu{make_tensor({1.0}, {1}).cuda(), make_tensor({2.0}, {1}).cuda(), {}, 1};
  fused_update(kernels::SgdHyper{.lr = 0.25}, {on_cpu, on_gpu}, "test");
  EXPECT_EQ(on_cpu.param.item<double>(), 0.75);
  EXPECT_EQ(on_gpu.param.item<double>(), 0.5);
}

TEST(CudaOptim, GradientOnAnotherDeviceIsAnError) {
  GRAFT_REQUIRE_CUDA();
  ParamUpdate mixed{make_tensor({1.0}, {1}).cuda(), make_tensor({1.0}, {1}), {}, 1};
  EXPECT_NE(testing::error_message([&] { fused_update(kernels::SgdHyper{}, {mixed}, "SGD"); })
                .find("the gradient of parameter 0 is float64 (1,) on cpu but the parameter is "
                      "float64 (1,) on cuda:0"),
            std::string::npos);
}

}  // namespace
}  // namespace graft::optim
