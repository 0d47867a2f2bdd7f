// Elementwise behaviour beyond the op registry (tests/ops/elementwise_rows.cpp, which checks
// every op on every layout and dtype against double-precision references): promotion,
// errors, broadcasting by hand, in-place writes through views and overlapping operands,
// NaN propagation, the threaded path.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <vector>

#include "graft/kernels/cpu/loops.h"
#include "test_util.h"

namespace g = graft;
using g::testing::error_message;
using g::testing::make_tensor;
using g::testing::sample_values;
using ::testing::HasSubstr;

namespace {

void expect_values(const g::Tensor& t, const std::vector<double>& expected, double tol,
                   const std::string& what) {
  const std::vector<double> got = t.to_vector<double>();
  ASSERT_EQ(got.size(), expected.size()) << what;
  for (size_t i = 0; i < got.size(); ++i) {
    if (std::isnan(expected[i])) {
      EXPECT_TRUE(std::isnan(got[i])) << what << " at " << i;
    } else {
      EXPECT_NEAR(got[i], expected[i], tol * (1 + std::abs(expected[i]))) << what << " at " << i;
    }
  }
}

}  // namespace

TEST(Unary, TranscendentalOpsPromoteIntegersToFloat32) {
  const g::Tensor x = make_tensor({0, 1, 2}, {3}, g::kInt64);
  EXPECT_EQ(g::exp(x).dtype(), g::kFloat32);
  expect_values(g::exp(x), {1, std::exp(1.0), std::exp(2.0)}, 1e-6, "exp(int)");
  EXPECT_EQ(g::abs(make_tensor({-3, 4}, {2}, g::kInt32)).to_vector<int>(),
            (std::vector<int>{3, 4}));
  EXPECT_EQ(g::relu(make_tensor({-3, 4}, {2}, g::kInt64)).dtype(), g::kInt64);
}

TEST(Unary, NegOfBoolIsAnError) {
  EXPECT_THAT(error_message([] { g::neg(make_tensor({1}, {1}, g::kBool)); }),
              HasSubstr("on a bool tensor is not supported"));
}

TEST(Unary, InPlaceFormsWriteThroughViews) {
  g::Tensor base = make_tensor({1, 4, 9, 16}, {2, 2});
  base.select(1, 1).sqrt_();  // column 1 only
  EXPECT_EQ(base.to_vector<double>(), (std::vector<double>{1, 2, 9, 4}));
  EXPECT_THAT(error_message([] {
                make_tensor({1, 2}, {2}, g::kInt64).exp_();
              }),
              HasSubstr("result type float32 can't be cast to the desired output type int64"));
}

TEST(Binary, BroadcastsRowAgainstColumn) {
  const g::Tensor col = make_tensor({1, 2, 3}, {3, 1});
  const g::Tensor row = make_tensor({10, 20}, {2});
  const g::Tensor out = col + row;
  EXPECT_EQ(out.shape(), g::Shape({3, 2}));
  EXPECT_EQ(out.to_vector<double>(), (std::vector<double>{11, 21, 12, 22, 13, 23}));
  EXPECT_THAT(error_message([&] { col.t() + row; }),
              HasSubstr("size of tensor a (3) must match the size of tensor b (2)"));
}

