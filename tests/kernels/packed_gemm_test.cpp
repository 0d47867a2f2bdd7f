// The CPU's packed GEMM kernels (kernels/cpu/packed_gemm.h), each one this machine runs,
// against a double-precision product of the same float32, float16 or bfloat16 values: every size
// around the kernels' tile and k-step edges, operands row-major, column-major and with a
// row step, inf and NaN, and the same bits on one thread and two; and so the float32 dot
// products that take the products too narrow for those tiles (kernels/cpu/dot_products.h). A
// kernel the CPU lacks is skipped, saying so; matmul's own tests and the registry cover the
// dispatch either way.
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <iostream>
#include <limits>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "graft/kernels/cpu/dot_products.h"
#include "graft/kernels/cpu/packed_gemm.h"
#include "settings_scope.h"
#include "test_util.h"

namespace g = graft;
using g::BFloat16;
using g::Half;
using g::kernels::cpu::PackedGemm;
using g::kernels::cpu::StridedMatrix;

namespace {

// How an operand's (rows, cols) values are laid out in memory. The far layouts put the
// steps along k 512 or more elements apart, where the kernel packs an operand it would
// otherwise read in place.
enum class Layout { kRowMajor, kColumnMajor, kRowStep, kFarRows, kFarColumns };

// A matrix's values and a strided copy of them.
template <class T>
struct Operand {
  int64_t rows, cols;
  std::vector<T> values;  // logical, row-major
  std::vector<T> memory;
  StridedMatrix<T> view{};

  Operand(int64_t rows_, int64_t cols_, Layout layout, uint32_t seed) : rows(rows_), cols(cols_) {
    for (double v : g::testing::sample_values(rows * cols, -2.0, 2.0, seed))
      values.emplace_back(static_cast<float>(v));
    // kRowStep: each row padded by 3 unused elements, as a narrow()ed column range; the far
    // layouts by 515, as a slice of a wide matrix or of its transpose.
    const bool column_major = layout == Layout::kColumnMajor || layout == Layout::kFarColumns;
    const int64_t padding = layout == Layout::kRowStep                                    ? 3
                            : layout == Layout::kFarRows || layout == Layout::kFarColumns ? 515
                                                                                          : 0;
    const int64_t row_stride = column_major ? 1 : cols + padding;
    const int64_t col_stride = column_major ? rows + padding : 1;
    memory.assign(std::max<int64_t>(rows * row_stride + cols * col_stride, 1), T(99.0f));
    for (int64_t i = 0; i < rows; ++i)
      for (int64_t j = 0; j < cols; ++j)
        memory[i * row_stride + j * col_stride] = values[i * cols + j];
    view = {memory.data(), row_stride, col_stride};
  }
  double at(int64_t i, int64_t j) const { return static_cast<double>(values[i * cols + j]); }
};

// The kernels for T, each with its name.
template <class T>
std::vector<std::pair<PackedGemm, const char*>> kernels_for() {
  if constexpr (std::is_same_v<T, float>)
    return {{PackedGemm::kAvx512Float, "AVX-512 float32"},
            {PackedGemm::kAvx2Float, "AVX2 float32"}};
  if constexpr (std::is_same_v<T, Half>)
    return {{PackedGemm::kAvx512Half, "AVX-512 float16"}, {PackedGemm::kAvx2Half, "AVX2 float16"}};
  return {{PackedGemm::kAvx512BFloat16, "AVX512-BF16"},
          {PackedGemm::kAmxBFloat16, "AMX"},
          {PackedGemm::kAvx2BFloat16, "AVX2 bfloat16"}};
}

template <class T>
std::vector<T> multiply(PackedGemm kernel, const Operand<T>& a, const Operand<T>& b) {
  std::vector<T> out(a.rows * b.cols, T(-7.0f));
  g::kernels::cpu::packed_gemm(kernel, a.view, b.view, out.data(), a.rows, a.cols, b.cols);
  return out;
}

// out against the double product: within half a step of T of the exact sum (at least half
// T's smallest subnormal, where the sum is below T's normal range), plus what k float32
// additions can lose.
template <class T>
void expect_product(const std::vector<T>& out, const Operand<T>& a, const Operand<T>& b,
                    const std::string& what) {
  const int rounding = std::is_same_v<T, float> ? -24 : std::is_same_v<T, Half> ? -11 : -8;
  const int smallest = std::is_same_v<T, float> ? -149 : std::is_same_v<T, Half> ? -24 : -133;
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
      const double tolerance =
          std::max(std::ldexp(std::abs(exact), rounding), std::ldexp(1.0, smallest - 1)) +
          k * std::ldexp(magnitude, -23);
      if (std::abs(got - exact) > tolerance && ++failures <= 3)
        ADD_FAILURE() << what << ": out(" << i << ", " << j << ") = " << got << ", expected "
                      << exact << " within " << tolerance;
    }
  }
}

