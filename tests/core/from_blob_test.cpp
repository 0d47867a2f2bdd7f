// from_blob: tensors over memory graft does not own (image loaders, CSV readers, C arrays).
// Without a deleter the memory is borrowed; with one, graft hands it back exactly once, when
// the last tensor or view over it dies.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <numeric>
#include <vector>

#include "graft/graft.h"
#include "test_util.h"

namespace g = graft;
using g::testing::error_message;
using testing::HasSubstr;

TEST(FromBlob, BorrowedMemoryIsSharedBothWays) {
  std::vector<float> buffer = {0, 1, 2, 3, 4, 5};
  g::Tensor t = g::from_blob(buffer.data(), {2, 3});
  EXPECT_EQ(t.data_ptr(), buffer.data());
  EXPECT_EQ(t.dtype(), g::kFloat32);
  EXPECT_EQ(t.strides(), g::Shape({3, 1}));
  buffer[4] = 40;
  EXPECT_EQ(t.index({1, 1}).item<float>(), 40.0f);
  t.index_put_({1, 0}, 9.0);
  EXPECT_EQ(buffer[3], 9.0f);
}

TEST(FromBlob, DtypeComesFromTheOptions) {
  int32_t data[4] = {1, -2, 3, -4};
  g::Tensor t = g::from_blob(data, {2, 2}, g::kInt32);
  EXPECT_EQ(t.dtype(), g::kInt32);
  EXPECT_EQ(t.to_vector<int32_t>(), (std::vector<int32_t>{1, -2, 3, -4}));
}

TEST(FromBlob, StridesOverloadViewsAnyLayout) {
  // A column-major 3 x 2 matrix stored as its columns: element (i, j) at i + 3 * j.
  std::vector<double> buffer(6);
  std::iota(buffer.begin(), buffer.end(), 0.0);
  g::Tensor t = g::from_blob(buffer.data(), {3, 2}, {1, 3}, g::kFloat64);
  EXPECT_FALSE(t.is_contiguous());
  EXPECT_EQ(t.to_vector<double>(), (std::vector<double>{0, 3, 1, 4, 2, 5}));
  // Every other element of the buffer.
  g::Tensor even = g::from_blob(buffer.data(), {3}, {2}, g::kFloat64);
  EXPECT_EQ(even.to_vector<double>(), (std::vector<double>{0, 2, 4}));
}

TEST(FromBlob, DeleterRunsOnceWhenTheLastViewDies) {
  std::vector<float> buffer(8);
  int calls = 0;
  void* freed = nullptr;
  {
    g::Tensor view;
    {
      g::Tensor t = g::from_blob(buffer.data(), {2, 4}, g::kFloat32, [&](void* p) {
        ++calls;
        freed = p;
      });
      g::Tensor copy = t;  // a second handle to the same tensor
      view = t.t().narrow(0, 1, 2);
    }
    // The original handles are gone but a view still reads the memory.
    EXPECT_EQ(calls, 0);
    view.fill_(1);
    EXPECT_EQ(buffer[1], 1.0f);
  }
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(freed, buffer.data());
}

TEST(FromBlob, DeleterWithTensorOptions) {
  int64_t data[3] = {7, 8, 9};
  int calls = 0;
  {
    g::Tensor t = g::from_blob(data, {3}, g::TensorOptions(g::kInt64), [&](void*) { ++calls; });
    EXPECT_EQ(t.to_vector<int64_t>(), (std::vector<int64_t>{7, 8, 9}));
  }
  EXPECT_EQ(calls, 1);
}

TEST(FromBlob, WithoutDeleterNothingIsFreed) {
  // The memory is on the stack: freeing it would crash; borrowing leaves it alone.
  float data[2] = {1, 2};
  { g::Tensor t = g::from_blob(data, {2}); }
  EXPECT_EQ(data[1], 2.0f);
}

TEST(FromBlob, NullPointerIsAnError) {
  EXPECT_EQ(error_message([] {
              g::from_blob(nullptr, {2, 2});
            }),
            "from_blob(): data is a null pointer");
  // ... unless there is nothing to point at.
  EXPECT_EQ(g::from_blob(nullptr, {0, 3}).numel(), 0);
}

TEST(FromBlob, MalformedStridesAreErrors) {
  float data[4] = {};
  EXPECT_THAT(error_message([&] {
                g::from_blob(data, {2, 2}, {1}, g::kFloat32);
              }),
              HasSubstr("must have the same length"));
  EXPECT_THAT(error_message([&] {
                g::from_blob(data, {2, 2}, {-1, 1}, g::kFloat32);
              }),
              HasSubstr("negative size or stride"));
}

TEST(FromBlob, AnyStrideAlongADimOfSizeOne) {
  float data[2] = {1, 2};
  const g::Tensor t = g::from_blob(data, {1, 2}, {-7, 1}, g::kFloat32);
  EXPECT_EQ(t.strides(), g::Shape({0, 1}));
  EXPECT_EQ(t.to_vector<float>(), (std::vector<float>{1, 2}));
}

TEST(FromBlob, DeviceMemoryIsTaggedNotTouched) {
  // from_blob allocates nothing, so it can describe device memory it is given.
  float data[2] = {};
  g::Tensor t = g::from_blob(data, {2}, g::TensorOptions().device(g::Device::cuda(0)));
  EXPECT_TRUE(t.is_cuda());
  EXPECT_EQ(t.device(), g::Device::cuda(0));
}
