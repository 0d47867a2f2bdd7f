// Factories: values, dtypes (PyTorch's defaults), shapes and error messages. Expected
// values are literals or naive double-precision loops written here.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "test_util.h"

namespace g = graft;
using g::testing::error_message;
using g::testing::make_tensor;
using ::testing::HasSubstr;

namespace {
std::vector<double> values(const g::Tensor& t) { return t.to_vector<double>(); }
}  // namespace

// ---- tensor()

TEST(Factory, TensorInfersTheDtypeLikeLibtorch) {
  EXPECT_EQ(g::tensor({1.f, 2.f}).dtype(), g::kFloat32);
  EXPECT_EQ(g::tensor({1.0, 2.0}).dtype(), g::kFloat32);  // double too: the default dtype
  EXPECT_EQ(g::tensor({1, 2}).dtype(), g::kInt64);        // int, as Python's int
  EXPECT_EQ(g::tensor({int64_t{1}}).dtype(), g::kInt64);
  EXPECT_EQ(g::tensor({true, false}).dtype(), g::kBool);
  EXPECT_EQ(g::tensor({uint8_t{200}}).dtype(), g::kUInt8);
  const g::Tensor t = g::tensor({1.5f, -2.f, 3.25f});
  EXPECT_EQ(t.shape(), g::Shape({3}));
  EXPECT_TRUE(t.is_contiguous());
  EXPECT_EQ(values(t), (std::vector<double>{1.5, -2, 3.25}));
  EXPECT_EQ(values(g::tensor({true, false})), (std::vector<double>{1, 0}));
}

TEST(Factory, TensorOptionsOverrideTheDtypeAndConvertTheValues) {
  const g::Tensor t = g::tensor({1.7f, -2.2f}, g::kInt64);
  EXPECT_EQ(t.dtype(), g::kInt64);
  EXPECT_EQ(t.to_vector<int64_t>(), (std::vector<int64_t>{1, -2}));  // truncated, as a C++ cast
  EXPECT_EQ(g::tensor({1, 2}, g::kFloat64).dtype(), g::kFloat64);
  EXPECT_EQ(values(g::tensor({0.0, 0.5}, g::kBool)), (std::vector<double>{0, 1}));
}

TEST(Factory, TensorFromANestedListIsRowMajor) {
  const g::Tensor t = g::tensor({{1, 2, 3}, {4, 5, 6}});
  EXPECT_EQ(t.shape(), g::Shape({2, 3}));
  EXPECT_EQ(t.dtype(), g::kInt64);
  EXPECT_EQ(values(t), (std::vector<double>{1, 2, 3, 4, 5, 6}));
  EXPECT_EQ(values(t.select(1, 2)), (std::vector<double>{3, 6}));
  const g::Tensor f = g::tensor({{1.f}, {2.f}}, g::kFloat64);
  EXPECT_EQ(f.shape(), g::Shape({2, 1}));
  EXPECT_EQ(f.dtype(), g::kFloat64);
}

TEST(Factory, TensorFromARaggedListIsAnError) {
  EXPECT_THAT(error_message([] {
                g::tensor({{1, 2}, {3, 4, 5}});
              }),
              HasSubstr("tensor(): expected a rectangular nested list; row 1 has 3 elements, row "
                        "0 has 2"));
}

TEST(Factory, TensorFromAVector) {
  const g::Tensor t = g::tensor(std::vector<double>{0.5, 1.5}, g::kFloat32);
  EXPECT_EQ(t.dtype(), g::kFloat32);
  EXPECT_EQ(values(t), (std::vector<double>{0.5, 1.5}));
  EXPECT_EQ(values(g::tensor(std::vector<bool>{true, false, true})),
            (std::vector<double>{1, 0, 1}));
  const g::Tensor empty = g::tensor(std::vector<int32_t>{});
  EXPECT_EQ(empty.shape(), g::Shape({0}));
  EXPECT_EQ(empty.dtype(), g::kInt64);
}

// ---- zeros, ones, full and the *_like forms