template <class T>
void expect_every_size_and_layout() {
  // (m, k, n): single elements, k odd and around AMX's step of 32 (whole steps let AMX read
  // a row-major a where it lies, a last partial panel packed; AVX512-BF16 reads one at any
  // even k, a last partial panel too), m around the tiles' 6, 14 and 32 rows, n around 16 and
  // 32 columns, blocks of 96, 112 and 128, and row panels cut into unequal parts (17 panels of
  // 14 rows into 3 or 4).
  const std::vector<std::array<int64_t, 3>> sizes = {
      {1, 1, 1},      {1, 2, 1},      {5, 17, 40},   {6, 33, 32},  {7, 8, 65},    {13, 7, 33},
      {14, 31, 32},   {15, 9, 31},    {32, 32, 16},  {33, 33, 17}, {37, 64, 100}, {70, 96, 40},
      {100, 301, 65}, {129, 65, 129}, {225, 20, 64}, {5, 0, 3}};
  const Layout layouts[] = {Layout::kRowMajor, Layout::kColumnMajor, Layout::kRowStep,
                            Layout::kFarRows, Layout::kFarColumns};
  for (const auto& [kernel, name] : kernels_for<T>()) {
    if (!g::kernels::cpu::cpu_runs(kernel)) {
      std::cout << "[ SKIPPED  ] the " << name << " kernel: this CPU lacks it\n";
      continue;
    }
    for (const auto& [m, k, n] : sizes) {
      for (const Layout la : layouts) {
        for (const Layout lb : layouts) {
          const Operand<T> a(m, k, la, 1), b(k, n, lb, 2);
          expect_product(multiply(kernel, a, b), a, b,
                         std::string(name) + " " + std::to_string(m) + "x" + std::to_string(k) +
                             "x" + std::to_string(n) + " layouts " +
                             std::to_string(static_cast<int>(la)) + "," +
                             std::to_string(static_cast<int>(lb)));
        }
      }
    }
  }
}

template <class T>
void expect_ieee_infinity_and_nan() {
  for (const auto& [kernel, name] : kernels_for<T>()) {
    if (!g::kernels::cpu::cpu_runs(kernel)) continue;
    Operand<T> a(2, 40, Layout::kRowMajor, 3), b(40, 3, Layout::kRowMajor, 4);
    for (T& v : b.memory) v = T(1.0f);
    a.memory[5] = T(std::numeric_limits<float>::infinity());        // row 0
    a.memory[40 + 7] = T(std::numeric_limits<float>::quiet_NaN());  // row 1
    const std::vector<T> out = multiply(kernel, a, b);
    for (int64_t j = 0; j < 3; ++j) {
      EXPECT_EQ(static_cast<float>(out[j]), std::numeric_limits<float>::infinity()) << name;
      EXPECT_TRUE(std::isnan(static_cast<float>(out[3 + j]))) << name;
    }
  }
}

template <class T>
void expect_the_same_bits_on_one_thread_and_two() {
  for (const auto& [kernel, name] : kernels_for<T>()) {
    if (!g::kernels::cpu::cpu_runs(kernel)) continue;
    for (const int64_t k : {257, 256}) {  // a row-major a packed, and read where it lies
      const Operand<T> a(300, k, Layout::kRowMajor, 5), b(k, 290, Layout::kColumnMajor, 6);
      std::vector<T> one, two;
      {
        const g::testing::SettingsScope threads(std::nullopt, 1);
        one = multiply(kernel, a, b);
      }
      {
        const g::testing::SettingsScope threads(std::nullopt, 2);
        two = multiply(kernel, a, b);
      }
      ASSERT_EQ(std::memcmp(one.data(), two.data(), one.size() * sizeof(T)), 0) << name << k;
    }
  }
}

TEST(PackedGemm, EverySizeAroundTheTileAndStepEdgesAndEveryLayout) {
  expect_every_size_and_layout<float>();
  expect_every_size_and_layout<Half>();
  expect_every_size_and_layout<BFloat16>();
}

TEST(PackedGemm, InfinityAndNanFollowIeee) {
  expect_ieee_infinity_and_nan<float>();
  expect_ieee_infinity_and_nan<Half>();
  expect_ieee_infinity_and_nan<BFloat16>();
}

