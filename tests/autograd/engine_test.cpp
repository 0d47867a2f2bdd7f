// The backward engine's semantics: leaves and accumulation, retain_graph, grad mode, hooks,
// detach, in-place ops and version checks, graph shapes (diamond, a 10000-node chain),
// broadcasting undone, dtype casts, autograd::grad and create_graph. Expected values are
// derived beside each test; elementwise formulas themselves are checked by gradcheck in
// elementwise_grad_test.cpp.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>

#include "graft/autograd/record.h"
#include "test_util.h"

namespace g = graft;
using g::testing::error_message;
using g::testing::make_tensor;
using g::testing::sample_values;
using ::testing::HasSubstr;

namespace {

g::Tensor leaf(const g::Shape& shape, uint32_t seed = 1, g::DType dtype = g::kFloat64) {
  return make_tensor(sample_values(shape.numel(), -2, 2, seed), shape, dtype).requires_grad_();
}

std::vector<double> values(const g::Tensor& t) { return t.to_vector<double>(); }

void expect_values(const g::Tensor& t, const std::vector<double>& want) {
  ASSERT_TRUE(t.defined());
  const std::vector<double> got = values(t);
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < want.size(); ++i) EXPECT_NEAR(got[i], want[i], 1e-9) << "element " << i;
}

// f(v) applied to every element of v.
template <class F>
std::vector<double> map(const std::vector<double>& v, F f) {
  std::vector<double> out;
  for (double x : v) out.push_back(f(x));
  return out;
}

}  // namespace

TEST(AutogradEngine, MulGivesEachFactorTheOther) {
  g::Tensor x = leaf({2, 3}, 1), w = leaf({2, 3}, 2);
  g::Tensor grad = make_tensor(sample_values(6, -1, 1, 3), {2, 3});
  (x * w).backward(grad);
  // d(x*w)/dx = w, d(x*w)/dw = x, each times the incoming gradient.
  std::vector<double> gx, gw;
  for (size_t i = 0; i < 6; ++i) {
    gx.push_back(values(grad)[i] * values(w)[i]);
    gw.push_back(values(grad)[i] * values(x)[i]);
  }
  expect_values(x.grad(), gx);
  expect_values(w.grad(), gw);
}

TEST(AutogradEngine, LeafRulesAndNodeNames) {
  g::Tensor x = leaf({3});
  const g::Tensor y = x * 2;
  EXPECT_TRUE(x.is_leaf());
  EXPECT_EQ(x.grad_fn(), nullptr);
  EXPECT_FALSE(y.is_leaf());
  EXPECT_TRUE(y.requires_grad());
  EXPECT_EQ(y.grad_fn()->name(), "MulBackward");
  EXPECT_EQ(x.exp().grad_fn()->name(), "ExpBackward");
  // Nothing that requires grad in, nothing recorded.
  const g::Tensor plain = make_tensor({1, 2, 3}, {3});
  EXPECT_TRUE(plain.is_leaf());
  EXPECT_FALSE((plain * 2).requires_grad());
  // Integer and bool results never require grad.
  EXPECT_FALSE((x > 0).requires_grad());
  EXPECT_FALSE(x.to(g::kInt64).requires_grad());
  EXPECT_THAT(error_message([] { make_tensor({1}, {1}, g::kInt64).requires_grad_(); }),
              HasSubstr("only Tensors of floating point dtype can require gradients"));
  EXPECT_THAT(error_message([&] { y.requires_grad_(false); }),
              HasSubstr("you can only change requires_grad flags of leaf variables"));
  x.requires_grad_(false);
  EXPECT_FALSE(x.requires_grad());
}

TEST(AutogradEngine, AccumulatesIntoLeavesOverTwoBackwards) {
  g::Tensor x = leaf({2});
  const g::Tensor y = x * 3;
  y.backward(g::ones_like(y), /*retain_graph=*/true);
  expect_values(x.grad(), {3, 3});
  const g::Tensor first = x.grad();
  y.backward(g::ones_like(y));
  expect_values(x.grad(), {6, 6});  // 3 + 3: added, into the same tensor
  EXPECT_TRUE(x.grad().is_same(first));
  EXPECT_FALSE(x.grad().requires_grad());
}

TEST(AutogradEngine, FirstGradientIsACopyNotTheCallersTensor) {
  g::Tensor x = leaf({2});
  const g::Tensor seed = make_tensor({1, 1}, {2});
  (x * 1).backward(seed);
  EXPECT_NE(x.grad().data_ptr(), seed.data_ptr());
}

