// exp, expm1, log, log1p, tanh, sin, cos, tan, pow by a scalar, atan2, fmod, remainder, sigmoid,
// SiLU, erf and GELU on dense float32 tensors, and the fused gradients of GELU and SiLU, which the
// CPU computes with their vectorised array forms (kernels/cpu/array_math.h) rather than the
// scalar functors: every float of a sweep through the whole range, overflow, the denormal
// results and the specials, against double precision (fmod and remainder, which are exact,
// against the C library's bits).
#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <numbers>
#include <random>
#include <string>
#include <vector>

#include "graft/kernels/cpu/array_math.h"
#include "test_util.h"

namespace g = graft;
namespace gk = graft::kernels::cpu;

namespace {

constexpr float kInf = std::numeric_limits<float>::infinity();

// n floats evenly from lo to hi, then the specials.
std::vector<float> sweep(float lo, float hi, int n) {
  std::vector<float> x;
  for (int i = 0; i < n; ++i) x.push_back(lo + (hi - lo) * static_cast<float>(i) / (n - 1));
  for (float special : {0.0f, -0.0f, kInf, -kInf, std::numeric_limits<float>::quiet_NaN()})
    x.push_back(special);
  return x;
}

// Whether `got` is the double-precision truth `want` rounded to float: within `ulps` units in
// the last place for a normal result, one denormal step for a denormal one, exactly for
// infinities, zeros and NaN.
testing::AssertionResult close_to_float(double want, float got, double ulps) {
  const auto rounded = static_cast<float>(want);
  bool close;
  if (std::isnan(want))
    close = std::isnan(got);
  else if (std::isinf(rounded) || rounded == 0)
    close = got == rounded;
  else if (std::abs(rounded) < std::numeric_limits<float>::min())
    close = std::abs(got - want) <= std::numeric_limits<float>::denorm_min();
  else
    close = std::abs(got - want) <= ulps * std::ldexp(std::abs(want), -23);
  if (close) return testing::AssertionSuccess();
  return testing::AssertionFailure() << "got " << got << ", want " << want;
}

// close_to_float for each x[i]: got[i] against truth(x[i]).
template <class Truth>
void expect_close_to_float(const std::vector<float>& x, const std::vector<float>& got,
                           const Truth& truth, double ulps) {
  ASSERT_EQ(got.size(), x.size());
  for (size_t i = 0; i < x.size(); ++i)
    EXPECT_TRUE(close_to_float(truth(static_cast<double>(x[i])), got[i], ulps)) << "x = " << x[i];
}

double exp_double(double x) { return std::exp(x); }
double erf_double(double x) { return std::erf(x); }
// As the functor computes it: 1 / (1 + e^-x), where an e^-x beyond float's range makes it
// 0 (the true value there, below 2.9e-39, is a denormal; PyTorch gives 0 too).
double sigmoid_double(double x) {
  const double e = std::exp(-x);
  return std::isinf(static_cast<float>(e)) ? 0.0 : 1 / (1 + e);
}

// As the functor computes it: x / (1 + e^-x), -0 where e^-x is beyond float's range, and NaN
// at -inf (-inf / inf; PyTorch's x * sigmoid(x) gives -inf * 0, NaN too).
double silu_double(double x) {
  const double e = std::exp(-x);
  if (!std::isinf(static_cast<float>(e))) return x / (1 + e);
  return std::isinf(x) ? std::numeric_limits<double>::quiet_NaN() : -0.0;
}

// GELU and its tanh approximation, in double, as PyTorch writes them.
double gelu_double(double x) { return x * 0.5 * (1 + std::erf(x / std::numbers::sqrt2)); }
constexpr double kSqrtTwoOverPi = 0.79788456080286535588;
double gelu_tanh_double(double x) {
  return x * 0.5 * (1 + std::tanh(kSqrtTwoOverPi * (x + 0.044715 * x * x * x)));
}

// g * f'(x) for GELU, its tanh form and SiLU, in double.
double gelu_tanh_derivative(double x) {
  const double t = std::tanh(kSqrtTwoOverPi * (x + 0.044715 * x * x * x));
  return 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * kSqrtTwoOverPi * (1 + 3 * 0.044715 * x * x);
}
double gelu_derivative(double x) {
  return 0.5 * (1 + std::erf(x / std::numbers::sqrt2)) +
         x * std::exp(-0.5 * x * x) / std::sqrt(2 * std::numbers::pi);
}
double silu_derivative(double x) {
  const double s = 1 / (1 + std::exp(-x));
  return s * (1 + x * (1 - s));
}

}  // namespace

