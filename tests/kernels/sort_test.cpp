// sort, argsort and topk beyond the registry rows: the order's rules spelled out on
// hand-picked values (ties, NaN, infinities, signed zeros, integer extremes), long lines
// that take the CPU's parallel path checked against std::stable_sort, topk's corner values
// of k, and the errors.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <numeric>
#include <string>
#include <vector>

#include "test_util.h"

namespace g = graft;
using g::Tensor;
using g::testing::error_message;
using g::testing::make_tensor;
using g::testing::sample_values;
using ::testing::HasSubstr;

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();

std::vector<int64_t> ints(const Tensor& t) { return t.to_vector<int64_t>(); }

// Values equal, NaN where NaN, and the sign of zeros kept.
void expect_same_values(const Tensor& got, const std::vector<double>& want) {
  const std::vector<double> values = got.to_vector<double>();
  ASSERT_EQ(values.size(), want.size());
  for (size_t i = 0; i < want.size(); ++i) {
    if (std::isnan(want[i])) {
      EXPECT_TRUE(std::isnan(values[i])) << "at " << i;
    } else {
      EXPECT_EQ(values[i], want[i]) << "at " << i;
      EXPECT_EQ(std::signbit(values[i]), std::signbit(want[i])) << "sign of zero at " << i;
    }
  }
}

// Indices of 0 .. 7:        3    NaN   1   -inf  NaN  inf  -0.0  0.0
const std::vector<double> kSpecials = {3, kNaN, 1, -kInf, kNaN, kInf, -0.0, 0.0};

TEST(Sort, NaNIsTheLargestAndSignedZerosAreEqualSoKeepTheirOrder) {
  for (g::DType dtype : {g::kFloat32, g::kFloat64}) {
    const Tensor x = make_tensor(kSpecials, {8}, dtype);
    const auto [up, up_at] = g::sort(x);
    EXPECT_EQ(up.dtype(), dtype);
    EXPECT_EQ(up_at.dtype(), g::kInt64);
    expect_same_values(up, {-kInf, -0.0, 0.0, 1, 3, kInf, kNaN, kNaN});
    EXPECT_EQ(ints(up_at), (std::vector<int64_t>{3, 6, 7, 2, 0, 5, 1, 4}));
    const auto [down, down_at] = g::sort(x, 0, true);
    expect_same_values(down, {kNaN, kNaN, kInf, 3, 1, -0.0, 0.0, -kInf});
    EXPECT_EQ(ints(down_at), (std::vector<int64_t>{1, 4, 5, 0, 2, 6, 7, 3}));
  }
}

TEST(Topk, NaNCountsAsTheLargestAndTiesGoToTheLowerIndex) {
  const Tensor x = make_tensor(kSpecials, {8}, g::kFloat32);
  const auto [big, big_at] = g::topk(x, 3);
  expect_same_values(big, {kNaN, kNaN, kInf});
  EXPECT_EQ(ints(big_at), (std::vector<int64_t>{1, 4, 5}));
  const auto [small, small_at] = g::topk(x, 3, 0, false);
  expect_same_values(small, {-kInf, -0.0, 0.0});
  EXPECT_EQ(ints(small_at), (std::vector<int64_t>{3, 6, 7}));
  const auto [unsorted, unsorted_at] = g::topk(x, 3, 0, true, false);
  expect_same_values(unsorted, {kNaN, kNaN, kInf});  // indices 1, 4, 5: already in order
  EXPECT_EQ(ints(unsorted_at), (std::vector<int64_t>{1, 4, 5}));
}