// A leaf's first gradient becomes its .grad without a copy only when nothing else can
// see it (AccumulateGrad's can_take): these are the cases where it must be copied.
TEST(AutogradEngine, FirstGradientIsCopiedWhenAnyoneElseCanSeeIt) {
  g::Tensor x = leaf({2});
  const g::Tensor seed = make_tensor({1, 1}, {2});
  x.backward(seed);  // the caller still holds seed
  EXPECT_NE(x.grad().data_ptr(), seed.data_ptr());

  g::Tensor y = leaf({2});
  g::Tensor kept;
  y.register_hook([&](const g::Tensor& grad) {
    kept = grad;  // a hook keeps a handle
    return g::Tensor();
  });
  (y * 2).backward(g::ones_like(y));
  kept.add_(1);
  expect_values(y.grad(), {2, 2});

  g::Tensor z = leaf({2});
  z.sum().backward();  // the gradient arrives as a (2,) expansion of one element
  EXPECT_TRUE(z.grad().is_contiguous());
  z.grad().add_(1);
  expect_values(z.grad(), {2, 2});
}

TEST(AutogradEngine, FirstGradientIsTakenWhenNothingElseSeesItEvenAsAView) {
  // A Linear layer's weight gradient arrives as the transpose of a contiguous product (a view
  // whose base only it holds): taken as it is, not copied. A hook records where it lies
  // (an address, not a handle, which would count as someone else seeing it).
  g::Tensor w = leaf({3, 4});
  const void* arrived = nullptr;
  w.register_hook([&](const g::Tensor& grad) {
    arrived = grad.data_ptr();
    return g::Tensor();
  });
  const g::Tensor x = make_tensor({1, 2, 3, 4, 5, 6, 7, 8}, {2, 4});
  g::matmul(x, w.t()).sum().backward();
  EXPECT_EQ(w.grad().data_ptr(), arrived);
  expect_values(w.grad(), {6, 8, 10, 12, 6, 8, 10, 12, 6, 8, 10, 12});

  // A view of the caller's seed is seen by the caller: copied.
  g::Tensor v = leaf({2, 3});
  const g::Tensor seed = make_tensor({1, 2, 3, 4, 5, 6}, {3, 2});
  v.t().backward(seed);  // v's gradient is seed.t(), a view of seed
  EXPECT_NE(v.grad().data_ptr(), seed.data_ptr());
  v.grad().add_(1);
  expect_values(seed, {1, 2, 3, 4, 5, 6});
}

TEST(AutogradEngine, SecondBackwardThroughAFreedGraphNamesRetainGraph) {
  g::Tensor x = leaf({2});
  const g::Tensor y = x * x;
  y.backward(g::ones_like(y));
  const std::string msg = error_message([&] { y.backward(g::ones_like(y)); });
  EXPECT_THAT(msg, HasSubstr("Trying to backward through the graph a second time"));
  EXPECT_THAT(msg, HasSubstr("retain_graph=true"));
  EXPECT_THAT(msg, HasSubstr("MulBackward"));
}

TEST(AutogradEngine, NoGradGuardRecordsNothing) {
  g::Tensor x = leaf({2});
  {
    g::NoGradGuard no_grad;
    const g::Tensor y = x * 2;
    EXPECT_FALSE(y.requires_grad());
    EXPECT_EQ(y.grad_fn(), nullptr);
    {
      g::EnableGradGuard enable;  // recording back on inside the no-grad scope
      EXPECT_TRUE((x * 2).requires_grad());
    }
    EXPECT_FALSE((x * 2).requires_grad());
  }
  EXPECT_TRUE((x * 2).requires_grad());
}

TEST(AutogradEngine, HooksSeeAndReplaceGradients) {
  g::Tensor x = leaf({2});
  const g::Tensor y = x * 3;
  std::vector<double> seen_at_y;
  y.register_hook([&](const g::Tensor& grad) {
    seen_at_y = values(grad);
    return g::Tensor();  // undefined: keep the gradient
  });
  x.register_hook([](const g::Tensor& grad) { return grad * 10; });
  y.backward(make_tensor({1, 2}, {2}));
  EXPECT_EQ(seen_at_y, std::vector<double>({1, 2}));
  expect_values(x.grad(), {30, 60});  // 3 * (1, 2), times 10 by the hook
  EXPECT_THAT(error_message([] { make_tensor({1}, {1}).register_hook(nullptr); }),
              HasSubstr("cannot register a hook on a tensor that doesn't require gradient"));
}