TEST(ArrayMath, ExpIsWithinTwoUlpsAcrossTheRangeDenormalsAndOverflowIncluded) {
  // -104 ... -87.3: denormal results and underflow to 0; 88.8 and up: overflow to inf.
  const std::vector<float> x = sweep(-110.0f, 95.0f, 400001);
  const g::Tensor t = g::tensor(x);
  expect_close_to_float(x, g::exp(t).to_vector<float>(), exp_double, 2);
}

// The 8-lane functions (math_v3.h) give the 16-lane ones' bits (checked once on every float,
// every third one for those other than exp and expm1): here every 1021st bit pattern, which passes
// through each exponent's range, NaN, infinities and denormals, and a run's tail. Where the CPU
// has no AVX-512, the tests against double check the 8-lane forms themselves (the suite runs
// under GRAFT_CPU_CAPABILITY=avx2 too).
TEST(ArrayMath, FunctionsOnAvx2GiveTheBitsOfTheirAvx512Forms) {
  if (!GRAFT_MATH_V3 || !gk::cpu_runs_avx512()) GTEST_SKIP() << "needs both forms";
  using Map = void (*)(const float*, float*, int64_t);
  using Gradient = void (*)(const float*, const float*, float*, int64_t);
  struct Pair {
    const char* name;
    Map wide, narrow;
  };
  struct GradientPair {
    const char* name;
    Gradient wide, narrow;
  };
  const Pair maps[] = {{"exp", gk::exp_avx512, gk::exp_v3},
                       {"expm1", gk::expm1_avx512, gk::expm1_v3},
                       {"erf", gk::erf_avx512, gk::erf_v3},
                       {"gelu", gk::gelu_avx512, gk::gelu_v3},
                       {"sigmoid", gk::sigmoid_avx512, gk::sigmoid_v3},
                       {"silu", gk::silu_avx512, gk::silu_v3},
                       {"gelu_tanh", gk::gelu_tanh_avx512, gk::gelu_tanh_v3}};
  const GradientPair gradients[] = {
      {"gelu_backward", gk::gelu_backward_avx512, gk::gelu_backward_v3},
      {"silu_backward", gk::silu_backward_avx512, gk::silu_backward_v3},
      {"gelu_tanh_backward", gk::gelu_tanh_backward_avx512, gk::gelu_tanh_backward_v3}};
  std::vector<float> x, g;
  for (uint64_t bits = 0; bits < (uint64_t{1} << 32); bits += 1021) {
    x.push_back(std::bit_cast<float>(static_cast<uint32_t>(bits)));
    g.push_back(0.75f + static_cast<float>(bits % 5) * 0.5f);
  }
  const auto n = static_cast<int64_t>(x.size());
  std::vector<float> wide(x.size()), narrow(x.size());
  const auto expect_same = [&](const char* name, int64_t count) {
    for (int64_t i = 0; i < count; ++i) {
      if (std::isnan(wide[i])) {
        ASSERT_TRUE(std::isnan(narrow[i])) << name << " " << std::hexfloat << x[i];
      } else {
        ASSERT_EQ(std::bit_cast<uint32_t>(narrow[i]), std::bit_cast<uint32_t>(wide[i]))
            << name << " " << std::hexfloat << x[i];
      }
    }
  };
  for (const Pair& f : maps) {
    f.wide(x.data(), wide.data(), n);
    f.narrow(x.data(), narrow.data(), n);
    expect_same(f.name, n);
    f.narrow(x.data() + 1000, narrow.data(), 5);  // a tail shorter than a vector
    std::copy(wide.begin() + 1000, wide.begin() + 1005, wide.begin());
    expect_same(f.name, 5);
  }
  for (const GradientPair& f : gradients) {
    f.wide(g.data(), x.data(), wide.data(), n);
    f.narrow(g.data(), x.data(), narrow.data(), n);
    expect_same(f.name, n);
  }
}

TEST(ArrayMath, SigmoidIsWithinFourUlpsAndSaturatesToZeroAndOne) {
  const std::vector<float> x = sweep(-120.0f, 120.0f, 400001);
  const g::Tensor t = g::tensor(x);
  expect_close_to_float(x, g::sigmoid(t).to_vector<float>(), sigmoid_double, 4);
}

