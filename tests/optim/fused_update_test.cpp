// The fused optimizer update (optim/fused_update.h) against the update rules written out
// in double, one element at a time, as torch/optim/{sgd,adam,rmsprop}.py state them.
//
// Each case runs several steps over parameters of different sizes (one is above the CPU's
// parallel grain, so the threaded path runs too), with fresh gradients every step, and
// compares parameters and state after each step: float64 to 1e-12, float32 to 1e-5.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <string>
#include <vector>

#include "graft/optim/fused_update.h"
#include "settings_scope.h"
#include "test_util.h"

namespace graft::optim {
namespace {

using kernels::AdamHyper;
using kernels::OptimHyper;
using kernels::RmspropHyper;
using kernels::SgdHyper;
using testing::error_message;
using ::testing::HasSubstr;
using testing::make_tensor;
using testing::sample_values;

constexpr int kSteps = 5;

// The reference: one parameter's values and its state, in double.
struct RefParam {
  std::vector<double> param;
  std::vector<double> state[kernels::kMaxOptimState];
};

// Reference rules: update element i of `p` with gradient g at step `step` (1-based).
using RefRule = std::function<void(RefParam& p, size_t i, double g, int64_t step)>;

RefRule sgd_rule(const SgdHyper& h) {
  return [h](RefParam& p, size_t i, double grad, int64_t step) {
    double d_p = h.maximize ? -grad : grad;
    d_p += h.weight_decay * p.param[i];
    if (h.momentum != 0) {
      double& buf = p.state[0][i];
      // The buffer starts as a copy of the first gradient, without dampening.
      buf = step == 1 ? d_p : h.momentum * buf + (1 - h.dampening) * d_p;
      d_p = h.nesterov ? d_p + h.momentum * buf : buf;
    }
    p.param[i] -= h.lr * d_p;
  };
}

RefRule adam_rule(const AdamHyper& h) {
  return [h](RefParam& p, size_t i, double grad, int64_t step) {
    double g = h.maximize ? -grad : grad;
    if (h.decoupled_weight_decay) {
      p.param[i] *= 1 - h.lr * h.weight_decay;  // AdamW: decay the weight itself
    } else {
      g += h.weight_decay * p.param[i];  // Adam: L2 penalty in the gradient
    }
    double& m = p.state[0][i];
    double& v = p.state[1][i];
    m = h.beta1 * m + (1 - h.beta1) * g;
    v = h.beta2 * v + (1 - h.beta2) * g * g;
    double v_used = v;
    if (h.amsgrad) {
      p.state[2][i] = std::max(p.state[2][i], v);
      v_used = p.state[2][i];
    }
    const double m_hat = m / (1 - std::pow(h.beta1, step));
    const double v_hat = v_used / (1 - std::pow(h.beta2, step));
    // PyTorch adds eps to sqrt(v) / sqrt(bias correction), i.e. to sqrt(v_hat).
    p.param[i] -= h.lr * m_hat / (std::sqrt(v_hat) + h.eps);
  };
}

RefRule rmsprop_rule(const RmspropHyper& h) {
  return [h](RefParam& p, size_t i, double grad, int64_t) {
    double g = h.maximize ? -grad : grad;
    g += h.weight_decay * p.param[i];
    double& square_avg = p.state[0][i];
    square_avg = h.alpha * square_avg + (1 - h.alpha) * g * g;
    double variance = square_avg;
    if (h.centered) {
      double& grad_avg = p.state[2][i];
      grad_avg = h.alpha * grad_avg + (1 - h.alpha) * g;
      variance -= grad_avg * grad_avg;
    }
    const double scaled = g / (std::sqrt(variance) + h.eps);
    if (h.momentum > 0) {
      double& buf = p.state[1][i];
      buf = h.momentum * buf + scaled;
      p.param[i] -= h.lr * buf;
    } else {
      p.param[i] -= h.lr * scaled;
    }
  };
}

void expect_near_all(const Tensor& got, const std::vector<double>& want, double tol,
                     const std::string& what) {
  const std::vector<double> values = got.to_vector<double>();
  ASSERT_EQ(values.size(), want.size()) << what;
  int64_t bad = 0;
  for (size_t i = 0; i < want.size(); ++i) {
    if (std::abs(values[i] - want[i]) > tol * (1 + std::abs(want[i])) && ++bad <= 3)
      ADD_FAILURE() << what << " element " << i << ": got " << values[i] << ", want " << want[i];
  }
}

// Runs kSteps fused steps of `hyper` on parameters of `sizes` and the reference beside them,
// comparing everything after every step. Parameter t skips step s when skip(t, s): its step
// count then lags the others', which the bias correction must follow.
void check_against_reference(const OptimHyper& hyper, const RefRule& rule, DType dtype,
                             const std::vector<int64_t>& sizes = {1, 7, 40000},
                             const std::function<bool(size_t, int)>& skip = {}) {
  const double tol = dtype == kFloat64 ? 1e-12 : 1e-5;
  const auto names = state_names(hyper);
  std::vector<ParamUpdate> updates(sizes.size());
  std::vector<RefParam> refs(sizes.size());
  for (size_t t = 0; t < sizes.size(); ++t) {
    const auto values = sample_values(sizes[t], -1.0, 1.0, 100 + t);
    // The reference starts from the values the tensor holds (rounded to dtype).
    updates[t].param = make_tensor(values, {sizes[t]}, dtype);
    refs[t].param = updates[t].param.to_vector<double>();
    for (int s = 0; s < kernels::kMaxOptimState; ++s) {
      if (names[s].empty()) continue;
      updates[t].state[s] = zeros({sizes[t]}, dtype);
      refs[t].state[s].assign(sizes[t], 0.0);
    }
  }
  for (int step = 1; step <= kSteps; ++step) {
    std::vector<ParamUpdate> active;
    for (size_t t = 0; t < sizes.size(); ++t) {
      if (skip && skip(t, step)) continue;
      ParamUpdate& u = updates[t];
      u.grad = make_tensor(sample_values(sizes[t], -1.0, 1.0, 1000 * step + t), {sizes[t]}, dtype);
      ++u.step;
      active.push_back(u);
      const std::vector<double> grad = u.grad.to_vector<double>();
      for (size_t i = 0; i < grad.size(); ++i) rule(refs[t], i, grad[i], u.step);
    }
    fused_update(hyper, active, "test");
    for (size_t t = 0; t < sizes.size(); ++t) {
      const std::string where = "step " + std::to_string(step) + ", parameter " + std::to_string(t);
      expect_near_all(updates[t].param, refs[t].param, tol, where + " param");
      for (int s = 0; s < kernels::kMaxOptimState; ++s)
        if (!names[s].empty())
          expect_near_all(updates[t].state[s], refs[t].state[s], tol, where + " " + names[s]);
    }
  }
}

class FusedUpdateDtype : public ::testing::TestWithParam<DType> {};

TEST_P(FusedUpdateDtype, SgdMatchesTheReferenceWithEachOption) {
  std::vector<std::pair<std::string, SgdHyper>> cases = {
      {"plain", {.lr = 0.1}},
      {"weight decay", {.lr = 0.1, .weight_decay = 0.05}},
      {"momentum", {.lr = 0.1, .momentum = 0.9}},
      {"momentum + dampening", {.lr = 0.1, .momentum = 0.9, .dampening = 0.3}},
      {"nesterov", {.lr = 0.1, .momentum = 0.9, .nesterov = true}},
      {"maximize", {.lr = 0.1, .momentum = 0.5, .maximize = true}},
      {"all", {.lr = 0.05, .momentum = 0.8, .weight_decay = 0.01, .nesterov = true}},
  };
  for (const auto& [name, hyper] : cases) {
    SCOPED_TRACE(name);
    check_against_reference(hyper, sgd_rule(hyper), GetParam());
  }
}

TEST_P(FusedUpdateDtype, AdamAndAdamWMatchTheReferenceWithEachOption) {
  std::vector<std::pair<std::string, AdamHyper>> cases = {
      {"defaults", {}},
      {"large lr, other betas", {.lr = 0.1, .beta1 = 0.5, .beta2 = 0.9, .eps = 1e-3}},
      {"L2 weight decay", {.lr = 0.01, .weight_decay = 0.1}},
      {"AdamW", {.lr = 0.01, .weight_decay = 0.1, .decoupled_weight_decay = true}},
      {"amsgrad", {.lr = 0.01, .beta2 = 0.5, .amsgrad = true}},
      {"maximize", {.lr = 0.01, .maximize = true}},
  };
  for (const auto& [name, hyper] : cases) {
    SCOPED_TRACE(name);
    check_against_reference(hyper, adam_rule(hyper), GetParam());
  }
}

TEST_P(FusedUpdateDtype, RmspropMatchesTheReferenceWithEachOption) {
  std::vector<std::pair<std::string, RmspropHyper>> cases = {
      {"defaults", {}},
      {"weight decay", {.weight_decay = 0.1}},
      {"momentum", {.momentum = 0.9}},
      {"centered", {.alpha = 0.9, .centered = true}},
      {"centered + momentum", {.alpha = 0.9, .momentum = 0.5, .centered = true}},
      {"maximize", {.eps = 1e-3, .maximize = true}},
  };
  for (const auto& [name, hyper] : cases) {
    SCOPED_TRACE(name);
    check_against_reference(hyper, rmsprop_rule(hyper), GetParam());
  }
}

INSTANTIATE_TEST_SUITE_P(Dtypes, FusedUpdateDtype, ::testing::Values(kFloat32, kFloat64),
                         [](const auto& info) { return std::string(dtype_name(info.param)); });

TEST(FusedUpdate, EachParameterKeepsItsOwnStepCount) {
  // Parameter 1 skips steps 2 and 3: its Adam bias correction runs on its own count, and
  // SGD's momentum buffer starts on its own first step.
  const auto skip = [](size_t t, int step) { return t == 1 && (step == 2 || step == 3); };
  const AdamHyper adam{.lr = 0.05};
  check_against_reference(adam, adam_rule(adam), kFloat64, {3, 5, 2}, skip);
  const SgdHyper sgd{.lr = 0.05, .momentum = 0.9};
  check_against_reference(sgd, sgd_rule(sgd), kFloat64, {3, 5, 2}, skip);
}

TEST(FusedUpdate, EmptyAndZeroDimParameters) {
  const AdamHyper adam{.lr = 0.1};
  check_against_reference(adam, adam_rule(adam), kFloat64, {0, 1});
  // A 0-d parameter: a single element.
  ParamUpdate u{make_tensor({2.0}, {}), make_tensor({0.5}, {}), {}, 1};
  fused_update(SgdHyper{.lr = 0.1}, {u}, "test");
  EXPECT_DOUBLE_EQ(u.param.item<double>(), 2.0 - 0.1 * 0.5);
  fused_update(SgdHyper{}, {}, "test");  // nothing to update
}

TEST(FusedUpdate, NonContiguousGradientIsReadInLogicalOrder) {
  // grad = [[1, 2], [3, 4]] stored transposed.
  const Tensor grad = make_tensor({1, 3, 2, 4}, {2, 2}).t();
  ASSERT_FALSE(grad.is_contiguous());
  ParamUpdate u{zeros({2, 2}, kFloat64), grad, {}, 1};
  fused_update(SgdHyper{.lr = 1.0}, {u}, "test");
  EXPECT_EQ(u.param.to_vector<double>(), (std::vector<double>{-1, -2, -3, -4}));
}

TEST(FusedUpdate, MixedDtypesAreUpdatedEachInTheirOwn) {
  ParamUpdate f{make_tensor({1.0}, {1}, kFloat32), make_tensor({1.0}, {1}, kFloat32), {}, 1};
  ParamUpdate d{make_tensor({1.0}, {1}), make_tensor({2.0}, {1}), {}, 1};
  fused_update(SgdHyper{.lr = 0.25}, {f, d}, "test");
  EXPECT_EQ(f.param.item<float>(), 0.75f);
  EXPECT_EQ(d.param.item<double>(), 0.5);
}

// The sums of squares the update returns when asked: every gradient's elements once,
// whatever the chunking (sizes at every chunk edge, a non-contiguous gradient, both
// dtypes in one call), and the update itself bit for bit the one without them, on one
// thread and on four.
TEST(FusedUpdate, SumsTheGradientsSquaresInTheSamePass) {
  const std::vector<int64_t> sizes = {0, 1, 8191, 8192, 8193, 100003};
  for (int threads : {1, 4}) {
    SCOPED_TRACE("threads " + std::to_string(threads));
    testing::SettingsScope settings(std::nullopt, threads);
    std::vector<ParamUpdate> tracked, plain;
    double reference = 0;
    for (size_t t = 0; t < sizes.size(); ++t) {
      const DType dtype = t % 2 == 0 ? kFloat32 : kFloat64;
      const std::vector<double> g = sample_values(sizes[t], -2.0, 2.0, 7 + t);
      Tensor grad = make_tensor(g, {sizes[t]}, dtype);
      if (t == 4) {  // g as every other element of a longer buffer
        std::vector<double> pairs(2 * g.size(), 5.0);
        for (size_t i = 0; i < g.size(); ++i) pairs[2 * i + 1] = g[i];
        grad = make_tensor(pairs, {sizes[t], 2}, dtype).select(1, 1);
      }
      for (double v : grad.to(kFloat64).to_vector<double>()) reference += v * v;
      const Tensor param =
          make_tensor(sample_values(sizes[t], -1.0, 1.0, 30 + t), {sizes[t]}, dtype);
      const std::array<Tensor, kernels::kMaxOptimState> none{};
      tracked.push_back({param.clone(), grad, none, 1});
      plain.push_back({param.clone(), grad, none, 1});
    }
    ASSERT_FALSE(tracked[4].grad.is_contiguous());
    const SgdHyper sgd{.lr = 0.1, .weight_decay = 0.01, .maximize = true};
    const Tensor sum_squares = fused_update(sgd, tracked, "test", true);
    EXPECT_FALSE(fused_update(sgd, plain, "test").defined());
    EXPECT_EQ(sum_squares.dtype(), kFloat64);
    EXPECT_EQ(sum_squares.dim(), 0);
    // float32 chunks are summed in float, pairwise: a few dozen roundings at most.
    EXPECT_NEAR(sum_squares.item<double>(), reference, 1e-6 * reference);
    for (size_t t = 0; t < sizes.size(); ++t)
      EXPECT_TRUE(equal(tracked[t].param, plain[t].param)) << "size " << sizes[t];
  }
  EXPECT_EQ(fused_update(SgdHyper{}, {}, "test", true).item<double>(), 0.0);
}

TEST(FusedUpdate, StateNamesFollowPyTorch) {
  using Names = std::array<std::string, kernels::kMaxOptimState>;
  EXPECT_EQ(state_names(SgdHyper{}), (Names{"", "", ""}));
  EXPECT_EQ(state_names(SgdHyper{.momentum = 0.9}), (Names{"momentum_buffer", "", ""}));
  EXPECT_EQ(state_names(AdamHyper{}), (Names{"exp_avg", "exp_avg_sq", ""}));
  EXPECT_EQ(state_names(AdamHyper{.amsgrad = true}),
            (Names{"exp_avg", "exp_avg_sq", "max_exp_avg_sq"}));
  EXPECT_EQ(state_names(RmspropHyper{.momentum = 0.9, .centered = true}),
            (Names{"square_avg", "momentum_buffer", "grad_avg"}));
}

TEST(FusedUpdate, BadParametersAreErrorsThatLeaveEverythingUntouched) {
  const Tensor good = make_tensor({1.0, 2.0}, {2});
  const ParamUpdate ok{good, make_tensor({1.0, 1.0}, {2}), {}, 1};
  const auto fails = [&](ParamUpdate bad) {
    return error_message([&] { fused_update(SgdHyper{.lr = 1.0}, {ok, bad}, "SGD.step()"); });
  };
  EXPECT_THAT(fails({make_tensor({1}, {1}, kInt64), make_tensor({1}, {1}, kInt64), {}, 1}),
              HasSubstr("SGD.step(): parameter 1 has dtype int64; optimizers update "
                        "floating-point parameters only"));
  EXPECT_THAT(fails({zeros({2}, kFloat64), Tensor(), {}, 1}),
              HasSubstr("SGD.step(): parameter 1 has no gradient"));
  EXPECT_THAT(fails({zeros({2}, kFloat64), zeros({3}, kFloat64), {}, 1}),
              HasSubstr("the gradient of parameter 1 is float64 (3,) on cpu but the parameter is "
                        "float64 (2,) on cpu; they must match"));
  EXPECT_THAT(fails({zeros({2}, kFloat64), zeros({2}, kFloat32), {}, 1}),
              HasSubstr("the gradient of parameter 1 is float32"));
  EXPECT_THAT(fails({zeros({2}, kFloat64), zeros({2}, kFloat64), {}, 0}),
              HasSubstr("parameter 1 has step count 0; it counts this step"));
  EXPECT_THAT(error_message([&] { fused_update(AdamHyper{}, {ok}, "Adam.step()"); }),
              HasSubstr("Adam.step(): parameter 0 has no state 'exp_avg'"));
  ParamUpdate strided_state{zeros({2}, kFloat64), zeros({2}, kFloat64), {}, 1};
  strided_state.state[0] = zeros({2, 2}, kFloat64).select(1, 0);
  EXPECT_THAT(error_message(
                  [&] { fused_update(SgdHyper{.momentum = 0.9}, {strided_state}, "SGD.step()"); }),
              HasSubstr("the state 'momentum_buffer' of parameter 0 is not contiguous"));
  EXPECT_EQ(good.to_vector<double>(), (std::vector<double>{1.0, 2.0}));
}

}  // namespace
}  // namespace graft::optim
