// cumsum and cumprod beyond the op registry's rows (tests/ops/scan_rows.cpp): accuracy of
// long float32 running sums, the CPU kernel's parallel paths (long lines cut into chunks,
// many lines side by side) against double references, dtypes, 0-d inputs and errors.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>

#include "test_util.h"

namespace g = graft;
using g::testing::error_message;
using g::testing::make_tensor;
using g::testing::sample_values;

namespace {

constexpr int64_t k16M = int64_t{1} << 24;

// 2^24 ones, the classic: every running sum is an integer float32 holds exactly, so a carry
// between chunks that is lost or counted twice shows at once. (A float32 accumulator would
// pass this one; the random values below catch it.)
TEST(Cumsum, CountsTwoToThe24Float32OnesExactly) {
  const g::Tensor out = g::cumsum(g::ones({k16M}), 0);
  EXPECT_EQ(out.dtype(), g::kFloat32);
  EXPECT_TRUE(g::equal(out, g::arange(1, k16M + 1, 1, g::kFloat32)));
}

// 2^24 random float32 values against a double running sum: accumulated in double, each
// output is the reference rounded to float32. A float32 accumulator drifts by about
// sqrt(n) rounding steps of the running sum's size, 1e-4 of it and more.
TEST(Cumsum, LongFloat32LineStaysWithinRoundingOfADoubleReference) {
  const std::vector<double> values = sample_values(k16M, -1, 1, 7);
  const g::Tensor x = make_tensor(values, {k16M}, g::kFloat32);
  const std::vector<float> got = g::cumsum(x, 0).to_vector<float>();
  const std::vector<float> xs = x.to_vector<float>();  // the float32 inputs the op saw
  double want = 0, worst = 0;
  for (int64_t i = 0; i < k16M; ++i) {
    want += xs[i];
    worst = std::max(worst, std::abs(got[i] - want) / std::max(1.0, std::abs(want)));
  }
  EXPECT_LE(worst, 1e-7);
}

// Reference running sums along dim `dim` of a row-major (rows, cols) array, in double.
std::vector<double> running_sums(const std::vector<double>& x, int64_t rows, int64_t cols,
                                 int dim) {
  std::vector<double> out(x.size());
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < cols; ++c) {
      const int64_t i = r * cols + c;
      const int64_t previous = dim == 0 ? i - cols : i - 1;
      const bool first = dim == 0 ? r == 0 : c == 0;
      out[i] = x[i] + (first ? 0 : out[previous]);
    }
  return out;
}

void expect_near_all(const std::vector<double>& got, const std::vector<double>& want, double tol) {
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i)
    ASSERT_NEAR(got[i], want[i], tol * std::max(1.0, std::abs(want[i]))) << "at " << i;
}

// Few long lines: each is cut into chunks whose carries must chain (and the chunk
// boundaries fall inside the lines, not on them).
TEST(Cumsum, FewLongLinesMatchTheReference) {
  const int64_t rows = 3, cols = 200003;
  const std::vector<double> values = sample_values(rows * cols, -2, 2, 3);
  const g::Tensor x = make_tensor(values, {rows, cols});
  expect_near_all(g::cumsum(x, 1).to_vector<double>(), running_sums(values, rows, cols, 1), 1e-12);
}

// Contiguous 16-bit lines are scanned in blocks (widened, summed in double, rounded by the
// vector conversions): the bits of the element-by-element walk a strided line takes, and
// within a step of each type of the exact running sums, with a NaN and an infinity on their
// way. Lines of 20 elements cover a block's tail, of 700 several blocks.
TEST(Cumsum, SixteenBitLinesInBlocksGiveTheBitsOfTheStridedWalk) {
  for (const g::DType dtype : {g::kFloat16, g::kBFloat16}) {
    for (const int64_t cols : {20, 700}) {
      SCOPED_TRACE(std::string(g::dtype_name(dtype)) + ", " + std::to_string(cols) + " columns");
      const int64_t rows = 33;
      std::vector<double> values = sample_values(rows * 2 * cols, -4, 4, 9);
      values[2 * (5 * cols + 7)] = std::numeric_limits<double>::quiet_NaN();
      values[2 * (9 * cols + 3)] = std::numeric_limits<double>::infinity();
      const g::Tensor wide = make_tensor(values, {rows, 2 * cols}).to(dtype);
      const g::Tensor strided = wide.index({g::Slice(), g::Slice(0, g::None, 2)});
      const g::Tensor contiguous = strided.contiguous();
      const std::vector<double> got = g::cumsum(contiguous, 1).to_vector<double>();
      const std::vector<double> walked = g::cumsum(strided, 1).to_vector<double>();
      const std::vector<double> inputs = contiguous.to_vector<double>();
      const std::vector<double> exact = running_sums(inputs, rows, cols, 1);
      ASSERT_EQ(got.size(), walked.size());
      for (size_t i = 0; i < got.size(); ++i) {
        if (std::isnan(walked[i])) {
          ASSERT_TRUE(std::isnan(got[i])) << "at " << i;
          continue;
        }
        ASSERT_EQ(got[i], walked[i]) << "at " << i;
        if (std::isfinite(exact[i])) {
          const double step =
              std::max(std::abs(exact[i]), 1.0) * (dtype == g::kFloat16 ? 0x1p-11 : 0x1p-8);
          ASSERT_LE(std::abs(got[i] - exact[i]), step) << "at " << i;
        }
      }
    }
  }
}