TEST(Sort, IntegerExtremesAndUnsignedBytesKeepTheirDtypeAndOrder) {
  const int64_t lo = std::numeric_limits<int64_t>::min(), hi = std::numeric_limits<int64_t>::max();
  const Tensor x = g::tensor(std::vector<int64_t>{0, hi, -1, lo, 1, lo});
  const auto [values, at] = g::sort(x);
  EXPECT_EQ(values.dtype(), g::kInt64);
  EXPECT_EQ(ints(values), (std::vector<int64_t>{lo, lo, -1, 0, 1, hi}));
  EXPECT_EQ(ints(at), (std::vector<int64_t>{3, 5, 2, 0, 4, 1}));
  const Tensor bytes = make_tensor({200, 3, 255, 0, 128}, {5}, g::kUInt8);
  EXPECT_EQ(ints(g::argsort(bytes, 0, true)), (std::vector<int64_t>{2, 0, 4, 1, 3}));
  const Tensor flags = make_tensor({1, 0, 1, 0}, {4}, g::kBool);
  const auto [sorted_flags, flag_at] = g::sort(flags);
  EXPECT_EQ(sorted_flags.dtype(), g::kBool);
  EXPECT_EQ(ints(sorted_flags), (std::vector<int64_t>{0, 0, 1, 1}));
  EXPECT_EQ(ints(flag_at), (std::vector<int64_t>{1, 3, 0, 2}));
}

// Lines of `n` values with many ties (0, 1 or 2), sorted along `dim` of (lines, n) or
// (n, lines): the lines hold more than the parallel grain, so they split across threads.
// Each line must be std::stable_sort's order.
void expect_stable_sort_of_long_lines(int64_t dim, bool descending) {
  const int64_t lines = 24, n = 5001;
  std::vector<double> values = sample_values(lines * n, 0, 3, 7);
  for (double& v : values) v = std::floor(v);
  Tensor x = make_tensor(values, {lines, n}, g::kFloat32);
  if (dim == 0) x = x.t();  // (n, lines), lines along dim 0, `lines` apart in memory
  const auto [sorted, at] = g::sort(x, dim, descending);
  const Tensor by_line = dim == 0 ? at.t().contiguous() : at;
  const Tensor sorted_by_line = dim == 0 ? sorted.t().contiguous() : sorted;
  const std::vector<int64_t> got = ints(by_line);
  const std::vector<double> got_values = sorted_by_line.to_vector<double>();
  for (int64_t l = 0; l < lines; ++l) {
    std::vector<int64_t> want(static_cast<size_t>(n));
    std::iota(want.begin(), want.end(), 0);
    const double* line = values.data() + l * n;
    std::stable_sort(want.begin(), want.end(), [&](int64_t a, int64_t b) {
      return descending ? line[a] > line[b] : line[a] < line[b];
    });
    for (int64_t j = 0; j < n; ++j) {
      ASSERT_EQ(got[l * n + j], want[j]) << "line " << l << ", position " << j;
      ASSERT_EQ(got_values[l * n + j], line[want[j]]);
    }
  }
}

// Long lines (the CPU's radix sort from 1024) of every dtype, with many ties and, for floats,
// NaN, infinities and both zeros: argsort must be std::stable_sort's order, NaN the largest
// and -0.0 equal to 0.0.
TEST(Sort, LongLinesOfEveryDtypeAreTheStableSortsOrder) {
  const int64_t n = 3001;
  for (const g::DType dtype : {g::kFloat32, g::kFloat64, g::kFloat16, g::kBFloat16, g::kInt32,
                               g::kInt64, g::kUInt8, g::kBool}) {
    std::vector<double> values = sample_values(n, -50, 250, 11);
    for (int64_t j = 0; j < n; ++j) {
      double& v = values[j];
      v = dtype == g::kBool ? static_cast<double>(v > 100) : std::floor(v);
      if (dtype == g::kUInt8) v = std::clamp(v, 0.0, 255.0);
      if (g::is_floating_point(dtype) && j % 97 == 0)
        v = std::vector<double>{kNaN, kInf, -kInf, -0.0, 0.0, 1e30}[j / 97 % 6];
    }
    // 1e30 is inf in float16; make_tensor rounds the rest as the dtype does.
    const Tensor x = make_tensor(values, {n}, dtype);
    const std::vector<double> stored = x.to_vector<double>();
    const auto before = [](double a, double b) {
      return std::isnan(a) ? false : std::isnan(b) || a < b;
    };
    for (const bool descending : {false, true}) {
      std::vector<int64_t> want(static_cast<size_t>(n));
      std::iota(want.begin(), want.end(), 0);
      std::stable_sort(want.begin(), want.end(), [&](int64_t a, int64_t b) {
        return descending ? before(stored[b], stored[a]) : before(stored[a], stored[b]);
      });
      const auto [sorted, at] = g::sort(x, 0, descending);
      EXPECT_EQ(ints(at), want) << g::dtype_name(dtype) << (descending ? " descending" : "");
      const std::vector<double> got = sorted.to_vector<double>();
      for (int64_t j = 0; j < n; ++j)
        ASSERT_TRUE(got[j] == stored[want[j]] ||
                    (std::isnan(got[j]) && std::isnan(stored[want[j]])))
            << g::dtype_name(dtype) << " at " << j;
    }
  }
}

