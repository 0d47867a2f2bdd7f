// Shape arithmetic, broadcasting rules and Device parsing.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "test_util.h"

namespace g = graft;
using g::testing::error_message;
using ::testing::HasSubstr;

TEST(Shape, PrintsLikeAPythonTuple) {
  EXPECT_EQ(g::Shape({2, 3}).str(), "(2, 3)");
  EXPECT_EQ(g::Shape({3}).str(), "(3,)");
  EXPECT_EQ(g::Shape().str(), "()");
}

TEST(Shape, NumelOfTheEmptyShapeIsOne) {
  EXPECT_EQ(g::Shape().numel(), 1);  // a 0-d tensor holds one element
  EXPECT_EQ(g::Shape({2, 0, 3}).numel(), 0);
  EXPECT_EQ(g::Shape({2, 3, 4}).numel(), 24);
}

TEST(Shape, ContiguousStridesAreRowMajor) {
  EXPECT_EQ(g::contiguous_strides({2, 3, 4}), g::Shape({12, 4, 1}));
  EXPECT_EQ(g::contiguous_strides({}), g::Shape());
}

TEST(Shape, ContiguousNbytesIsExactOrNullopt) {
  const int64_t k2_32 = int64_t{1} << 32;
  EXPECT_EQ(g::contiguous_nbytes({2, 3}, 4), 24);
  EXPECT_EQ(g::contiguous_nbytes({}, 8), 8);
  EXPECT_EQ(g::contiguous_nbytes({0, 5}, 4), 0);
  EXPECT_EQ(g::contiguous_nbytes({k2_32, k2_32 / 16}, 4), INT64_MAX / 2 + 1);  // 2^62
  EXPECT_EQ(g::contiguous_nbytes({k2_32, k2_32 / 4}, 4), std::nullopt);        // 2^64
  EXPECT_EQ(g::contiguous_nbytes({0, k2_32, k2_32}, 1), std::nullopt);  // the strides overflow
  EXPECT_EQ(g::contiguous_nbytes({2, -1}, 4), std::nullopt);
}

TEST(Shape, NumelAndStridesThatOverflowAreErrors) {
  const int64_t k2_32 = int64_t{1} << 32;
  EXPECT_THAT(error_message([&] {
                g::Shape({k2_32, k2_32}).numel();
              }),
              HasSubstr("has more elements than a 64-bit count can hold"));
  EXPECT_THAT(error_message([&] {
                g::contiguous_strides({0, k2_32, k2_32});
              }),
              HasSubstr("the shape (0, 4294967296, 4294967296) is too large: its contiguous "
                        "strides overflow int64"));
  // An empty tensor reshaped to such a shape has no strides that fit.
  EXPECT_THAT(error_message([&] {
                g::empty({0}).reshape({0, k2_32, k2_32});
              }),
              HasSubstr("contiguous strides overflow int64"));
}

TEST(Shape, RejectsMoreThanMaxDims) {
  std::vector<int64_t> sizes(g::kMaxDims + 1, 1);
  EXPECT_THAT(error_message([&] { g::Shape s(sizes); }), HasSubstr("at most 16 dims"));
}

TEST(Broadcast, AlignsFromTheRight) {
  EXPECT_EQ(g::broadcast_shapes({4, 1, 3}, {5, 1}), g::Shape({4, 5, 3}));
  EXPECT_EQ(g::broadcast_shapes({}, {2, 2}), g::Shape({2, 2}));
  EXPECT_EQ(g::broadcast_shapes({0, 1}, {1, 7}), g::Shape({0, 7}));
}

TEST(Broadcast, ErrorNamesBothSizesAndTheDimension) {
  const std::string msg = error_message([] { g::broadcast_shapes({2, 3}, {4}, "add"); });
  EXPECT_THAT(msg, HasSubstr("add()"));
  EXPECT_THAT(msg, HasSubstr("size of tensor a (3) must match the size of tensor b (4)"));
  EXPECT_THAT(msg, HasSubstr("dimension 1"));
}

TEST(WrapDim, NegativeDimsCountFromTheEnd) {
  EXPECT_EQ(g::wrap_dim(-1, 3, "op"), 2);
  EXPECT_EQ(g::wrap_dim(0, 0, "op"), 0);  // 0-d tensors accept dim 0 and -1
  EXPECT_THAT(
      error_message([] { g::wrap_dim(3, 3, "sum"); }),
      HasSubstr("sum(): dimension out of range (expected to be in range of [-3, 2], but got 3)"));
}

TEST(Device, ParsesAndPrints) {
  EXPECT_EQ(g::Device("cpu"), g::Device::cpu());
  EXPECT_EQ(g::Device("cuda"), g::Device::cuda(0));
  EXPECT_EQ(g::Device("cuda:12").index(), 12);
  EXPECT_EQ(g::Device::cuda(1).str(), "cuda:1");
  EXPECT_EQ(g::Device(g::kCUDA).str(), "cuda:0");
  EXPECT_EQ(g::Device::cpu().str(), "cpu");
}

TEST(Device, RejectsMalformedStrings) {
  for (const char* bad : {"gpu", "cuda:", "cuda:x", "cuda1", "cpu:1", ""})
    EXPECT_THAT(error_message([&] { g::Device d(bad); }), HasSubstr("cannot parse"))
        << "input: " << bad;
}
