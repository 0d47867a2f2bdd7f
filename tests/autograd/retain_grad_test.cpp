// retain_grad(): a non-leaf keeps its gradient in grad(), accumulated across backward calls
// as a leaf's, after its own hooks; after an in-place op the gradient kept is the one of the
// value the tensor holds now (PyTorch's rules), views included; the graph does not keep the
// tensor alive.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <vector>

#include "test_util.h"

namespace g = graft;
using g::testing::error_message;
using g::testing::make_tensor;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

namespace {

std::vector<double> grad_of(const g::Tensor& t) { return t.grad().to_vector<double>(); }

}  // namespace

TEST(RetainGrad, ANonLeafKeepsItsGradientAccumulated) {
  const g::Tensor x = make_tensor({1, 2, 3}, {3}).requires_grad_();
  const g::Tensor y = x * x;  // dy/dx = 2x
  const g::Tensor z = y * 3;  // dz/dy = 3
  EXPECT_FALSE(y.retains_grad());
  y.retain_grad();
  y.retain_grad();  // twice is once
  EXPECT_TRUE(y.retains_grad());
  z.sum().backward(g::Tensor(), /*retain_graph=*/true);
  EXPECT_THAT(grad_of(y), ElementsAre(3, 3, 3));
  EXPECT_THAT(grad_of(x), ElementsAre(6, 12, 18));
  EXPECT_FALSE(z.grad().defined());  // only the tensors asked keep theirs
  z.sum().backward();
  EXPECT_THAT(grad_of(y), ElementsAre(6, 6, 6));
  // The root of the backward keeps the seed gradient.
  const g::Tensor loss = (x * 2).sum();
  loss.retain_grad();
  loss.backward();
  EXPECT_EQ(loss.grad().item<double>(), 1);
}

TEST(RetainGrad, KeepsTheGradientAsItsHooksLeaveIt) {
  const g::Tensor x = make_tensor({1, 2}, {2}).requires_grad_();
  const g::Tensor y = x * 1;
  y.retain_grad();
  y.register_hook([](const g::Tensor& grad) { return grad * 10; });  // registered after
  (y * y).sum().backward();
  EXPECT_THAT(grad_of(y), ElementsAre(20, 40));
  EXPECT_THAT(grad_of(x), ElementsAre(20, 40));
}

TEST(RetainGrad, AfterAnInPlaceOpKeepsTheGradientOfTheNewValue) {
  const g::Tensor x = make_tensor({1, 2}, {2}).requires_grad_();
  const g::Tensor y = x * 2;
  y.retain_grad();
  y.mul_(3);  // y's new value; its old one is 1/3 of it
  (y * 5).sum().backward();
  EXPECT_THAT(grad_of(y), ElementsAre(5, 5));  // not 15: the old value's gradient
  EXPECT_THAT(grad_of(x), ElementsAre(30, 30));

  // Through a view: the base, written through its view, and the view, after its base was.
  const g::Tensor a = make_tensor({1, 2, 3, 4}, {4}).requires_grad_();
  const g::Tensor b = a * 1;
  b.retain_grad();
  b.narrow(0, 0, 2).mul_(2);
  (b * b).sum().backward();
  EXPECT_THAT(grad_of(b), ElementsAre(4, 8, 6, 8));  // 2 b of the new b = (2, 4, 3, 4)
  EXPECT_THAT(grad_of(a), ElementsAre(8, 16, 6, 8));
  const g::Tensor c = a * 1;
  const g::Tensor view = c.narrow(0, 1, 2);
  view.retain_grad();
  c.add_(1);
  (view * 7).sum().backward();
  EXPECT_THAT(grad_of(view), ElementsAre(7, 7));
}

TEST(RetainGrad, ResetsLikeALeafsAndFollowsCreateGraph) {
  const g::Tensor x = make_tensor({3}, {1}).requires_grad_();
  const g::Tensor y = x * x;
  y.retain_grad();
  (y * y).sum().backward(g::Tensor(), std::nullopt, /*create_graph=*/true);
  EXPECT_THAT(grad_of(y), ElementsAre(18));  // 2 y
  // With create_graph the kept gradient is differentiable: d(2y)/dx = 4x.
  ASSERT_TRUE(y.grad().requires_grad());
  x.mutable_grad() = g::Tensor();
  y.grad().sum().backward();
  EXPECT_THAT(grad_of(x), ElementsAre(12));
  x.mutable_grad() = g::Tensor();
  y.mutable_grad() = g::Tensor();
  EXPECT_FALSE(y.grad().defined());
}

TEST(RetainGrad, NeedsATensorThatRequiresGradAndDoesNotKeepItAlive) {
  EXPECT_THAT(error_message([] { make_tensor({1}, {1}).retain_grad(); }),
              HasSubstr("retain_grad(): can't retain_grad on a Tensor that has "
                        "requires_grad=false"));
  const g::Tensor leaf = make_tensor({1}, {1}).requires_grad_();
  leaf.retain_grad();  // a leaf keeps its gradient already
  EXPECT_FALSE(leaf.retains_grad());
  g::Tensor out;
  {
    const g::Tensor y = leaf * 2;
    y.retain_grad();
    out = y * 3;
  }  // y is gone; its node, which out still reaches, must not bring it back
  out.sum().backward();
  EXPECT_THAT(grad_of(leaf), ElementsAre(6));
}
