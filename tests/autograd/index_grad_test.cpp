// gradcheck and gradgradcheck (float64, finite differences) for the joining and indexing
// ops (cat, stack, gather, index_select, scatter_add, scatter_add_), over inputs that are
// contiguous, transposed, step-sliced, a stride-0 broadcast, or 0-d where the op takes one.
// Index tensors hold repeats, so gradients that add up are covered. Then by hand: repeated
// indices, a source larger than its index, dtypes of cat's gradients, node names, a saved
// index overwritten before backward, and copy_into, the raw copy that records nothing.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <optional>

#include "grad_test_util.h"

namespace g = graft;
using g::autograd::TensorList;
using g::testing::error_message;
using g::testing::kAllLayouts;
using g::testing::Layout;
using g::testing::make_leaf;
using g::testing::make_tensor;
using ::testing::HasSubstr;

namespace {

struct Row {
  std::string name;
  std::optional<g::Shape> other;  // the shape of a second float input, when the row has one
  std::function<g::Tensor(const TensorList&)> fn;
  bool on_zero_dim = false;
};

void PrintTo(const Row& row, std::ostream* out) { *out << row.name; }

g::Tensor index64(const std::vector<double>& values, const g::Shape& shape) {
  return make_tensor(values, shape, g::kInt64);
}

// Indices into dim 1 (size 3) of a (2, 3, 4) input, shaped (2, 2, 4), with repeats.
g::Tensor rows_index() {
  return index64({0, 2, 1, 1, 2, 2, 0, 1, /**/ 1, 0, 0, 2, 2, 1, 1, 0}, {2, 2, 4});
}
// For a 0-d input, whose only dim is 0, the index of its only element.
int64_t dim_for(const g::Tensor& x, int64_t dim) { return x.dim() == 0 ? 0 : dim; }
g::Tensor index_for(const g::Tensor& x, const g::Tensor& index) {
  return x.dim() == 0 ? index64({0}, {}) : index;
}

g::Tensor scratch(const g::Tensor& x) { return x * 1; }

const Row kRows[] = {
    {"cat", g::Shape{2, 2, 4},
     [](const TensorList& in) {
       return g::cat({in[0], in[1]}, 1);
     }},
    {"cat_negative_dim_with_skipped_empty", std::nullopt,
     [](const TensorList& in) {
       return g::cat({in[0], g::zeros({0}, g::kFloat64), in[0].exp()}, -1);
     }},
    {"stack", g::Shape{2, 3, 4},
     [](const TensorList& in) {
       return g::stack({in[0], in[1]});
     },
     true},
    {"stack_last_dim", std::nullopt,
     [](const TensorList& in) {
       return g::stack({in[0], in[0] * in[0]}, -1);
     },
     true},
    {"gather", std::nullopt,
     [](const TensorList& in) {
       return g::gather(in[0], dim_for(in[0], 1), index_for(in[0], rows_index()));
     },
     true},
    {"gather_method_last_dim", std::nullopt,
     [](const TensorList& in) {
       return in[0].gather(-1, index64({3, 3, 0, 1, 2, 0}, {2, 1, 3}));
     }},
    {"index_select", std::nullopt,
     [](const TensorList& in) {
       return g::index_select(in[0], dim_for(in[0], 2), index_for(in[0], index64({3, 0, 3}, {3})));
     },
     true},
    {"index_select_int32_index", std::nullopt,
     [](const TensorList& in) {
       return in[0].index_select(0, make_tensor({1, 1, 0}, {3}, g::kInt32));
     }},
    {"scatter_add", g::Shape{2, 2, 4},
     [](const TensorList& in) { return g::scatter_add(in[0], 1, rows_index(), in[1]); }},
    // The index covers only part of src: the rest of src gets no gradient.
    {"scatter_add_src_larger_than_index", g::Shape{2, 3, 4},
     [](const TensorList& in) {
       return in[0].scatter_add(2, index64({3, 0, 3, 1, 2, 2}, {1, 2, 3}), in[1]);
     }},
    {"scatter_add_zero_dim", std::nullopt,
     [](const TensorList& in) {
       return g::scatter_add(in[0], dim_for(in[0], 1), index_for(in[0], rows_index()), in[0].exp());
     },
     true},
    {"scatter_add_", g::Shape{2, 2, 4},
     [](const TensorList& in) {
       const g::Tensor y = scratch(in[0]);
       y.scatter_add_(1, rows_index(), in[1]);
       return y;
     }},
    {"scatter_add_through_a_view", g::Shape{2, 2, 3},
     [](const TensorList& in) {
       const g::Tensor y = scratch(in[0]);
       y.narrow(2, 1, 3).scatter_add_(1, rows_index().narrow(2, 0, 3), in[1]);
       return y;
     }},
};

class IndexGrad : public ::testing::TestWithParam<std::tuple<Row, Layout>> {};

TEST_P(IndexGrad, MatchesFiniteDifferencesToSecondOrder) {
  const auto& [row, layout] = GetParam();
  if (layout == Layout::zero_dim && !row.on_zero_dim)
    GTEST_SKIP() << "the row's op needs dims a 0-d input lacks";
  TensorList inputs{make_leaf({2, 3, 4}, layout)};
  if (row.other) inputs.push_back(make_leaf(*row.other, layout, g::testing::kAny, 2));
  EXPECT_TRUE(g::autograd::gradcheck(row.fn, inputs));
  EXPECT_TRUE(g::autograd::gradgradcheck(row.fn, inputs));
}

INSTANTIATE_TEST_SUITE_P(AllOps, IndexGrad,
                         ::testing::Combine(::testing::ValuesIn(kRows),
                                            ::testing::ValuesIn(kAllLayouts)),
                         [](const auto& info) {
                           return std::get<0>(info.param).name + "_" +
                                  g::testing::layout_name(std::get<1>(info.param));
                         });

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
