// The CPU's bfloat16 GEMM kernels (kernels/cpu/gemm_bfloat16.h), each one this machine runs,
// against a double-precision product of the same bfloat16 values: every size around the
// kernels' tile and k-step edges, operands row-major, column-major and with a row step, inf
// and NaN, and the same bits on one thread and two. A kernel the CPU lacks is skipped,
// saying so; matmul's own tests and the registry cover the dispatch either way.
#include <gtest/gtest.h>

#include <array>
#include <cmath>
#include <iostream>
#include <limits>
#include <string>
#include <vector>

#include "graft/kernels/cpu/gemm_bfloat16.h"
#include "settings_scope.h"
#include "test_util.h"

namespace g = graft;
using g::BFloat16;
using g::kernels::cpu::BFloat16Gemm;
using g::kernels::cpu::BFloat16Matrix;

namespace {

// How an operand's (rows, cols) values are laid out in memory.
enum class Layout { kRowMajor, kColumnMajor, kRowStep };

// A matrix's values and a strided copy of them.
struct Operand {
  int64_t rows, cols;
  std::vector<BFloat16> values;  // logical, row-major
  std::vector<BFloat16> memory;
  BFloat16Matrix view{};

  Operand(int64_t rows_, int64_t cols_, Layout layout, uint32_t seed) : rows(rows_), cols(cols_) {
    for (double v : g::testing::sample_values(rows * cols, -2.0, 2.0, seed))
      values.emplace_back(static_cast<float>(v));
    // kRowStep: each row padded by 3 unused elements, as a narrow()ed column range.
    const int64_t row_stride = layout == Layout::kColumnMajor ? 1
                               : layout == Layout::kRowStep   ? cols + 3
                                                              : cols;
    const int64_t col_stride = layout == Layout::kColumnMajor ? rows : 1;
    memory.assign(std::max<int64_t>(rows * row_stride + cols * col_stride, 1), BFloat16(99.0f));
    for (int64_t i = 0; i < rows; ++i)
      for (int64_t j = 0; j < cols; ++j)
        memory[i * row_stride + j * col_stride] = values[i * cols + j];
    view = {memory.data(), row_stride, col_stride};
  }
  double at(int64_t i, int64_t j) const { return static_cast<double>(values[i * cols + j]); }
};

std::vector<BFloat16Gemm> kernels_to_test() { return {BFloat16Gemm::kAvx512, BFloat16Gemm::kAmx}; }

const char* name(BFloat16Gemm kernel) { return kernel == BFloat16Gemm::kAmx ? "AMX" : "AVX512"; }

std::vector<BFloat16> multiply(BFloat16Gemm kernel, const Operand& a, const Operand& b) {
  std::vector<BFloat16> out(a.rows * b.cols, BFloat16(-7.0f));
  g::kernels::cpu::gemm_bfloat16(kernel, a.view, b.view, out.data(), a.rows, a.cols, b.cols);
  return out;
}

// out against the double product: within half a bfloat16 step of the exact sum, plus what
// k float32 additions can lose.
void expect_product(const std::vector<BFloat16>& out, const Operand& a, const Operand& b,
                    const std::string& what) {
  const int64_t m = a.rows, k = a.cols, n = b.cols;
  int failures = 0;
  for (int64_t i = 0; i < m; ++i) {
    for (int64_t j = 0; j < n; ++j) {
      double exact = 0, magnitude = 0;
      for (int64_t p = 0; p < k; ++p) {
        exact += a.at(i, p) * b.at(p, j);
        magnitude += std::abs(a.at(i, p) * b.at(p, j));
      }
      const double got = static_cast<double>(out[i * n + j]);
      const double tolerance = std::ldexp(std::abs(exact), -8) + k * std::ldexp(magnitude, -23);
      if (std::abs(got - exact) > tolerance && ++failures <= 3)
        ADD_FAILURE() << what << ": out(" << i << ", " << j << ") = " << got << ", expected "
                      << exact << " within " << tolerance;
    }
  }
}

TEST(GemmBFloat16, EverySizeAroundTheTileAndStepEdgesAndEveryLayout) {
  // (m, k, n): single elements, k odd and around AMX's step of 32, m around the tiles'
  // 12 and 32 rows, n around 16 and 32 columns, blocks of 96 and 128.
  const std::vector<std::array<int64_t, 3>> sizes = {
      {1, 1, 1},    {1, 2, 1},     {13, 7, 33},    {12, 31, 32},   {32, 32, 16},
      {33, 33, 17}, {37, 64, 100}, {100, 301, 65}, {129, 65, 129}, {5, 0, 3}};
  const Layout layouts[] = {Layout::kRowMajor, Layout::kColumnMajor, Layout::kRowStep};
  for (const BFloat16Gemm kernel : kernels_to_test()) {
    if (!g::kernels::cpu::cpu_runs(kernel)) {
      std::cout << "[ SKIPPED  ] the " << name(kernel) << " kernel: this CPU lacks it\n";
      continue;
    }
    for (const auto& [m, k, n] : sizes) {
      for (const Layout la : layouts) {
        for (const Layout lb : layouts) {
          const Operand a(m, k, la, 1), b(k, n, lb, 2);
          expect_product(multiply(kernel, a, b), a, b,
                         std::string(name(kernel)) + " " + std::to_string(m) + "x" +
                             std::to_string(k) + "x" + std::to_string(n) + " layouts " +
                             std::to_string(static_cast<int>(la)) + "," +
                             std::to_string(static_cast<int>(lb)));
        }
      }
    }
  }
}

TEST(GemmBFloat16, InfinityAndNanFollowIeee) {
  for (const BFloat16Gemm kernel : kernels_to_test()) {
    if (!g::kernels::cpu::cpu_runs(kernel)) continue;
    Operand a(2, 40, Layout::kRowMajor, 3), b(40, 3, Layout::kRowMajor, 4);
    for (BFloat16& v : b.memory) v = BFloat16(1.0f);
    a.memory[5] = BFloat16(std::numeric_limits<float>::infinity());        // row 0
    a.memory[40 + 7] = BFloat16(std::numeric_limits<float>::quiet_NaN());  // row 1
    const std::vector<BFloat16> out = multiply(kernel, a, b);
    for (int64_t j = 0; j < 3; ++j) {
      EXPECT_EQ(static_cast<float>(out[j]), std::numeric_limits<float>::infinity()) << name(kernel);
      EXPECT_TRUE(std::isnan(static_cast<float>(out[3 + j]))) << name(kernel);
    }
  }
}

TEST(GemmBFloat16, TheBitsDoNotDependOnTheThreadCount) {
  for (const BFloat16Gemm kernel : kernels_to_test()) {
    if (!g::kernels::cpu::cpu_runs(kernel)) continue;
    const Operand a(300, 257, Layout::kRowMajor, 5), b(257, 290, Layout::kColumnMajor, 6);
    std::vector<BFloat16> one, two;
    {
      const g::testing::SettingsScope threads(std::nullopt, 1);
      one = multiply(kernel, a, b);
    }
    {
      const g::testing::SettingsScope threads(std::nullopt, 2);
      two = multiply(kernel, a, b);
    }
    ASSERT_EQ(one.size(), two.size());
    for (size_t i = 0; i < one.size(); ++i)
      ASSERT_EQ(one[i].bits(), two[i].bits()) << name(kernel) << " element " << i;
  }
}

// matmul on bfloat16 (whichever kernel serves it) against the rounded float32 product.
TEST(GemmBFloat16, MatmulMatchesTheWidenedProduct) {
  const g::Tensor a = g::randn({3, 70, 50}).to(g::kBFloat16);
  const g::Tensor b = g::randn({50, 40}).to(g::kBFloat16);
  const g::Tensor expected = g::matmul(a.to(g::kFloat32), b.to(g::kFloat32));
  const g::Tensor got = g::matmul(a, b.t().contiguous().t());
  ASSERT_EQ(got.dtype(), g::kBFloat16);
  const double tolerance = 2.0 * std::ldexp(1.0, -8);
  EXPECT_TRUE(g::allclose(got.to(g::kFloat32), expected, tolerance, 1e-3))
      << "best kernel: " << static_cast<int>(g::kernels::cpu::best_bfloat16_gemm());
}

}  // namespace