TEST(ArrayMath, SiluIsWithinFourUlpsAndGoesToZeroBelow) {
  const std::vector<float> x = sweep(-120.0f, 120.0f, 400001);
  expect_close_to_float(x, g::silu(g::tensor(x)).to_vector<float>(), silu_double, 4);
}

// n floats from 2^lo to 2^hi, evenly in the exponent, then the specials.
std::vector<float> magnitudes(double lo, double hi, int n) {
  std::vector<float> x = sweep(0.0f, 0.0f, 1);  // 0 and the specials
  for (int i = 0; i < n; ++i)
    x.push_back(static_cast<float>(std::exp2(lo + (hi - lo) * i / (n - 1))));
  return x;
}

// x and, for every magnitude from 2^-149 to 2^-1 (n of them), both its signs.
std::vector<float> with_tiny_values(std::vector<float> x, int n) {
  for (float v : magnitudes(-149, -1, n)) x.insert(x.end(), {v, -v});
  return x;
}

TEST(ArrayMath, LogIsWithinTwoUlpsSubnormalInputsIncluded) {
  std::vector<float> x = magnitudes(-149, 127.9, 400001);  // the subnormals from 2^-149
  for (float negative : {-1.0f, -1e-40f, -3e38f}) x.push_back(negative);
  expect_close_to_float(
      x, g::log(g::tensor(x)).to_vector<float>(), [](double v) { return std::log(v); }, 2);
}

// floor by rint, and ceil as -floor(-x) (array_math.h): the C library's bits, signs of zeros,
// infinities and NaN included, over every 1021st float bit pattern (all 2^32 were tried once,
// outside the tests).
TEST(ArrayMath, FloorAndCeilGiveTheCLibrarysBitsForEveryKindOfFloat) {
  std::vector<float> x;
  for (uint64_t bits = 0; bits <= 0xffffffffu; bits += 1021)
    x.push_back(std::bit_cast<float>(static_cast<uint32_t>(bits)));
  for (const float v :
       {0.0f, -0.0f, 0.3f, -0.3f, 0.5f, -0.5f, 2.5f, -2.5f, kInf, -kInf, 8388607.5f, -8388607.5f})
    x.push_back(v);
  const g::Tensor t = g::tensor(x);
  for (const bool up : {false, true}) {
    SCOPED_TRACE(up ? "ceil" : "floor");
    const std::vector<float> got = (up ? g::ceil(t) : g::floor(t)).to_vector<float>();
    for (size_t i = 0; i < x.size(); ++i) {
      const float want = up ? std::ceil(x[i]) : std::floor(x[i]);
      if (std::isnan(want))
        ASSERT_TRUE(std::isnan(got[i])) << x[i];
      else
        ASSERT_EQ(std::bit_cast<uint32_t>(got[i]), std::bit_cast<uint32_t>(want)) << x[i];
    }
  }
}

TEST(ArrayMath, TanhIsWithinThreeUlps) {
  const std::vector<float> x = with_tiny_values(sweep(-12.0f, 12.0f, 400001), 2001);
  expect_close_to_float(
      x, g::tanh(g::tensor(x)).to_vector<float>(), [](double v) { return std::tanh(v); }, 3);
}

// The floats nearest every zero of sin and cos below 9000 (past 8192, where the 16-lane form
// hands over to the C library): the reduction x - j pi / 2 must keep float's relative
// precision where the result is tiny. (Every float below 8192 was tried once, outside the
// tests: within 1.56 ulp.)
TEST(ArrayMath, SinAndCosAreWithinTwoUlpsLargeArgumentsIncluded) {
  std::vector<float> x = with_tiny_values(sweep(-100.0f, 100.0f, 400001), 2001);
  const std::vector<float> wide = sweep(-9000.0f, 9000.0f, 400001);
  x.insert(x.end(), wide.begin(), wide.end());
  for (int k = -5732; k <= 5732; ++k) {  // k pi / 2 below 9000
    const auto zero = static_cast<float>(k * std::numbers::pi / 2);
    x.insert(x.end(), {zero, std::nextafter(zero, kInf), std::nextafter(zero, -kInf)});
  }
  for (float large :
       {8192.0f, 1e4f, -3.3e4f, 1e5f, 7.7e5f, 1e6f, -3e7f, 1e9f, kInf, -kInf, std::nanf("")})
    x.insert(x.end(), {0.5f, large, -2.0f});
  expect_close_to_float(
      x, g::sin(g::tensor(x)).to_vector<float>(), [](double v) { return std::sin(v); }, 2);
  expect_close_to_float(
      x, g::cos(g::tensor(x)).to_vector<float>(), [](double v) { return std::cos(v); }, 2);
  // sin keeps the sign of zero.
  EXPECT_TRUE(std::signbit(g::sin(g::tensor(std::vector<float>{-0.0f})).item<float>()));
  EXPECT_FALSE(std::signbit(g::sin(g::tensor(std::vector<float>{0.0f})).item<float>()));
}

