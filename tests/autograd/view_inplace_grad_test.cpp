// In-place writes through views (autograd/views.h): the base's history is rebased onto a
// CopySlices node, and views made stale by a write derive their grad_fn again. A table of
// writes through views of a scratch copy y = x * 1, checked by gradcheck and gradgradcheck
// in float64 over every input layout, then the gradients of the example by hand,
// node names, and the errors PyTorch gives (leaves, views of leaves, views made in no-grad
// mode, saved views overwritten).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <optional>

#include "grad_test_util.h"

namespace g = graft;
using g::autograd::TensorList;
using g::testing::error_message;
using g::testing::kAny;
using g::testing::kGradLayouts;
using g::testing::kPositive;
using g::testing::Layout;
using g::testing::make_leaf;
using g::testing::make_tensor;
using ::testing::HasSubstr;

namespace {

struct Row {
  std::string name;
  std::optional<g::Shape> other;  // the shape of a second input, when the row has one
  std::function<g::Tensor(const TensorList&)> fn;
  bool on_zero_dim = false;
  g::testing::Range other_range = kAny;
};

void PrintTo(const Row& row, std::ostream* out) { *out << row.name; }

// The tensor written into: a copy of x that is not a leaf, so it may be written in place.
g::Tensor scratch(const g::Tensor& x) { return x * 1; }

g::Tensor zeros64(const g::Shape& shape) { return g::zeros(shape, g::kFloat64); }

const Row kRows[] = {
    {"narrow_mul_", g::Shape{2, 2, 4},
     [](const TensorList& in) {
       g::Tensor y = scratch(in[0]);
       y.narrow(1, 0, 2).mul_(in[1]);
       return y;
     }},
    {"select_add_scalar", std::nullopt,
     [](const TensorList& in) {
       g::Tensor y = scratch(in[0]);
       y.select(2, 1).add_(2.5);
       return y;
     }},
    {"view_of_view_div_", g::Shape{2, 3, 2},
     [](const TensorList& in) {
       g::Tensor y = scratch(in[0]);
       y.transpose(0, 2).narrow(0, 1, 2).div_(in[1].permute({2, 1, 0}));
       return y;
     },
     false, kPositive},
    {"fill_", std::nullopt,
     [](const TensorList& in) {
       g::Tensor y = scratch(in[0]);
       y.index({g::Slice(), 1}).fill_(0.5);
       return y;
     }},
    {"zero_", std::nullopt,
     [](const TensorList& in) {
       g::Tensor y = scratch(in[0]);
       y.diagonal(0, 1, 2).zero_();
       return y;
     }},
    {"copy_broadcast_source", g::Shape{3, 1},
     [](const TensorList& in) {
       g::Tensor y = scratch(in[0]);
       y.narrow(2, 1, 2).copy_(in[1]);
       return y;
     }},
    {"index_put_tensor", g::Shape{2, 4},
     [](const TensorList& in) {
       g::Tensor y = scratch(in[0]);
       y.index_put_({0, g::Slice(1, g::None)}, in[1]);
       return y;
     }},
    {"index_put_scalar", std::nullopt,
     [](const TensorList& in) {
       g::Tensor y = scratch(in[0]);
       y.index_put_({g::Ellipsis, 0}, 3.0);
       return y;
     }},
    {"masked_fill_", std::nullopt,
     [](const TensorList& in) {
       g::Tensor y = scratch(in[0]);
       y.select(0, 1).masked_fill_(in[0].detach().select(0, 1) > 0, 2.0);
       return y;
     }},
    {"two_overlapping_writes", g::Shape{2, 3, 2},
     [](const TensorList& in) {
       g::Tensor y = scratch(in[0]);
       y.narrow(0, 0, 1).mul_(2);
       y.narrow(2, 1, 2).mul_(in[1]);
       return y;
     }},
    // The base's gradient arrives transposed: CopySlices lays it out like the base first.
    {"read_back_transposed", g::Shape{2, 2, 4},
     [](const TensorList& in) {
       g::Tensor y = scratch(in[0]);
       y.narrow(1, 1, 2).mul_(in[1]);
       return y.transpose(0, 2);
     }},
    // Views made before a write see it: their grad_fn is derived again from the base.
    {"stale_view_of_written_base", g::Shape{2, 3, 4},
     [](const TensorList& in) {
       g::Tensor y = scratch(in[0]);
       const g::Tensor row = y.narrow(0, 1, 1);
       y.mul_(in[1]);
       return row;
     }},
    {"stale_view_of_written_sibling", std::nullopt,
     [](const TensorList& in) {
       g::Tensor y = scratch(in[0]);
       const g::Tensor first = y.select(0, 0);
       y.narrow(1, 0, 1).sin_();
       return first * first;
     }},
    // Writes into a buffer that does not require grad give it a history.
    {"copy_into_plain_buffer", std::nullopt,
     [](const TensorList& in) {
       g::Tensor buffer = zeros64({4, 3, 4});
       buffer.narrow(0, 1, 2).copy_(in[0] * in[0]);
       return buffer;
     },
     true},
    {"copy_into_permuted_buffer", std::nullopt,
     [](const TensorList& in) {
       g::Tensor buffer = zeros64({3, 4, 2}).permute({2, 0, 1}).detach();  // (2, 3, 4)
       buffer.narrow(1, 1, 2).copy_(in[0].narrow(1, 0, 2).exp());
       return buffer * in[0];
     }},
    {"alias_mul_", g::Shape{2, 3, 4},
     [](const TensorList& in) {
       g::Tensor y = scratch(in[0]);
       y.alias().mul_(in[1]);
       return y;
     },
     true},
    {"index_none_add_", g::Shape{2, 3, 4},
     [](const TensorList& in) {
       g::Tensor y = scratch(in[0]);
       y.index({g::None, g::Ellipsis}).add_(in[1].exp());
       return y;
     },
     true},
};

class ViewInplaceGrad : public ::testing::TestWithParam<std::tuple<Row, Layout>> {};

TEST_P(ViewInplaceGrad, MatchesFiniteDifferencesToSecondOrder) {
  const auto& [row, layout] = GetParam();
  if (layout == Layout::zero_dim && !row.on_zero_dim)
    GTEST_SKIP() << "the row's views need dims a 0-d input lacks";
  TensorList inputs{make_leaf({2, 3, 4}, layout)};
  if (row.other) inputs.push_back(make_leaf(*row.other, layout, row.other_range, 2));
  EXPECT_TRUE(g::autograd::gradcheck(row.fn, inputs));
  EXPECT_TRUE(g::autograd::gradgradcheck(row.fn, inputs));
}

INSTANTIATE_TEST_SUITE_P(AllWrites, ViewInplaceGrad,
                         ::testing::Combine(::testing::ValuesIn(kRows),
                                            ::testing::ValuesIn(kGradLayouts)),
                         [](const auto& info) {
                           return std::get<0>(info.param).name + "_" +
                                  g::testing::layout_name(std::get<1>(info.param));
                         });

g::Tensor leaf(const std::vector<double>& values, const g::Shape& shape) {
  return make_tensor(values, shape).requires_grad_();
}

// The example: y = x * 1; y.narrow(0, 0, 2).mul_(3); y.sum().backward().
TEST(ViewInplaceGradValues, NarrowMulGivesThreeInsideAndOneOutside) {
  const g::Tensor x = leaf({1, 2, 3, 4, 5, 6, 7, 8}, {4, 2});
  const g::Tensor y = x * 1;
  y.narrow(0, 0, 2).mul_(3);
  EXPECT_EQ(y.to_vector<double>(), (std::vector<double>{3, 6, 9, 12, 5, 6, 7, 8}));
  y.sum().backward();
  // d sum / d x: 3 on rows 0..1 (they were tripled), 1 on rows 2..3.
  EXPECT_EQ(x.grad().to_vector<double>(), (std::vector<double>{3, 3, 3, 3, 1, 1, 1, 1}));
}

TEST(ViewInplaceGradValues, CopyIntoAViewOfAPlainBufferReachesTheSource) {
  const g::Tensor x = leaf({1, 2}, {2});
  const g::Tensor buffer = zeros64({4});
  EXPECT_FALSE(buffer.requires_grad());
  buffer.narrow(0, 1, 2).copy_(x);
  EXPECT_TRUE(buffer.requires_grad());
  EXPECT_EQ(buffer.grad_fn()->name(), "CopySlices");
  buffer.backward(make_tensor({10, 20, 30, 40}, {4}));
  // buffer[1:3] is x, so x gets the gradient of those two elements.
  EXPECT_EQ(x.grad().to_vector<double>(), (std::vector<double>{20, 30}));
}

TEST(ViewInplaceGradNames, TheBaseBecomesCopySlicesAndViewsAreDerivedAgain) {
  const g::Tensor x = make_leaf({3, 4}, Layout::contiguous);
  const g::Tensor y = x * 1;
  const g::Tensor other = y.select(0, 2);
  EXPECT_EQ(other.grad_fn()->name(), "SelectBackward");
  const g::Tensor written = y.narrow(0, 0, 2);
  written.mul_(2);
  EXPECT_EQ(y.grad_fn()->name(), "CopySlices");
  EXPECT_EQ(y.grad_fn()->next_edges().size(), 2u);  // y's old history, and the write
  EXPECT_EQ(written.grad_fn()->name(), "AsStridedBackward");
  EXPECT_EQ(other.grad_fn()->name(), "AsStridedBackward");
  EXPECT_EQ(written.grad_fn()->next_edges()[0].node, y.grad_fn());
}

TEST(ViewInplaceGradErrors, LeavesAndTheirViewsRefuseInPlaceWrites) {
  const g::Tensor w = make_leaf({2, 3}, Layout::contiguous);
  EXPECT_THAT(error_message([&] { w.mul_(2); }),
              HasSubstr("mul_(): a leaf Variable that requires grad is being used in an "
                        "in-place operation"));
  EXPECT_THAT(error_message([&] { w.narrow(0, 0, 1).mul_(2); }),
              HasSubstr("mul_(): a view of a leaf Variable that requires grad is being used in "
                        "an in-place operation"));
  EXPECT_THAT(error_message([&] { w.select(1, 2).t().fill_(0); }),
              HasSubstr("fill_(): a view of a leaf Variable that requires grad"));
  EXPECT_THAT(error_message([&] { w.index_put_({0}, 1.0); }),
              HasSubstr("fill_(): a view of a leaf Variable that requires grad"));
  // An optimizer's update: no grad mode, no error, the values change.
  {
    g::NoGradGuard no_grad;
    w.narrow(0, 0, 1).fill_(5);
  }
  EXPECT_EQ(w.to_vector<double>()[2], 5);
  EXPECT_TRUE(w.is_leaf());
}

TEST(ViewInplaceGradErrors, AViewMadeWithoutGradModeCannotBeWrittenWithIt) {
  const g::Tensor y = make_leaf({2, 3}, Layout::contiguous) * 1;
  g::Tensor view;
  {
    g::NoGradGuard no_grad;
    view = y.narrow(1, 0, 2);
  }
  EXPECT_FALSE(view.requires_grad());
  EXPECT_THAT(error_message([&] { view.mul_(2); }),
              HasSubstr("mul_(): this view was made inside a graft::NoGradGuard, so it does not "
                        "require grad, but its base does"));
}

TEST(ViewInplaceGradErrors, ASavedViewOverwrittenThroughItsBaseFailsAtBackward) {
  const g::Tensor y = make_leaf({2, 3}, Layout::contiguous) * 1;
  const g::Tensor view = y.narrow(1, 0, 2);
  const g::Tensor square = view * view;  // saves the view
  y.select(0, 0).zero_();
  EXPECT_THAT(error_message([&] { square.backward(g::ones_like(square)); }),
              HasSubstr("one of the variables needed for gradient computation has been modified "
                        "by an inplace operation: [float64 [2, 2]] is at version 1; expected "
                        "version 0 instead"));
}

}  // namespace
