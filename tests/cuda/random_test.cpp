// CUDA random numbers against the CPU generator: the same seed gives the same numbers on
// both devices (rand and randint bit for bit, randn within the devices' last-ulp
// differences in log/sin/cos), and the two devices share one stream.
//
// The CPU side is checked against independent references in tests/core/random_test.cpp;
// here the CPU result is the reference. Each CUDA output lands in a block of the caching
// allocator that was filled with 0xFF bytes first (NaN, -1, an invalid bool), so an
// element the kernel forgets to write cannot match.
#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <string>

#include "cuda/cuda_test_util.h"

namespace g = graft;
using g::testing::expect_matches_cpu;
using g::testing::poison_cuda_cache;

namespace {

const g::Device kCuda = g::Device::cuda();

// Sizes that fill no whole number of Philox blocks, CUDA blocks or warps, and one that
// needs many thread blocks per thread of the grid-stride loop.
constexpr int64_t kSizes[] = {1, 7, 33, 1000003};

// Calls make(options) once on the CPU and once on CUDA, each time right after
// manual_seed(seed), and checks that CUDA wrote what the CPU did.
template <class Make>
void expect_same_stream(const Make& make, g::DType dtype, double rtol = 0, double atol = 0) {
  g::manual_seed(0);
  const g::Tensor cpu = make(g::TensorOptions(dtype));
  poison_cuda_cache(cpu.nbytes());
  g::manual_seed(0);
  const g::Tensor cuda = make(g::TensorOptions(dtype).device(kCuda));
  expect_matches_cpu(cuda, cpu, rtol, atol);
}

TEST(CudaRandom, RandIsBitIdenticalToTheCpu) {
  GRAFT_REQUIRE_CUDA();
  for (g::DType dtype : {g::kFloat32, g::kFloat64}) {
    for (int64_t n : kSizes) {
      SCOPED_TRACE(std::string(g::dtype_name(dtype)) + ", n = " + std::to_string(n));
      expect_same_stream([&](g::TensorOptions o) { return g::rand({n}, o); }, dtype);
    }
  }
}

// The devices' logf/sinf/cosf differ from glibc's in the last bits: float32 results were
// measured within 3.5e-7 relative, float64 within 5.6e-16 (kernels/random.h).
TEST(CudaRandom, RandnEqualsTheCpuWithinFloatRounding) {
  GRAFT_REQUIRE_CUDA();
  for (int64_t n : kSizes) {
    SCOPED_TRACE("n = " + std::to_string(n));
    expect_same_stream([&](g::TensorOptions o) { return g::randn({n}, o); }, g::kFloat32, 2e-6,
                       1e-6);
    expect_same_stream([&](g::TensorOptions o) { return g::randn({n}, o); }, g::kFloat64, 1e-14,
                       1e-14);
  }
}

TEST(CudaRandom, RandintIsBitIdenticalToTheCpuForEveryDType) {
  GRAFT_REQUIRE_CUDA();
  struct Range {
    g::DType dtype;
    int64_t low, high;
  };
  constexpr int64_t kMin = std::numeric_limits<int64_t>::min();
  constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
  const Range ranges[] = {
      {g::kInt64, -5, 17},
      {g::kInt64, kMin, kMax},  // a span above INT64_MAX: the sum wraps back
      {g::kInt32, -1000, 1000},
      {g::kUInt8, 0, 256},
      {g::kBool, 0, 2},
      {g::kFloat32, -(int64_t{1} << 24), int64_t{1} << 24},
      {g::kFloat64, -3, 3},
  };
  for (const Range& r : ranges) {
    for (int64_t n : kSizes) {
      SCOPED_TRACE(std::string(g::dtype_name(r.dtype)) + " in [" + std::to_string(r.low) + ", " +
                   std::to_string(r.high) + "), n = " + std::to_string(n));
      expect_same_stream([&](g::TensorOptions o) { return g::randint(r.low, r.high, {n}, o); },
                         r.dtype);
    }
  }
}

TEST(CudaRandom, MultiDimensionalShapesFillRowMajorLikeTheCpu) {
  GRAFT_REQUIRE_CUDA();
  expect_same_stream([](g::TensorOptions o) { return g::rand({33, 7}, o); }, g::kFloat32);
  expect_same_stream(
      [](g::TensorOptions o) {
        return g::randn({3, 1, 5}, o);
      },
      g::kFloat64, 1e-14, 1e-14);
}

// One stream serves both devices: a call on either moves the other's next numbers on.
TEST(CudaRandom, CpuAndCudaCallsDrawFromOneStream) {
  GRAFT_REQUIRE_CUDA();
  g::manual_seed(7);
  const g::Tensor first_cpu = g::rand({5});
  const g::Tensor second_cpu = g::randint(0, 100, {9});
  g::manual_seed(7);
  const g::Tensor first_cuda = g::rand({5}, kCuda);
  const g::Tensor second_cuda = g::randint(0, 100, {9}, kCuda);
  expect_matches_cpu(first_cuda, first_cpu);
  expect_matches_cpu(second_cuda, second_cpu);
  EXPECT_FALSE(g::equal(first_cuda.cpu(), g::rand({5}, kCuda).cpu()));
}

TEST(CudaRandom, EmptyShapesGiveEmptyCudaTensors) {
  GRAFT_REQUIRE_CUDA();
  const g::Tensor t = g::randn({0, 3}, kCuda);
  EXPECT_TRUE(t.is_cuda());
  EXPECT_EQ(t.shape(), g::Shape({0, 3}));
}

}  // namespace