TEST(ArrayMath, Log1pIsWithinTwoUlpsTinyInputsIncluded) {
  std::vector<float> x = with_tiny_values(sweep(-0.999f, 10.0f, 400001), 20001);
  for (float v : {-1.0f, -2.0f, 1e30f}) x.push_back(v);
  expect_close_to_float(
      x, g::log1p(g::tensor(x)).to_vector<float>(), [](double v) { return std::log1p(v); }, 2);
}

TEST(ArrayMath, Expm1IsWithinTwoUlpsTinyInputsAndOverflowIncluded) {
  const std::vector<float> x = with_tiny_values(sweep(-100.0f, 95.0f, 400001), 20001);
  expect_close_to_float(
      x, g::expm1(g::tensor(x)).to_vector<float>(), [](double v) { return std::expm1(v); }, 2);
  // Zeros keep their sign, in the 16-lane steps as in the scalar tail (IEEE, C, PyTorch).
  std::vector<float> zeros(37);
  for (size_t i = 0; i < zeros.size(); ++i) zeros[i] = i % 2 ? -0.0f : 0.0f;
  const std::vector<float> y = g::expm1(g::tensor(zeros)).to_vector<float>();
  for (size_t i = 0; i < y.size(); ++i) {
    EXPECT_EQ(y[i], 0.0f);
    EXPECT_EQ(std::signbit(y[i]), i % 2 == 1) << i;
  }
}

// Every pole below 9000 (past 8192, where the 16-lane form hands over to the C library): the
// reduction's x - j pi / 2 must keep float's relative precision where it is tiny. (Every float
// below 8192 was tried once, outside the tests: within 2.8 ulp.)
TEST(ArrayMath, TanIsWithinThreeUlpsNearItsPolesToo) {
  std::vector<float> x = with_tiny_values(sweep(-100.0f, 100.0f, 400001), 2001);
  const std::vector<float> wide = sweep(-9000.0f, 9000.0f, 400001);
  x.insert(x.end(), wide.begin(), wide.end());
  for (int k = -2866; k <= 2865; ++k) {  // the floats nearest (k + 1/2) pi, where cos is tiny
    const auto pole = static_cast<float>((k + 0.5) * std::numbers::pi);
    x.insert(x.end(), {pole, std::nextafter(pole, kInf), std::nextafter(pole, -kInf)});
  }
  // The C library's, each in a step of 16 with others: large, infinite, NaN.
  for (const float special : {8192.0f, -1e5f, 3e30f, kInf, -kInf, std::nanf("")})
    x.insert(x.end(), {1.0f, special, -0.5f});
  expect_close_to_float(
      x, g::tan(g::tensor(x)).to_vector<float>(), [](double v) { return std::tan(v); }, 3);
}

TEST(ArrayMath, PowByTheScalarsComputedWithoutPowIsWithinTwoUlps) {
  // 2, 3, -1, -2 and 0.5 by products, quotients and sqrt; 2.5 by the C library, for contrast.
  std::vector<float> x = with_tiny_values(sweep(-100.0f, 100.0f, 200001), 2001);
  for (float v : {1e19f, -1e19f, 3e38f, -3e38f, 1e-20f}) x.push_back(v);
  const g::Tensor t = g::tensor(x);
  for (double exponent : {2.0, 3.0, -1.0, -2.0, 0.5, 2.5}) {
    SCOPED_TRACE(exponent);
    expect_close_to_float(
        x, g::pow(t, exponent).to_vector<float>(),
        [exponent](double v) { return std::pow(v, exponent); }, 2);
  }
  // The signs pow gives where sqrt's differ: sqrt(-0) = -0, sqrt(-inf) = NaN.
  const auto half = g::pow(g::tensor(std::vector<float>{-0.0f, -kInf}), 0.5).to_vector<float>();
  EXPECT_FALSE(std::signbit(half[0]));
  EXPECT_EQ(half[1], kInf);
}

