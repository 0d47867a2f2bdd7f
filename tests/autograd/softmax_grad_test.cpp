// gradcheck and gradgradcheck (float64, finite differences) for softmax and log_softmax
// along each dim of a (2, 3, 4) input that is contiguous, transposed, step-sliced or a
// stride-0 broadcast, and of a 0-d input. Then stability at huge inputs and node names.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>

#include "grad_test_util.h"

namespace g = graft;
using g::autograd::TensorList;
using g::testing::kAllLayouts;
using g::testing::Layout;
using g::testing::make_leaf;
using g::testing::make_tensor;

namespace {

struct Row {
  std::string name;
  std::function<g::Tensor(const TensorList&)> fn;
  bool on_zero_dim = true;  // false: a dim a 0-d tensor lacks (only 0 and -1 exist)
};

void PrintTo(const Row& row, std::ostream* out) { *out << row.name; }

// A weighted sum of the outputs would hide nothing here: gradcheck takes the full Jacobian.
const Row kRows[] = {
    {"softmax_dim0", [](const TensorList& in) { return g::softmax(in[0], 0); }},
    {"softmax_dim1", [](const TensorList& in) { return g::softmax(in[0], 1); }, false},
    {"softmax_last", [](const TensorList& in) { return g::softmax(in[0], -1); }},
    {"log_softmax_dim0", [](const TensorList& in) { return g::log_softmax(in[0], 0); }},
    {"log_softmax_dim1", [](const TensorList& in) { return g::log_softmax(in[0], 1); }, false},
    {"log_softmax_last", [](const TensorList& in) { return g::log_softmax(in[0], -1); }},
    {"method_softmax", [](const TensorList& in) { return in[0].softmax(-1); }},
    {"method_log_softmax", [](const TensorList& in) { return in[0].log_softmax(-1); }},
};

class SoftmaxGrad : public ::testing::TestWithParam<std::tuple<Row, Layout>> {};

TEST_P(SoftmaxGrad, MatchesFiniteDifferencesToSecondOrder) {
  const auto& [row, layout] = GetParam();
  if (layout == Layout::zero_dim && !row.on_zero_dim) GTEST_SKIP() << "a 0-d tensor has no dim 1";
  const TensorList inputs{make_leaf({2, 3, 4}, layout)};
  EXPECT_TRUE(g::autograd::gradcheck(row.fn, inputs));
  EXPECT_TRUE(g::autograd::gradgradcheck(row.fn, inputs));
}

INSTANTIATE_TEST_SUITE_P(AllOps, SoftmaxGrad,
                         ::testing::Combine(::testing::ValuesIn(kRows),
                                            ::testing::ValuesIn(kAllLayouts)),
                         [](const auto& info) {
                           return std::get<0>(info.param).name + "_" +
                                  g::testing::layout_name(std::get<1>(info.param));
                         });

// The formulas read only the output, never exp(x): inputs near 1000 give exact gradients.
// x = (1000, 1000 + log 3): softmax = (1/4, 3/4). With the gradient (1, 0):
//   softmax:     dx = y * (g - y . g) = (1/4 * 3/4, 3/4 * -1/4) = (3/16, -3/16)
//   log_softmax: dx = g - softmax * sum(g) = (3/4, -3/4)
TEST(SoftmaxGradStability, HugeInputsGiveExactGradients) {
  const g::Tensor x = make_tensor({1000, 1000 + std::log(3.0)}, {2}).requires_grad_();
  const g::Tensor upstream = make_tensor({1, 0}, {2});
  g::softmax(x, 0).backward(upstream);
  std::vector<double> grad = x.grad().to_vector<double>();
  EXPECT_NEAR(grad[0], 3.0 / 16, 1e-12);
  EXPECT_NEAR(grad[1], -3.0 / 16, 1e-12);
  const g::Tensor y = make_tensor({1000, 1000 + std::log(3.0)}, {2}).requires_grad_();
  g::log_softmax(y, 0).backward(upstream);
  grad = y.grad().to_vector<double>();
  EXPECT_NEAR(grad[0], 0.75, 1e-12);
  EXPECT_NEAR(grad[1], -0.75, 1e-12);
}

TEST(SoftmaxGradNames, NodesAreNamedAfterTheirOp) {
  const g::Tensor x = make_leaf({2, 3}, Layout::contiguous);
  EXPECT_EQ(g::softmax(x, 1).grad_fn()->name(), "SoftmaxBackward");
  EXPECT_EQ(g::log_softmax(x, 1).grad_fn()->name(), "LogSoftmaxBackward");
}

}  // namespace
