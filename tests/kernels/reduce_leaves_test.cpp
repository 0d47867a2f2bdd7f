// The CPU reductions' float leaves (kernels/cpu/reduce_run.h): the wide forms, a block of rows a
// call, 16 lanes in AVX-512 (reduce_avx512.h) and 8 in AVX2 (reduce_v3.h), against the
// portable forms one row at a time. Sums and products give the same bits (element j in
// accumulator j mod 64, merged by the same halving), maxima and minima the same value; over
// row lengths that leave every kind of tail, rows a stride apart, with -0.0, infinities and
// NaN in the rows. The 16-bit sums give the bits of the float sums of their widened values.
#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include "graft/kernels/cpu/cpu_features.h"
#include "graft/kernels/cpu/float_products.h"
#include "graft/kernels/cpu/reduce_avx512.h"
#include "graft/kernels/cpu/reduce_run.h"
#include "graft/kernels/cpu/reduce_v3.h"
#include "test_util.h"

namespace cpu = graft::kernels::cpu;

namespace {

constexpr int64_t kRows = 5;
constexpr float kInf = std::numeric_limits<float>::infinity();
constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();

// kRows rows of n values each, `stride` apart: row 0 random with -0.0 at every third
// element, row 1 all below zero, row 2 all above zero with a +inf (so that a max or min that
// took the zeros past a row's end would be wrong), row 3 random with a NaN at the last
// element, row 4 random with -inf and a NaN at element n / 3.
std::vector<float> rows_of(int64_t n, int64_t stride) {
  const std::vector<double> sample = graft::testing::sample_values(kRows * stride, -100, 100, 5);
  std::vector<float> v(sample.begin(), sample.end());
  if (n == 0) return v;
  for (int64_t i = 0; i < n; ++i) {
    if (i % 3 == 0) v[i] = -0.0f;
    v[1 * stride + i] -= 200;
    v[2 * stride + i] += 200;
  }
  v[2 * stride + n / 2] = kInf;
  v[3 * stride + n - 1] = kNaN;
  v[4 * stride + n / 2] = -kInf;
  v[4 * stride + n / 3] = kNaN;
  return v;
}

const int64_t kLengths[] = {0, 1, 15, 16, 17, 63, 64, 65, 100, 129, 511, 1000, 1024};

}  // namespace

// got[r] has the bits of the float leaf's sum of row r of the rows `stride` apart at rows.
void expect_float_leaf_sums(const float* got, const float* rows, int64_t stride, int64_t n) {
  for (int64_t r = 0; r < kRows; ++r) {
    const float want = cpu::float_sum_leaf(rows + r * stride, n);
    EXPECT_EQ(std::bit_cast<uint32_t>(got[r]), std::bit_cast<uint32_t>(want))
        << n << " elements, row " << r << ": " << got[r] << " against " << want;
  }
}

// A wide form of the leaves: whether this build and CPU run it, and its functions.
struct WideForm {
  const char* name;
  bool runs;
  void (*float_leaves)(cpu::FloatLeaf, const float*, int64_t, int64_t, int64_t, float*);
  void (*half_sums)(const graft::Half*, int64_t, int64_t, int64_t, float*);
  void (*bfloat16_sums)(const graft::BFloat16*, int64_t, int64_t, int64_t, float*);

  void sums(const graft::Half* p, int64_t stride, int64_t rows, int64_t n, float* out) const {
    half_sums(p, stride, rows, n, out);
  }
  void sums(const graft::BFloat16* p, int64_t stride, int64_t rows, int64_t n, float* out) const {
    bfloat16_sums(p, stride, rows, n, out);
  }
};

std::vector<WideForm> wide_forms_that_run() {
  const WideForm all[] = {
      {"16 lanes (AVX-512)", cpu::cpu_runs_avx512(), &cpu::float_leaves_avx512,
       &cpu::sum_leaves_avx512, &cpu::sum_leaves_avx512},
      {"8 lanes (AVX2)", GRAFT_REDUCE_V3 != 0, &cpu::float_leaves_v3, &cpu::sum_leaves_v3,
       &cpu::sum_leaves_v3},
  };
  std::vector<WideForm> running;
  for (const WideForm& form : all)
    if (form.runs) running.push_back(form);
  return running;
}

TEST(ReduceLeaves, WideSumsAreThePortableSumsBitForBit) {
  for (const WideForm& form : wide_forms_that_run()) {
    SCOPED_TRACE(form.name);
    for (const int64_t n : kLengths) {
      const int64_t stride = n + 7;
      const std::vector<float> v = rows_of(n, stride);
      float got[kRows];
      form.float_leaves(cpu::FloatLeaf::kSum, v.data(), stride, kRows, n, got);
      expect_float_leaf_sums(got, v.data(), stride, n);
    }
  }
}

TEST(ReduceLeaves, WideMaximaAndMinimaAreThePortableOnes) {
  for (const WideForm& form : wide_forms_that_run()) {
    SCOPED_TRACE(form.name);
    for (const int64_t n : kLengths) {
      const int64_t stride = n + 3;
      const std::vector<float> v = rows_of(n, stride);
      for (const bool is_max : {true, false}) {
        float got[kRows];
        form.float_leaves(is_max ? cpu::FloatLeaf::kMax : cpu::FloatLeaf::kMin, v.data(), stride,
                          kRows, n, got);
        for (int64_t r = 0; r < kRows; ++r) {
          const float* row = v.data() + r * stride;
          const float want = is_max ? cpu::float_extreme_leaf<true>(row, n)
                                    : cpu::float_extreme_leaf<false>(row, n);
          if (std::isnan(want))
            EXPECT_TRUE(std::isnan(got[r])) << n << " elements, row " << r;
          else
            EXPECT_EQ(got[r], want) << n << " elements, row " << r << (is_max ? " max" : " min");
        }
      }
    }
  }
}

