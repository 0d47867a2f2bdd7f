// Nest::coalesced (kernels/index_kernels.h), which gather and index_select walk: over fewer
// dims, it must give every operand the same offset at each position, in the same order, as
// the nest it came from (the CUDA kernels report a bad index by its flat position); and it
// must merge what is contiguous in every operand, for the row copies to be long.
#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <vector>

#include "graft/kernels/index_kernels.h"

namespace {

using graft::kernels::make_nest;
using graft::kernels::Nest;

// Each operand's offset at every position, in flat order.
std::vector<std::array<int64_t, 3>> walk(const Nest<3>& nest) {
  std::vector<std::array<int64_t, 3>> offsets(static_cast<size_t>(nest.numel()));
  for (int64_t p = 0; p < nest.numel(); ++p) {
    int64_t at[3];
    nest.offsets_at(p, at);
    offsets[static_cast<size_t>(p)] = {at[0], at[1], at[2]};
  }
  return offsets;
}

// The nest of index_select(self, dim, index) from a contiguous self of `sizes` into a
// contiguous `out`, as gather_or_index_select builds it: self's stride 0 along dim (the index
// value gives that offset), the 1-D index's stride 1 there and 0 elsewhere.
Nest<3> index_select_nest(const std::vector<int64_t>& sizes, int dim, std::vector<int64_t> out) {
  const int ndim = static_cast<int>(sizes.size());
  std::array<int64_t, graft::kMaxDims> out_strides{}, self{}, index{};
  for (int64_t d = ndim - 1, out_step = 1, self_step = 1; d >= 0; --d) {
    out_strides[d] = out_step;
    self[d] = d == dim ? 0 : self_step;
    out_step *= out[d];
    self_step *= sizes[d];
  }
  index[dim] = 1;
  return make_nest<3>(ndim, out.data(), {out_strides.data(), self.data(), index.data()});
}

TEST(IndexNest, CoalescedWalksTheSameOffsetsInTheSameOrder) {
  const std::vector<std::vector<int64_t>> shapes = {{5, 1, 4, 3}, {1, 1, 1}, {2, 3}, {3, 1, 2, 1}};
  for (const auto& shape : shapes)
    for (int dim = 0; dim < static_cast<int>(shape.size()); ++dim) {
      std::vector<int64_t> out = shape;
      out[dim] = 7;  // seven index values
      const Nest<3> nest = index_select_nest(shape, dim, out);
      const Nest<3> merged = nest.coalesced();
      SCOPED_TRACE(::testing::Message() << "shape dims " << shape.size() << ", dim " << dim);
      EXPECT_EQ(walk(merged), walk(nest));
      EXPECT_LE(merged.ndim, nest.ndim);
    }
}

TEST(IndexNest, ABatchOfImagesIsOneRowPerImage) {
  // index_select(x, 0, idx) of 64 images from (60000, 1, 28, 28): 64 rows of 784 floats.
  const Nest<3> merged = index_select_nest({60000, 1, 28, 28}, 0, {64, 1, 28, 28}).coalesced();
  ASSERT_EQ(merged.ndim, 2);
  EXPECT_EQ(merged.sizes[0], 64);
  EXPECT_EQ(merged.inner_size(), 784);
  EXPECT_EQ(merged.inner_stride(0), 1);
  EXPECT_EQ(merged.inner_stride(1), 1);
  EXPECT_EQ(merged.inner_stride(2), 0);  // one index value for the whole row
}

TEST(IndexNest, StridesThatDoNotMeetStaySeparate) {
  // A transposed output (2, 3) with strides (1, 2): no dim merges with the other.
  const std::array<int64_t, 2> sizes = {2, 3}, out = {1, 2}, self = {3, 1}, index = {0, 0};
  const Nest<3> nest = make_nest<3>(2, sizes.data(), {out.data(), self.data(), index.data()});
  const Nest<3> merged = nest.coalesced();
  EXPECT_EQ(merged.ndim, 2);
  EXPECT_EQ(walk(merged), walk(nest));
}

TEST(IndexNest, EveryDimOfSizeOneLeavesOneDim) {
  const std::array<int64_t, 3> sizes = {1, 1, 1}, strides = {5, 3, 1};
  const Nest<3> merged =
      make_nest<3>(3, sizes.data(), {strides.data(), strides.data(), strides.data()}).coalesced();
  ASSERT_EQ(merged.ndim, 1);
  EXPECT_EQ(merged.inner_size(), 1);
  EXPECT_EQ(merged.numel(), 1);
}

}  // namespace