TEST(AutogradEngine, AHookMayNotChangeTheGradientsShapeOrDtype) {
  for (const bool on_leaf : {true, false}) {
    const g::Tensor x = leaf({3});
    const g::Tensor y = x * 2;
    (on_leaf ? x : y).register_hook([](const g::Tensor&) { return g::ones({2}); });
    EXPECT_THAT(error_message([&] { y.sum().backward(); }),
                HasSubstr("changed the gradient [float64 [3]] on cpu into [float32 [2]]"));
    EXPECT_FALSE(x.grad().defined()) << "nothing accumulated";
  }
  const g::Tensor x = leaf({2});
  x.register_hook([](const g::Tensor& grad) { return grad.to(g::kFloat32); });
  EXPECT_THAT(error_message([&] { (x * 2).sum().backward(); }),
              HasSubstr("of the same shape, dtype and device"));
}

TEST(AutogradEngine, DetachCutsTheGraphButSharesMemoryAndVersion) {
  g::Tensor x = leaf({2});
  const g::Tensor y = x * 2;
  const g::Tensor d = y.detach();
  EXPECT_FALSE(d.requires_grad());
  EXPECT_TRUE(d.is_leaf());
  EXPECT_EQ(d.data_ptr(), y.data_ptr());
  d.add_(1);
  EXPECT_EQ(y._version(), 1u);  // one memory, one version counter
  EXPECT_FALSE((d * x).grad_fn() == nullptr);
}

TEST(AutogradEngine, InPlaceOnALeafThatRequiresGradIsAnError) {
  g::Tensor x = leaf({2});
  EXPECT_THAT(error_message([&] { x.add_(1); }),
              HasSubstr("a leaf Variable that requires grad is being used in an in-place "
                        "operation."));
  EXPECT_THAT(error_message([&] {
                x.copy_(make_tensor({1, 2}, {2}));
              }),
              HasSubstr("a leaf Variable that requires grad"));
  EXPECT_EQ(x._version(), 0u);  // refused before writing anything
  {
    g::NoGradGuard no_grad;  // how an optimizer updates parameters
    x.mul_(2);
  }
  EXPECT_EQ(x._version(), 1u);
  EXPECT_TRUE(x.is_leaf());
}

TEST(AutogradEngine, InPlaceOnANonLeafTakesOverItsHistory) {
  g::Tensor x = leaf({3});
  g::Tensor y = x * 2;
  const uint64_t before = y._version();
  y.mul_(x);  // y = 2x * x = 2x^2, dy/dx = 4x
  EXPECT_EQ(y._version(), before + 1);
  EXPECT_EQ(y.grad_fn()->name(), "MulBackward");
  y.backward(g::ones_like(y));
  expect_values(x.grad(), map(values(x), [](double v) { return 4 * v; }));
}

TEST(AutogradEngine, InPlaceIntoATensorWithoutGradMakesItPartOfTheGraph) {
  g::Tensor x = leaf({2});
  g::Tensor acc = make_tensor({1, 1}, {2});
  acc.add_(x * 5);
  EXPECT_TRUE(acc.requires_grad());
  EXPECT_FALSE(acc.is_leaf());
  acc.backward(g::ones_like(acc));
  expect_values(x.grad(), {5, 5});
}

TEST(AutogradEngine, ModifyingASavedTensorIsCaughtAtBackward) {
  g::Tensor x = leaf({3, 2}, 1, g::kFloat32);
  g::Tensor y = x.exp();  // ExpBackward saves its output y
  y.add_(1);
  const std::string msg = error_message([&] { y.backward(g::ones_like(y)); });
  EXPECT_THAT(msg, HasSubstr("one of the variables needed for gradient computation has been "
                             "modified by an inplace operation: [float32 [3, 2]] is at version "
                             "1; expected version 0 instead"));
  EXPECT_THAT(msg, HasSubstr("ExpBackward"));
}

TEST(AutogradEngine, ModifyingASavedInputThroughAnotherHandleIsCaughtToo) {
  g::Tensor x = leaf({2});
  g::Tensor a = x * 1;
  const g::Tensor y = a * a;  // MulBackward saves a, twice
  const g::Tensor alias = a.detach();
  alias.fill_(0);
  EXPECT_THAT(error_message([&] { y.backward(g::ones_like(y)); }),
              HasSubstr("is at version 1; expected version 0 instead"));
}