// Many lines side by side (a scan over dim 0): tiles of neighbouring lines, split across
// threads, with a last tile narrower than the others; and the same lines walked through
// a transposed view, where neighbouring lines are no longer adjacent.
TEST(Cumsum, ManyLinesSideBySideMatchTheReference) {
  const int64_t rows = 517, cols = 1001;
  const std::vector<double> values = sample_values(rows * cols, -2, 2, 5);
  const g::Tensor x = make_tensor(values, {rows, cols});
  const std::vector<double> want = running_sums(values, rows, cols, 0);
  expect_near_all(g::cumsum(x, 0).to_vector<double>(), want, 1e-12);
  const g::Tensor transposed = x.t().contiguous().t();  // the same values, column-major
  expect_near_all(g::cumsum(transposed, 0).to_vector<double>(), want, 1e-12);
}

// The reverse scan (cumsum's gradient) on a line long enough to be cut into chunks: the
// gradient of sum(cumsum(x)) is n - i at i.
TEST(Cumsum, ReverseScanOfALongLineIsTheGradient) {
  const int64_t n = 300001;
  const g::Tensor x = g::zeros({n}, g::kFloat64).requires_grad_();
  g::cumsum(x, 0).sum().backward();
  const std::vector<double> grad = x.grad().to_vector<double>();
  for (int64_t i = 0; i < n; i += 9973) EXPECT_EQ(grad[i], static_cast<double>(n - i)) << i;
  EXPECT_EQ(grad[n - 1], 1);
}

// Integers and bools accumulate in int64 and return it, as PyTorch; int64 wraps around.
TEST(Cumsum, IntegerAndBoolInputsGiveInt64) {
  const g::Tensor flags = make_tensor({1, 0, 1, 1}, {4}, g::kBool);
  const g::Tensor counted = g::cumsum(flags, 0);
  EXPECT_EQ(counted.dtype(), g::kInt64);
  EXPECT_EQ(counted.to_vector<int64_t>(), (std::vector<int64_t>{1, 1, 2, 3}));

  // int32 products past int32's range: exact in int64.
  const g::Tensor big = make_tensor({100000, 100000, -3}, {3}, g::kInt32);
  const g::Tensor products = g::cumprod(big, 0);
  EXPECT_EQ(products.dtype(), g::kInt64);
  EXPECT_EQ(products.to_vector<int64_t>(),
            (std::vector<int64_t>{100000, 10000000000, -30000000000}));

  const int64_t max = std::numeric_limits<int64_t>::max();
  const g::Tensor wraps = g::tensor({max, int64_t{1}});
  EXPECT_EQ(g::cumsum(wraps, 0).to_vector<int64_t>(),
            (std::vector<int64_t>{max, std::numeric_limits<int64_t>::min()}));
}

TEST(Cumsum, ZeroDimAndEmptyInputs) {
  const g::Tensor scalar = make_tensor({2.5}, {}, g::kFloat32);
  for (const int64_t dim : {0, -1}) {
    const g::Tensor out = g::cumsum(scalar, dim);
    EXPECT_EQ(out.dim(), 0);
    EXPECT_EQ(out.item<float>(), 2.5f);
    EXPECT_EQ(g::cumprod(scalar, dim).item<float>(), 2.5f);
  }
  EXPECT_EQ(g::cumsum(make_tensor({3}, {}, g::kInt32), 0).dtype(), g::kInt64);
  const g::Tensor empty = g::cumprod(g::ones({0, 3}), 1);
  EXPECT_EQ(empty.shape(), (g::Shape{0, 3}));
}

TEST(Cumsum, BadDimNamesTheOp) {
  EXPECT_THAT(error_message([] {
                g::cumsum(g::ones({2, 3}), 2);
              }),
              ::testing::HasSubstr("cumsum(): dimension out of range"));
  EXPECT_THAT(error_message([] {
                g::cumprod(g::ones({2, 3}), -3);
              }),
              ::testing::HasSubstr("cumprod(): dimension out of range"));
}

}  // namespace