TEST(Binary, TransposedOperandsLargerThanATileMatchTheDefinition) {
  // A transposed operand sends the CPU loop through square tiles (kernels/cpu/loops.h), a 4- or
  // 2-byte one (float32, int32, bfloat16, float16) through strips of 16 rows transposed into a
  // buffer where the CPU runs AVX-512: sizes that are not multiples of the tile nor of a strip,
  // an outer dim, a broadcast third operand's kin, two transposed operands, a transposed output,
  // and float32, int32, float64, bfloat16 and float16, against element-by-element sums.
  for (const g::DType dtype : {g::kFloat32, g::kInt32, g::kFloat64, g::kBFloat16, g::kFloat16}) {
    // Neither size a multiple of the tile, both beyond it (smaller ones walk whole rows).
    const int64_t tile = g::kernels::cpu::detail::kTransposeTile;
    const int64_t planes = 3, rows = tile + 13, cols = 2 * tile + 6;
    // Integers for int32 (sample_values's fractions would all truncate to -1, 0 and 1).
    const double spread = dtype == g::kInt32 ? 1000 : 2;
    std::vector<double> av = sample_values(planes * cols * rows, -spread, spread, 5);
    std::vector<double> bv = sample_values(planes * rows * cols, -spread, spread, 6);
    if (dtype == g::kInt32)
      for (auto* v : {&av, &bv})
        for (double& x : *v) x = std::round(x);
    // a stored (planes, cols, rows) and seen transposed: (planes, rows, cols).
    const g::Tensor a = make_tensor(av, {planes, cols, rows}).to(dtype).transpose(1, 2);
    const g::Tensor b = make_tensor(bv, {planes, rows, cols}).to(dtype);
    const g::Tensor row = make_tensor(sample_values(cols, -1, 1, 7), {cols}).to(dtype);
    const auto value = [&](const std::vector<double>& v, int64_t i) {
      return make_tensor({v[static_cast<size_t>(i)]}, {1}).to(dtype).to(g::kFloat64).item<double>();
    };
    std::vector<double> want;
    for (int64_t p = 0; p < planes; ++p)
      for (int64_t r = 0; r < rows; ++r)
        for (int64_t c = 0; c < cols; ++c)
          want.push_back(value(av, (p * cols + c) * rows + r) +
                         value(bv, (p * rows + r) * cols + c));
    const double tol = dtype == g::kBFloat16  ? 2e-2
                       : dtype == g::kFloat16 ? 2e-3
                       : dtype == g::kInt32   ? 0
                                              : 1e-6;
    const std::vector<double> sum = (a + b).to(g::kFloat64).to_vector<double>();
    ASSERT_EQ(sum.size(), want.size());
    for (size_t i = 0; i < want.size(); ++i)
      ASSERT_NEAR(sum[i], want[i], tol * (1 + std::abs(want[i])))
          << g::dtype_name(dtype) << " " << i;
    // Both operands transposed: a + a is twice a.
    EXPECT_TRUE(g::equal(a + a, a * 2)) << g::dtype_name(dtype);
    // A transposed copy, into a transposed output, and with a broadcast row beside it.
    EXPECT_TRUE(g::equal(a.contiguous(), a)) << g::dtype_name(dtype);
    g::Tensor out = g::zeros({planes, cols, rows}, dtype).transpose(1, 2);
    out.copy_(b);
    EXPECT_TRUE(g::equal(out, b)) << g::dtype_name(dtype);
    const g::Tensor with_row =
        (a + row).to(g::kFloat64) - (a.to(g::kFloat64) + row.to(g::kFloat64));
    EXPECT_LE(g::max(g::abs(with_row)).item<double>(), dtype == g::kBFloat16  ? 3e-2
                                                       : dtype == g::kFloat16 ? 4e-3
                                                                              : 1e-6)
        << g::dtype_name(dtype);
  }
}

TEST(Binary, ScalarsOnEitherSide) {
  const g::Tensor x = make_tensor({1, 2, 4}, {3});
  EXPECT_EQ((x - 1).to_vector<double>(), (std::vector<double>{0, 1, 3}));
  EXPECT_EQ((1 - x).to_vector<double>(), (std::vector<double>{0, -1, -3}));
  EXPECT_EQ((8 / x).to_vector<double>(), (std::vector<double>{8, 4, 2}));
  EXPECT_EQ((2 * x).to_vector<double>(), (std::vector<double>{2, 4, 8}));
  EXPECT_EQ((-x).to_vector<double>(), (std::vector<double>{-1, -2, -4}));
}

TEST(Binary, PromotionFollowsPyTorch) {
  const g::Tensor i32 = make_tensor({1, 2}, {2}, g::kInt32);
  const g::Tensor i64 = make_tensor({1, 2}, {2}, g::kInt64);
  const g::Tensor f32 = make_tensor({1, 2}, {2}, g::kFloat32);
  EXPECT_EQ((i32 + 2).dtype(), g::kInt32);
  EXPECT_EQ((i32 + 2.5).dtype(), g::kFloat32);
  EXPECT_EQ((i64 + f32).dtype(), g::kFloat32);
  EXPECT_EQ((i32 + i64).dtype(), g::kInt64);
  EXPECT_EQ((f32 + make_tensor({1}, {}, g::kFloat64)).dtype(), g::kFloat32);
  // int / int true-divides to float32.
  const g::Tensor q = make_tensor({1, 3}, {2}, g::kInt64) / make_tensor({2, 2}, {2}, g::kInt64);
  EXPECT_EQ(q.dtype(), g::kFloat32);
  EXPECT_EQ(q.to_vector<double>(), (std::vector<double>{0.5, 1.5}));
  // Integer power stays integer and is exact.
  EXPECT_EQ(g::pow(make_tensor({3, -2}, {2}, g::kInt64), 3).to_vector<int64_t>(),
            (std::vector<int64_t>{27, -8}));
  EXPECT_EQ((make_tensor({1, 0}, {2}, g::kBool) + make_tensor({1, 1}, {2}, g::kBool)).dtype(),
            g::kBool);
}