// Whether two floats are the same value: the same bits, or both NaN.
bool same_float(float a, float b) {
  return std::isnan(a) ? std::isnan(b) : std::bit_cast<uint32_t>(a) == std::bit_cast<uint32_t>(b);
}

// RemainderOp's definition, from the C library's fmod: moved by one b where the signs differ.
float remainder_of(float a, float b) {
  const float r = std::fmod(a, b);
  return r != 0 && (r < 0) != (b < 0) ? r + b : r;
}

TEST(ArrayMath, FmodAndRemainderGiveTheCLibrarysBitsForEveryPair) {
  // Both signs of magnitudes from 2^-149 to 2^40 and the specials, every pair: quotients from
  // 0 to far past 2^24 (where the C library answers), divisors 0, subnormal and infinite.
  std::vector<float> values;
  for (float v : with_tiny_values(magnitudes(-20, 40, 301), 41))
    values.insert(values.end(), {v, -v});
  // Quotients at the edge of 2^24, where the exact double quotient ends.
  for (float b : {0.7f, 3.0f, 1e-3f})
    for (double k : {0x1p24 - 1, 0x1p24, 0x1p24 + 2})
      for (float a : {static_cast<float>(k * b), std::nextafter(static_cast<float>(k * b), 0.0f)})
        values.insert(values.end(), {a, b});
  std::vector<float> a, b;
  for (float x : values)
    for (float y : values) a.push_back(x), b.push_back(y);
  const g::Tensor ta = g::tensor(a), tb = g::tensor(b);
  const auto fmod_got = g::fmod(ta, tb).to_vector<float>();
  const auto remainder_got = g::remainder(ta, tb).to_vector<float>();
  int64_t wrong = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    if (!same_float(fmod_got[i], std::fmod(a[i], b[i])) && wrong++ < 10)
      ADD_FAILURE() << "fmod(" << a[i] << ", " << b[i] << ") = " << fmod_got[i];
    if (!same_float(remainder_got[i], remainder_of(a[i], b[i])) && wrong++ < 10)
      ADD_FAILURE() << "remainder(" << a[i] << ", " << b[i] << ") = " << remainder_got[i];
  }
  EXPECT_EQ(wrong, 0);
  // A scalar divisor takes its own form (apply_scalar).
  for (float y : {0.7f, -2.5f, 1e-30f, 0.0f, kInf}) {
    SCOPED_TRACE(y);
    const auto fmod_scalar = g::fmod(g::tensor(values), y).to_vector<float>();
    const auto remainder_scalar = g::remainder(g::tensor(values), y).to_vector<float>();
    for (size_t i = 0; i < values.size(); ++i) {
      EXPECT_TRUE(same_float(fmod_scalar[i], std::fmod(values[i], y))) << values[i];
      EXPECT_TRUE(same_float(remainder_scalar[i], remainder_of(values[i], y))) << values[i];
    }
  }
}

TEST(ArrayMath, Atan2IsWithinThreeUlpsForEveryPairSpecialsExact) {
  // Both signs of magnitudes from 2^-149 to 2^60 and the specials, every pair (y, x): ratios
  // from 0 to overflow, both orders, zeros and infinities on either side. Then pairs of random
  // floats from 1/4 to 4 of every sign, where the reduction's boundary (|y / x| = tan(pi / 8))
  // and the polynomial's largest errors lie (2.3 ulp at most in 33M such pairs).
  std::vector<float> values;
  for (float v : with_tiny_values(magnitudes(-30, 60, 301), 41))
    values.insert(values.end(), {v, -v});
  std::vector<float> y, x;
  for (float a : values)
    for (float b : values) y.push_back(a), x.push_back(b);
  std::mt19937 random(7);
  std::uniform_real_distribution<float> exponent(-2.0f, 2.0f);
  for (int i = 0; i < 200000; ++i) {
    y.push_back((i % 2 ? 1.0f : -1.0f) * std::exp2(exponent(random)));
    x.push_back((i % 4 < 2 ? 1.0f : -1.0f) * std::exp2(exponent(random)));
  }
  const auto got = g::atan2(g::tensor(y), g::tensor(x)).to_vector<float>();
  int64_t wrong = 0;
  for (size_t i = 0; i < y.size(); ++i) {
    const double want = std::atan2(static_cast<double>(y[i]), static_cast<double>(x[i]));
    // C's special values exactly (zeros and infinities give +-0, +-pi / 4, +-pi / 2, +-3 pi / 4
    // or +-pi, rounded; the sign of a zero counts), and NaN; the rest within 3 ulp.
    if (y[i] == 0 || x[i] == 0 || std::isinf(y[i]) || std::isinf(x[i]) || std::isnan(want)) {
      if (!same_float(got[i], static_cast<float>(want)) && wrong++ < 10)
        ADD_FAILURE() << "atan2(" << y[i] << ", " << x[i] << ") = " << got[i];
    } else if (const auto close = close_to_float(want, got[i], 3); !close && wrong++ < 10) {
      ADD_FAILURE() << "atan2(" << y[i] << ", " << x[i] << "): " << close.message();
    }
  }
  EXPECT_EQ(wrong, 0);
  // A scalar x takes its own form (apply_scalar).
  for (float xs : {1.0f, -1.0f, 0.0f, -0.0f, kInf, -kInf}) {
    SCOPED_TRACE(xs);
    expect_close_to_float(
        values, g::atan2(g::tensor(values), xs).to_vector<float>(),
        [xs](double v) { return std::atan2(v, static_cast<double>(xs)); }, 3);
  }
}