TEST(AutogradEngine, DiamondSumsBothPaths) {
  g::Tensor x = leaf({3});
  const g::Tensor a = x * 2, b = x * 3;
  (a * b).backward(g::ones_like(x));  // 6x^2 -> 12x
  expect_values(x.grad(), map(values(x), [](double v) { return 12 * v; }));
}

TEST(AutogradEngine, TenThousandNodeChainNeitherRecursesNorOverflows) {
  g::Tensor x = make_tensor({1}, {1}).requires_grad_();
  g::Tensor y = x;
  for (int i = 0; i < 10000; ++i) y = y * 1.0001;
  y.backward(g::ones_like(y));
  EXPECT_NEAR(values(x.grad())[0], std::pow(1.0001, 10000), 1e-9);
  // Dropping the chain's only owner tears its nodes down one by one.
  g::Tensor z = x;
  for (int i = 0; i < 100000; ++i) z = z + 1;
  z = g::Tensor();
  SUCCEED();
}

TEST(AutogradEngine, BroadcastingIsSummedBackToEachInputsShape) {
  g::Tensor a = leaf({3, 1}, 1), b = leaf({1, 4}, 2);
  (a + b).backward(g::ones({3, 4}, g::kFloat64));
  EXPECT_EQ(a.grad().shape(), g::Shape({3, 1}));
  EXPECT_EQ(b.grad().shape(), g::Shape({1, 4}));
  expect_values(a.grad(), {4, 4, 4});  // each a[i] fed 4 outputs
  expect_values(b.grad(), {3, 3, 3, 3});
}

TEST(AutogradEngine, GradientsTakeTheirInputsDtype) {
  g::Tensor x = leaf({2}, 1, g::kFloat32), w = leaf({2}, 2, g::kFloat64);
  const g::Tensor y = x * w;  // float64
  y.backward(g::ones_like(y));
  EXPECT_EQ(x.grad().dtype(), g::kFloat32);
  EXPECT_EQ(w.grad().dtype(), g::kFloat64);
}

TEST(AutogradEngine, BackwardArgumentErrors) {
  g::Tensor x = leaf({2});
  EXPECT_THAT(error_message([&] { (x * 2).backward(); }),
              HasSubstr("grad can be implicitly created only for scalar outputs"));
  EXPECT_THAT(error_message([&] { make_tensor({1}, {1}).backward(); }),
              HasSubstr("element 0 of tensors does not require grad and does not have a grad_fn"));
  EXPECT_THAT(error_message([&] {
                (x * 2).backward(make_tensor({1, 2, 3}, {3}));
              }),
              HasSubstr("Mismatch in shape: grad_output[0] has a shape of (3,) and output[0] has "
                        "a shape of (2,)"));
}

TEST(AutogradEngine, ScalarOutputNeedsNoGradient) {
  g::Tensor x = make_tensor({3}, {}).requires_grad_();
  (x * x).backward();  // d(x^2)/dx = 2x = 6
  expect_values(x.grad(), {6});
}

TEST(AutogradEngine, GradReturnsGradientsWithoutTouchingLeaves) {
  g::Tensor x = leaf({2}, 1), w = leaf({2}, 2);
  const g::Tensor y = x * w;
  const auto grads = g::autograd::grad({y}, {x}, {.grad_outputs = {g::ones_like(y)}});
  expect_values(grads[0], values(w));
  EXPECT_FALSE(x.grad().defined());
  EXPECT_FALSE(w.grad().defined());
  g::Tensor unused = leaf({2}, 3);
  EXPECT_THAT(error_message([&] { g::autograd::grad({(x * w).sum()}, {unused}); }),
              HasSubstr("appears to not have been used in the graph"));
}

TEST(AutogradEngine, GradWithRespectToAnIntermediateTensor) {
  g::Tensor x = leaf({2});
  const g::Tensor h = x * 3;
  const g::Tensor y = h * h;  // dy/dh = 2h
  expect_values(g::autograd::grad({y}, {h}, {.grad_outputs = {g::ones_like(y)}})[0],
                map(values(h), [](double v) { return 2 * v; }));
}