TEST(Factory, ZerosAndOnesDefaultToFloat32) {
  const g::Tensor z = g::zeros({2, 3});
  EXPECT_EQ(z.dtype(), g::kFloat32);
  EXPECT_EQ(z.shape(), g::Shape({2, 3}));
  EXPECT_EQ(values(z), std::vector<double>(6, 0.0));
  EXPECT_EQ(values(g::ones({4})), std::vector<double>(4, 1.0));
  EXPECT_EQ(g::ones({2}, g::kInt64).to_vector<int64_t>(), (std::vector<int64_t>{1, 1}));
  EXPECT_EQ(values(g::zeros({3}, g::kBool)), std::vector<double>(3, 0.0));
  // 0-d and empty shapes.
  EXPECT_EQ(g::ones({}).dim(), 0);
  EXPECT_EQ(g::ones({}).item<double>(), 1.0);
  EXPECT_EQ(g::zeros({0, 3}).numel(), 0);
  EXPECT_EQ(g::zeros({0, 3}).shape(), g::Shape({0, 3}));
}

TEST(Factory, FullTakesItsDtypeFromTheValueLikePyTorch) {
  EXPECT_EQ(g::full({2}, 7).dtype(), g::kInt64);
  EXPECT_EQ(g::full({2}, true).dtype(), g::kBool);
  EXPECT_EQ(g::full({2}, 7.5).dtype(), g::kFloat32);
  EXPECT_EQ(values(g::full({2, 2}, 7.5)), std::vector<double>(4, 7.5));
  const g::Tensor t = g::full({3}, 7.9, g::kInt32);  // the dtype option wins; value converted
  EXPECT_EQ(t.dtype(), g::kInt32);
  EXPECT_EQ(values(t), std::vector<double>(3, 7.0));
  EXPECT_EQ(values(g::full({2}, -1, g::kFloat64)), std::vector<double>(2, -1.0));
}

TEST(Factory, LikeFormsKeepDtypeShapeAndDevice) {
  // From a transposed int32 view: the result has the view's shape, fresh contiguous memory.
  const g::Tensor base = make_tensor({1, 2, 3, 4, 5, 6}, {2, 3}, g::kInt32).t();
  for (const g::Tensor& t : {g::zeros_like(base), g::ones_like(base), g::full_like(base, 9)}) {
    EXPECT_EQ(t.dtype(), g::kInt32);
    EXPECT_EQ(t.shape(), g::Shape({3, 2}));
    EXPECT_EQ(t.device(), base.device());
    EXPECT_TRUE(t.is_contiguous());
    EXPECT_NE(t.storage(), base.storage());
  }
  EXPECT_EQ(values(g::full_like(base, 9)), std::vector<double>(6, 9.0));
  // full_like keeps the input's dtype even for a floating value, as PyTorch does.
  EXPECT_EQ(values(g::full_like(base, 2.5)), std::vector<double>(6, 2.0));
  const g::Tensor f = make_tensor({1, 2}, {2}, g::kFloat64);
  EXPECT_EQ(values(g::full_like(f, 2.5)), std::vector<double>(2, 2.5));
  // An expanded input gives a writable result of the expanded shape.
  const g::Tensor expanded = make_tensor({1}, {1}).expand({4});
  EXPECT_EQ(g::ones_like(expanded).strides(), g::Shape({1}));
  EXPECT_EQ(values(g::zeros_like(make_tensor({1, 0}, {2}, g::kBool))), (std::vector<double>{0, 0}));
}

TEST(Factory, NegativeSizesAreAnError) {
  EXPECT_THAT(error_message([] { g::zeros({2, -1}); }), HasSubstr("negative dimension -1"));
}

// ---- arange