TEST(ArrayMath, PowByOtherExponentsAndByTensorsIsWithinOneUlp) {
  // Both signs of magnitudes across float's range, subnormals and the specials, against
  // exponents fractional and whole, large, tiny, infinite and NaN: as one scalar exponent and
  // as a tensor of them. Results that overflow, underflow, or come from a negative base are
  // the C library's; the others are correctly rounded but within a hair of a tie (0.5 ulp at
  // most in 24M random pairs).
  std::vector<float> bases;
  for (float v : with_tiny_values(magnitudes(-126, 127.9, 20001), 401))
    bases.insert(bases.end(), {v, -v});
  bases.insert(bases.end(), {1.0f, -1.0f});
  const float exponents[] = {-3.7f,
                             -2.5f,
                             -1.5f,
                             -0.5f,
                             0.25f,
                             1.0f / 3,
                             1.5f,
                             2.5f,
                             7.1f,
                             0.0f,
                             1.0f,
                             -3.0f,
                             4.0f,
                             100.0f,
                             -100.0f,
                             1e-30f,
                             kInf,
                             -kInf,
                             std::numeric_limits<float>::quiet_NaN()};
  const g::Tensor x = g::tensor(bases);
  for (const float exponent : exponents) {
    SCOPED_TRACE(exponent);
    const auto truth = [exponent](double v) { return std::pow(v, static_cast<double>(exponent)); };
    expect_close_to_float(bases, g::pow(x, exponent).to_vector<float>(), truth, 1);
    const g::Tensor exponent_tensor = g::full({x.numel()}, exponent);
    expect_close_to_float(bases, g::pow(x, exponent_tensor).to_vector<float>(), truth, 1);
  }
}

TEST(ArrayMath, PowsTwoFormsAgreeWithinOneUlpOfTheTruth) {
  // The 16-lane form where the CPU has AVX-512, and the one for other CPUs, called by name:
  // random pairs across float's range, then the specials against each exponent.
  if (!gk::cpu_runs_avx512()) GTEST_SKIP() << "this CPU has no AVX-512: only one form runs";
  std::mt19937 random(11);
  std::uniform_real_distribution<float> log_base(-120.0f, 120.0f), exponent(-6.0f, 6.0f);
  std::vector<float> x, y;
  for (int i = 0; i < 200000; ++i) {
    x.push_back(std::exp2(log_base(random)));
    y.push_back(exponent(random));
  }
  for (float v : sweep(0.0f, 0.0f, 1))  // 0 and the specials
    for (float e : {-2.5f, 0.0f, 0.5f, 3.0f, kInf}) x.push_back(v), y.push_back(e);
  for (const bool sixteen_lanes : {true, false}) {
    SCOPED_TRACE(sixteen_lanes ? "16 lanes" : "x86-64-v3");
    std::vector<float> got(x.size());
    gk::pow_floats<false>(x.data(), y.data(), got.data(), static_cast<int64_t>(x.size()),
                          sixteen_lanes);
    for (size_t i = 0; i < x.size(); ++i)
      EXPECT_TRUE(
          close_to_float(std::pow(static_cast<double>(x[i]), static_cast<double>(y[i])), got[i], 1))
          << "pow(" << x[i] << ", " << y[i] << ")";
  }
}

