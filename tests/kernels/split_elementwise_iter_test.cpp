// split_elementwise_iter (kernels/strided_index.h), which cuts an iteration too long for the
// CUDA strided kernel's 32-bit indices into pieces. Walked one after another, the pieces
// must visit exactly the elements of the whole iteration in the same order, each operand's
// element address by address, and none may exceed the limit: checked for iterations of one
// to three dims (contiguous, transposed, broadcast, sliced) and limits from one element to
// more than the whole.
#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "graft/kernels/strided_index.h"

namespace {

using graft::Shape;
using graft::kernels::ElementwiseIter;
using graft::kernels::make_elementwise_iter;
using graft::kernels::OperandView;
using graft::kernels::split_elementwise_iter;

// The address of every operand at each element, in flat order (innermost dim fastest).
std::vector<std::vector<const char*>> addresses(const ElementwiseIter& it) {
  std::vector<std::vector<const char*>> walk;
  for (int64_t i = 0; i < it.numel; ++i) {
    std::vector<const char*> at;
    for (int k = 0; k < it.num_operands; ++k) {
      int64_t rem = i, offset = 0;
      for (int d = it.ndim - 1; d >= 0; --d) {
        offset += rem % it.sizes[d] * it.operands[k].strides[d];
        rem /= it.sizes[d];
      }
      at.push_back(it.operands[k].data + offset * graft::element_size(it.operands[k].dtype));
    }
    walk.push_back(at);
  }
  return walk;
}

struct Case {
  std::string name;
  Shape shape;
  Shape out_strides, in_strides;
};

TEST(SplitElementwiseIter, PiecesWalkTheWholeIterationInOrderWithinTheLimit) {
  const std::vector<Case> cases = {
      {"one contiguous dim", {40}, {1}, {1}},
      {"a broadcast row", {6, 7}, {7, 1}, {0, 1}},
      {"a transposed input", {5, 8}, {8, 1}, {1, 5}},
      {"three dims, a sliced input", {3, 4, 5}, {20, 5, 1}, {60, 10, 2}},
      {"three dims, a broadcast middle", {4, 3, 6}, {18, 6, 1}, {6, 0, 1}},
  };
  std::vector<float> out_data(400), in_data(400);
  for (const Case& c : cases) {
    const OperandView operands[2] = {{out_data.data(), graft::kFloat32, c.out_strides},
                                     {in_data.data(), graft::kFloat32, c.in_strides}};
    const ElementwiseIter it = make_elementwise_iter(c.shape, operands, 2);
    const auto whole = addresses(it);
    for (const int64_t limit : {1, 2, 3, 5, 6, 7, 11, 12, 20, 41, 1000}) {
      SCOPED_TRACE(c.name + ", at most " + std::to_string(limit));
      std::vector<std::vector<const char*>> walked;
      for (const ElementwiseIter& piece : split_elementwise_iter(it, limit)) {
        EXPECT_LE(piece.numel, limit);
        EXPECT_GT(piece.numel, 0);
        const auto part = addresses(piece);
        walked.insert(walked.end(), part.begin(), part.end());
      }
      EXPECT_EQ(walked, whole);
    }
  }
}

TEST(SplitElementwiseIter, AnIterationWithinTheLimitIsOnePieceItself) {
  std::vector<float> data(12);
  const OperandView operands[1] = {{data.data(), graft::kFloat32, {4, 1}}};
  const ElementwiseIter it = make_elementwise_iter({3, 4}, operands, 1);
  const std::vector<ElementwiseIter> pieces = split_elementwise_iter(it, 12);
  ASSERT_EQ(pieces.size(), 1u);
  EXPECT_EQ(pieces[0].numel, 12);
  EXPECT_EQ(pieces[0].operands[0].data, it.operands[0].data);
}

}  // namespace
