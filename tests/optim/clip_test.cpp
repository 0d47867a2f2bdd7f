// clip_grad_norm_ and its two halves, get_total_norm and clip_grads_with_norm_
// (optim/clip.h), against norms computed by hand.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <vector>

#include "graft/optim/clip.h"
#include "test_util.h"

namespace graft::optim {
namespace {

using testing::error_message;
using ::testing::HasSubstr;
using testing::make_tensor;

// Two parameters with gradients [3, 4] and [12], and one without.
struct Params {
  Tensor a = zeros({2}, kFloat64).requires_grad_();
  Tensor b = zeros({1}, kFloat64).requires_grad_();
  Tensor none = zeros({1}, kFloat64).requires_grad_();
  Params() {
    a.mutable_grad() = make_tensor({3.0, 4.0}, {2});
    b.mutable_grad() = make_tensor({12.0}, {1});
  }
  std::vector<Tensor> all() const { return {a, b, none}; }
};

TEST(ClipGradNorm, ScalesGradientsDownToMaxNorm) {
  Params p;
  // sqrt(9 + 16 + 144) = 13; scale = 6.5 / (13 + 1e-6).
  const Tensor total = clip_grad_norm_(p.all(), 6.5);
  EXPECT_DOUBLE_EQ(total.item<double>(), 13.0);
  EXPECT_EQ(total.dim(), 0);
  const double scale = 6.5 / (13.0 + 1e-6);
  EXPECT_EQ(p.a.grad().to_vector<double>(), (std::vector<double>{3 * scale, 4 * scale}));
  EXPECT_EQ(p.b.grad().to_vector<double>(), (std::vector<double>{12 * scale}));
}

TEST(ClipGradNorm, LeavesGradientsUnderMaxNormAlone) {
  Params p;
  EXPECT_DOUBLE_EQ(clip_grad_norm_(p.all(), 100.0).item<double>(), 13.0);
  EXPECT_EQ(p.a.grad().to_vector<double>(), (std::vector<double>{3, 4}));
}

TEST(ClipGradNorm, OtherNorms) {
  Params p;
  EXPECT_DOUBLE_EQ(clip_grad_norm_(p.all(), 100.0, kInfNorm).item<double>(),
                   12.0);  // max |g|
  EXPECT_DOUBLE_EQ(clip_grad_norm_(p.all(), 100.0, 1.0).item<double>(),
                   19.0);  // sum |g|
  // (27 + 64 + 1728)^(1/3) = 1819^(1/3)
  EXPECT_NEAR(clip_grad_norm_(p.all(), 100.0, 3.0).item<double>(), std::cbrt(1819.0), 1e-12);
  Params q;
  clip_grad_norm_(q.all(), 6.0, kInfNorm);  // scale 6 / (12 + 1e-6)
  EXPECT_DOUBLE_EQ(q.b.grad().item<double>(), 12.0 * 6.0 / (12.0 + 1e-6));
}

TEST(ClipGradNorm, NoGradientsGiveZero) {
  EXPECT_EQ(clip_grad_norm_({zeros({2})}, 1.0).item<double>(), 0.0);
  EXPECT_EQ(clip_grad_norm_({}, 1.0).item<double>(), 0.0);
}

TEST(ClipGradNorm, NonFiniteNormIsAnErrorWhenAsked) {
  Params p;
  p.b.mutable_grad() = make_tensor({std::numeric_limits<double>::infinity()}, {1});
  EXPECT_THAT(error_message([&] { clip_grad_norm_(p.all(), 1.0, 2.0, true); }),
              HasSubstr("clip_grad_norm_(): the total norm of order 2 of the "
                        "gradients is inf"));
  EXPECT_THAT(error_message([&] { clip_grad_norm_(p.all(), 1.0, -1.0); }),
              HasSubstr("norm_type must be positive"));
}

TEST(GetTotalNorm, IsTheNormOfTheTensorsThemselves) {
  Params p;
  // The gradients, as torch.nn.utils.get_total_norm takes them; nothing is changed.
  EXPECT_EQ(grads(p.all()).size(), 2u);
  EXPECT_DOUBLE_EQ(get_total_norm(grads(p.all())).item<double>(), 13.0);
  EXPECT_DOUBLE_EQ(get_total_norm(grads(p.all()), 1.0).item<double>(), 19.0);
  EXPECT_DOUBLE_EQ(get_total_norm({make_tensor({-5.0, 2.0}, {2})}, kInfNorm).item<double>(), 5.0);
  EXPECT_EQ(p.a.grad().to_vector<double>(), (std::vector<double>{3, 4}));
  EXPECT_EQ(get_total_norm({}).item<double>(), 0.0);
  EXPECT_EQ(get_total_norm({zeros({0}), zeros({0, 3})}, kInfNorm).item<double>(), 0.0);
  EXPECT_THAT(error_message([] { get_total_norm({zeros({2}, kInt64)}); }),
              HasSubstr("get_total_norm(): a gradient has dtype int64"));
  EXPECT_THAT(error_message([] { get_total_norm({make_tensor({std::nan("")}, {1})}, 2.0, true); }),
              HasSubstr("get_total_norm(): the total norm of order 2 of the gradients is nan"));
}

TEST(ClipGradsWithNorm, ScalesByTheNormGiven) {
  Params p, q;
  const Tensor total = get_total_norm(grads(p.all()));
  clip_grads_with_norm_(p.all(), 6.5, total);
  clip_grad_norm_(q.all(), 6.5);
  EXPECT_EQ(p.a.grad().to_vector<double>(), q.a.grad().to_vector<double>());
  EXPECT_EQ(p.b.grad().to_vector<double>(), q.b.grad().to_vector<double>());
  // A norm under max_norm leaves the gradients exactly as they were.
  Params r;
  clip_grads_with_norm_(r.all(), 100.0, get_total_norm(grads(r.all())));
  EXPECT_EQ(r.b.grad().to_vector<double>(), (std::vector<double>{12}));
}

}  // namespace
}  // namespace graft::optim
