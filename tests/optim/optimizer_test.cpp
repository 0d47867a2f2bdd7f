// The optimizers (optim/optimizer.h and sgd.h, adam.h, rmsprop.h): they minimise a
// quadratic bowl, honour parameter groups, skip parameters without gradients, reset
// gradients, and save and restore their state so that training continues identically.
// The update formulas themselves are checked in fused_update_test.cpp.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "graft/optim/adam.h"
#include "graft/optim/clip.h"
#include "graft/optim/rmsprop.h"
#include "graft/optim/sgd.h"
#include "test_util.h"

namespace graft::optim {
namespace {

using testing::error_message;
using ::testing::HasSubstr;
using testing::make_tensor;

using MakeOptimizer = std::function<std::unique_ptr<Optimizer>(std::vector<Tensor>)>;

const std::vector<std::pair<std::string, MakeOptimizer>> kOptimizers = {
    {"SGD", [](auto p) { return std::make_unique<SGD>(std::move(p), 0.05, 0.9); }},
    {"SGD nesterov",
     [](auto p) {
       return std::make_unique<SGD>(std::move(p),
                                    SgdOptions{.lr = 0.05, .momentum = 0.9, .nesterov = true});
     }},
    {"Adam", [](auto p) { return std::make_unique<Adam>(std::move(p), 0.1); }},
    {"AdamW", [](auto p) { return std::make_unique<AdamW>(std::move(p), 0.1, 1e-4); }},
    {"RMSprop",
     [](auto p) {
       return std::make_unique<RMSprop>(std::move(p), RmspropOptions{.lr = 0.01, .momentum = 0.5});
     }},
};

// f(w) = sum(a * (w - c)^2) with a = [1, 4, 0.5]: minimum at w = c = [1, -2, 3]. The terms
// are returned unsummed; backward with a gradient of ones gives df/dw.
Tensor bowl_terms(const Tensor& w) {
  const Tensor a = make_tensor({1.0, 4.0, 0.5}, {3});
  const Tensor c = make_tensor({1.0, -2.0, 3.0}, {3});
  return a * (w - c) * (w - c);
}
double bowl_loss(const Tensor& w) { return bowl_terms(w.detach()).sum().item<double>(); }

TEST(Optimizer, EachOptimizerMinimisesAQuadraticBowl) {
  for (const auto& [name, make] : kOptimizers) {
    SCOPED_TRACE(name);
    const Tensor w = zeros({3}, kFloat64).requires_grad_();
    auto opt = make({w});
    const double start = bowl_loss(w);  // 1 + 16 + 4.5 = 21.5
    for (int i = 0; i < 300; ++i) {
      opt->zero_grad();
      bowl_terms(w).backward(ones({3}, kFloat64));
      opt->step();
    }
    EXPECT_LT(bowl_loss(w), 1e-3 * start);
    EXPECT_THAT(w.to_vector<double>(),
                ::testing::Pointwise(::testing::DoubleNear(0.05), std::vector<double>{1, -2, 3}));
  }
}

// A parameter that is not contiguous (a transposed leaf, as PyTorch allows) is updated as
// its contiguous clone is, step for step, state included; its memory stays where it was.
TEST(Optimizer, NonContiguousParametersStepAsTheirContiguousClones) {
  for (const auto& [name, make] : kOptimizers) {
    SCOPED_TRACE(name);
    const Tensor values = make_tensor({0.5, -1, 2, 0.25, 3, -0.75}, {2, 3});
    const Tensor strided = values.clone().t().requires_grad_();  // (3, 2), strides (1, 3)
    const Tensor dense = values.t().contiguous().requires_grad_();
    ASSERT_FALSE(strided.is_contiguous());
    const void* memory = strided.data_ptr();
    auto strided_opt = make({strided});
    auto dense_opt = make({dense});
    const Tensor target = make_tensor({1, 2, 3, 4, 5, 6}, {3, 2});
    for (int i = 0; i < 5; ++i)
      for (const auto& [w, opt] :
           {std::pair{strided, strided_opt.get()}, std::pair{dense, dense_opt.get()}}) {
        opt->zero_grad();
        ((w - target) * (w - target) * w).sum().backward();
        opt->step();
      }
    EXPECT_EQ(strided.to_vector<double>(), dense.to_vector<double>());
    EXPECT_EQ(strided.data_ptr(), memory);
    EXPECT_EQ(strided.strides(), Shape({1, 3}));
  }
}

TEST(Optimizer, ParamGroupsUseTheirOwnLearningRates) {
  const Tensor a = make_tensor({1.0}, {1}).requires_grad_();
  const Tensor b = make_tensor({1.0}, {1}).requires_grad_();
  SGD opt({a}, 0.1);
  opt.add_param_group({{b}, SgdOptions{.lr = 0.01}});
  a.mutable_grad() = make_tensor({2.0}, {1});
  b.mutable_grad() = make_tensor({2.0}, {1});
  opt.step();
  EXPECT_DOUBLE_EQ(a.item<double>(), 1.0 - 0.1 * 2.0);
  EXPECT_DOUBLE_EQ(b.item<double>(), 1.0 - 0.01 * 2.0);
  opt.set_lr(1, 0.5);
  EXPECT_EQ(opt.lr(1), 0.5);
  EXPECT_EQ(opt.param_groups().size(), 2u);
}

// torch.optim.AdamW(lr=0.1) decays by 1e-2 whichever way the options are spelled; Adam's
// options default to none. A zero gradient leaves only the decay: w *= 1 - lr * decay.
TEST(Optimizer, AdamWOptionsDefaultToPyTorchsWeightDecay) {
  const Tensor a = make_tensor({1.0}, {1}).requires_grad_();
  const Tensor b = make_tensor({1.0}, {1}).requires_grad_();
  const Tensor c = make_tensor({1.0}, {1}).requires_grad_();
  AdamW with_options({a}, {.lr = 0.1});
  with_options.add_param_group({{b}, AdamWOptions{.lr = 0.1, .weight_decay = 0.5}});
  AdamW positional({c}, 0.1);
  for (const Tensor& p : {a, b, c}) p.mutable_grad() = make_tensor({0.0}, {1});
  with_options.step();
  positional.step();
  EXPECT_DOUBLE_EQ(a.item<double>(), 1.0 - 0.1 * 1e-2);
  EXPECT_DOUBLE_EQ(b.item<double>(), 1.0 - 0.1 * 0.5);
  EXPECT_DOUBLE_EQ(c.item<double>(), 1.0 - 0.1 * 1e-2);
  EXPECT_EQ(AdamOptions{}.weight_decay, 0.0);
  // Adam's options struct, named, still serves AdamW, taken as given.
  const Tensor d = make_tensor({1.0}, {1}).requires_grad_();
  AdamW named({d}, AdamOptions{.lr = 0.1, .weight_decay = 0.5});
  d.mutable_grad() = make_tensor({0.0}, {1});
  named.step();
  EXPECT_DOUBLE_EQ(d.item<double>(), 1.0 - 0.1 * 0.5);
}

TEST(Optimizer, ParametersWithoutGradientsAreSkippedAndKeepTheirStepCount) {
  const Tensor a = make_tensor({1.0}, {1}).requires_grad_();
  const Tensor b = make_tensor({1.0}, {1}).requires_grad_();
  Adam opt({a, b}, 0.1);
  a.mutable_grad() = make_tensor({1.0}, {1});
  opt.step();
  EXPECT_EQ(b.item<double>(), 1.0);
  // Adam's first step moves by lr * sign(g) (up to eps): m_hat = g, v_hat = g^2.
  EXPECT_NEAR(a.item<double>(), 0.9, 1e-7);
  const StateDict state = opt.state_dict();
  EXPECT_EQ(state.at("state.0.step").item<int64_t>(), 1);
  EXPECT_FALSE(state.contains("state.1.step"));
}

TEST(Optimizer, TrackedGradNormIsTheTotalNormOfTheGradientsTheStepRead) {
  // Two groups, float32 parameters over several chunks, and one without a gradient.
  const Tensor a = randn({300, 100}).requires_grad_();
  const Tensor b = randn({7}).requires_grad_();
  const Tensor skipped = randn({3}).requires_grad_();
  Adam opt({a, skipped}, 0.01);
  opt.add_param_group({{b}, AdamOptions{.lr = 0.1}});
  opt.set_grad_norm_tracking(true);
  EXPECT_TRUE(opt.grad_norm_tracking());
  for (int step = 0; step < 3; ++step) {
    a.mutable_grad() = randn({300, 100});
    b.mutable_grad() = randn({7});
    const double expected = get_total_norm(grads({a, b, skipped}), 2.0).item<double>();
    opt.step();
    const Tensor norm = opt.last_grad_norm();
    EXPECT_EQ(norm.dtype(), kFloat32);
    EXPECT_EQ(norm.dim(), 0);
    EXPECT_NEAR(norm.item<double>(), expected, 1e-6 * expected);
  }
  // After clipping, the step reads (and reports) the clipped gradients.
  a.mutable_grad() = randn({300, 100});
  b.mutable_grad() = randn({7});
  clip_grad_norm_({a, b}, 0.5);
  opt.step();
  EXPECT_NEAR(opt.last_grad_norm().item<double>(), 0.5, 1e-5);
}

TEST(Optimizer, TrackedGradNormOfNothingIsZeroAndUntrackedIsAnError) {
  const Tensor w = make_tensor({1.0, 2.0}, {2}).requires_grad_();
  SGD opt({w}, 0.1);
  EXPECT_FALSE(opt.grad_norm_tracking());
  EXPECT_THAT(error_message([&] { (void)opt.last_grad_norm(); }),
              HasSubstr("SGD.last_grad_norm(): the last step() did not compute the gradient norm "
                        "(tracking is off); call set_grad_norm_tracking(true) before step()"));
  opt.set_grad_norm_tracking(true);
  EXPECT_THAT(error_message([&] { (void)opt.last_grad_norm(); }),
              HasSubstr("no step has run since tracking was turned on"));
  opt.step();  // no gradient: nothing updated, as get_total_norm of no gradients
  EXPECT_EQ(opt.last_grad_norm().item<double>(), 0.0);
  w.mutable_grad() = make_tensor({3.0, 4.0}, {2});
  opt.step();
  EXPECT_EQ(opt.last_grad_norm().dtype(), kFloat64);
  EXPECT_DOUBLE_EQ(opt.last_grad_norm().item<double>(), 5.0);
  opt.set_grad_norm_tracking(false);
  opt.step();
  EXPECT_THAT(error_message([&] { (void)opt.last_grad_norm(); }), HasSubstr("tracking is off"));
}

TEST(Optimizer, ZeroGradDropsOrZeroesGradients) {
  const Tensor w = make_tensor({1.0, 2.0}, {2}).requires_grad_();
  SGD opt({w});
  w.mutable_grad() = make_tensor({3.0, 4.0}, {2});
  opt.zero_grad(/*set_to_none*/ false);
  EXPECT_EQ(w.grad().to_vector<double>(), (std::vector<double>{0.0, 0.0}));
  opt.zero_grad();
  EXPECT_FALSE(w.grad().defined());
}

// Runs `steps` steps with the gradient 2 * (w - 1) + step (a moving bowl).
void train(Optimizer& opt, const Tensor& w, int first, int steps) {
  for (int s = first; s < first + steps; ++s) {
    w.mutable_grad() = (w.detach() - 1.0) * 2.0 + static_cast<double>(s);
    opt.step();
  }
}

TEST(Optimizer, StateDictRoundTripThroughAFileContinuesIdentically) {
  for (const auto& [name, make] : kOptimizers) {
    SCOPED_TRACE(name);
    const Tensor w = make_tensor({0.5, -1.0, 2.0}, {3}).requires_grad_();
    auto opt = make({w});
    train(*opt, w, 0, 3);
    const auto path = std::filesystem::temp_directory_path() / ("graft_optim_" + name + ".st");
    save(opt->state_dict(), path);
    // A second optimizer over a copy of the weights, restored from the file.
    const Tensor w2 = w.detach().clone().requires_grad_();
    auto restored = make({w2});
    restored->load_state_dict(load(path));
    std::filesystem::remove(path);
    train(*opt, w, 3, 3);
    train(*restored, w2, 3, 3);
    EXPECT_EQ(w.to_vector<double>(), w2.to_vector<double>());
  }
}

TEST(Optimizer, StateDictNamesFollowPyTorch) {
  const Tensor w = make_tensor({1.0}, {1}).requires_grad_();
  Adam opt({w}, AdamOptions{.lr = 0.5, .amsgrad = true});
  w.mutable_grad() = make_tensor({1.0}, {1});
  opt.step();
  const StateDict state = opt.state_dict();
  std::vector<std::string> keys;
  for (const auto& [key, value] : state) keys.push_back(key);
  EXPECT_THAT(
      keys, ::testing::ElementsAre(
                "param_groups.0.amsgrad", "param_groups.0.beta1", "param_groups.0.beta2",
                "param_groups.0.decoupled_weight_decay", "param_groups.0.eps", "param_groups.0.lr",
                "param_groups.0.maximize", "param_groups.0.weight_decay", "state.0.exp_avg",
                "state.0.exp_avg_sq", "state.0.max_exp_avg_sq", "state.0.step"));
  EXPECT_EQ(state.at("param_groups.0.lr").item<double>(), 0.5);
  EXPECT_EQ(state.at("param_groups.0.amsgrad").dtype(), kBool);
  EXPECT_EQ(state.at("state.0.exp_avg").shape(), Shape({1}));
}

TEST(Optimizer, LoadStateDictRejectsAMismatchAndChangesNothing) {
  const Tensor w = make_tensor({1.0, 2.0}, {2}).requires_grad_();
  SGD opt({w}, 0.1, 0.9);
  w.mutable_grad() = make_tensor({1.0, 1.0}, {2});
  opt.step();
  const StateDict good = opt.state_dict();
  const auto fails = [&](const std::function<void(StateDict&)>& corrupt) {
    StateDict bad = good;
    corrupt(bad);
    return error_message([&] { opt.load_state_dict(bad); });
  };
  EXPECT_THAT(fails([](StateDict& d) { d.erase("param_groups.0.lr"); }),
              HasSubstr("SGD.load_state_dict(): missing key 'param_groups.0.lr'"));
  EXPECT_THAT(fails([](StateDict& d) { d["state.0.momentum_buffer"] = zeros({3}); }),
              HasSubstr("'state.0.momentum_buffer' has shape (3,) but its parameter "
                        "has shape "
                        "(2,)"));
  EXPECT_THAT(fails([](StateDict& d) { d["state.1.step"] = zeros({}); }),
              HasSubstr("unexpected key 'state.1.step'"));
  EXPECT_THAT(fails([](StateDict& d) { d["param_groups.0.lr"] = full({}, -1.0); }),
              HasSubstr("SGD: invalid learning rate -1"));
  EXPECT_THAT(fails([](StateDict& d) { d["state.0.step"] = zeros({}); }),
              HasSubstr("'state.0.step' must be a positive integer, got 0"));
  EXPECT_EQ(opt.lr(0), 0.1);
  EXPECT_EQ(opt.state_dict().at("state.0.step").item<int64_t>(), 1);
}

TEST(Optimizer, BadConstructionIsAnError) {
  const Tensor w = zeros({2}).requires_grad_();
  EXPECT_THAT(error_message([&] { SGD({w}, -0.1); }),
              HasSubstr("SGD: invalid learning rate -0.1; it must be >= 0"));
  EXPECT_THAT(error_message([&] { SGD({w}, SgdOptions{.lr = 0.1, .nesterov = true}); }),
              HasSubstr("SGD: nesterov momentum requires a momentum > 0 and zero dampening"));
  EXPECT_THAT(error_message([&] { Adam({w}, AdamOptions{.beta2 = 1.0}); }),
              HasSubstr("Adam: invalid beta2 1; it must be in [0, 1)"));
  EXPECT_THAT(error_message([&] { RMSprop({w}, RmspropOptions{.alpha = -1}); }),
              HasSubstr("RMSprop: invalid alpha -1"));
  EXPECT_THAT(error_message([&] {
                SGD({w, w});
              }),
              HasSubstr("parameter 1 of the group is the same tensor as parameter 0"));
  EXPECT_THAT(error_message([&] { SGD({w * 2}); }), HasSubstr("can't optimize a non-leaf tensor"));
  EXPECT_THAT(error_message([&] { AdamW(std::vector<Tensor>{}); }),
              HasSubstr("AdamW: optimizer got an empty parameter list"));
  SGD opt({w});
  EXPECT_THAT(error_message([&] {
                opt.add_param_group({{w}, SgdOptions{}});
              }),
              HasSubstr("some parameters appear in more than one parameter group"));
  EXPECT_THAT(error_message([&] {
                opt.add_param_group({{zeros({1})}, AdamOptions{}});
              }),
              HasSubstr("the group's options are for another algorithm"));
  EXPECT_THAT(error_message([&] { opt.lr(3); }), HasSubstr("SGD: no parameter group 3"));
}

TEST(Optimizer, StepReportsABadGradient) {
  const Tensor w = zeros({2}).requires_grad_();
  SGD opt({w});
  w.mutable_grad() = zeros({3});
  EXPECT_THAT(error_message([&] { opt.step(); }),
              HasSubstr("SGD.step(): the gradient of parameter 0 is float32 (3,)"));
}

}  // namespace
}  // namespace graft::optim