TEST(PackedGemm, TheBitsDoNotDependOnTheThreadCount) {
  expect_the_same_bits_on_one_thread_and_two<float>();
  expect_the_same_bits_on_one_thread_and_two<Half>();
  expect_the_same_bits_on_one_thread_and_two<BFloat16>();
}

TEST(PackedGemm, Float32AccumulatesOntoOutAndTakesALongKInPasses) {
  // accumulate: out += a x b. k = 2500 runs in three passes of at most 1024 words, each adding
  // onto the last (packed_gemm.cpp); m and n cut tiles short.
  const Operand<float> a(13, 2500, Layout::kRowMajor, 7), b(2500, 33, Layout::kColumnMajor, 8);
  const Operand<float> start(13, 33, Layout::kRowMajor, 9);
  for (const auto& [kernel, name] : kernels_for<float>()) {
    if (!g::kernels::cpu::cpu_runs(kernel)) continue;
    std::vector<float> out = start.values;
    g::kernels::cpu::packed_gemm(kernel, a.view, b.view, out.data(), 13, 2500, 33,
                                 /*accumulate=*/true);
    // The product alone against double precision, then out against start + product.
    const std::vector<float> product = multiply(kernel, a, b);
    expect_product(product, a, b, std::string(name) + ", k = 2500");
    for (size_t i = 0; i < out.size(); ++i)
      EXPECT_NEAR(out[i], start.values[i] + product[i], 1e-5 * (1 + std::abs(out[i])))
          << name << " " << i;
  }
}

TEST(PackedGemm, Float32PacksTheOperandsWhereItPays) {
  // n >= 512: a row-major a is packed, by panels transposed in registers (k = 300 leaves a tail
  // of 12 past AVX-512's 16-wide blocks, of 4 past AVX2's 8-wide; m = 100 and 130 a last panel
  // of 2 and 4 rows of 14, of 4 and 4 of 6), once per row
  // part on each thread, reused for the part's other column blocks. b's rows 1030 floats apart
  // (past 4 KB): read in place for m = 100, packed for m = 130. Two products of the same shapes
  // in a row must not reuse each other's panels.
  const Operand<float> b(300, 1030, Layout::kRowMajor, 10);
  for (const auto& [kernel, name] : kernels_for<float>()) {
    if (!g::kernels::cpu::cpu_runs(kernel)) continue;
    for (const int threads : {1, 2}) {
      const g::testing::SettingsScope scope(std::nullopt, threads);
      for (const auto& [m, layout] : {std::pair{int64_t{100}, Layout::kRowMajor},
                                      std::pair{int64_t{130}, Layout::kRowStep}}) {
        for (const uint32_t seed : {11u, 12u}) {
          const Operand<float> a(m, 300, layout, seed);
          expect_product(multiply(kernel, a, b), a, b,
                         std::string(name) + ", " + std::to_string(threads) + " threads, m = " +
                             std::to_string(m) + ", seed " + std::to_string(seed));
        }
      }
    }
  }
}

// matmul on float16 and bfloat16 (whichever kernel serves each) against the rounded float32
// product.
TEST(PackedGemm, HalfMatmulsMatchTheWidenedProduct) {
  for (const auto& [dtype, bits] : {std::pair{g::kFloat16, 11}, std::pair{g::kBFloat16, 8}}) {
    const g::Tensor a = g::randn({3, 70, 50}).to(dtype);
    const g::Tensor b = g::randn({50, 40}).to(dtype);
    const g::Tensor expected = g::matmul(a.to(g::kFloat32), b.to(g::kFloat32));
    const g::Tensor got = g::matmul(a, b.t().contiguous().t());
    ASSERT_EQ(got.dtype(), dtype);
    const double tolerance = 2.0 * std::ldexp(1.0, -bits);
    EXPECT_TRUE(g::allclose(got.to(g::kFloat32), expected, tolerance, 1e-3))
        << dtype << ", best kernel: " << static_cast<int>(g::kernels::cpu::best_packed_gemm(dtype));
  }
}

// The dot products of a (m, k) by b (k, n) in the given layouts against the double product;
// for float32, their x86-64-v3 form too (which CPUs without AVX-512 take).
template <class T>
void expect_dot_products(int64_t m, int64_t k, int64_t n, Layout la, Layout lb) {
  const Operand<T> a(m, k, la, 21), b(k, n, lb, 22);
  const std::string what = std::to_string(sizeof(T)) + "-byte " + std::to_string(m) + "x" +
                           std::to_string(k) + "x" + std::to_string(n) + " layouts " +
                           std::to_string(static_cast<int>(la)) + "," +
                           std::to_string(static_cast<int>(lb));
  ASSERT_TRUE(g::kernels::cpu::dot_products_serve(a.view, b.view, m, k, n)) << what;
  std::vector<T> out(m * n, T(-7.0f));
  g::kernels::cpu::dot_products(a.view, b.view, out.data(), m, k, n);
  expect_product(out, a, b, what);
  if constexpr (std::is_same_v<T, float>) {
    if (!GRAFT_DOT_PRODUCTS_V3) return;
    std::vector<float> v3(m * n, -7.0f);
    g::kernels::cpu::dot_products_v3(a.view, b.view, v3.data(), m, k, n);
    expect_product(v3, a, b, what + ", x86-64-v3");
  }
}

