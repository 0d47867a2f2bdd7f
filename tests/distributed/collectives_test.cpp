// The collectives against references computed on every rank: rank r's input is a known
// function of (r, element), so each rank can work out, with loops in double, what every
// collective must give. Every dtype, every reduction, odd sizes, 0-d and empty tensors, and
// non-contiguous inputs (which must be written back in place, leaving the memory around
// them alone), on the CPU (MPI) and on this rank's GPU (NCCL; skipped without a GPU or
// NCCL). Runs as a world of one and under mpirun with 2 and 3 ranks.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <functional>
#include <string>
#include <vector>

#include "graft/graft.h"
#include "test_util.h"
#include "world.h"

namespace g = graft;
namespace dist = graft::distributed;
using dist::ReduceOp;
using g::testing::error_message;
using ::testing::HasSubstr;

namespace {

// float16 and bfloat16 go through MPI as 16-bit words with reductions of graft's own.
const std::vector<g::DType> kDTypes = {g::kBool,    g::kUInt8,    g::kInt32,   g::kInt64,
                                       g::kFloat16, g::kBFloat16, g::kFloat32, g::kFloat64};

// Rank r's element i, exact in every dtype (small, and multiples of 1/4 for floats), so
// sums compare exactly.
double input_value(int rank, int64_t i, g::DType dtype) {
  if (dtype == g::kBool) return (rank + i) % 3 == 0 ? 1 : 0;
  if (dtype == g::kUInt8) return static_cast<double>((rank * 7 + i * 3) % 40);
  const double v = static_cast<double>((rank * 13 + i * 5) % 23) - 11;
  return g::is_floating_point(dtype) ? v * 0.25 : v;
}

std::vector<double> input_values(int rank, int64_t n, g::DType dtype) {
  std::vector<double> values(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) values[static_cast<size_t>(i)] = input_value(rank, i, dtype);
  return values;
}

// The reduction of element i over every rank, as the collective must compute it.
double reduced_value(int64_t i, g::DType dtype, ReduceOp op, int world) {
  double sum = 0;
  double lo = input_value(0, i, dtype);
  double hi = lo;
  for (int r = 0; r < world; ++r) {
    const double v = input_value(r, i, dtype);
    sum += v;
    lo = std::min(lo, v);
    hi = std::max(hi, v);
  }
  switch (op) {
    case ReduceOp::kSum:
      return dtype == g::kBool ? (sum > 0 ? 1 : 0) : sum;  // bool: OR
    case ReduceOp::kAvg:
      return sum / world;
    case ReduceOp::kMax:
      return hi;
    case ReduceOp::kMin:
      return lo;
  }
  return 0;
}

// A tensor on `device` holding `values` (in row-major order of `shape`) laid out as `layout`
// says: contiguous, transposed (a 2-d shape's transpose of a contiguous buffer), or every
// other column of a wider buffer (`frame` receives that buffer, filled with 2 (bool: true)
// around the view). Both are non-contiguous unless a dim is 0 or 1.
g::Tensor laid_out(const std::vector<double>& values, const g::Shape& shape, g::DType dtype,
                   const std::string& layout, g::Tensor* frame = nullptr,
                   g::Device device = g::kCPU) {
  const g::Tensor dense = g::testing::make_tensor(values, shape, dtype).to(device);
  const g::TensorOptions options = g::TensorOptions(dtype).device(device);
  if (layout == "contiguous") return dense;
  if (layout == "transposed") {
    g::Tensor t = g::empty({shape[1], shape[0]}, options).t();
    t.copy_(dense);
    return t;
  }
  g::Tensor wide = g::full({shape[0], 2 * shape[1]}, dtype == g::kBool ? 1 : 2, options);
  if (frame != nullptr) *frame = wide;
  g::Tensor t = wide.index({g::Slice(), g::Slice(g::None, g::None, 2)});
  t.copy_(dense);
  return t;
}

// Every element of `t` (read row-major) against `want`: exactly, or within `tol` relative
// (kAvg's division by a world of 3 rounds).
void expect_values(const g::Tensor& t, const std::vector<double>& want, const std::string& what,
                   double tol = 0) {
  const std::vector<double> got = t.contiguous().to_vector<double>();
  ASSERT_EQ(got.size(), want.size()) << what;
  for (size_t i = 0; i < got.size(); ++i)
    ASSERT_LE(std::abs(got[i] - want[i]), tol * std::abs(want[i])) << what << " element " << i;
}

double tolerance(g::DType dtype, ReduceOp op) {
  if (op != ReduceOp::kAvg) return 0;
  switch (dtype) {
    case g::kFloat16:
      return 1e-3;
    case g::kBFloat16:
      return 8e-3;
    case g::kFloat32:
      return 1e-7;
    default:
      return 1e-15;
  }
}

// The slice layout's untouched columns: still the frame's fill.
void expect_frame_untouched(const g::Tensor& frame, g::DType dtype) {
  const g::Tensor gaps = frame.index({g::Slice(), g::Slice(1, g::None, 2)});
  const double fill = dtype == g::kBool ? 1 : 2;
  for (double v : gaps.contiguous().to_vector<double>()) ASSERT_EQ(v, fill);
}

class Collectives : public g::testing::WorldTest {};

// The collectives that move data, on each device: the CPU's tensors go through the host
// backend (MPI, or a world of one), a GPU's through NCCL.
class CollectivesOn : public g::testing::WorldTest,
                      public ::testing::WithParamInterface<g::DeviceType> {
 protected:
  void SetUp() override {
    if (GetParam() == g::kCUDA) {
      if (!g::cuda::is_available()) GTEST_SKIP() << "no CUDA device";
      if (!dist::is_nccl_available())
        GTEST_SKIP() << "no NCCL: this build has no NCCL backend, or libnccl.so.2 does not load";
    }
    WorldTest::SetUp();
    if (GetParam() == g::kCUDA)
      device = g::Device(g::kCUDA, dist::get_local_rank() % g::cuda::device_count());
  }
  // A tensor of `shape` and `dtype` on this test's device, uninitialised.
  g::Tensor empty(const g::Shape& shape, g::DType dtype) const {
    return g::empty(shape, g::TensorOptions(dtype).device(device));
  }
  g::Tensor make(const std::vector<double>& values, const g::Shape& shape, g::DType dtype) const {
    return g::testing::make_tensor(values, shape, dtype).to(device);
  }
  g::Device device = g::kCPU;
};

INSTANTIATE_TEST_SUITE_P(Devices, CollectivesOn, ::testing::Values(g::kCPU, g::kCUDA),
                         [](const ::testing::TestParamInfo<g::DeviceType>& info) {
                           return info.param == g::kCPU ? std::string("cpu") : std::string("cuda");
                         });

TEST_F(Collectives, TheWorldIsWhatTheLauncherSays) {
  const char* size = std::getenv("OMPI_COMM_WORLD_SIZE");
  EXPECT_EQ(world, size ? std::atoi(size) : 1);
  EXPECT_GE(rank, 0);
  EXPECT_LT(rank, world);
  EXPECT_EQ(dist::get_backend(), world > 1 ? "mpi" : "local");
  EXPECT_GE(dist::get_local_rank(), 0);
  EXPECT_LT(dist::get_local_rank(), dist::get_local_world_size());
}

TEST_P(CollectivesOn, AllReduceEveryDtypeOpAndLayout) {
  const std::vector<g::Shape> shapes = {{3, 5}, {1, 1}, {0, 4}};
  for (g::DType dtype : kDTypes) {
    for (ReduceOp op : {ReduceOp::kSum, ReduceOp::kAvg, ReduceOp::kMax, ReduceOp::kMin}) {
      if (op == ReduceOp::kAvg && !g::is_floating_point(dtype)) continue;
      for (const g::Shape& shape : shapes) {
        for (const std::string layout : {"contiguous", "transposed", "sliced"}) {
          const std::string what = std::string(g::dtype_name(dtype)) + " " +
                                   dist::reduce_op_name(op) + " " + shape.str() + " " + layout;
          std::vector<double> want;
          for (int64_t i = 0; i < shape.numel(); ++i)
            want.push_back(reduced_value(i, dtype, op, world));
          g::Tensor frame;
          g::Tensor t = laid_out(input_values(rank, shape.numel(), dtype), shape, dtype, layout,
                                 &frame, device);
          dist::all_reduce(t, op);
          // Transposed: the buffer holds values in the transpose's order; compare logically.
          expect_values(t, want, what, tolerance(dtype, op));
          if (layout == "sliced") expect_frame_untouched(frame, dtype);
        }
      }
    }
  }
}

TEST_P(CollectivesOn, AllReduceOfZeroDimAndOddSizes) {
  for (int64_t n : {int64_t{1}, int64_t{7}, int64_t{1001}}) {
    g::Tensor t = make(input_values(rank, n, g::kFloat64), {n}, g::kFloat64);
    dist::all_reduce(t);
    std::vector<double> want;
    for (int64_t i = 0; i < n; ++i)
      want.push_back(reduced_value(i, g::kFloat64, ReduceOp::kSum, world));
    expect_values(t, want, "n = " + std::to_string(n));
  }
  g::Tensor scalar = make({input_value(rank, 0, g::kFloat32)}, {}, g::kFloat32);
  dist::all_reduce(scalar, ReduceOp::kMax);
  EXPECT_EQ(scalar.dim(), 0);
  EXPECT_EQ(scalar.item<double>(), reduced_value(0, g::kFloat32, ReduceOp::kMax, world));
}

TEST_P(CollectivesOn, BroadcastFromEveryRank) {
  for (int src = 0; src < world; ++src) {
    for (g::DType dtype : kDTypes) {
      for (const std::string layout : {"contiguous", "transposed", "sliced"}) {
        const g::Shape shape{4, 3};
        g::Tensor frame;
        g::Tensor t = laid_out(input_values(rank, 12, dtype), shape, dtype, layout, &frame, device);
        dist::broadcast(t, src);
        expect_values(
            t, input_values(src, 12, dtype),
            std::string("src ") + std::to_string(src) + " " + g::dtype_name(dtype) + " " + layout);
        if (layout == "sliced") expect_frame_untouched(frame, dtype);
      }
    }
  }
  g::Tensor nothing = empty({0}, g::kFloat32);
  dist::broadcast(nothing, world - 1);
  EXPECT_EQ(nothing.numel(), 0);
}

TEST_P(CollectivesOn, AllGatherIntoATensorAndAList) {
  for (g::DType dtype : kDTypes) {
    const g::Shape piece{2, 3};
    const g::Tensor input =
        laid_out(input_values(rank, 6, dtype), piece, dtype, "transposed", nullptr, device);
    g::Tensor gathered = empty({2 * world, 3}, dtype);
    dist::all_gather_into_tensor(gathered, input);
    std::vector<double> want;
    for (int r = 0; r < world; ++r) {
      const std::vector<double> part = input_values(r, 6, dtype);
      want.insert(want.end(), part.begin(), part.end());
    }
    expect_values(gathered, want, std::string("into a tensor, ") + g::dtype_name(dtype));

    std::vector<g::Tensor> outputs;
    for (int r = 0; r < world; ++r) outputs.push_back(empty(piece, dtype));
    dist::all_gather(outputs, input);
    for (int r = 0; r < world; ++r)
      expect_values(outputs[static_cast<size_t>(r)], input_values(r, 6, dtype),
                    std::string("list, rank ") + std::to_string(r));
  }
  // A 0-d input gathers into a vector, one element per rank.
  const g::Tensor scalar = make({rank * 2.0}, {}, g::kFloat64);
  g::Tensor all = empty({world}, g::kFloat64);
  dist::all_gather_into_tensor(all, scalar);
  for (int r = 0; r < world; ++r)
    EXPECT_EQ(all.to_vector<double>()[static_cast<size_t>(r)], r * 2.0);
}

TEST_P(CollectivesOn, ReduceScatterFromATensorAndAList) {
  for (g::DType dtype : kDTypes) {
    for (ReduceOp op : {ReduceOp::kSum, ReduceOp::kAvg, ReduceOp::kMin}) {
      if (op == ReduceOp::kAvg && !g::is_floating_point(dtype)) continue;
      const int64_t n = 5;  // elements per rank's piece
      const g::Tensor input = make(input_values(rank, n * world, dtype), {world * n}, dtype);
      std::vector<double> want;
      for (int64_t i = 0; i < n; ++i) want.push_back(reduced_value(rank * n + i, dtype, op, world));
      g::Tensor output = empty({n}, dtype);
      dist::reduce_scatter_tensor(output, input, op);
      const std::string what = std::string(g::dtype_name(dtype)) + " " + dist::reduce_op_name(op);
      expect_values(output, want, "tensor " + what, tolerance(dtype, op));

      std::vector<g::Tensor> inputs;
      for (int r = 0; r < world; ++r) inputs.push_back(input.narrow(0, r * n, n));
      g::Tensor from_list = empty({n}, dtype);
      dist::reduce_scatter(from_list, inputs, op);
      expect_values(from_list, want, "list " + what, tolerance(dtype, op));
    }
  }
}

TEST_P(CollectivesOn, AsyncWorkCompletesInAnyWaitingOrder) {
  std::vector<g::Tensor> tensors;
  std::vector<dist::Work> works;
  for (int k = 0; k < 8; ++k) {
    tensors.push_back(g::full({1000}, rank + k, g::TensorOptions(g::kFloat64).device(device)));
    works.push_back(dist::all_reduce_async(tensors.back(), ReduceOp::kSum));
  }
  works.push_back(dist::barrier_async());
  for (size_t k = works.size(); k-- > 0;) works[k].wait();
  for (int k = 0; k < 8; ++k) {
    EXPECT_TRUE(works[static_cast<size_t>(k)].is_completed());
    const double want = world * (world - 1) / 2.0 + world * k;
    EXPECT_EQ(tensors[static_cast<size_t>(k)].to_vector<double>()[999], want);
  }
  works[0].wait();  // waiting again is harmless
  EXPECT_TRUE(dist::Work().is_completed());
}

TEST_P(CollectivesOn, TensorsOfOneCollectiveMustShareADevice) {
  if (device.is_cpu()) GTEST_SKIP() << "needs a CUDA device beside the CPU";
  EXPECT_THAT(error_message([&] {
                g::Tensor out = g::empty({world, 2});
                dist::all_gather_into_tensor(out, empty({1, 2}, g::kFloat32));
              }),
              HasSubstr("must be on the same device"));
  EXPECT_THAT(error_message([&] {
                std::vector<g::Tensor> inputs(static_cast<size_t>(world), g::ones({2}));
                dist::reduce_scatter(empty({2}, g::kFloat32), inputs);
              }),
              HasSubstr("must be on the same device"));
  if (g::cuda::device_count() > 1) {
    const g::Device other(g::kCUDA, (device.index() + 1) % g::cuda::device_count());
    EXPECT_THAT(error_message([&] { dist::all_reduce(g::ones({2}).to(other)); }),
                HasSubstr("exchanges CUDA memory on " + device.str()));
  }
}

TEST_F(Collectives, InPlaceResultsBumpTheVersionCounter) {
  g::Tensor t = g::ones({3});
  const uint64_t before = t._version();
  dist::all_reduce(t);
  EXPECT_GT(t._version(), before);
}

TEST_F(Collectives, BadArgumentsAreClearErrors) {
  EXPECT_THAT(error_message([] { dist::all_reduce(g::ones({2}, g::kInt64), ReduceOp::kAvg); }),
              HasSubstr("ReduceOp::kAvg needs a floating-point tensor, got int64"));
  EXPECT_THAT(error_message([&] { dist::broadcast(g::ones({2}), world); }),
              HasSubstr("src " + std::to_string(world) + " is not a rank of this world"));
  EXPECT_THAT(error_message([] { dist::all_reduce(g::Tensor()); }), HasSubstr("undefined"));
  EXPECT_THAT(error_message([&] {
                g::Tensor out = g::empty({world + 1, 2});
                dist::all_gather_into_tensor(out, g::ones({1, 2}));
              }),
              HasSubstr("stacked along dim 0 have shape"));
  EXPECT_THAT(error_message([&] {
                std::vector<g::Tensor> outs(static_cast<size_t>(world) + 1, g::empty({2}));
                dist::all_gather(outs, g::ones({2}));
              }),
              HasSubstr("output"));
  EXPECT_THAT(error_message([&] {
                g::Tensor out = g::empty({2}, g::kFloat64);
                dist::reduce_scatter_tensor(out, g::ones({2 * world}, g::kFloat32));
              }),
              HasSubstr("must match"));
  EXPECT_THAT(error_message([] { dist::init_process_group(); }), HasSubstr("twice"));
}

TEST_F(Collectives, RanksThatDisagreeAreNamedOnEveryRank) {
  if (world == 1) GTEST_SKIP() << "needs two ranks";
  // Rank 1 passes one element more: a plain MPI program would read past a buffer.
  const g::Tensor t = g::ones({rank == 1 ? 4 : 3});
  const std::string message = error_message([&] { dist::all_reduce(t); });
  EXPECT_THAT(message, HasSubstr("rank 0: all_reduce(float32 [3], kSum)"));
  EXPECT_THAT(message, HasSubstr("rank 1: all_reduce(float32 [4], kSum)"));
  // A different collective altogether.
  const std::string other = error_message([&] {
    if (rank == 0)
      dist::barrier();
    else
      dist::broadcast(g::ones({2}), 0);
  });
  EXPECT_THAT(other, HasSubstr("rank 0: barrier()"));
  EXPECT_THAT(other, HasSubstr("rank 1: broadcast(float32 [2], src 0)"));
  // The group still works afterwards.
  g::Tensor after = g::ones({2});
  dist::all_reduce(after);
  EXPECT_EQ(after.to_vector<double>()[0], world);
}

// Before init_process_group (ctest runs this suite alone, in a fresh process).
TEST(BeforeInit, CollectivesAndQueriesSayToInitFirst) {
  ASSERT_FALSE(dist::is_initialized());
  for (const auto& call : std::vector<std::function<void()>>{
           [] { dist::all_reduce(g::ones({2})); }, [] { dist::barrier(); },
           [] { (void)dist::get_rank(); }, [] { dist::destroy_process_group(); }}) {
    EXPECT_THAT(error_message(call), HasSubstr("has not been initialized"));
  }
  EXPECT_THAT(error_message([] {
                g::nn::Linear net(2, 2);
                g::nn::parallel::DistributedDataParallel ddp(net);
              }),
              HasSubstr("init_process_group() first"));
}

TEST(BeforeInit, AWorldOfOneCanBeMadeAndLeftAgainWithoutMpi) {
  if (dist::is_mpi_available()) GTEST_SKIP() << "MPI cannot be initialised a second time";
  for (int round = 0; round < 2; ++round) {
    dist::init_process_group();
    EXPECT_EQ(dist::get_world_size(), 1);
    dist::destroy_process_group();
  }
}

TEST(BeforeInit, ABuildWithoutMpiRefusesToRunUnderMpirun) {
  if (dist::is_mpi_available()) GTEST_SKIP() << "this build has MPI";
  setenv("OMPI_COMM_WORLD_SIZE", "2", 1);
  const std::string message = error_message([] { dist::init_process_group(); });
  unsetenv("OMPI_COMM_WORLD_SIZE");
  EXPECT_THAT(message, HasSubstr("this build of graft has no MPI"));
  EXPECT_FALSE(dist::is_initialized());
}

}  // namespace