TEST(Sort, LongLinesWithManyTiesAreStableOnTheParallelPath) {
  for (const bool descending : {false, true}) {
    expect_stable_sort_of_long_lines(1, descending);
    expect_stable_sort_of_long_lines(0, descending);
  }
}

TEST(Topk, KOfZeroAndKOfTheWholeDim) {
  const Tensor x = make_tensor(sample_values(12), {3, 4}, g::kFloat64);
  const auto [none, none_at] = g::topk(x, 0, 1);
  EXPECT_EQ(none.shape(), (g::Shape{3, 0}));
  EXPECT_EQ(none_at.shape(), (g::Shape{3, 0}));
  EXPECT_EQ(none_at.dtype(), g::kInt64);
  const auto [all, all_at] = g::topk(x, 4, 1);
  const auto [sorted, sorted_at] = g::sort(x, 1, true);
  EXPECT_TRUE(g::equal(all, sorted));
  EXPECT_TRUE(g::equal(all_at, sorted_at));
  const auto [all_smallest, all_smallest_at] = g::topk(x, 3, 0, false);
  EXPECT_TRUE(g::equal(all_smallest_at, g::argsort(x, 0)));
}

TEST(Topk, UnsortedGivesTheSameWinnersInIndexOrder) {
  const Tensor x = make_tensor(sample_values(2 * 50, -2, 2, 3), {2, 50}, g::kFloat32);
  const auto [sorted, sorted_at] = g::topk(x, 7);
  const auto [unsorted, unsorted_at] = g::topk(x, 7, -1, true, false);
  for (int64_t r = 0; r < 2; ++r) {
    std::vector<int64_t> want = ints(sorted_at.select(0, r));
    std::sort(want.begin(), want.end());
    EXPECT_EQ(ints(unsorted_at.select(0, r)), want) << "row " << r;
  }
  EXPECT_TRUE(g::equal(unsorted, g::gather(x, 1, unsorted_at)));
}