TEST(AutogradEngine, CreateGraphGivesHigherOrderGradients) {
  g::Tensor x = make_tensor({2}, {}).requires_grad_();
  const g::Tensor y = x * x * x;
  // dy/dx = 3x^2 = 12, recorded; d2y/dx2 = 6x = 12; d3y/dx3 = 6.
  const g::Tensor dy = g::autograd::grad({y}, {x}, {.create_graph = true})[0];
  expect_values(dy, {12});
  EXPECT_TRUE(dy.requires_grad());
  const g::Tensor d2y = g::autograd::grad({dy}, {x}, {.create_graph = true})[0];
  expect_values(d2y, {12});
  d2y.backward();
  expect_values(x.grad(), {6});
}

// ---- autograd::grad's options (GradOptions)

TEST(AutogradGradOptions, RetainGraphDefaultsToCreateGraph) {
  g::Tensor x = make_tensor({2}, {}).requires_grad_();
  const g::Tensor y = x * x * x;  // dy/dx = 3x^2 = 12
  // create_graph alone keeps the graph, as PyTorch's retain_graph=None does, so a second
  // pass works; that plain pass frees it, and a third one is the usual error.
  expect_values(g::autograd::grad({y}, {x}, {.create_graph = true})[0], {12});
  expect_values(g::autograd::grad({y}, {x})[0], {12});
  EXPECT_THAT(error_message([&] { g::autograd::grad({y}, {x}); }),
              HasSubstr("Specify retain_graph=true"));
}

TEST(AutogradGradOptions, RetainGraphSetExplicitlyWins) {
  g::Tensor x = make_tensor({2}, {}).requires_grad_();
  const g::Tensor y = x * x * x;
  expect_values(g::autograd::grad({y}, {x}, {.retain_graph = false, .create_graph = true})[0],
                {12});
  EXPECT_THAT(error_message([&] { g::autograd::grad({y}, {x}); }),
              HasSubstr("backward through the graph a second time"));
  const g::Tensor z = x * x * x;
  expect_values(g::autograd::grad({z}, {x}, {.retain_graph = true})[0], {12});
  expect_values(g::autograd::grad({z}, {x})[0], {12});
}

TEST(AutogradGradOptions, GradOutputsWeighEachOutput) {
  g::Tensor x = leaf({2}, 1), w = leaf({2}, 2);
  const g::Tensor y = x * w;  // d(v . y)/dx = v * w
  const g::Tensor v = make_tensor({1, 10}, {2});
  expect_values(g::autograd::grad({y}, {x}, {.grad_outputs = {v}})[0],
                {values(w)[0], 10 * values(w)[1]});
  // One gradient per output; an undefined one stands for 1 and needs a one-element output.
  const g::Tensor y2 = x * w, s = (x * x).sum();  // ds/dx = 2x
  const auto grads = g::autograd::grad({y2, s}, {x}, {.grad_outputs = {v, g::Tensor()}});
  expect_values(grads[0], {values(w)[0] + 2 * values(x)[0], 10 * values(w)[1] + 2 * values(x)[1]});
  EXPECT_THAT(error_message([&] { g::autograd::grad({x * w}, {x}); }),
              HasSubstr("grad can be implicitly created only for scalar outputs"));
}

TEST(AutogradGradOptions, AllowUnusedGivesAnUndefinedGradient) {
  g::Tensor x = leaf({2}, 1), w = leaf({2}, 2), unused = leaf({2}, 3);
  const g::Tensor loss = (x * w).sum();
  EXPECT_THAT(error_message([&] {
                g::autograd::grad({loss}, {w, unused}, {.retain_graph = true});
              }),
              HasSubstr("grad(): input 1 appears to not have been used in the graph. Set "
                        "allow_unused=true"));
  const auto grads = g::autograd::grad({loss}, {w, unused}, {.allow_unused = true});
  expect_values(grads[0], values(x));  // dloss/dw = x
  EXPECT_FALSE(grads[1].defined());
}

// An op without a backward calls check_no_backward_yet first: with an input that requires
// grad under grad mode it refuses, rather than return a result cut from the graph.
TEST(AutogradEngine, OpsWithoutABackwardRefuseInsteadOfCuttingTheGraph) {
  g::Tensor x = leaf({2, 3});
  const g::Tensor plain = make_tensor({1, 2}, {2});
  EXPECT_THAT(error_message([&] {
                g::autograd::check_no_backward_yet("frobnicate", {&plain, &x});
              }),
              HasSubstr("frobnicate(): has no backward yet, so gradients cannot flow through it"));
  g::autograd::check_no_backward_yet("frobnicate", {&plain});  // nothing requires grad
  const g::Tensor detached = x.detach();
  g::autograd::check_no_backward_yet("frobnicate", {&detached});
  g::NoGradGuard no_grad;  // no gradient wanted: fine
  g::autograd::check_no_backward_yet("frobnicate", {&x});
}