template <class H>
void expect_sixteen_bit_sums_as_the_widened_ones(const WideForm& form) {
  for (const int64_t n : kLengths) {
    const int64_t stride = n + 5;
    const std::vector<float> v = rows_of(n, stride);
    std::vector<H> narrow(v.size());
    std::vector<float> widened(v.size());
    for (size_t i = 0; i < v.size(); ++i) {
      narrow[i] = H(v[i]);
      widened[i] = static_cast<float>(narrow[i]);
    }
    float got[kRows];
    form.sums(narrow.data(), stride, kRows, n, got);
    expect_float_leaf_sums(got, widened.data(), stride, n);
  }
}

TEST(ReduceLeaves, SixteenBitSumsAreTheSumsOfTheWidenedValuesBitForBit) {
  for (const WideForm& form : wide_forms_that_run()) {
    SCOPED_TRACE(form.name);
    expect_sixteen_bit_sums_as_the_widened_ones<graft::Half>(form);
    expect_sixteen_bit_sums_as_the_widened_ones<graft::BFloat16>(form);
  }
}

// kRows rows of n values near 1, whose float products stay in range, `stride` apart: row 0
// as it is, row 1 with -0.0 at n / 2, row 2 with +inf at n / 2 and every other value
// negative, row 3 with a NaN at the last element, row 4 with -inf at n / 3 and 0 at n / 2.
std::vector<float> product_rows_of(int64_t n, int64_t stride) {
  const std::vector<double> sample = graft::testing::sample_values(kRows * stride, 0.9, 1.1, 6);
  std::vector<float> v(sample.begin(), sample.end());
  if (n == 0) return v;
  v[1 * stride + n / 2] = -0.0f;
  for (int64_t i = 0; i < n; i += 2) v[2 * stride + i] = -v[2 * stride + i];
  v[2 * stride + n / 2] = kInf;
  v[3 * stride + n - 1] = kNaN;
  v[4 * stride + n / 3] = -kInf;
  v[4 * stride + n / 2] = 0.0f;
  return v;
}

// The plain float product of a leaf with lanes as the sums' (element j into lane j mod 64, the
// lanes merged by halving).
float plain_float_product(const float* p, int64_t n) {
  float lanes[64];
  std::fill_n(lanes, 64, 1.0f);
  for (int64_t j = 0; j < n; ++j) lanes[j % 64] *= p[j];
  for (int width = 32; width > 0; width /= 2)
    for (int k = 0; k < width; ++k) lanes[k] *= lanes[k + width];
  return lanes[0];
}

// The forms of float_product_leaves that this build and CPU run.
std::vector<cpu::ProductLeaves> product_forms_that_run() {
  std::vector<cpu::ProductLeaves> forms = {cpu::ProductLeaves::kPortable};
  if (GRAFT_REDUCE_V3 != 0) forms.push_back(cpu::ProductLeaves::kEightLanes);
  if (cpu::cpu_runs_avx512()) forms.push_back(cpu::ProductLeaves::kSixteenLanes);
  return forms;
}

TEST(ReduceLeaves, ProductsInEveryFormAreThePlainFloatProductsBitForBit) {
  for (const cpu::ProductLeaves form : product_forms_that_run()) {
    SCOPED_TRACE(static_cast<int>(form));
    for (const int64_t n : kLengths) {
      const int64_t stride = n + 9;
      const std::vector<float> v = product_rows_of(n, stride);
      double got[kRows];
      EXPECT_TRUE(cpu::float_product_leaves(v.data(), stride, kRows, n, got, form)) << n;
      for (int64_t r = 0; r < kRows; ++r) {
        const float want = plain_float_product(v.data() + r * stride, n);
        if (std::isnan(want))
          EXPECT_TRUE(std::isnan(got[r])) << n << " elements, row " << r;
        else
          EXPECT_EQ(std::bit_cast<uint64_t>(got[r]),
                    std::bit_cast<uint64_t>(static_cast<double>(want)))
              << n << " elements, row " << r << ": " << got[r] << " against " << want;
      }
    }
  }
}

TEST(ReduceLeaves, ProductsKeepADoublesRangeAndSayWhenAFloatMultiplicationLeftFloats) {
  // A thousand halves: 2^-1000, far below a float's range, given exactly (each lane's exponent
  // kept apart). 2^-10 and 2^10 in turn, so that every lane takes sixteen of one of them:
  // lanes at 2^-160 and 2^160, whose exponents are taken out on the way, and a product of 1.
  // Runs of four 1e30 in every lane overflow a float between two takings of the exponents, and
  // say so.
  const std::vector<float> halves(1000, -0.5f);
  std::vector<float> tides(1024);
  for (size_t i = 0; i < tides.size(); ++i) tides[i] = i % 2 == 0 ? 0x1p-10f : 0x1p10f;
  std::vector<float> extremes(512, 1e30f);
  std::fill(extremes.begin() + 256, extremes.end(), 1e-30f);
  for (const cpu::ProductLeaves form : product_forms_that_run()) {
    SCOPED_TRACE(static_cast<int>(form));
    double got;
    EXPECT_TRUE(cpu::float_product_leaves(halves.data(), 0, 1, 1000, &got, form));
    EXPECT_EQ(got, std::ldexp(1.0, -1000));
    EXPECT_TRUE(cpu::float_product_leaves(tides.data(), 0, 1, 1024, &got, form));
    EXPECT_EQ(got, 1.0);
    EXPECT_FALSE(cpu::float_product_leaves(extremes.data(), 0, 1, 512, &got, form));
  }
}