// The dot products: a's rows and b's columns contiguous along k (a row-major, with a row step
// or not; b column-major, its columns near or far apart), every tile shape of up to 4 x 6 (3 x
// 4 for x86-64-v3) and groups of them as even as they come, k around the 16 or 8 lanes of a
// step and long, k = 0. float32 on every CPU; the 16-bit types where the CPU serves them.
template <class T>
void expect_dot_products_of_every_shape() {
  if (!g::kernels::cpu::dot_products_serve(Operand<T>(1, 1, Layout::kRowMajor, 1).view,
                                           Operand<T>(1, 1, Layout::kColumnMajor, 2).view, 1, 1,
                                           1)) {
    std::cout << "[ SKIPPED  ] dot products of " << sizeof(T) << "-byte values: not on this CPU\n";
    return;
  }
  for (const int64_t m : {1, 2, 3, 4, 5, 9, 13, 64})
    for (const int64_t n : {1, 5, 6, 7, 10, 13, 31})
      for (const int64_t k : {0, 1, 7, 8, 9, 15, 16, 17, 300})
        for (const Layout la : {Layout::kRowMajor, Layout::kRowStep})
          for (const Layout lb : {Layout::kColumnMajor, Layout::kFarColumns})
            expect_dot_products<T>(m, k, n, la, lb);
}

TEST(DotProducts, EveryTileShapeAndKAroundTheStep) {
  expect_dot_products_of_every_shape<float>();
  expect_dot_products_of_every_shape<Half>();
  expect_dot_products_of_every_shape<BFloat16>();
}

// Whether this build has float32 dot products for this CPU: AVX-512's, or AVX2's in a build for
// x86-64-v3 (a build for an older target has them only with AVX-512).
bool float_dot_products_here() {
  return g::kernels::cpu::best_packed_gemm(g::kFloat32) != PackedGemm::kNone;
}

TEST(DotProducts, ServeOnlyOperandsAlongKAndOutputsTooSmallForATile) {
  using g::kernels::cpu::dot_products_serve;
  if (!float_dot_products_here()) GTEST_SKIP() << "no float32 dot products in this build here";
  const Operand<float> rows(64, 40, Layout::kRowMajor, 1), columns(40, 10, Layout::kColumnMajor, 2);
  const Operand<float> wide(40, 32, Layout::kColumnMajor, 3),
      row_major(40, 10, Layout::kRowMajor, 4);
  const Operand<float> by_columns(64, 40, Layout::kColumnMajor, 5);
  EXPECT_TRUE(dot_products_serve(rows.view, columns.view, 64, 40, 10));  // a classifier's head
  // Fewer rows than a tile of the packed GEMM's, with dot products of any length: 13 is short
  // of AVX-512's 14, a whole tile of AVX2's 6.
  const bool avx512 = g::kernels::cpu::cpu_runs(PackedGemm::kAvx512Float);
  EXPECT_TRUE(dot_products_serve(rows.view, wide.view, 5, 40, 32));
  EXPECT_TRUE(dot_products_serve(rows.view, wide.view, 5, 256, 32));
  EXPECT_EQ(dot_products_serve(rows.view, wide.view, 13, 40, 32), avx512);
  EXPECT_FALSE(dot_products_serve(rows.view, wide.view, 64, 40, 32));  // a whole tile: packed
  EXPECT_FALSE(dot_products_serve(rows.view, row_major.view, 64, 40, 10));
  EXPECT_FALSE(dot_products_serve(by_columns.view, columns.view, 64, 40, 10));
}

