// The CUDA runtime under the ops: moving tensors between host and device, the errors of
// code that mixes them up, and the caching allocator's bookkeeping.
//
// Every test but the first needs a GPU and skips without one; the first checks what a
// machine without a GPU (or a build without the CUDA backend) says when asked for CUDA
// memory, so it runs exactly where the others skip.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "cuda/cuda_test_util.h"
#include "test_util.h"

namespace g = graft;
using g::testing::error_message;
using g::testing::expect_matches_cpu;
using ::testing::HasSubstr;

namespace {

const g::Device kCuda = g::Device::cuda();

constexpr g::DType kDTypes[] = {g::kBool,  g::kUInt8,   g::kInt32,
                                g::kInt64, g::kFloat32, g::kFloat64};

// Random values of every dtype: uniform in [0, 10) converted, so bools and integers vary.
g::Tensor random_values(const g::Shape& shape, g::DType dtype) {
  return (g::rand(shape, g::kFloat64) * 10).to(dtype);
}

TEST(CudaRuntime, WithoutADeviceAskingForCudaMemoryIsAnError) {
  if (g::cuda::device_count() != 0)
    GTEST_SKIP() << "a CUDA device is visible; this test checks the error on a machine without";
  EXPECT_FALSE(g::cuda::is_available());
  const std::string message = error_message([] { g::empty({2}, kCuda); });
  EXPECT_THAT(message, HasSubstr("cannot allocate memory on cuda:0"));
#if defined(GRAFT_HAS_CUDA)
  EXPECT_THAT(message, HasSubstr("no CUDA device is visible"));
#else
  EXPECT_THAT(message, HasSubstr("this build of graft has no CUDA support"));
#endif
}

// Sources of every layout a transfer must flatten: the device copy is contiguous and
// holds the same values in the same logical order.
TEST(CudaRuntime, TensorsOfEveryDTypeAndLayoutRoundTripThroughTheDevice) {
  GRAFT_REQUIRE_CUDA();
  g::manual_seed(0);
  for (g::DType dtype : kDTypes) {
    const g::Tensor matrix = random_values({33, 14}, dtype);
    const g::Tensor sources[] = {
        random_values({1000003}, dtype),
        matrix,
        matrix.t(),
        matrix.index({g::Slice(1, g::None, 3), g::Slice(g::None, g::None, 2)}),
        matrix.narrow(1, 1, 5),
        random_values({1, 14}, dtype).expand({33, 14}),
        random_values({}, dtype),
        random_values({0, 3}, dtype),
    };
    for (const g::Tensor& src : sources) {
      SCOPED_TRACE(std::string(g::dtype_name(dtype)) + " of shape " +
                   ::testing::PrintToString(src.shape()) + " and strides " +
                   ::testing::PrintToString(src.strides()));
      const g::Tensor on_device = src.to(kCuda);
      EXPECT_TRUE(on_device.is_contiguous());
      expect_matches_cpu(on_device, src);
      const g::Tensor back = on_device.to(g::Device::cpu());
      EXPECT_TRUE(back.is_cpu());
      EXPECT_TRUE(g::equal(back, src));
      // The short spellings, and a device-to-device copy of a device view.
      expect_matches_cpu(src.cuda(), src);
      EXPECT_TRUE(g::equal(src.cuda().cpu(), src));
      expect_matches_cpu(on_device.clone(), src);
    }
  }
}

TEST(CudaRuntime, ToTheTensorsOwnDeviceReturnsTheSameTensor) {
  GRAFT_REQUIRE_CUDA();
  const g::Tensor t = g::ones({3}, kCuda);
  EXPECT_TRUE(t.to(kCuda).is_same(t));
  EXPECT_TRUE(t.cuda().is_same(t));
  const g::Tensor h = g::ones({3});
  EXPECT_TRUE(h.cpu().is_same(h));
}

// copy_ across devices converts the dtype, broadcasts the source and writes into any
// writable view, exactly as the same copy between two CPU tensors.
TEST(CudaRuntime, CopiesBetweenDevicesConvertBroadcastAndFillViews) {
  GRAFT_REQUIRE_CUDA();
  g::manual_seed(1);
  for (g::DType src_dtype : kDTypes) {
    for (g::DType dst_dtype : kDTypes) {
      SCOPED_TRACE(std::string(g::dtype_name(src_dtype)) + " -> " + g::dtype_name(dst_dtype));
      const g::Tensor row = random_values({14}, src_dtype);
      const g::Tensor matrix = random_values({14, 33}, src_dtype);

      // Host -> device into a transposed device view, broadcasting a row.
      const g::Tensor expected = g::zeros({33, 14}, dst_dtype);
      expected.copy_(row);
      const g::Tensor device_dst = g::zeros({14, 33}, g::TensorOptions(dst_dtype).device(kCuda));
      device_dst.t().copy_(row);
      expect_matches_cpu(device_dst.t(), expected);

      // Device -> host from a transposed device view into every other host column.
      const g::Tensor host_base = g::zeros({33, 28}, dst_dtype);
      host_base.index({g::Slice(), g::Slice(g::None, g::None, 2)}).copy_(matrix.cuda().t());
      const g::Tensor want_base = g::zeros({33, 28}, dst_dtype);
      want_base.index({g::Slice(), g::Slice(g::None, g::None, 2)}).copy_(matrix.t());
      EXPECT_TRUE(g::equal(host_base, want_base));
    }
  }
}

TEST(CudaRuntime, MixingDevicesInOneOpIsAnErrorNamingBothDevices) {
  GRAFT_REQUIRE_CUDA();
  const g::Tensor host = g::ones({3});
  const g::Tensor device = g::ones({3}, kCuda);
  for (const std::string& message : {
           error_message([&] { g::add(host, device); }),
           error_message([&] { g::mul(device, host); }),
           error_message([&] { g::lt(device, host); }),
           error_message([&] { device.add_(host); }),
           error_message([&] { g::where(device > 0, host, device); }),
       }) {
    EXPECT_THAT(message, HasSubstr("Expected all tensors to be on the same device"));
    EXPECT_THAT(message, HasSubstr("cpu"));
    EXPECT_THAT(message, HasSubstr("cuda:0"));
  }
}

TEST(CudaRuntime, EigenViewOfACudaTensorIsAnErrorPointingToCpu) {
  GRAFT_REQUIRE_CUDA();
  const g::Tensor t = g::ones({2, 3}, kCuda);
  const std::string message = error_message([&] { t.eigen<float>(); });
  EXPECT_THAT(message, HasSubstr("cuda:0"));
  EXPECT_THAT(message, HasSubstr(".cpu()"));
}

TEST(CudaRuntime, MemoryStatsFollowATensorsLifetime) {
  GRAFT_REQUIRE_CUDA();
  constexpr int64_t kBytes = int64_t{4} << 20;  // 1 Mi float32: a whole number of 2 MiB size steps
  const g::cuda::MemoryStats before = g::cuda::memory_stats();
  {
    const g::Tensor t = g::empty({kBytes / 4}, kCuda);
    const g::cuda::MemoryStats during = g::cuda::memory_stats();
    EXPECT_EQ(during.allocated, before.allocated + kBytes);
    EXPECT_GE(during.reserved, during.allocated);
    EXPECT_GE(during.peak_allocated, during.allocated);
  }
  const g::cuda::MemoryStats after = g::cuda::memory_stats();
  EXPECT_EQ(after.allocated, before.allocated);
  EXPECT_GE(after.reserved, after.allocated + kBytes);  // the block waits in the cache
  EXPECT_GE(after.peak_allocated, before.allocated + kBytes);
}

TEST(CudaRuntime, EmptyCacheReturnsEveryCachedBlockToTheDriver) {
  GRAFT_REQUIRE_CUDA();
  { const g::Tensor t = g::empty({1 << 20}, kCuda); }
  EXPECT_GT(g::cuda::memory_stats().reserved, g::cuda::memory_stats().allocated);
  g::cuda::empty_cache();
  const g::cuda::MemoryStats stats = g::cuda::memory_stats();
  EXPECT_EQ(stats.reserved, stats.allocated);
}

TEST(CudaRuntime, AFreedBlockIsReusedForTheNextTensorOfItsSize) {
  GRAFT_REQUIRE_CUDA();
  void* first = nullptr;
  {
    const g::Tensor t = g::empty({1000}, kCuda);
    first = t.data_ptr();
  }
  const g::Tensor again = g::empty({1000}, kCuda);
  EXPECT_EQ(again.data_ptr(), first);
}

TEST(CudaRuntime, OutOfMemoryIsAnErrorNamingTheRequest) {
  GRAFT_REQUIRE_CUDA();
  constexpr int64_t kPetabyte = int64_t{1} << 50;
  const std::string message =
      error_message([] { g::empty({kPetabyte}, g::TensorOptions(g::kUInt8).device(kCuda)); });
  EXPECT_THAT(message, HasSubstr("CUDA out of memory"));
  EXPECT_THAT(message, HasSubstr("empty(): a uint8 tensor of shape (" + std::to_string(kPetabyte) +
                                 ",): CUDA out of memory: tried to allocate " +
                                 std::to_string(kPetabyte) + " bytes (1.00 PiB) on cuda:0"));
  EXPECT_THROW(g::zeros({kPetabyte}, g::TensorOptions(g::kUInt8).device(kCuda)),
               g::OutOfMemoryError);
  // The failed request leaves the device usable.
  expect_matches_cpu(g::ones({3}, kCuda), g::ones({3}));
}

}  // namespace
