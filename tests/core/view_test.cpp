// Views share memory with their base and compute only new sizes/strides; copies are explicit.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "test_util.h"

namespace g = graft;
using g::testing::error_message;
using g::testing::make_tensor;
using ::testing::HasSubstr;

namespace {
// 0, 1, 2, ... as float64 in the given shape.
g::Tensor iota(const g::Shape& shape) {
  std::vector<double> v(static_cast<size_t>(shape.numel()));
  for (size_t i = 0; i < v.size(); ++i) v[i] = static_cast<double>(i);
  return make_tensor(v, shape);
}
}  // namespace

TEST(View, SharesStorageAndSeesWrites) {
  g::Tensor a = iota({2, 3});
  g::Tensor v = a.view({3, 2});
  EXPECT_EQ(v.storage(), a.storage());
  v.index_put_({2, 1}, 100.0);
  EXPECT_EQ(a.to_vector<double>()[5], 100.0);
}

TEST(View, InfersOneMinusOne) {
  EXPECT_EQ(iota({2, 3, 4}).view({-1, 4}).shape(), g::Shape({6, 4}));
  EXPECT_THAT(error_message([] {
                iota({2, 3}).view({-1, -1});
              }),
              HasSubstr("only one dimension can be inferred"));
  EXPECT_THAT(error_message([] {
                iota({2, 3}).view({4, -1});
              }),
              HasSubstr("shape (4, -1) is invalid for input of size 6"));
}

TEST(View, OfANonContiguousTensorSaysToUseReshape) {
  g::Tensor t = iota({2, 3}).t();
  const std::string msg = error_message([&] { t.view({6}); });
  EXPECT_THAT(msg, HasSubstr("view size (6,) is not compatible"));
  EXPECT_THAT(msg, HasSubstr("reshape"));
  // reshape copies when it must, and the values keep their logical order.
  EXPECT_EQ(t.reshape({6}).to_vector<double>(), (std::vector<double>{0, 3, 1, 4, 2, 5}));
}

TEST(View, SplittingAContiguousDimOfATransposeStaysAView) {
  g::Tensor t = iota({4, 6}).t();  // (6, 4) with strides (1, 6)
  g::Tensor v = t.view({2, 3, 4});
  EXPECT_EQ(v.storage(), t.storage());
  EXPECT_EQ(v.strides(), g::Shape({3, 1, 6}));
}

TEST(View, ReshapeOfAContiguousTensorIsAView) {
  g::Tensor a = iota({2, 6});
  EXPECT_EQ(a.reshape({3, 4}).storage(), a.storage());
  EXPECT_EQ(make_tensor({3}, {1, 1}).reshape({}).dim(), 0);
}

TEST(View, FlattenRanges) {
  g::Tensor a = iota({2, 3, 4});
  EXPECT_EQ(a.flatten().shape(), g::Shape({24}));
  EXPECT_EQ(a.flatten(1).shape(), g::Shape({2, 12}));
  EXPECT_EQ(a.flatten(0, 1).shape(), g::Shape({6, 4}));
  EXPECT_EQ(make_tensor({5}, {}).flatten().shape(), g::Shape({1}));
}

TEST(View, PermuteAndTranspose) {
  g::Tensor a = iota({2, 3, 4});
  g::Tensor p = a.permute({2, 0, 1});
  EXPECT_EQ(p.shape(), g::Shape({4, 2, 3}));
  EXPECT_EQ(p.strides(), g::Shape({1, 12, 4}));
  EXPECT_FALSE(p.is_contiguous());
  EXPECT_EQ(a.transpose(0, -1).shape(), g::Shape({4, 3, 2}));
  EXPECT_THAT(error_message([&] { a.permute({0, 0, 1}); }), HasSubstr("appears twice"));
  EXPECT_THAT(error_message([&] { a.permute({0, 1}); }), HasSubstr("doesn't match"));
  EXPECT_THAT(error_message([&] { a.t(); }), HasSubstr("<= 2 dimensions"));
}

TEST(View, UnsqueezeSqueeze) {
  g::Tensor a = iota({2, 3});
  EXPECT_EQ(a.unsqueeze(0).shape(), g::Shape({1, 2, 3}));
  EXPECT_EQ(a.unsqueeze(-1).shape(), g::Shape({2, 3, 1}));
  EXPECT_TRUE(a.unsqueeze(1).is_contiguous());
  EXPECT_EQ(iota({1, 2, 1}).squeeze().shape(), g::Shape({2}));
  EXPECT_EQ(iota({1, 2, 1}).squeeze(2).shape(), g::Shape({1, 2}));
  EXPECT_EQ(iota({1, 2, 1}).squeeze(1).shape(), g::Shape({1, 2, 1}));  // size 2: unchanged
}