// Found by fuzzing: these sizes wrapped around to a tiny element count and byte size, so
// the factory returned a small buffer that later writes overran.
TEST(Factory, ShapesWhoseSizeOverflowsAreAnErrorNotATinyBuffer) {
  const int64_t k2_31 = int64_t{1} << 31, k2_32 = int64_t{1} << 32, k2_62 = int64_t{1} << 62;
  EXPECT_THAT(error_message([&] {
                g::empty({k2_62, 4});
              }),
              HasSubstr("empty(): a tensor of shape (4611686018427387904, 4) and dtype float32 "
                        "would hold more bytes than a 64-bit size can count"));
  EXPECT_THAT(error_message([&] { g::empty({k2_32, k2_32}); }), HasSubstr("empty(): "));
  EXPECT_THAT(error_message([&] { g::ones({k2_31, k2_31, 4}); }), HasSubstr("ones(): "));
  EXPECT_THAT(error_message([&] { g::empty({k2_62, 2}, g::kUInt8); }), HasSubstr("empty(): "));
  // An empty tensor must have strides that fit too.
  EXPECT_THAT(error_message([&] { g::empty({0, k2_32, k2_32}); }), HasSubstr("empty(): "));
  EXPECT_EQ(g::empty({0, k2_31, 4}).numel(), 0);
  // Shapes without storage behind them (a broadcast view) still count their elements exactly.
  EXPECT_THAT(error_message([&] {
                g::zeros({1, 1}).expand({k2_32, k2_32}).numel();
              }),
              HasSubstr("the shape (4294967296, 4294967296) has more elements than a 64-bit "
                        "count can hold"));
}

TEST(Factory, ATensorTooLargeForMemoryIsAnErrorNamingTheSize) {
  // 2^50 bytes fits in 64 bits but in no machine's memory.
  EXPECT_THAT(error_message([] {
                g::empty({int64_t{1} << 48, 4}, g::kUInt8);
              }),
              HasSubstr("CPU out of memory: tried to allocate 1125899906842624 bytes (1.00 PiB)"));
}

TEST(Factory, ArangeMatchesTheNaiveLoop) {
  struct Case {
    double start, end, step;
  };
  // n = ceil((end - start) / step), value i = start + i * step.
  const Case cases[] = {{0, 1, 0.25},  {1, 2.5, 0.5}, {-1, 1, 0.3},    {0, 1, 0.1},
                        {3, -2, -0.7}, {0.5, 0.5, 1}, {-2.5, 10, 1.25}};
  for (const Case& c : cases) {
    const g::Tensor t = g::arange(c.start, c.end, c.step);
    EXPECT_EQ(t.dtype(), g::kFloat32);
    const auto n = static_cast<int64_t>(std::ceil((c.end - c.start) / c.step));
    ASSERT_EQ(t.numel(), n) << c.start << " " << c.end << " " << c.step;
    const std::vector<double> got = values(t);
    for (int64_t i = 0; i < n; ++i)
      EXPECT_EQ(got[i], static_cast<float>(c.start + static_cast<double>(i) * c.step));
  }
}

TEST(Factory, ArangeOfIntegersIsInt64) {
  EXPECT_EQ(g::arange(5).to_vector<int64_t>(), (std::vector<int64_t>{0, 1, 2, 3, 4}));
  EXPECT_EQ(g::arange(5).dtype(), g::kInt64);
  EXPECT_EQ(g::arange(0, 10, 3).to_vector<int64_t>(), (std::vector<int64_t>{0, 3, 6, 9}));
  EXPECT_EQ(g::arange(10, 0, -3).to_vector<int64_t>(), (std::vector<int64_t>{10, 7, 4, 1}));
  EXPECT_EQ(g::arange(2, 2).numel(), 0);
  // Any floating argument makes it float32; a dtype option overrides both.
  EXPECT_EQ(g::arange(0, 3, 1.0).dtype(), g::kFloat32);
  EXPECT_EQ(g::arange(5.0).dtype(), g::kFloat32);
  EXPECT_EQ(g::arange(4, g::kFloat64).dtype(), g::kFloat64);
  EXPECT_EQ(values(g::arange(0.5, 3, 1, g::kInt32)), (std::vector<double>{0, 1, 2}));
  // Exact beyond 2^53, where doubles could not count.
  const int64_t big = int64_t{1} << 60;
  EXPECT_EQ(g::arange(big, big + 3).to_vector<int64_t>(),
            (std::vector<int64_t>{big, big + 1, big + 2}));
  const int64_t lowest = std::numeric_limits<int64_t>::min();
  EXPECT_EQ(g::arange(lowest, lowest + 4, 2).to_vector<int64_t>(),
            (std::vector<int64_t>{lowest, lowest + 2}));
}

