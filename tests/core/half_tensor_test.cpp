// Tensors of float16 and bfloat16: creation, conversion, promotion, printing, random
// numbers, files, autograd, and the float32 arithmetic behind their ops (API.md, "Reduced
// precision"). Each op's values on both dtypes are checked by the op registry
// (tests/ops); this file checks what the registry cannot see.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstdint>
#include <functional>
#include <numeric>
#include <sstream>
#include <utility>
#include <vector>

#include "graft/graft.h"
#include "temp_files.h"
#include "test_util.h"

namespace g = graft;
using g::testing::error_message;
using testing::HasSubstr;

namespace {

constexpr g::DType kHalfDTypes[] = {g::kFloat16, g::kBFloat16};

TEST(HalfTensor, ConvertsFromFloat32RoundingEachElementOnce) {
  g::manual_seed(3);
  const g::Tensor x = g::randn({4, 4});
  const std::vector<float> values = x.to_vector<float>();
  const g::Tensor h = x.to(g::kBFloat16);
  EXPECT_EQ(h.dtype(), g::kBFloat16);
  EXPECT_EQ(h.element_size(), 2);
  const std::vector<float> rounded = h.to_vector<float>();
  for (size_t i = 0; i < values.size(); ++i)
    EXPECT_EQ(rounded[i], static_cast<float>(g::BFloat16(values[i]))) << i;
  // And back: float32 holds every bfloat16 exactly; float16 <-> bfloat16 goes through it.
  EXPECT_EQ(h.to(g::kFloat32).to_vector<float>(), rounded);
  EXPECT_EQ(x.to(g::kFloat16).to(g::kBFloat16).dtype(), g::kBFloat16);
}

TEST(HalfTensor, ScalarsTensorsAndPointers) {
  const g::Tensor h = g::tensor({g::Half(1.5f), g::Half(-2.0f)});
  EXPECT_EQ(h.dtype(), g::kFloat16);
  EXPECT_EQ(g::tensor({g::BFloat16(1.0f)}).dtype(), g::kBFloat16);
  EXPECT_EQ(h.data_ptr<g::Half>()[1].bits(), g::Half(-2.0f).bits());
  EXPECT_THAT(error_message([&] { h.data_ptr<float>(); }), HasSubstr("float16"));
  const g::BFloat16 b = h.to(g::kBFloat16).index({0}).item<g::BFloat16>();
  EXPECT_EQ(static_cast<float>(b), 1.5f);
  EXPECT_EQ(h.index({1}).item<double>(), -2.0);
  // from_blob over 16-bit data another library owns.
  std::vector<g::Half> buffer = {g::Half(1.0f), g::Half(2.0f), g::Half(3.0f)};
  const g::Tensor borrowed = g::from_blob(buffer.data(), {3}, g::kFloat16);
  buffer[2] = g::Half(30.0f);
  EXPECT_EQ(borrowed.to_vector<float>(), (std::vector<float>{1, 2, 30}));
}

TEST(HalfTensor, PromotionAsPyTorch) {
  for (g::DType dtype : kHalfDTypes) {
    const g::Tensor h = g::ones({3}, dtype);
    EXPECT_EQ((h + 1.5).dtype(), dtype) << "a float scalar keeps the half dtype";
    EXPECT_EQ((h * g::full({}, 2.0, g::kFloat32)).dtype(), dtype) << "so does a 0-d float32";
    EXPECT_EQ((h + g::ones({3})).dtype(), g::kFloat32);
    EXPECT_EQ((h + g::ones({3}, g::kInt64)).dtype(), dtype);
    EXPECT_EQ((h < 2).dtype(), g::kBool);
    EXPECT_EQ(g::exp(g::ones({2}, g::kInt32)).dtype(), g::kFloat32) << "the default dtype";
  }
  EXPECT_EQ((g::ones({2}, g::kFloat16) + g::ones({2}, g::kBFloat16)).dtype(), g::kFloat32);
}

// Every finite value of the type, as a tensor of it: 16-bit patterns through a uint16 view
// would need a bitcast op, so the patterns are converted one by one.
template <class T>
g::Tensor every_finite_value(g::DType dtype) {
  std::vector<float> values;
  for (uint32_t bits = 0; bits < 65536; ++bits) {
    const float v = static_cast<float>(T::from_bits(static_cast<uint16_t>(bits)));
    if (std::isfinite(v)) values.push_back(v);
  }
  return g::tensor(values).to(dtype);
}

// PyTorch's CPU kernels read the scalar of a product or a quotient in float32 next to a 16-bit
// tensor and round the result once; the scalar of a sum or a difference they round to the
// tensor's dtype first. The references are those float32 computations, rounded by the
// conversion tested exhaustively above.
template <class T>
void check_scalar_operands(g::DType dtype) {
  const g::Tensor x = every_finite_value<T>(dtype);
  const std::vector<float> xs = x.to_vector<float>();
  for (const double s : {0.1, 0.3, 1.0 / 3.0, 0.001, 7.0}) {
    const float in_float = static_cast<float>(s);
    const float rounded = static_cast<float>(T(in_float));
    const g::Tensor zero_dim = g::full({}, s, g::kFloat64);
    g::Tensor in_place = x.clone();
    in_place.div_(s);
    const std::vector<std::pair<g::Tensor, std::function<float(float)>>> cases = {
        {x * s, [&](float v) { return v * in_float; }},
        {s * x, [&](float v) { return v * in_float; }},
        {x / s, [&](float v) { return v / in_float; }},
        {x / zero_dim, [&](float v) { return v / in_float; }},
        {in_place, [&](float v) { return v / in_float; }},
        {x + s, [&](float v) { return v + rounded; }},
        {x - s, [&](float v) { return v - rounded; }},
    };
    for (size_t c = 0; c < cases.size(); ++c) {
      ASSERT_EQ(cases[c].first.dtype(), dtype);
      const std::vector<float> got = cases[c].first.to_vector<float>();
      int64_t wrong = 0;
      for (size_t i = 0; i < xs.size(); ++i) {
        const float want = static_cast<float>(T(cases[c].second(xs[i])));
        if (!(got[i] == want || (std::isnan(got[i]) && std::isnan(want)))) ++wrong;
      }
      EXPECT_EQ(wrong, 0) << dtype << ", case " << c << ", scalar " << s;
    }
  }
}

TEST(HalfTensor, ProductsAndQuotientsReadTheScalarInFloatAsPyTorch) {
  check_scalar_operands<g::Half>(g::kFloat16);
  check_scalar_operands<g::BFloat16>(g::kBFloat16);
  // The values that showed it: float16(0.001) is 0.0010004, and 0.5 / it 499.75.
  EXPECT_EQ((g::full({1}, 0.5, g::kFloat16) / 0.001).item<float>(), 500.0f);
  EXPECT_EQ((g::full({1}, 0.55078125, g::kBFloat16) / 0.3).item<float>(), 1.8359375f);
  // A 0-d tensor on the left is rounded to the dtype, as PyTorch's kernels take only the
  // second operand as the scalar; a number on the left of * is the right's.
  const float rounded_first = static_cast<float>(g::Half(3.0f * static_cast<float>(g::Half(0.1f))));
  ASSERT_NE(rounded_first, static_cast<float>(g::Half(3.0f * 0.1f)));
  EXPECT_EQ((g::full({}, 0.1, g::kFloat32) * g::full({1}, 3.0, g::kFloat16)).item<float>(),
            rounded_first);
}

// What may be written, as in PyTorch: a finite number that would overflow is an error
// (tests/errors/bad_input_test.cpp), but inf and NaN are values of the type, an op's
// arithmetic overflows to inf silently, and a negative integer wraps into uint8.
TEST(HalfTensor, FillsTakeInfAndNaNAndArithmeticOverflowsToInf) {
  const g::Tensor h = g::zeros({2}, g::kFloat16);
  EXPECT_TRUE(std::isinf(g::full({1}, INFINITY, g::kFloat16).item<float>()));
  EXPECT_TRUE(std::isnan(g::zeros({1}, g::kBFloat16).fill_(NAN).item<float>()));
  EXPECT_EQ(g::full({1}, 65504.0, g::kFloat16).item<float>(), 65504.0f);
  EXPECT_TRUE(std::isinf((h + 1e5).index({0}).item<float>()));
  EXPECT_EQ(g::full({1}, 3e38, g::kBFloat16).dtype(), g::kBFloat16);
  EXPECT_EQ(g::full({1}, -1, g::kUInt8).item<int64_t>(), 255);
  EXPECT_EQ(g::full({1}, 2.9, g::kInt32).item<int64_t>(), 2);
  EXPECT_EQ(g::full({1}, INT64_MIN, g::kInt64).item<int64_t>(), INT64_MIN);
}

TEST(HalfTensor, PrintsLikePyTorch) {
  std::ostringstream out;
  out << g::tensor({1.5, 2.0}, g::kFloat16) << "\n" << g::zeros({0}, g::kBFloat16);
  EXPECT_EQ(out.str(), "tensor([1.5000, 2.0000], dtype=float16)\ntensor([], dtype=bfloat16)");
}

TEST(HalfTensor, FactoriesFillRangesAndRandomNumbers) {
  for (g::DType dtype : kHalfDTypes) {
    SCOPED_TRACE(g::dtype_name(dtype));
    EXPECT_EQ(g::full({2}, 0.1, dtype).to_vector<double>()[0],
              dtype == g::kFloat16 ? static_cast<double>(g::Half(0.1))
                                   : static_cast<double>(g::BFloat16(0.1)));
    EXPECT_EQ(g::arange(0, 2, 0.5, dtype).to_vector<float>(), (std::vector<float>{0, 0.5, 1, 1.5}));
    EXPECT_EQ(g::linspace(0, 1, 5, dtype).to_vector<float>(),
              (std::vector<float>{0, 0.25, 0.5, 0.75, 1}));
    g::manual_seed(0);
    const g::Tensor u = g::rand({4096}, dtype);
    EXPECT_EQ(u.dtype(), dtype);
    // On the type's own grid of [0, 1), never rounded up to 1.
    const double grid = dtype == g::kFloat16 ? 2048 : 256;
    double sum = 0;
    for (double v : u.to_vector<double>()) {
      EXPECT_GE(v, 0);
      EXPECT_LT(v, 1);
      EXPECT_EQ(v * grid, std::floor(v * grid));
      sum += v;
    }
    EXPECT_NEAR(sum / 4096, 0.5, 0.02);
    // randn: float32's normals with the same seed, rounded.
    g::manual_seed(5);
    const g::Tensor n = g::randn({64}, dtype);
    g::manual_seed(5);
    EXPECT_EQ(n.to_vector<float>(), g::randn({64}).to(dtype).to_vector<float>());
  }
}

// Sums and products accumulate in float (or wider): in 16-bit arithmetic, 2048 + 1 is
// 2048 again, so a running float16 sum of ones would stop at 2048.
// neg and abs of a contiguous 16-bit tensor act on the sign bit alone, as IEEE's negate and abs
// do: every one of the 65536 patterns, NaN payloads, signed zeros and infinities included. A
// strided one goes through float: the same values. abs(-0) is +0 in float32 too.
TEST(HalfTensor, NegAndAbsActOnTheSignBitAlone) {
  std::vector<uint16_t> patterns(65536);
  std::iota(patterns.begin(), patterns.end(), uint16_t{0});
  for (const g::DType dtype : {g::kFloat16, g::kBFloat16}) {
    SCOPED_TRACE(g::dtype_name(dtype));
    const g::Tensor x = g::from_blob(patterns.data(), {256, 256}, dtype);
    const g::Tensor negated = g::neg(x), absolute = g::abs(x);
    const auto* neg_bits = static_cast<const uint16_t*>(negated.data_ptr());
    const auto* abs_bits = static_cast<const uint16_t*>(absolute.data_ptr());
    for (size_t i = 0; i < patterns.size(); ++i) {
      ASSERT_EQ(neg_bits[i], patterns[i] ^ 0x8000u) << i;
      ASSERT_EQ(abs_bits[i], patterns[i] & 0x7fffu) << i;
    }
    const std::vector<float> want_neg = negated.t().to(g::kFloat32).to_vector<float>();
    const std::vector<float> want_abs = absolute.t().to(g::kFloat32).to_vector<float>();
    const std::vector<float> got_neg = g::neg(x.t()).to(g::kFloat32).to_vector<float>();
    const std::vector<float> got_abs = g::abs(x.t()).to(g::kFloat32).to_vector<float>();
    for (size_t i = 0; i < patterns.size(); ++i) {
      if (std::isnan(want_neg[i])) {
        ASSERT_TRUE(std::isnan(got_neg[i]) && std::isnan(got_abs[i])) << i;
        continue;
      }
      ASSERT_EQ(std::bit_cast<uint32_t>(got_neg[i]), std::bit_cast<uint32_t>(want_neg[i])) << i;
      ASSERT_EQ(std::bit_cast<uint32_t>(got_abs[i]), std::bit_cast<uint32_t>(want_abs[i])) << i;
    }
  }
  EXPECT_FALSE(std::signbit(g::abs(g::tensor({-0.0f})).item<float>()));
}

TEST(HalfTensor, SumsAndProductsAccumulateInFloat) {
  const g::Tensor ones = g::ones({4096}, g::kFloat16);
  EXPECT_EQ(ones.sum().item<float>(), 4096.0f);
  EXPECT_EQ(ones.sum().dtype(), g::kFloat16);
  EXPECT_EQ(ones.mean().item<float>(), 1.0f);
  const g::Tensor product = g::matmul(ones.view({1, 4096}), ones.view({4096, 1}));
  EXPECT_EQ(product.dtype(), g::kFloat16);
  EXPECT_EQ(product.item<float>(), 4096.0f);
  EXPECT_EQ(g::cumsum(ones, 0).index({4095}).item<float>(), 4096.0f);
  // Elementwise ops compute in float and round once: GELU's constants are not rounded first.
  const g::Tensor x = g::tensor({0.5, -1.25, 3.0}, g::kBFloat16);
  const std::vector<float> want =
      g::nn::functional::gelu(x.to(g::kFloat32)).to(g::kBFloat16).to_vector<float>();
  EXPECT_EQ(g::nn::functional::gelu(x).to_vector<float>(), want);
}

TEST(HalfTensor, GradientsFlowInTheTensorsDtypeAndThroughCasts) {
  for (g::DType dtype : kHalfDTypes) {
    const g::Tensor x = g::tensor({1.0, -2.0, 3.0}, dtype).requires_grad_();
    (x * x).sum().backward();
    EXPECT_EQ(x.grad().dtype(), dtype);
    EXPECT_EQ(x.grad().to_vector<float>(), (std::vector<float>{2, -4, 6}));
    // A float32 parameter used in 16 bits gets a float32 gradient through the cast.
    const g::Tensor w = g::tensor({0.5f, 0.25f}).requires_grad_();
    const g::Tensor y = g::matmul(w.to(dtype).view({1, 2}), g::ones({2, 1}, dtype));
    y.sum().backward();
    EXPECT_EQ(w.grad().dtype(), g::kFloat32);
    EXPECT_EQ(w.grad().to_vector<float>(), (std::vector<float>{1, 1}));
  }
}

TEST(HalfTensor, ModulesAndOptimizersRunInSixteenBits) {
  g::manual_seed(1);
  g::nn::Linear linear(4, 3);
  linear.to(g::kBFloat16);
  EXPECT_EQ(linear.weight.dtype(), g::kBFloat16);
  g::optim::SGD sgd(linear.parameters(), /*lr*/ 0.5);
  const g::Tensor x = g::ones({2, 4}, g::kBFloat16);
  const g::Tensor before = linear.weight.detach().clone();
  const g::Tensor loss = g::square(linear(x)).mean();
  EXPECT_EQ(loss.dtype(), g::kBFloat16);
  loss.backward();
  sgd.step();
  // p - lr * grad, computed in float and rounded once.
  const std::vector<float> p = before.to_vector<float>();
  const std::vector<float> grad = linear.weight.grad().to_vector<float>();
  const std::vector<float> after = linear.weight.to_vector<float>();
  for (size_t i = 0; i < p.size(); ++i)
    EXPECT_EQ(after[i], static_cast<float>(g::BFloat16(p[i] - 0.5f * grad[i]))) << i;
}

TEST(HalfTensor, FilesKeepTheBitsExactly) {
  g::testing::TempDir dir;
  g::manual_seed(2);
  const g::Tensor h = g::randn({3, 5}).to(g::kFloat16);
  const g::Tensor b = g::randn({2, 2}).to(g::kBFloat16);
  g::save({{"h", h}, {"b", b}}, dir.path() / "half.safetensors");
  const g::StateDict loaded = g::load(dir.path() / "half.safetensors");
  EXPECT_EQ(loaded.at("h").dtype(), g::kFloat16);
  EXPECT_EQ(loaded.at("b").dtype(), g::kBFloat16);
  EXPECT_TRUE(g::equal(loaded.at("h"), h));
  EXPECT_TRUE(g::equal(loaded.at("b"), b));
  g::save_npy(h.t(), dir.path() / "half.npy");
  const g::Tensor from_npy = g::load_npy(dir.path() / "half.npy");
  EXPECT_EQ(from_npy.dtype(), g::kFloat16);
  EXPECT_TRUE(g::equal(from_npy, h.t()));
  EXPECT_THAT(error_message([&] { g::save_npy(b, dir.path() / "b.npy"); }),
              HasSubstr("NumPy has no bfloat16 type"));
}

}  // namespace