TEST(View, ExpandUsesZeroStrides) {
  g::Tensor a = iota({3, 1});
  g::Tensor e = a.expand({2, 3, 4});
  EXPECT_EQ(e.strides(), g::Shape({0, 1, 0}));
  EXPECT_EQ(a.expand({-1, 5}).shape(), g::Shape({3, 5}));
  EXPECT_EQ(e.contiguous().to_vector<double>()[4 * 2 + 3], 2.0);
  EXPECT_THAT(error_message([&] {
                a.expand({4, 4});
              }),
              HasSubstr("expanded size of the tensor (4) must match the existing size (3)"));
}

TEST(View, NarrowSelectDiagonal) {
  g::Tensor a = iota({3, 4});
  EXPECT_EQ(a.narrow(1, 1, 2).to_vector<double>(), (std::vector<double>{1, 2, 5, 6, 9, 10}));
  EXPECT_EQ(a.select(0, -1).to_vector<double>(), (std::vector<double>{8, 9, 10, 11}));
  EXPECT_EQ(a.diagonal().to_vector<double>(), (std::vector<double>{0, 5, 10}));
  EXPECT_EQ(a.diagonal(1).to_vector<double>(), (std::vector<double>{1, 6, 11}));
  EXPECT_EQ(a.diagonal(-1).to_vector<double>(), (std::vector<double>{4, 9}));
  EXPECT_THAT(error_message([&] { a.narrow(0, 2, 2); }), HasSubstr("exceeds dimension size (3)"));
  EXPECT_THAT(error_message([&] { a.select(1, 4); }),
              HasSubstr("index 4 is out of bounds for dimension 1 with size 4"));
}

TEST(Copy, ContiguousCloneAndCopyBroadcast) {
  g::Tensor a = iota({2, 3});
  EXPECT_TRUE(a.contiguous().is_same(a));  // already contiguous: the same tensor
  g::Tensor c = a.t().contiguous();
  EXPECT_TRUE(c.is_contiguous());
  EXPECT_NE(c.storage(), a.storage());
  EXPECT_EQ(c.to_vector<double>(), (std::vector<double>{0, 3, 1, 4, 2, 5}));

  g::Tensor dst = make_tensor(std::vector<double>(6, 0.0), {2, 3}, g::kInt32);
  dst.copy_(make_tensor({7.9, 8.2, -9.5}, {3}));  // broadcast over rows, float -> int truncates
  EXPECT_EQ(dst.to_vector<int>(), (std::vector<int>{7, 8, -9, 7, 8, -9}));
  EXPECT_THAT(error_message([&] { dst.copy_(iota({3, 2})); }), HasSubstr("cannot be broadcast"));
  EXPECT_THAT(error_message([&] {
                a.expand({2, 2, 3}).copy_(a);
              }),
              HasSubstr("more than one element of the written-to tensor"));
}

TEST(Copy, ToDtypeConvertsAndKeepsValues) {
  g::Tensor a = make_tensor({0.0, 1.5, -2.0}, {3});
  EXPECT_TRUE(a.to(g::kFloat64).is_same(a));
  EXPECT_EQ(a.to(g::kBool).to_vector<bool>(), (std::vector<bool>{false, true, true}));
  EXPECT_EQ(a.to(g::kInt64).to_vector<int64_t>(), (std::vector<int64_t>{0, 1, -2}));
  EXPECT_EQ(a.to(g::kFloat32).dtype(), g::kFloat32);
}

TEST(Copy, ItemNeedsExactlyOneElement) {
  EXPECT_EQ(make_tensor({2.5}, {}).item<double>(), 2.5);
  EXPECT_EQ(make_tensor({2.5}, {1, 1}).item<int>(), 2);
  EXPECT_THAT(error_message([] { iota({2}).item<float>(); }),
              HasSubstr("a Tensor with 2 elements cannot be converted to a scalar"));
}

TEST(Tensor, UndefinedTensorSaysHowToMakeOne) {
  g::Tensor t;
  EXPECT_FALSE(t.defined());
  EXPECT_THAT(error_message([&] { (void)t.shape(); }), HasSubstr("undefined"));
}

TEST(Tensor, DataPtrChecksTheType) {
  g::Tensor t = iota({2});
  EXPECT_NE(t.data_ptr<double>(), nullptr);
  EXPECT_THAT(error_message([&] { t.data_ptr<float>(); }),
              HasSubstr("data_ptr<float32>(): the tensor's dtype is float64"));
}

TEST(Tensor, SizeAndStrideWrapNegativeDims) {
  g::Tensor t = iota({2, 3});
  EXPECT_EQ(t.size(-1), 3);
  EXPECT_EQ(t.stride(0), 3);
  EXPECT_THAT(error_message([&] { t.size(2); }), HasSubstr("dimension out of range"));
}