TEST(Binary, MaximumPropagatesNaN) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const auto out = g::maximum(make_tensor({nan, 1}, {2}), make_tensor({0, nan}, {2}));
  EXPECT_TRUE(std::isnan(out.to_vector<double>()[0]));
  EXPECT_TRUE(std::isnan(out.to_vector<double>()[1]));
}

TEST(Comparison, ReturnsBoolAndPromotesOperands) {
  const g::Tensor x = make_tensor({1, 2, 3}, {3}, g::kInt32);
  EXPECT_EQ((x > 1.5).dtype(), g::kBool);
  EXPECT_EQ((x > 1.5).to_vector<bool>(), (std::vector<bool>{false, true, true}));
  EXPECT_EQ((x == 2).to_vector<bool>(), (std::vector<bool>{false, true, false}));
  EXPECT_EQ((x != 2).to_vector<bool>(), (std::vector<bool>{true, false, true}));
  EXPECT_EQ((x <= 2).to_vector<bool>(), (std::vector<bool>{true, true, false}));
  EXPECT_EQ((x >= 2).to_vector<bool>(), (std::vector<bool>{false, true, true}));
  EXPECT_EQ((x < make_tensor({2}, {1}, g::kFloat64)).to_vector<bool>(),
            (std::vector<bool>{true, false, false}));
}

TEST(Where, SelectsAndBroadcasts) {
  const g::Tensor cond = make_tensor({1, 0, 1}, {3}, g::kBool);
  const g::Tensor a = make_tensor({1, 2, 3}, {3}, g::kInt64);
  EXPECT_EQ(g::where(cond, a, -1).to_vector<int64_t>(), (std::vector<int64_t>{1, -1, 3}));
  EXPECT_EQ(g::where(cond, 0.5, a).dtype(), g::kFloat32);
  const g::Tensor wide = g::where(cond.unsqueeze(0), a, make_tensor({7, 8}, {2, 1}, g::kInt64));
  EXPECT_EQ(wide.to_vector<int64_t>(), (std::vector<int64_t>{1, 7, 3, 1, 8, 3}));
  EXPECT_THAT(error_message([&] { g::where(a, a, a); }),
              HasSubstr("expected condition to be a bool tensor, but got int64"));
}

TEST(Clamp, BoundsEitherOrBoth) {
  const g::Tensor x = make_tensor({-2, 0.5, 3}, {3});
  EXPECT_EQ(x.clamp(-1, 1).to_vector<double>(), (std::vector<double>{-1, 0.5, 1}));
  EXPECT_EQ(x.clamp(0).to_vector<double>(), (std::vector<double>{0, 0.5, 3}));
  EXPECT_EQ(x.clamp(std::nullopt, 0).to_vector<double>(), (std::vector<double>{-2, 0, 0}));
  EXPECT_EQ(make_tensor({-5, 5}, {2}, g::kInt32).clamp(-1, 1).dtype(), g::kInt32);
  EXPECT_EQ(make_tensor({-5, 5}, {2}, g::kInt32).clamp(-0.5).dtype(), g::kFloat32);
  g::Tensor y = x.clone();
  y.clamp_(0, 1);
  EXPECT_EQ(y.to_vector<double>(), (std::vector<double>{0, 0.5, 1}));
  EXPECT_THAT(error_message([&] { x.clamp(std::nullopt, std::nullopt); }),
              HasSubstr("at least one of 'min' or 'max'"));
  // min(max(x, min), max), as PyTorch: bounds the wrong way round give max everywhere; a NaN
  // element stays NaN, and a NaN bound makes every element NaN.
  EXPECT_EQ(x.clamp(2, 1).to_vector<double>(), (std::vector<double>{1, 1, 1}));
  const double nan = std::numeric_limits<double>::quiet_NaN();
  for (const g::DType dtype : {g::kFloat32, g::kFloat64}) {
    const std::vector<double> got =
        make_tensor({nan, 5, -5}, {3}, dtype).clamp(-1, 1).to_vector<double>();
    EXPECT_TRUE(std::isnan(got[0])) << dtype;
    EXPECT_EQ(got[1], 1) << dtype;
    EXPECT_EQ(got[2], -1) << dtype;
    for (const double v : make_tensor({-5, 5}, {2}, dtype).clamp(nan, 1).to_vector<double>())
      EXPECT_TRUE(std::isnan(v)) << dtype;
    for (const double v : make_tensor({-5, 5}, {2}, dtype).clamp(-1, nan).to_vector<double>())
      EXPECT_TRUE(std::isnan(v)) << dtype;
  }
}

