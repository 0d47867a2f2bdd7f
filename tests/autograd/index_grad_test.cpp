// Gradients of the joining and indexing ops beyond the op registry's gradcheck rows
// (tests/ops/index_rows.cpp, whose index tensors hold repeats). By hand: repeated
// indices, a source larger than its index, dtypes of cat's gradients, node names, a saved
// index overwritten before backward, and copy_into, the raw copy that records nothing.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <optional>

#include "grad_test_util.h"

namespace g = graft;
using g::autograd::TensorList;
using g::testing::error_message;
using g::testing::Layout;
using g::testing::make_leaf;
using g::testing::make_tensor;
using ::testing::HasSubstr;

namespace {

g::Tensor index64(const std::vector<double>& values, const g::Shape& shape) {
  return make_tensor(values, shape, g::kInt64);
}

g::Tensor leaf(const std::vector<double>& values, const g::Shape& shape,
               g::DType dtype = g::kFloat64) {
  return make_tensor(values, shape, dtype).requires_grad_();
}

// An element picked k times gets k times the gradient.
TEST(IndexGradValues, RepeatedIndicesAddUp) {
  const g::Tensor x = leaf({1, 2, 3}, {3});
  g::gather(x, 0, index64({0, 0, 2, 0}, {4})).backward(make_tensor({1, 2, 3, 4}, {4}));
  EXPECT_EQ(x.grad().to_vector<double>(), (std::vector<double>{7, 0, 3}));  // 1 + 2 + 4, -, 3
  x.mutable_grad() = {};
  g::index_select(x, 0, index64({2, 2, 1}, {3})).backward(make_tensor({1, 2, 3}, {3}));
  EXPECT_EQ(x.grad().to_vector<double>(), (std::vector<double>{0, 3, 3}));
}

TEST(IndexGradValues, ScatterAddGivesSourceTheGradientAtItsTargets) {
  const g::Tensor x = leaf({0, 0, 0}, {3});
  const g::Tensor src = leaf({5, 6, 7, 8}, {4});
  // out[index[i]] += src[i] for the first two: src[2] and src[3] are never added.
  g::scatter_add(x, 0, index64({2, 0}, {2}), src).backward(make_tensor({10, 20, 30}, {3}));
  EXPECT_EQ(x.grad().to_vector<double>(), (std::vector<double>{10, 20, 30}));
  EXPECT_EQ(src.grad().to_vector<double>(), (std::vector<double>{30, 10, 0, 0}));
  // A 0-d index takes part as a (1,) one: only src[0] is added, to out[1].
  const g::Tensor pair = leaf({5, 6}, {2});
  g::scatter_add(x, 0, index64({1}, {}), pair).backward(make_tensor({10, 20, 30}, {3}));
  EXPECT_EQ(pair.grad().to_vector<double>(), (std::vector<double>{20, 0}));
}

// cat promotes its inputs to one dtype; each gradient comes back in its input's dtype.
TEST(IndexGradValues, CatGradientsTakeEachInputsDtype) {
  const g::Tensor a = leaf({1, 2}, {2}), b = leaf({3}, {1}, g::kFloat32);
  const g::Tensor out = g::cat({a, b});
  EXPECT_EQ(out.dtype(), g::kFloat64);
  out.backward(make_tensor({4, 5, 6}, {3}));
  EXPECT_EQ(a.grad().to_vector<double>(), (std::vector<double>{4, 5}));
  EXPECT_EQ(b.grad().dtype(), g::kFloat32);
  EXPECT_EQ(b.grad().to_vector<double>(), (std::vector<double>{6}));
}

TEST(IndexGradNames, NodesAreNamedAfterTheirOp) {
  const g::Tensor x = make_leaf({2, 3}, Layout::contiguous);
  const g::Tensor index = index64({0, 1, 0}, {1, 3});
  const std::pair<g::Tensor, const char*> cases[] = {
      {g::cat({x, x}), "CatBackward"},
      {g::stack({x, x}), "CatBackward"},
      {g::gather(x, 0, index), "GatherBackward"},
      {g::index_select(x, 1, index64({2}, {1})), "IndexSelectBackward"},
      {g::scatter_add(x, 0, index, x), "ScatterAddBackward"},
  };
  for (const auto& [out, name] : cases) {
    ASSERT_NE(out.grad_fn(), nullptr) << name;
    EXPECT_EQ(out.grad_fn()->name(), name);
  }
  const g::Tensor y = x * 1;
  y.scatter_add_(0, index, x);
  EXPECT_EQ(y.grad_fn()->name(), "ScatterAddBackward");
  EXPECT_THAT(error_message([&] { x.scatter_add_(0, index, x); }),
              HasSubstr("scatter_add_(): a leaf Variable that requires grad is being used in an "
                        "in-place operation"));
}

TEST(IndexGradErrors, AnIndexOverwrittenBeforeBackwardIsCaught) {
  const g::Tensor x = make_leaf({2, 3}, Layout::contiguous);
  const g::Tensor index = index64({0, 1, 0}, {1, 3});
  const g::Tensor picked = g::gather(x, 0, index);
  index.fill_(1);
  EXPECT_THAT(error_message([&] { picked.backward(g::ones_like(picked)); }),
              HasSubstr("one of the variables needed for gradient computation has been modified "
                        "by an inplace operation: [int64 [1, 3]] is at version 1; expected "
                        "version 0 instead"));
}

// copy_into is the copy below autograd: with grad mode on it refuses a tensor that requires
// grad rather than cut the graph, and names the differentiable copy_.
TEST(IndexGradErrors, CopyIntoRefusesTensorsThatRequireGrad) {
  const g::Tensor x = make_leaf({2, 3}, Layout::contiguous);
  const g::Tensor dst = g::zeros({2, 3}, g::kFloat64);
  EXPECT_THAT(error_message([&] { g::copy_into(dst, x); }),
              HasSubstr("copy_into(): records no gradient, but a tensor it was given requires "
                        "grad; use dst.copy_(src), which is differentiable"));
  {
    g::NoGradGuard no_grad;
    g::copy_into(dst, x);
  }
  g::copy_into(dst, x.detach());
  EXPECT_EQ(dst.to_vector<double>(), x.to_vector<double>());
  EXPECT_FALSE(dst.requires_grad());
}

}  // namespace
