// tril and triu beyond the op registry's rows (tests/ops/scan_rows.cpp): bool inputs keep
// their dtype, offsets far outside the matrix, and the error for fewer than 2 dims.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "test_util.h"

namespace g = graft;
using g::testing::error_message;
using g::testing::make_tensor;

namespace {

TEST(Triangle, BoolInputsStayBool) {
  const g::Tensor mask = make_tensor({1, 1, 1, 1, 1, 1}, {2, 3}, g::kBool);
  const g::Tensor lower = g::tril(mask);
  EXPECT_EQ(lower.dtype(), g::kBool);
  EXPECT_EQ(lower.to_vector<int>(), (std::vector<int>{1, 0, 0, 1, 1, 0}));
  EXPECT_EQ(g::triu(mask, 1).to_vector<int>(), (std::vector<int>{0, 1, 1, 0, 0, 1}));
}

// Offsets past the matrix keep everything or nothing; batches share one mask.
TEST(Triangle, OffsetsBeyondTheMatrix) {
  const g::Tensor x = g::ones({2, 2, 3}, g::kInt64);
  EXPECT_TRUE(g::equal(g::tril(x, 100), x));
  EXPECT_TRUE(g::equal(g::triu(x, -100), x));
  EXPECT_EQ(g::tril(x, -2).sum().item<int64_t>(), 0);
  EXPECT_EQ(g::triu(x, 3).sum().item<int64_t>(), 0);
  EXPECT_EQ(g::triu(x, 2).sum().item<int64_t>(), 2);  // the top-right element of each matrix
}

TEST(Triangle, FewerThanTwoDimsNamesTheOpAndShape) {
  EXPECT_THAT(error_message([] { g::tril(g::ones({3})); }),
              ::testing::HasSubstr("tril(): input tensor must have at least 2 dimensions, got "
                                   "shape (3,)"));
  EXPECT_THAT(error_message([] { g::triu(g::ones({})); }),
              ::testing::HasSubstr("triu(): input tensor must have at least 2 dimensions"));
}

}  // namespace