TEST(MaskedFill, KeepsTheDtypeAndBroadcastsTheMask) {
  const g::Tensor x = make_tensor({1, 2, 3, 4}, {2, 2}, g::kInt32);
  const g::Tensor mask = make_tensor({0, 1}, {2}, g::kBool);
  const g::Tensor out = x.masked_fill(mask, 9);
  EXPECT_EQ(out.dtype(), g::kInt32);
  EXPECT_EQ(out.to_vector<int>(), (std::vector<int>{1, 9, 3, 9}));
  x.masked_fill_(mask, 0);
  EXPECT_EQ(x.to_vector<int>(), (std::vector<int>{1, 0, 3, 0}));
  EXPECT_THAT(error_message([&] { x.masked_fill(x, 0); }), HasSubstr("expected a bool mask"));
}

TEST(InPlace, BinaryWritesIntoSelfAndBroadcastsOther) {
  g::Tensor x = make_tensor({1, 2, 3, 4}, {2, 2});
  const double* before = x.data_ptr<double>();
  x += make_tensor({10, 20}, {2});
  x *= 2;
  EXPECT_EQ(x.data_ptr<double>(), before);
  EXPECT_EQ(x.to_vector<double>(), (std::vector<double>{22, 44, 26, 48}));
  EXPECT_THAT(error_message([&] { make_tensor({1}, {1}).add_(x); }),
              HasSubstr("output with shape (1,) doesn't match the broadcast shape (2, 2)"));
  EXPECT_THAT(error_message([&] { make_tensor({1}, {1}, g::kInt32).add_(1.5); }),
              HasSubstr("result type float32 can't be cast to the desired output type int32"));
}

TEST(InPlace, OverlappingOperandIsReadBeforeItIsOverwritten) {
  // x += x.t() must use the old values of x.t(), as if computed out of place.
  g::Tensor x = make_tensor({1, 2, 3, 4}, {2, 2});
  x.add_(x.t());
  EXPECT_EQ(x.to_vector<double>(), (std::vector<double>{2, 5, 5, 8}));
  g::Tensor y = make_tensor({1, 2}, {2});
  y.add_(y);  // the same view: safe to run in place
  EXPECT_EQ(y.to_vector<double>(), (std::vector<double>{2, 4}));
}

TEST(Elementwise, LargeTensorsTakeTheThreadedPathWithTheSameResult) {
  const int64_t n = 1 << 20;
  const auto v = sample_values(n);
  const g::Tensor x = make_tensor(v, {n}, g::kFloat32);
  const g::Tensor y = (x * 2 + 1).relu();
  const std::vector<float> got = y.to_vector<float>();
  for (int64_t i = 0; i < n; i += 9973) {
    const float expected = std::max(static_cast<float>(v[i]) * 2.0f + 1.0f, 0.0f);
    ASSERT_EQ(got[i], expected) << i;
  }
}

TEST(Elementwise, MixingDevicesNamesBoth) {
  float host = 1, fake_device = 2;
  const g::Tensor a = g::from_blob(&host, {1}, g::kFloat32);
  const g::Tensor b =
      g::from_blob(&fake_device, {1}, g::TensorOptions(g::kFloat32).device(g::Device::cuda()));
  EXPECT_THAT(error_message([&] { a + b; }),
              HasSubstr("Expected all tensors to be on the same device, but found at least two "
                        "devices, cpu and cuda:0"));
}
