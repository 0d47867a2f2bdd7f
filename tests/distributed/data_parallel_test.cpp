// DistributedDataParallel against one process on the whole batch. Each rank trains on its
// shard of a global batch every rank can generate; each rank also trains a reference model,
// alone, on the whole batch. Equal shards make the mean of the ranks' mean gradients the
// whole batch's mean gradient, so after every step the parameters must agree (float64 to
// 1e-12, float32 to 1e-6), for SGD and Adam, an MLP and a CNN, with and without gradient
// accumulation (no_sync), on the CPU and on a GPU (NCCL; skipped without one). Then what has no
// single-process twin: batch norm's buffers,
// parameters without gradients, bucketing, and mismatched models.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "graft/graft.h"
#include "test_util.h"
#include "world.h"

namespace g = graft;
namespace dist = graft::distributed;
namespace nn = graft::nn;
using g::testing::error_message;
using nn::parallel::DistributedDataParallel;
using ::testing::HasSubstr;

namespace {

enum class Model { kMlp, kCnn };

nn::Sequential make_model(Model model, g::DType dtype, uint64_t seed, g::Device device) {
  g::manual_seed(seed);
  nn::Sequential net;
  if (model == Model::kMlp) {
    net = nn::Sequential(nn::Linear(6, 8), nn::Tanh(), nn::Linear(8, 3));
  } else {
    net = nn::Sequential(nn::Conv2d(1, 2, 3), nn::Tanh(), nn::Flatten(), nn::Linear(2 * 4 * 4, 3));
  }
  net.to(dtype);
  net.to(device);
  return net;
}

// Rows [first, first + count) of step `step`'s global batch: inputs and regression targets.
struct Batch {
  g::Tensor x, y;
};
Batch global_batch(Model model, g::DType dtype, int step, int64_t rows, g::Device device) {
  g::manual_seed(1000 + static_cast<uint64_t>(step));
  const g::Shape shape = model == Model::kMlp ? g::Shape{rows, 6} : g::Shape{rows, 1, 6, 6};
  return {g::randn(shape, dtype).to(device), g::randn({rows, 3}, dtype).to(device)};
}

std::unique_ptr<g::optim::Optimizer> make_optimizer(const std::string& name,
                                                    std::vector<g::Tensor> params) {
  if (name == "sgd")
    return std::make_unique<g::optim::SGD>(std::move(params), /*lr*/ 0.1, /*momentum*/ 0.9);
  return std::make_unique<g::optim::Adam>(std::move(params), /*lr*/ 0.01);
}

void expect_close(const std::vector<g::Tensor>& got, const std::vector<g::Tensor>& want, double tol,
                  const std::string& what) {
  ASSERT_EQ(got.size(), want.size());
  for (size_t k = 0; k < got.size(); ++k) {
    const std::vector<double> a = got[k].to_vector<double>();
    const std::vector<double> b = want[k].to_vector<double>();
    for (size_t i = 0; i < a.size(); ++i)
      ASSERT_LE(std::abs(a[i] - b[i]), tol * (1 + std::abs(b[i])))
          << what << ": parameter " << k << " element " << i;
  }
}

// Every rank's copy of each tensor, compared with rank 0's bit for bit.
void expect_same_on_every_rank(const std::vector<g::Tensor>& tensors, const std::string& what) {
  const int world = dist::get_world_size();
  for (size_t k = 0; k < tensors.size(); ++k) {
    const g::Tensor mine = tensors[k].detach().contiguous().to(g::kFloat64).reshape({-1});
    g::Tensor all = g::empty({world * mine.numel()}, g::kFloat64);
    dist::all_gather_into_tensor(all, mine);
    const std::vector<double> values = all.to_vector<double>();
    const auto n = static_cast<size_t>(mine.numel());
    for (size_t r = 1; r < static_cast<size_t>(world); ++r)
      for (size_t i = 0; i < n; ++i)
        ASSERT_EQ(values[r * n + i], values[i]) << what << ": tensor " << k << " on rank " << r;
  }
}

struct Case {
  Model model;
  std::string optimizer;
  int micro_batches;  // gradient accumulation: all but the last under no_sync()
  g::DType dtype;
  double bucket_cap_mb = 25.0;
  g::DeviceType device = g::kCPU;  // a GPU: this rank's, its buckets reduced by NCCL
};

std::string name_of(const Case& c) {
  return std::string(c.model == Model::kMlp ? "mlp" : "cnn") + "_" + c.optimizer + "_" +
         std::to_string(c.micro_batches) + "micro_" + g::dtype_name(c.dtype) +
         (c.bucket_cap_mb < 1 ? "_tiny_buckets" : "") + (c.device == g::kCUDA ? "_cuda" : "");
}

class DataParallelMatchesOneProcess : public ::testing::TestWithParam<Case> {
 protected:
  void SetUp() override {
    if (GetParam().device == g::kCUDA) {
      if (!g::cuda::is_available()) GTEST_SKIP() << "no CUDA device";
      if (!dist::is_nccl_available()) GTEST_SKIP() << "no NCCL";
    }
    g::testing::ensure_process_group();
    if (GetParam().device == g::kCUDA)
      device = g::Device(g::kCUDA, dist::get_local_rank() % g::cuda::device_count());
  }
  g::Device device = g::kCPU;
};

TEST_P(DataParallelMatchesOneProcess, ParametersAfterEachStep) {
  const Case& c = GetParam();
  const int rank = dist::get_rank();
  const int world = dist::get_world_size();
  const int64_t per_rank = 4;
  const int64_t rows = per_rank * world;
  const int64_t micro = per_rank / c.micro_batches;

  // Each rank starts from its own initialisation; DDP gives everyone rank 0's (seed 100),
  // which is where the reference starts.
  nn::Sequential net = make_model(c.model, c.dtype, 100 + static_cast<uint64_t>(rank), device);
  DistributedDataParallel ddp(net, {.bucket_cap_mb = c.bucket_cap_mb});
  nn::Sequential reference = make_model(c.model, c.dtype, 100, device);
  auto opt = make_optimizer(c.optimizer, net.parameters());
  auto ref_opt = make_optimizer(c.optimizer, reference.parameters());
  const double tol = c.dtype == g::kFloat64 ? 1e-12 : 1e-6;
  expect_close(net.parameters(), reference.parameters(), 0, "after the broadcast");

  for (int step = 0; step < 3; ++step) {
    const Batch batch = global_batch(c.model, c.dtype, step, rows, device);
    ref_opt->zero_grad();
    nn::functional::mse_loss(reference(batch.x), batch.y).backward();
    ref_opt->step();

    opt->zero_grad();
    for (int m = 0; m < c.micro_batches; ++m) {
      const int64_t first = rank * per_rank + m * micro;
      const g::Tensor x = batch.x.narrow(0, first, micro);
      const g::Tensor y = batch.y.narrow(0, first, micro);
      const auto loss = [&] { return nn::functional::mse_loss(ddp(x), y) / c.micro_batches; };
      if (m + 1 < c.micro_batches) {
        auto guard = ddp.no_sync();
        loss().backward();
      } else {
        loss().backward();
      }
    }
    opt->step();
    expect_close(net.parameters(), reference.parameters(), tol,
                 name_of(c) + " step " + std::to_string(step));
  }
}

INSTANTIATE_TEST_SUITE_P(
    DataParallel, DataParallelMatchesOneProcess,
    ::testing::Values(
        Case{Model::kMlp, "sgd", 1, g::kFloat64}, Case{Model::kMlp, "adam", 1, g::kFloat64},
        Case{Model::kMlp, "sgd", 2, g::kFloat64}, Case{Model::kMlp, "adam", 2, g::kFloat32},
        Case{Model::kCnn, "sgd", 1, g::kFloat64}, Case{Model::kCnn, "adam", 2, g::kFloat64},
        Case{Model::kCnn, "sgd", 1, g::kFloat32},
        Case{Model::kMlp, "sgd", 2, g::kFloat64, /*bucket_cap_mb*/ 1e-6},
        Case{Model::kMlp, "adam", 2, g::kFloat32, 25.0, g::kCUDA},
        Case{Model::kCnn, "sgd", 1, g::kFloat64, 25.0, g::kCUDA}),
    [](const ::testing::TestParamInfo<Case>& info) { return name_of(info.param); });

class DataParallel : public g::testing::WorldTest {};

TEST_F(DataParallel, BatchNormKeepsEveryRankIdentical) {
  // Local batch statistics differ by design (no SyncBatchNorm): what must hold is that
  // parameters, and buffers as each forward sees them, are the same everywhere.
  g::manual_seed(7 + static_cast<uint64_t>(rank));
  nn::Sequential net(nn::Linear(6, 8), nn::BatchNorm1d(8), nn::Tanh(), nn::Linear(8, 3));
  net.to(g::kFloat64);
  DistributedDataParallel ddp(net);
  g::optim::SGD opt(net.parameters(), 0.1, 0.9);
  for (int step = 0; step < 3; ++step) {
    g::manual_seed(50 + static_cast<uint64_t>(rank * 10 + step));  // each rank its own data
    const g::Tensor x = g::randn({5, 6}, g::kFloat64);
    opt.zero_grad();
    nn::functional::mse_loss(ddp(x), g::zeros({5, 3}, g::kFloat64)).backward();
    opt.step();
    expect_same_on_every_rank(net.parameters(), "parameters after step " + std::to_string(step));
  }
  net.eval();
  (void)ddp(g::zeros({2, 6}, g::kFloat64));  // broadcasts the buffers, changes none
  expect_same_on_every_rank(net.buffers(), "buffers at a forward");
}

// Two branches; the second only runs where `use_second` is set.
struct TwoBranches : nn::Module {
  std::shared_ptr<nn::Linear> first, second;
  bool use_second = true;
  TwoBranches() : Module("TwoBranches") {
    first = register_module("first", nn::Linear(4, 2));
    second = register_module("second", nn::Linear(4, 2));
  }
  g::Tensor forward(const g::Tensor& x) override {
    return use_second ? (*first)(x) + (*second)(x) : (*first)(x);
  }
};

TEST_F(DataParallel, ParametersWithoutGradientsNeitherHangNorGetOne) {
  g::manual_seed(3);
  TwoBranches net;
  net.to(g::kFloat64);
  DistributedDataParallel ddp(net);
  net.use_second = false;  // on every rank
  g::manual_seed(20 + static_cast<uint64_t>(rank));
  ddp(g::randn({3, 4}, g::kFloat64)).sum().backward();
  EXPECT_TRUE(net.first->weight.grad().defined());
  EXPECT_FALSE(net.second->weight.grad().defined());
  EXPECT_FALSE(net.second->bias.grad().defined());
  expect_same_on_every_rank({net.first->weight.grad()}, "the used branch's gradient");
}

TEST_F(DataParallel, AGradientFromOneRankIsAveragedOverAll) {
  g::manual_seed(3);
  TwoBranches net;
  net.to(g::kFloat64);
  DistributedDataParallel ddp(net);
  // Only rank 0 runs the second branch: its gradient there, divided by the world, is what
  // every rank must end with (the others contribute zero).
  g::manual_seed(20);
  const g::Tensor x0 = g::randn({3, 4}, g::kFloat64);
  g::manual_seed(20 + static_cast<uint64_t>(rank));
  const g::Tensor x = g::randn({3, 4}, g::kFloat64);
  TwoBranches alone;
  alone.to(g::kFloat64);
  alone.load_state_dict(net.state_dict());
  alone(x0).sum().backward();

  net.use_second = rank == 0;
  ddp(x).sum().backward();
  ASSERT_TRUE(net.second->weight.grad().defined());
  expect_close({net.second->weight.grad()}, {alone.second->weight.grad() / world}, 1e-12,
               "second branch");
}

TEST_F(DataParallel, BucketsFollowReverseRegistrationOrder) {
  nn::Sequential net(nn::Linear(3, 4), nn::Linear(4, 2));  // weight, bias, weight, bias
  DistributedDataParallel together(net);
  EXPECT_EQ(together.bucket_assignment(), (std::vector<std::vector<size_t>>{{3, 2, 1, 0}}));
  nn::Sequential other(nn::Linear(3, 4), nn::Linear(4, 2));
  DistributedDataParallel apart(other, {.bucket_cap_mb = 1e-6});
  EXPECT_EQ(apart.bucket_assignment(), (std::vector<std::vector<size_t>>{{3}, {2}, {1}, {0}}));
}

TEST_F(DataParallel, DifferentModelsAreAClearError) {
  if (world == 1) GTEST_SKIP() << "needs two ranks";
  nn::Linear net(6, rank == 1 ? 9 : 8);
  EXPECT_THAT(error_message([&] { DistributedDataParallel ddp(net); }),
              HasSubstr("the ranks wrap different models"));
}

TEST_F(DataParallel, GradientsAreLocalAgainOnceTheWrapperIsGone) {
  nn::Linear net(4, 1);
  net.to(g::kFloat64);
  { DistributedDataParallel ddp(net); }
  const g::Tensor x = g::full({1, 4}, rank + 1.0, g::kFloat64);
  net(x).sum().backward();  // the hooks outlive the wrapper, and do nothing
  EXPECT_EQ(net.weight.grad().to_vector<double>()[0], rank + 1.0);
}

}  // namespace