TEST(ArrayMath, InPlaceFormsGiveTheSameValuesAsOutOfPlace) {
  // The forms that answer some elements from their inputs after a first pass (pow, fmod,
  // remainder; exp and log off AVX-512), or in the step itself (tan), must still read those
  // inputs when the output is one of them: values in and out of each method's domain, 1000 of
  // them (several blocks).
  std::vector<float> v;
  for (int i = 0; i < 1000; ++i) {
    const float magnitudes[] = {0.3f, 2.5f, 3e7f, 1e-39f, 7e35f};
    v.push_back((i % 2 ? -1.0f : 1.0f) * magnitudes[i % 5] * (1 + i * 1e-3f));
  }
  v[17] = kInf;
  v[18] = std::numeric_limits<float>::quiet_NaN();
  v[19] = -200.0f;  // exp: 0; below the normal range
  const g::Tensor x = g::tensor(v), d = g::tensor(std::vector<float>(v.rbegin(), v.rend()));
  const auto expect_same = [&](const g::Tensor& in_place, const g::Tensor& out_of_place,
                               const char* what) {
    const auto got = in_place.to_vector<float>(), want = out_of_place.to_vector<float>();
    for (size_t i = 0; i < got.size(); ++i)
      EXPECT_TRUE(same_float(got[i], want[i]))
          << what << " at " << i << ": " << got[i] << " vs " << want[i];
  };
  expect_same(x.clone().pow_(2.5), g::pow(x, 2.5), "pow_(2.5)");
  expect_same(x.abs().pow_(d), g::pow(x.abs(), d), "pow_(tensor)");
  expect_same(x.clone().fmod_(0.7), g::fmod(x, 0.7), "fmod_(0.7)");
  expect_same(x.clone().fmod_(d), g::fmod(x, d), "fmod_(tensor)");
  expect_same(x.clone().remainder_(d), g::remainder(x, d), "remainder_(tensor)");
  expect_same(x.clone().atan2_(d), g::atan2(x, d), "atan2_(tensor)");
  expect_same(x.clone().tan_(), g::tan(x), "tan_()");
  expect_same(x.clone().exp_(), g::exp(x), "exp_()");
  expect_same(x.clone().log_(), g::log(x), "log_()");
  expect_same(x.clone().expm1_(), g::expm1(x), "expm1_()");
  expect_same(x.clone().log1p_(), g::log1p(x), "log1p_()");
}

TEST(ArrayMath, ExpAndLogFormsOffAvx512AreRightInPlace) {
  // The forms CPUs without AVX-512 take (Eigen's, corrected by the C library where it is
  // wrong: exp's denormal results, log's subnormal inputs), called by name, writing over their
  // input, which the corrections read again.
  const auto in_place = [](std::vector<float> x, void (*form)(const float*, float*, int64_t)) {
    form(x.data(), x.data(), static_cast<int64_t>(x.size()));
    return x;
  };
  const std::vector<float> exp_inputs = sweep(-110.0f, 95.0f, 100001);
  expect_close_to_float(
      exp_inputs, in_place(exp_inputs, &gk::ArrayForm<g::kernels::ExpOp>::by_eigen), exp_double, 2);
  const std::vector<float> log_inputs = magnitudes(-149, 127.9, 100001);
  expect_close_to_float(
      log_inputs, in_place(log_inputs, &gk::ArrayForm<g::kernels::LogOp>::by_eigen),
      [](double v) { return std::log(v); }, 2);
}

TEST(ArrayMath, ErfIsWithinSixUlpsAndSaturatesToPlusMinusOne) {
  const std::vector<float> x = sweep(-10.0f, 10.0f, 400001);
  expect_close_to_float(x, g::erf(g::tensor(x)).to_vector<float>(), erf_double, 6);
}

