// Type promotion follows PyTorch's table; each expectation is what torch.result_type gives.
#include <gtest/gtest.h>

#include "graft/graft.h"

namespace g = graft;

TEST(DType, NamesAndSizes) {
  EXPECT_STREQ(g::dtype_name(g::kFloat32), "float32");
  EXPECT_EQ(g::element_size(g::kBool), 1);
  EXPECT_EQ(g::element_size(g::kInt32), 4);
  EXPECT_EQ(g::element_size(g::kFloat64), 8);
  EXPECT_STREQ(g::dtype_name(g::kFloat16), "float16");
  EXPECT_STREQ(g::dtype_name(g::kBFloat16), "bfloat16");
  EXPECT_EQ(g::element_size(g::kFloat16), 2);
  EXPECT_EQ(g::element_size(g::kBFloat16), 2);
  EXPECT_TRUE(g::is_floating_point(g::kBFloat16));
  EXPECT_TRUE(g::is_reduced_floating_point(g::kFloat16));
  EXPECT_FALSE(g::is_reduced_floating_point(g::kFloat32));
  EXPECT_EQ(g::dtype_of_v<g::Half>, g::kFloat16);
  EXPECT_EQ(g::dtype_of_v<g::BFloat16>, g::kBFloat16);
}

TEST(DType, PromotionOfTwoTensorsTakesTheLargerType) {
  const g::DType chain[] = {g::kBool, g::kUInt8, g::kInt32, g::kInt64, g::kFloat32, g::kFloat64};
  for (int i = 0; i < 6; ++i)
    for (int j = 0; j < 6; ++j)
      EXPECT_EQ(g::promote_types(chain[i], chain[j]), chain[std::max(i, j)]);
}

TEST(DType, TheTwoHalfTypesSitBetweenIntegersAndFloat32) {
  for (g::DType half : {g::kFloat16, g::kBFloat16}) {
    for (g::DType below : {g::kBool, g::kUInt8, g::kInt32, g::kInt64}) {
      EXPECT_EQ(g::promote_types(half, below), half);
      EXPECT_EQ(g::promote_types(below, half), half);
    }
    EXPECT_EQ(g::promote_types(half, half), half);
    EXPECT_EQ(g::promote_types(half, g::kFloat32), g::kFloat32);
    EXPECT_EQ(g::promote_types(g::kFloat64, half), g::kFloat64);
  }
  // Neither holds the other's values: float16 has the precision, bfloat16 the range.
  EXPECT_EQ(g::promote_types(g::kFloat16, g::kBFloat16), g::kFloat32);
  EXPECT_EQ(g::promote_types(g::kBFloat16, g::kFloat16), g::kFloat32);
  using K = g::OperandKind;
  // A float scalar or 0-d float32 keeps the half tensor's dtype; an int tensor meets a
  // 0-d half and takes it.
  EXPECT_EQ(g::result_type({{g::kBFloat16, K::kTensor}, {g::kFloat64, K::kScalar}}), g::kBFloat16);
  EXPECT_EQ(g::result_type({{g::kFloat16, K::kTensor}, {g::kFloat32, K::kZeroDim}}), g::kFloat16);
  EXPECT_EQ(g::result_type({{g::kInt64, K::kTensor}, {g::kFloat16, K::kZeroDim}}), g::kFloat16);
}

TEST(DType, ScalarsOnlyRaiseTheCategory) {
  using K = g::OperandKind;
  // int32 tensor + 2 -> int32; + 2.5 -> float32 (the default float), not float64.
  EXPECT_EQ(g::result_type({{g::kInt32, K::kTensor}, {g::kInt64, K::kScalar}}), g::kInt32);
  EXPECT_EQ(g::result_type({{g::kInt32, K::kTensor}, {g::kFloat64, K::kScalar}}), g::kFloat32);
  // uint8 tensor + 1000 stays uint8; bool tensor + 1 becomes int64.
  EXPECT_EQ(g::result_type({{g::kUInt8, K::kTensor}, {g::kInt64, K::kScalar}}), g::kUInt8);
  EXPECT_EQ(g::result_type({{g::kBool, K::kTensor}, {g::kInt64, K::kScalar}}), g::kInt64);
  // float16-free world: float32 tensor + float64 scalar stays float32.
  EXPECT_EQ(g::result_type({{g::kFloat32, K::kTensor}, {g::kFloat64, K::kScalar}}), g::kFloat32);
}

TEST(DType, ZeroDimTensorsRaiseTheCategoryWithTheirOwnType) {
  using K = g::OperandKind;
  EXPECT_EQ(g::result_type({{g::kFloat32, K::kTensor}, {g::kFloat64, K::kZeroDim}}), g::kFloat32);
  EXPECT_EQ(g::result_type({{g::kInt32, K::kTensor}, {g::kFloat64, K::kZeroDim}}), g::kFloat64);
  EXPECT_EQ(g::result_type({{g::kInt64, K::kZeroDim}, {g::kInt32, K::kTensor}}), g::kInt32);
  EXPECT_EQ(g::result_type({{g::kInt64, K::kZeroDim}, {g::kFloat64, K::kScalar}}), g::kFloat32);
}