TEST(Topk, LongLinesGiveTheStableSortsFirstKAcrossTheSmallKBoundary) {
  // Lines of 1000 (many blocks of the small-k scan, kernels/cpu/sort.cpp) full of ties, with
  // NaNs, signed zeros and infinities, along the last dim and along dim 0 (a strided line), both
  // directions, k on both sides of the scan's limit of 16: topk must give the first k of the
  // stable sort, values and indices.
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const double inf = std::numeric_limits<double>::infinity();
  std::vector<double> values;
  for (int64_t i = 0; i < 3 * 1000; ++i) {
    const int64_t m = i * 7919 % 37;
    values.push_back(m == 5   ? nan
                     : m == 6 ? -0.0
                     : m == 7 ? 0.0
                     : m == 8 ? -inf
                     : m == 9 ? inf
                              : static_cast<double>(m % 11));
  }
  for (g::DType dtype : {g::kFloat32, g::kFloat64, g::kInt32}) {
    // Integers: the same ties, without the floating specials.
    const Tensor x = dtype == g::kInt32
                         ? make_tensor(sample_values(3000, -5, 5, 4), {3, 1000}).round().to(dtype)
                         : make_tensor(values, {3, 1000}, dtype);
    for (const int64_t dim : {1, 0}) {
      // Along dim 0: x's rows stored as columns, so that each line has a step of 3.
      const Tensor input = dim == 1 ? x : x.t().contiguous();
      for (const bool largest : {true, false}) {
        const auto [sorted, sorted_at] = g::sort(input, dim, largest);
        for (const int64_t k : {1, 10, 16, 17}) {
          const auto [top, top_at] = g::topk(input, k, dim, largest);
          const std::string what = std::string(g::dtype_name(dtype)) + ", dim " +
                                   std::to_string(dim) + (largest ? ", largest" : ", smallest") +
                                   ", k " + std::to_string(k);
          EXPECT_EQ(ints(top_at), ints(sorted_at.narrow(dim, 0, k))) << what;
          const std::vector<double> got = top.contiguous().to_vector<double>();
          const std::vector<double> want =
              sorted.narrow(dim, 0, k).contiguous().to_vector<double>();
          ASSERT_EQ(got.size(), want.size()) << what;
          for (size_t i = 0; i < got.size(); ++i)
            EXPECT_TRUE(got[i] == want[i] || (std::isnan(got[i]) && std::isnan(want[i])))
                << what << ", element " << i;
        }
      }
    }
  }
}

TEST(Sort, ZeroDimAndEmptyInputs) {
  const Tensor scalar = make_tensor({2.5}, {}, g::kFloat32);
  for (const int64_t dim : {0, -1}) {
    const auto [value, at] = g::sort(scalar, dim);
    EXPECT_EQ(value.shape(), g::Shape{});
    EXPECT_EQ(value.item<float>(), 2.5f);
    EXPECT_EQ(at.item<int64_t>(), 0);
  }
  const auto [top, top_at] = g::topk(scalar, 1);
  EXPECT_EQ(top.shape(), g::Shape{});
  EXPECT_EQ(top_at.item<int64_t>(), 0);
  EXPECT_EQ(std::get<0>(g::topk(scalar, 0)).shape(), g::Shape{0});
  const Tensor empty = g::zeros({0, 5});
  EXPECT_EQ(std::get<0>(g::sort(empty)).shape(), (g::Shape{0, 5}));
  EXPECT_EQ(g::argsort(empty, 0).shape(), (g::Shape{0, 5}));
  EXPECT_EQ(std::get<1>(g::topk(empty, 0, 0)).shape(), (g::Shape{0, 5}));
}

TEST(Sort, GradientGoesBackToWhereEachValueCameFrom) {
  const Tensor x = make_tensor({3, 1, 2}, {3}, g::kFloat64).requires_grad_();
  const auto [values, at] = g::sort(x, 0, true);  // 3, 2, 1 from positions 0, 2, 1
  (values * make_tensor({10, 20, 30}, {3}, g::kFloat64)).sum().backward();
  EXPECT_EQ(x.grad().to_vector<double>(), (std::vector<double>{10, 30, 20}));
  const Tensor y = make_tensor({5, 7, 6}, {3}, g::kFloat64).requires_grad_();
  std::get<0>(g::topk(y, 2)).sum().backward();  // 7 and 6
  EXPECT_EQ(y.grad().to_vector<double>(), (std::vector<double>{0, 1, 1}));
}

TEST(Sort, BadArgumentsAreErrorsNamingThem) {
  const Tensor x = g::zeros({2, 4});
  const std::string k_message = error_message([&] { g::topk(x, 5, 1); });
  EXPECT_THAT(k_message, HasSubstr("topk(): k (5) is out of range for dimension 1 of size 4"));
  EXPECT_THAT(k_message, HasSubstr("0 <= k <= 4"));
  EXPECT_THAT(error_message([&] { g::topk(x, -1); }), HasSubstr("k (-1)"));
  EXPECT_THAT(error_message([&] { g::sort(x, 2); }), HasSubstr("sort(): dimension out of range"));
  EXPECT_THAT(error_message([&] { g::argsort(x, -3); }), HasSubstr("argsort()"));
}

}  // namespace