TEST(ArrayMath, GeluAndItsTanhFormAreWithinAFewUlpsOfTheirLargerTerm) {
  // x (1 + erf(x / sqrt 2)) / 2 cancels for negative x (as PyTorch's CPU formula does): the
  // error is a few ulps of x / 2, not of the tiny result. The tanh form, x / (1 + e^(-2u)),
  // does not cancel, and is held to the same bound.
  const std::vector<float> x = sweep(-12.0f, 12.0f, 400001);
  for (const std::string approximate : {"none", "tanh"}) {
    SCOPED_TRACE(approximate);
    const auto gelu = [&](const g::Tensor& t) { return g::nn::functional::gelu(t, approximate); };
    const std::vector<float> got = gelu(g::tensor(x)).to_vector<float>();
    for (size_t i = 0; i < x.size(); ++i) {
      const double xd = x[i];
      if (std::isinf(xd) || std::isnan(xd)) continue;  // below: as the scalar functor
      const double want = approximate == "none" ? gelu_double(xd) : gelu_tanh_double(xd);
      EXPECT_NEAR(got[i], want, 4e-7 * std::max(1.0, std::abs(xd))) << "x = " << x[i];
    }
    // The specials against the scalar functor, which a stride-2 view runs.
    const float nan = std::numeric_limits<float>::quiet_NaN();
    const g::Tensor specials = g::tensor(std::vector<float>{kInf, -kInf, nan});
    const g::Tensor strided =
        g::tensor(std::vector<float>{kInf, 0, -kInf, 0, nan, 0}).reshape({3, 2}).select(1, 0);
    const auto dense_out = gelu(specials).to_vector<float>();
    const auto scalar_out = gelu(strided).to_vector<float>();
    for (size_t i = 0; i < 3; ++i) {
      EXPECT_EQ(std::isnan(dense_out[i]), std::isnan(scalar_out[i])) << i;
      if (!std::isnan(dense_out[i])) {
        EXPECT_EQ(dense_out[i], scalar_out[i]) << i;
      }
    }
  }
}

TEST(ArrayMath, StridedInputsTakeTheScalarPathAndAgree) {
  // A transposed view is not a dense run: the scalar functor runs there.
  const g::Tensor x =
      g::tensor(sweep(-100.0f, 100.0f, 10000)).narrow(0, 0, 10000).reshape({100, 100});
  const auto dense = g::exp(x.t().contiguous()).to_vector<float>();
  const auto strided = g::exp(x.t()).to_vector<float>();
  for (size_t i = 0; i < dense.size(); ++i) {
    if (dense[i] == strided[i]) continue;  // infinities and zeros too
    // A few ulps apart, or one step apart among denormals (the tolerance of the sweeps above).
    EXPECT_NEAR(
        dense[i], strided[i],
        std::max<double>(5e-7 * std::abs(strided[i]), std::numeric_limits<float>::denorm_min()))
        << i;
  }
}

TEST(ArrayMath, GeluAndSiluGradientsInOnePassMatchDoublePrecisionAndTheComposedFormula) {
  // The backward of a dense float32 GELU or SiLU is one fused pass (kernel_table's
  // unary_backward, by its array form here); create_graph takes the composed, twice
  // differentiable formula instead. Both against the truth, within a few float32 ulps of
  // the larger term.
  const std::vector<float> x = sweep(-12.0f, 12.0f, 100001);
  const std::vector<float> upstream = sweep(-3.0f, 2.0f, 100001);
  struct Case {
    const char* name;
    g::Tensor (*f)(const g::Tensor&);
    double (*derivative)(double);
  };
  for (const Case& c :
       {Case{"gelu", [](const g::Tensor& t) { return g::gelu(t); }, gelu_derivative},
        Case{"gelu_tanh", [](const g::Tensor& t) { return g::gelu_tanh(t); }, gelu_tanh_derivative},
        Case{"silu", [](const g::Tensor& t) { return g::silu(t); }, silu_derivative}}) {
    SCOPED_TRACE(c.name);
    const g::Tensor fused_in = g::tensor(x).requires_grad_();
    c.f(fused_in).backward(g::tensor(upstream));
    const auto fused = fused_in.grad().to_vector<float>();
    const g::Tensor composed_in = g::tensor(x).requires_grad_();
    const auto composed =
        g::autograd::grad({c.f(composed_in)}, {composed_in},
                          {.grad_outputs = {g::tensor(upstream)}, .create_graph = true})[0]
            .to_vector<float>();
    for (size_t i = 0; i < x.size(); ++i) {
      if (!std::isfinite(x[i]) || !std::isfinite(upstream[i])) continue;
      const double want = upstream[i] * c.derivative(x[i]);
      const double tolerance = 2e-6 * std::abs(upstream[i]) * std::max(1.0, std::abs(double(x[i])));
      EXPECT_NEAR(fused[i], want, tolerance) << "x = " << x[i] << ", g = " << upstream[i];
      EXPECT_NEAR(composed[i], want, tolerance) << "x = " << x[i] << ", g = " << upstream[i];
    }
  }
}