TEST(AutogradEngine, CopyPassesGradientToTheSourceOnly) {
  g::Tensor src = leaf({1, 3}, 1, g::kFloat32);
  g::Tensor dst = g::zeros({2, 3}, g::kFloat64);
  dst.copy_(src);  // broadcast over 2 rows, float32 -> float64
  EXPECT_EQ(dst.grad_fn()->name(), "CopyBackward");
  dst.backward(g::ones_like(dst));
  EXPECT_EQ(src.grad().dtype(), g::kFloat32);
  expect_values(src.grad(), {2, 2, 2});
}

TEST(AutogradEngine, FillCutsTheOverwrittenHistory) {
  g::Tensor x = leaf({2});
  g::Tensor y = x * 2;
  y.fill_(1);
  EXPECT_EQ(y.grad_fn()->name(), "FillBackward");
  y.backward(g::ones_like(y));
  EXPECT_FALSE(x.grad().defined());  // no gradient reaches x through overwritten values
}

TEST(AutogradEngine, ClonesAndConversionsPassTheGradientThrough) {
  g::Tensor x = leaf({2}, 1, g::kFloat32);
  const g::Tensor y = x.to(g::kFloat64).clone() * 3;
  y.backward(g::ones_like(y));
  EXPECT_EQ(x.grad().dtype(), g::kFloat32);
  expect_values(x.grad(), {3, 3});
}

TEST(AutogradEngine, ValuesOfTensorsThatRequireGradCanBeReadAndCompared) {
  g::Tensor x = leaf({2, 2});
  EXPECT_TRUE(g::allclose(x, x * 1));
  EXPECT_TRUE(g::equal(x, x));
  std::ostringstream out;
  out << x;
  EXPECT_THAT(out.str(), HasSubstr("tensor("));
}

TEST(AutogradEngine, GradRefusesInputsThatDoNotRequireGrad) {
  g::Tensor x = leaf({2});
  EXPECT_THAT(error_message([&] {
                g::autograd::grad({(x * 2).sum()}, {make_tensor({1, 2}, {2})});
              }),
              HasSubstr("grad(): input 0 does not require grad"));
}

// record() is how every op adds its node; the engine checks what a backward returns.
TEST(AutogradRecord, ABackwardWrittenBesideItsForward) {
  g::Tensor x = leaf({2});
  g::Tensor out = x.detach() * x.detach();  // the forward of square, computed untracked
  g::autograd::record(out, "SquareBackward", {x},
                      [sx = g::autograd::save(x)](const g::Tensor& grad) {
                        return grad * 2 * sx.get();  // d(x^2)/dx = 2x
                      });
  EXPECT_EQ(out.grad_fn()->name(), "SquareBackward");
  out.backward(g::ones_like(out));
  expect_values(x.grad(), map(values(x), [](double v) { return 2 * v; }));
}

TEST(AutogradRecord, TheEngineRejectsMalformedGradients) {
  g::Tensor x = leaf({2});
  const g::Tensor two = x.detach().clone();
  g::autograd::record(two, "TwoGradsBackward", {x}, [](const g::Tensor& grad) {
    return g::autograd::TensorList{grad, grad};
  });
  EXPECT_THAT(error_message([&] { two.backward(g::ones_like(two)); }),
              HasSubstr("function TwoGradsBackward returned an incorrect number of gradients "
                        "(expected 1, got 2)"));
  const g::Tensor wide = x.detach().clone();
  g::autograd::record(wide, "WideBackward", {x},
                      [](const g::Tensor&) { return g::ones({5}, g::kFloat64); });
  EXPECT_THAT(error_message([&] { wide.backward(g::ones_like(wide)); }),
              HasSubstr("function WideBackward returned an invalid gradient at index 0 - got "
                        "(5,) but expected shape compatible with (2,)"));
}

TEST(AutogradEngine, EmptyTensorsGetEmptyGradients) {
  g::Tensor x = make_tensor({}, {0, 3}).requires_grad_();
  g::Tensor b = leaf({3});
  const g::Tensor y = (x * b).exp();
  y.backward(g::ones_like(y));
  EXPECT_EQ(x.grad().shape(), g::Shape({0, 3}));
  expect_values(b.grad(), {0, 0, 0});  // b was broadcast over zero rows: a sum of nothing
}
