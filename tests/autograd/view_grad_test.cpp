// gradcheck and gradgradcheck (float64, finite differences) for every view op, over a
// (2, 3, 4) input that is contiguous, transposed, step-sliced or a stride-0 broadcast, and
// over a 0-d input where the op takes one. One row per op form; a view is linear, so the
// second-order check is about its backward being differentiable (create_graph through
// views). Then what the table cannot show: views keep sharing memory with their base, node
// names, and as_strided, whose gradient is about storage positions rather than elements.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "grad_test_util.h"

namespace g = graft;
using g::autograd::TensorList;
using g::testing::error_message;
using g::testing::kGradLayouts;
using g::testing::Layout;
using g::testing::make_leaf;
using g::testing::make_tensor;
using ::testing::HasSubstr;

namespace {

struct Row {
  std::string name;
  std::function<g::Tensor(const TensorList&)> fn;
  bool on_zero_dim = false;  // the op takes a 0-d input too
};

void PrintTo(const Row& row, std::ostream* out) { *out << row.name; }

// `shape` with `n` in front: what expand adds.
g::Shape with_front(g::Shape shape, int64_t n) {
  shape.insert(0, n);
  return shape;
}

#define VIEW_ROW(label, call, ...)                                \
  Row {                                                           \
    label, [](const TensorList& in) { return call; }, __VA_ARGS__ \
  }

const Row kRows[] = {
    VIEW_ROW("view_split_last_dim", in[0].view({2, 3, 2, 2})),
    VIEW_ROW("reshape", in[0].reshape({-1}), true),
    VIEW_ROW("reshape_merge_first_dims", in[0].reshape({6, 4})),
    VIEW_ROW("flatten", in[0].flatten(), true),
    VIEW_ROW("flatten_range", in[0].flatten(1, 2)),
    VIEW_ROW("permute", in[0].permute({2, 0, 1})),
    VIEW_ROW("transpose", in[0].transpose(0, 2), true),
    VIEW_ROW("t", in[0].select(0, 1).t()),
    VIEW_ROW("unsqueeze", in[0].unsqueeze(-1), true),
    VIEW_ROW("squeeze", in[0].unsqueeze(0).squeeze(), true),
    VIEW_ROW("squeeze_dim", in[0].unsqueeze(0).squeeze(0), true),
    VIEW_ROW("expand_new_dim", in[0].expand(with_front(in[0].shape(), 2)), true),
    VIEW_ROW("expand_size_one_dim", in[0].narrow(1, 2, 1).expand({2, 3, 4})),
    VIEW_ROW("expand_as", in[0].narrow(0, 1, 1).expand_as(in[0])),
    VIEW_ROW("narrow", in[0].narrow(1, 1, 2)),
    VIEW_ROW("narrow_negative_start", in[0].narrow(-1, -3, 2)),
    VIEW_ROW("select", in[0].select(2, -1)),
    VIEW_ROW("index_int_slice_none_ellipsis",
             in[0].index({1, g::Slice(g::None, g::None, 2), g::None, g::Ellipsis})),
    VIEW_ROW("index_slices_with_steps",
             in[0].index({g::Slice(), g::Slice(1, g::None), g::Slice(0, 4, 3)})),
    VIEW_ROW("index_none_ellipsis", in[0].index({g::None, g::Ellipsis}), true),
    VIEW_ROW("diagonal", in[0].diagonal(1, 1, 2)),
    VIEW_ROW("diagonal_negative_offset", in[0].diagonal(-1, 2, 0)),
    VIEW_ROW("alias", in[0].alias(), true),
    VIEW_ROW("chain",
             in[0].transpose(0, 1).narrow(0, 1, 2).reshape({-1}).index({g::Slice(1, 15, 3)})),
    // A view feeding a non-linear op: the view's gradient is scaled elementwise.
    VIEW_ROW("view_then_exp", in[0].permute({1, 2, 0}).select(1, 0).exp()),
};

class ViewGrad : public ::testing::TestWithParam<std::tuple<Row, Layout>> {};

TEST_P(ViewGrad, MatchesFiniteDifferencesToSecondOrder) {
  const auto& [row, layout] = GetParam();
  if (layout == Layout::zero_dim && !row.on_zero_dim)
    GTEST_SKIP() << "the row's op needs dims a 0-d input lacks";
  const TensorList inputs{make_leaf({2, 3, 4}, layout)};
  EXPECT_TRUE(g::autograd::gradcheck(row.fn, inputs));
  EXPECT_TRUE(g::autograd::gradgradcheck(row.fn, inputs));
}

INSTANTIATE_TEST_SUITE_P(AllViews, ViewGrad,
                         ::testing::Combine(::testing::ValuesIn(kRows),
                                            ::testing::ValuesIn(kGradLayouts)),
                         [](const auto& info) {
                           return std::get<0>(info.param).name + "_" +
                                  g::testing::layout_name(std::get<1>(info.param));
                         });

// Autograd does not change what a view is: the same memory, written through either side.
TEST(ViewGradStorage, ViewsOfTensorsThatRequireGradShareTheirMemory) {
  const g::Tensor x = make_leaf({2, 3}, Layout::contiguous);
  const g::Tensor y = x * 1;
  for (const g::Tensor& v : {y.view({3, 2}), y.t(), y.narrow(1, 1, 2), y.select(0, 1),
                             y.index({g::Slice(), g::Slice(g::None, g::None, 2)}), y.diagonal(),
                             y.unsqueeze(0).expand({4, 2, 3}), y.alias()}) {
    EXPECT_TRUE(v.requires_grad());
    EXPECT_EQ(v.storage(), y.storage());
  }
  y.narrow(1, 1, 2).select(0, 1).fill_(7);  // y[1, 1:3] = 7, seen through y
  EXPECT_EQ(y.to_vector<double>()[4], 7);
  EXPECT_EQ(y.to_vector<double>()[5], 7);
  // A view made while the base was rebased by an in-place write still shows its memory.
  const g::Tensor row = y.select(0, 0);
  y.mul_(2);
  EXPECT_EQ(row.storage(), y.storage());
  EXPECT_EQ(row.to_vector<double>(), y.select(0, 0).to_vector<double>());
}

TEST(ViewGradNames, NodesAreNamedAfterTheirOp) {
  const g::Tensor x = make_leaf({2, 3}, Layout::contiguous);
  const std::pair<g::Tensor, const char*> cases[] = {
      {x.view({3, 2}), "ViewBackward"},
      {x.reshape({6}), "ViewBackward"},
      {x.permute({1, 0}), "PermuteBackward"},
      {x.t(), "TransposeBackward"},
      {x.unsqueeze(0), "UnsqueezeBackward"},
      {x.unsqueeze(0).squeeze(0), "SqueezeBackward"},
      {x.expand({2, 2, 3}), "ExpandBackward"},
      {x.narrow(0, 0, 1), "NarrowBackward"},
      {x.select(1, 0), "SelectBackward"},
      {x.index({g::Slice(1, g::None)}), "SliceBackward"},
      {x.diagonal(), "DiagonalBackward"},
      {x.as_strided({2}, {1}, 0), "AsStridedBackward"},
      {x.alias(), "AliasBackward"},
  };
  for (const auto& [out, name] : cases) {
    ASSERT_NE(out.grad_fn(), nullptr) << name;
    EXPECT_EQ(out.grad_fn()->name(), name);
  }
  // A reshape that cannot be a view copies first.
  EXPECT_EQ(x.t().reshape({6}).grad_fn()->name(), "ViewBackward");
  EXPECT_FALSE(x.detach().requires_grad());
}

// The gradient of a view that picks elements is zero where it did not look.
TEST(ViewGradValues, PickedElementsGetTheGradientAndTheRestZero) {
  const g::Tensor x = make_leaf({3, 3}, Layout::contiguous);
  x.diagonal(1).backward(make_tensor({10, 20}, {2}));  // x[0][1], x[1][2]
  EXPECT_EQ(x.grad().to_vector<double>(), (std::vector<double>{0, 10, 0, 0, 0, 20, 0, 0, 0}));
  x.mutable_grad() = {};
  x.index({g::Slice(g::None, g::None, 2), 1}).backward(make_tensor({1, 2}, {2}));  // x[0:3:2, 1]
  EXPECT_EQ(x.grad().to_vector<double>(), (std::vector<double>{0, 1, 0, 0, 0, 0, 0, 2, 0}));
  // expand sums the gradient over the copies: each of x's rows is read 4 times.
  const g::Tensor row = make_leaf({3}, Layout::contiguous);
  row.expand({4, 3}).backward(g::ones({4, 3}, g::kFloat64));
  EXPECT_EQ(row.grad().to_vector<double>(), (std::vector<double>{4, 4, 4}));
}

// Empty views (and writes through them) have empty gradients, checked to second order too
// (their backward writes into zeros through an empty view).
TEST(ViewGradValues, EmptyViewsGiveEmptyGradients) {
  const g::Tensor empty = g::zeros({0, 3}, g::kFloat64).requires_grad_();
  const g::Tensor nonempty = make_leaf({2, 3}, Layout::contiguous);
  const std::pair<std::function<g::Tensor(const TensorList&)>, g::Tensor> cases[] = {
      {[](const TensorList& in) { return in[0].narrow(1, 1, 2); }, empty},
      {[](const TensorList& in) {
         return in[0].view({3, 0});
       },
       empty},
      {[](const TensorList& in) { return in[0].narrow(0, 2, 0); }, nonempty},
      {[](const TensorList& in) { return in[0].diagonal(5); }, nonempty},
      {[](const TensorList& in) {
         return in[0].as_strided({0, 2}, {3, 1}, 0);
       },
       nonempty},
      {[](const TensorList& in) {
         const g::Tensor y = in[0] * 1;
         y.narrow(1, 0, 1).mul_(2);
         return y;
       },
       empty},
  };
  for (const auto& [fn, input] : cases) {
    EXPECT_TRUE(g::autograd::gradcheck(fn, {input}));
    EXPECT_TRUE(g::autograd::gradgradcheck(fn, {input}));
  }
}

// as_strided reads storage positions: overlapping windows read a position twice, so its
// gradient adds up. gradcheck perturbs contiguous copies of the inputs, so it checks
// as_strided on contiguous inputs; the expanded input is checked by hand below.
TEST(ViewGradAsStrided, OverlappingWindowsAddUpAtEachPosition) {
  const g::Tensor x = make_leaf({6}, Layout::contiguous);
  const auto windows = [](const TensorList& in) { return in[0].as_strided({3, 3}, {1, 1}, 1); };
  EXPECT_TRUE(g::autograd::gradcheck(windows, {x}));
  EXPECT_TRUE(g::autograd::gradgradcheck(windows, {x}));
  windows({x}).backward(g::ones({3, 3}, g::kFloat64));
  // Windows x[1:4], x[2:5], x[3:6]: position p is read by the windows that cover it.
  EXPECT_EQ(x.grad().to_vector<double>(), (std::vector<double>{0, 1, 2, 3, 2, 1}));

  const g::Tensor m = make_leaf({3, 4}, Layout::contiguous);
  // Storage positions are the base's: m's columns 1..2 lie at 1, 2, 5, 6, 9, 10, and the
  // windows read positions 1, 5 and 5, 9 (m[0][1], m[1][1] twice, m[2][1]).
  const auto of_view = [](const TensorList& in) {
    return in[0].narrow(1, 1, 2).as_strided({2, 2}, {4, 4}, 1);
  };
  EXPECT_TRUE(g::autograd::gradcheck(of_view, {m}));
  EXPECT_TRUE(g::autograd::gradgradcheck(of_view, {m}));
}

// Elements of an expanded input share a storage position: they split its gradient evenly.
TEST(ViewGradAsStrided, ElementsSharingAPositionSplitItsGradient) {
  const g::Tensor x = make_leaf({3}, Layout::contiguous).detach().expand({2, 3}).requires_grad_();
  x.as_strided({2}, {1}, 1).backward(make_tensor({6, 8}, {2}));  // positions 1 and 2
  EXPECT_EQ(x.grad().to_vector<double>(), (std::vector<double>{0, 3, 4, 0, 3, 4}));
}

TEST(ViewGradAsStrided, RefusesGeometryOutsideTheStorage) {
  const g::Tensor x = make_tensor({1, 2, 3, 4, 5, 6}, {2, 3});
  EXPECT_THAT(error_message([&] {
                x.as_strided({2, 3}, {3, 1}, 1);
              }),
              HasSubstr("as_strided(): size (2, 3), stride (3, 1) and storage offset 1 reach past "
                        "the end of the storage (6 elements)"));
  EXPECT_THAT(error_message([&] { x.as_strided({2}, {-1}, 3); }),
              HasSubstr("as_strided(): negative size or stride in (2,) / (-1,)"));
  // Inside the storage: positions 1, 2, 4, 5.
  EXPECT_EQ(x.as_strided({2, 2}, {3, 1}, 1).to_vector<double>(), (std::vector<double>{2, 3, 5, 6}));
}

}  // namespace
