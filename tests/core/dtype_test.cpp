// Type promotion follows PyTorch's table; each expectation is what torch.result_type gives.
#include <gtest/gtest.h>

#include "graft/graft.h"

namespace g = graft;

TEST(DType, NamesAndSizes) {
  EXPECT_STREQ(g::dtype_name(g::kFloat32), "float32");
  EXPECT_EQ(g::element_size(g::kBool), 1);
  EXPECT_EQ(g::element_size(g::kInt32), 4);
  EXPECT_EQ(g::element_size(g::kFloat64), 8);
}

TEST(DType, PromotionOfTwoTensorsTakesTheLargerType) {
  const g::DType chain[] = {g::kBool, g::kUInt8, g::kInt32, g::kInt64, g::kFloat32, g::kFloat64};
  for (int i = 0; i < 6; ++i)
    for (int j = 0; j < 6; ++j)
      EXPECT_EQ(g::promote_types(chain[i], chain[j]), chain[std::max(i, j)]);
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