TEST(Factory, ArangeErrors) {
  EXPECT_THAT(error_message([] { g::arange(0, 5, 0); }),
              HasSubstr("arange(): step must be nonzero"));
  EXPECT_THAT(error_message([] { g::arange(0, 5, -1); }),
              HasSubstr("arange(): upper bound and larger bound inconsistent with step sign"));
  EXPECT_THAT(error_message([] { g::arange(5, 0, 1); }),
              HasSubstr("arange(): upper bound and larger bound inconsistent with step sign"));
  EXPECT_THAT(error_message([] { g::arange(0, std::numeric_limits<double>::infinity()); }),
              HasSubstr("arange(): unsupported range"));
  EXPECT_THAT(error_message([] { g::arange(0.0, 1e30, 1e-30); }), HasSubstr("too many"));
}

// ---- linspace

TEST(Factory, LinspaceMatchesTheNaiveFormulaWithExactEndpoints) {
  EXPECT_EQ(values(g::linspace(0, 1, 5)), (std::vector<double>{0, 0.25, 0.5, 0.75, 1}));
  struct Case {
    double start, end;
    int64_t steps;
  };
  const Case cases[] = {{-1.3, 2.7, 7}, {10, -10, 100}, {0, 1, 2}, {0.1, 0.2, 11}};
  for (const Case& c : cases) {
    for (g::DType dtype : {g::kFloat32, g::kFloat64}) {
      const std::vector<double> got = values(g::linspace(c.start, c.end, c.steps, dtype));
      ASSERT_EQ(static_cast<int64_t>(got.size()), c.steps);
      const double tol = dtype == g::kFloat32 ? 1e-6 : 1e-14;
      for (int64_t i = 0; i < c.steps; ++i) {
        const double want =
            c.start + static_cast<double>(i) * (c.end - c.start) / static_cast<double>(c.steps - 1);
        EXPECT_NEAR(got[i], want, tol * std::max(1.0, std::abs(want)));
      }
      const double first = dtype == g::kFloat32 ? static_cast<float>(c.start) : c.start;
      const double last = dtype == g::kFloat32 ? static_cast<float>(c.end) : c.end;
      EXPECT_EQ(got.front(), first);
      EXPECT_EQ(got.back(), last);
    }
  }
}

TEST(Factory, LinspaceDefaultsAndEdgeCounts) {
  EXPECT_EQ(g::linspace(0, 1, 3).dtype(), g::kFloat32);
  EXPECT_EQ(values(g::linspace(2.5, 9, 1)), (std::vector<double>{2.5}));  // [start]
  EXPECT_EQ(g::linspace(0, 1, 0).shape(), g::Shape({0}));
  // Integer dtypes: computed in double from the truncated endpoints, then truncated.
  EXPECT_EQ(g::linspace(0, 10, 5, g::kInt64).to_vector<int64_t>(),
            (std::vector<int64_t>{0, 2, 5, 7, 10}));
  EXPECT_THAT(error_message([] { g::linspace(0, 1, -1); }),
              HasSubstr("linspace(): number of steps must be non-negative, got -1"));
}

// ---- eye

TEST(Factory, EyeHasOnesOnTheDiagonal) {
  for (auto [n, m] : {std::pair<int64_t, int64_t>{3, 3}, {2, 4}, {4, 2}, {1, 1}}) {
    const g::Tensor t = g::eye(n, m);
    EXPECT_EQ(t.dtype(), g::kFloat32);
    EXPECT_EQ(t.shape(), g::Shape({n, m}));
    const std::vector<double> got = values(t);
    for (int64_t i = 0; i < n; ++i)
      for (int64_t j = 0; j < m; ++j) EXPECT_EQ(got[i * m + j], i == j ? 1.0 : 0.0);
  }
  EXPECT_EQ(values(g::eye(2)), (std::vector<double>{1, 0, 0, 1}));
  EXPECT_EQ(g::eye(2, g::kInt64).to_vector<int64_t>(), (std::vector<int64_t>{1, 0, 0, 1}));
  EXPECT_EQ(g::eye(0).shape(), g::Shape({0, 0}));
  EXPECT_EQ(g::eye(0, 3).shape(), g::Shape({0, 3}));
}

TEST(Factory, EyeErrors) {
  EXPECT_THAT(error_message([] { g::eye(-1); }),
              HasSubstr("eye(): n must be greater or equal to 0, got -1"));
  EXPECT_THAT(error_message([] { g::eye(2, -3); }),
              HasSubstr("eye(): m must be greater or equal to 0, got -3"));
}