// packed_gemm_if_it_pays takes a narrow product along k as dot products, adding onto out, whose
// rows are out_stride apart: a first convolution's weight gradient, (32, 784) x (784, 9) per
// image into a (32, 9) accumulator (here with 3 more floats a row, which stay as they were);
// and dot_products_v3 the same way.
TEST(DotProducts, AccumulateOntoOutWithItsRowStride) {
  using g::kernels::cpu::dot_products;
  using g::kernels::cpu::dot_products_v3;
  const Operand<float> a(32, 784, Layout::kRowMajor, 41), b(784, 9, Layout::kColumnMajor, 42);
  const Operand<float> start(32, 12, Layout::kRowMajor, 43);
  for (const bool v3 : {false, true}) {
    if (v3 ? !GRAFT_DOT_PRODUCTS_V3 : !float_dot_products_here()) continue;
    // The product alone, then onto start: each sum is the product's, added to start's value
    // and rounded once.
    std::vector<float> product(32 * 9), out = start.values;
    if (v3) {
      dot_products_v3(a.view, b.view, product.data(), 32, 784, 9);
      dot_products_v3(a.view, b.view, out.data(), 32, 784, 9, /*accumulate=*/true,
                      /*out_stride=*/12);
    } else {
      dot_products(a.view, b.view, product.data(), 32, 784, 9);
      ASSERT_TRUE(g::kernels::cpu::packed_gemm_if_it_pays(a.view, b.view, out.data(), 32, 784, 9,
                                                          /*accumulate=*/true,
                                                          /*out_stride=*/12));
    }
    expect_product(product, a, b, v3 ? "x86-64-v3" : "(32, 784) x (784, 9)");
    for (int64_t i = 0; i < 32; ++i)
      for (int64_t j = 0; j < 12; ++j) {
        const float before = start.values[i * 12 + j];
        EXPECT_EQ(out[i * 12 + j], j < 9 ? before + product[i * 9 + j] : before)
            << i << ", " << j << (v3 ? ", x86-64-v3" : "");
      }
  }
}

TEST(DotProducts, InfinityNanAndTheSameBitsOnOneThreadAndTwo) {
  Operand<float> a(64, 3000, Layout::kRowMajor, 31);
  const Operand<float> b(3000, 10, Layout::kColumnMajor, 32);
  a.memory[5] = std::numeric_limits<float>::infinity();          // row 0
  a.memory[3000 + 7] = std::numeric_limits<float>::quiet_NaN();  // row 1
  for (const bool v3 : {false, true}) {
    if (v3 ? !GRAFT_DOT_PRODUCTS_V3 : !float_dot_products_here()) continue;
    const auto product = [&](int threads) {
      const g::testing::SettingsScope scope(std::nullopt, threads);
      std::vector<float> out(64 * 10);
      if (v3)
        g::kernels::cpu::dot_products_v3(a.view, b.view, out.data(), 64, 3000, 10);
      else
        g::kernels::cpu::dot_products(a.view, b.view, out.data(), 64, 3000, 10);
      return out;
    };
    const std::vector<float> one = product(1), two = product(2);
    ASSERT_EQ(std::memcmp(one.data(), two.data(), one.size() * sizeof(float)), 0) << v3;
    for (int64_t j = 0; j < 10; ++j) {
      EXPECT_TRUE(std::isinf(one[j])) << j;  // inf times b's nonzero values, whatever their signs
      EXPECT_TRUE(std::isnan(one[10 + j])) << j;
    }
  }
}

// matmul takes the dot products for a Linear layer's x @ w.t() with few outputs, on every
// batch and broadcast form, and gives the double product's values.
TEST(DotProducts, MatmulOfALinearHeadMatchesTheDoubleProduct) {
  const g::Tensor x = g::randn({3, 64, 200}), w = g::randn({10, 200});
  const g::Tensor got = g::matmul(x, w.t());
  const g::Tensor expected = g::matmul(x.to(g::kFloat64), w.to(g::kFloat64).t());
  EXPECT_TRUE(g::allclose(got.to(g::kFloat64), expected, 1e-5, 1e-4));
  const g::Tensor row = g::matmul(x[1][7], w.t());  // a vector: one row of the output
  EXPECT_TRUE(g::allclose(row.to(g::kFloat64), expected[1][7], 1e-5, 1e-4));
}

TEST(DotProducts, HalfHeadsMatchTheWidenedProductRoundedOnce) {
  for (const auto& [dtype, bits] : {std::pair{g::kFloat16, 11}, std::pair{g::kBFloat16, 8}}) {
    const g::Tensor x = g::randn({64, 300}).to(dtype), w = g::randn({10, 300}).to(dtype);
    const g::Tensor got = g::matmul(x, w.t());
    const g::Tensor expected = g::matmul(x.to(g::kFloat64), w.to(g::kFloat64).t());
    ASSERT_EQ(got.dtype(), dtype);
    EXPECT_TRUE(g::allclose(got.to(g::kFloat64), expected, 2.0 * std::ldexp(1.0, -bits), 1e-3))
        << dtype;
  }
}

}  // namespace
