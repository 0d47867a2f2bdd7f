// multinomial beyond its registry rows (which check exact draws against a replay of the
// documented sampler): the statistics of the samples, the properties without replacement,
// reproducibility, and every error.
//
// The statistical checks use fixed seeds and many draws, with a bound of 5 standard
// deviations per category (a false alarm about once in 3.5 million categories), and are
// written so that a wrong sampler cannot pass: a category of probability 0 must never come
// out, and without replacement the second draw must follow the sequential law
// P(second = j) = sum over i != j of p_i p_j / (1 - p_i), which differs from p_j.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <set>
#include <vector>

#include "graft/core/random.h"
#include "test_util.h"

namespace g = graft;
using g::Tensor;
using g::testing::error_message;
using g::testing::make_tensor;
using ::testing::HasSubstr;

namespace {

// How often each of `n` categories occurs in `samples`.
std::vector<int64_t> counts(const std::vector<int64_t>& samples, int64_t n) {
  std::vector<int64_t> out(static_cast<size_t>(n));
  for (int64_t s : samples) {
    EXPECT_TRUE(s >= 0 && s < n) << "category " << s << " out of [0, " << n << ")";
    if (s >= 0 && s < n) ++out[static_cast<size_t>(s)];
  }
  return out;
}

// Each count within 5 sigma of draws * p (binomial); a category with p = 0 never drawn.
void expect_frequencies(const std::vector<int64_t>& got, const std::vector<double>& p,
                        int64_t draws) {
  ASSERT_EQ(got.size(), p.size());
  for (size_t j = 0; j < p.size(); ++j) {
    if (p[j] == 0) {
      EXPECT_EQ(got[j], 0) << "category " << j << " has probability 0";
      continue;
    }
    const double mean = static_cast<double>(draws) * p[j];
    const double sigma = std::sqrt(mean * (1 - p[j]));
    EXPECT_LE(std::abs(static_cast<double>(got[j]) - mean), 5 * sigma)
        << "category " << j << ": " << got[j] << " draws, expected " << mean << " +- " << sigma;
  }
}

std::vector<double> normalized(std::vector<double> w) {
  double total = 0;
  for (double v : w) total += v;
  for (double& v : w) v /= total;
  return w;
}

TEST(Multinomial, WithReplacementFrequenciesFollowTheWeights) {
  g::manual_seed(11);
  // Unnormalised weights: only their ratios matter.
  const std::vector<double> weights = {0.3, 0, 0.6, 0.9, 1.2};
  const int64_t draws = 200000;
  for (g::DType dtype : {g::kFloat32, g::kFloat64}) {
    const Tensor samples = g::multinomial(make_tensor(weights, {5}, dtype), draws, true);
    EXPECT_EQ(samples.dtype(), g::kInt64);
    EXPECT_EQ(samples.shape(), g::Shape{draws});
    expect_frequencies(counts(samples.to_vector<int64_t>(), 5), normalized(weights), draws);
  }
}

TEST(Multinomial, RowsAreDistributionsOfTheirOwn) {
  g::manual_seed(12);
  const Tensor probs = make_tensor({0.1, 0.2, 0.7, 0, /**/ 0, 0, 0, 5}, {2, 4});
  const Tensor samples = g::multinomial(probs, 50000, true);
  ASSERT_EQ(samples.shape(), (g::Shape{2, 50000}));
  expect_frequencies(counts(samples.select(0, 0).to_vector<int64_t>(), 4), {0.1, 0.2, 0.7, 0},
                     50000);
  for (int64_t s : samples.select(0, 1).to_vector<int64_t>()) ASSERT_EQ(s, 3);
}

TEST(Multinomial, WithoutReplacementDrawsAreDistinctAndFollowTheSequentialLaw) {
  g::manual_seed(13);
  const std::vector<double> p = {0.5, 0.25, 0.125, 0.125, 0, 0};
  const int64_t rows = 40000;
  const Tensor probs = make_tensor(p, {1, 6}).expand({rows, 6});
  const std::vector<int64_t> samples = g::multinomial(probs, 3).to_vector<int64_t>();
  std::vector<int64_t> first, second;
  for (int64_t r = 0; r < rows; ++r) {
    const std::set<int64_t> row(samples.begin() + 3 * r, samples.begin() + 3 * r + 3);
    ASSERT_EQ(row.size(), 3u) << "row " << r << " repeats a category";
    first.push_back(samples[3 * r]);
    second.push_back(samples[3 * r + 1]);
  }
  expect_frequencies(counts(first, 6), p, rows);
  std::vector<double> second_law(6);
  for (size_t j = 0; j < 6; ++j)
    for (size_t i = 0; i < 6; ++i)
      if (i != j) second_law[j] += p[i] * p[j] / (1 - p[i]);
  expect_frequencies(counts(second, 6), second_law, rows);
}

TEST(Multinomial, EveryCategoryWithoutReplacementIsAPermutation) {
  g::manual_seed(14);
  const Tensor samples = g::multinomial(make_tensor({1, 2, 3, 4, 5, 6, 7}, {7}), 7);
  const std::vector<int64_t> got = samples.to_vector<int64_t>();
  EXPECT_EQ(std::set<int64_t>(got.begin(), got.end()).size(), 7u);
}

TEST(Multinomial, TheSameSeedGivesTheSameDrawsWhateverTheThreads) {
  const Tensor probs = g::rand({3000, 50}, g::kFloat64);
  const int threads = g::get_num_threads();
  for (const bool replacement : {true, false}) {
    g::manual_seed(15);
    g::set_num_threads(1);
    const Tensor one_thread = g::multinomial(probs, 4, replacement);
    g::set_num_threads(threads);
    g::manual_seed(15);
    const Tensor all_threads = g::multinomial(probs, 4, replacement);
    EXPECT_TRUE(g::equal(one_thread, all_threads));
    EXPECT_FALSE(g::equal(g::multinomial(probs, 4, replacement), all_threads))
        << "the next call must read new blocks of the stream";
  }
}

TEST(Multinomial, SixteenBitProbabilitiesDrawAsTheirFloat32Values) {
  // The kernels read each probability as a double, float16 and bfloat16 included: the same
  // draws as the same values in float32, with and without replacement; a NaN is named as in
  // float32.
  const Tensor probs = g::rand({40, 30});
  for (const g::DType dtype : {g::kFloat16, g::kBFloat16}) {
    const Tensor narrow = probs.to(dtype), wide = narrow.to(g::kFloat32);
    for (const bool replacement : {true, false}) {
      g::manual_seed(21);
      const Tensor from_narrow = g::multinomial(narrow, 5, replacement);
      g::manual_seed(21);
      EXPECT_TRUE(g::equal(from_narrow, g::multinomial(wide, 5, replacement)))
          << g::dtype_name(dtype) << (replacement ? " with replacement" : "");
    }
    const Tensor bad = make_tensor({1, 1, 1, std::numeric_limits<double>::quiet_NaN()}, {2, 2});
    EXPECT_THAT(error_message([&] { g::multinomial(bad.to(dtype), 1, true); }),
                HasSubstr("element < 0 (row 1)"));
  }
}

TEST(Multinomial, ReservesOneBlockPerTwoDraws) {
  g::manual_seed(16);
  g::multinomial(g::ones({3, 4}), 3, true);  // 9 draws: 5 blocks
  EXPECT_EQ(g::default_generator().offset(), 5u);
  g::multinomial(g::ones({4}), 2);  // 2 draws: 1 block
  EXPECT_EQ(g::default_generator().offset(), 6u);
}

TEST(Multinomial, BadProbabilitiesAreErrorsNamingTheRow) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const double inf = std::numeric_limits<double>::infinity();
  for (const double bad : {-0.5, nan, inf}) {
    const Tensor probs = make_tensor({1, 1, 1, bad}, {2, 2});
    EXPECT_THAT(error_message([&] { g::multinomial(probs, 1, true); }),
                HasSubstr("multinomial(): probability tensor contains either inf, nan or element "
                          "< 0 (row 1)"));
  }
  EXPECT_THAT(error_message([&] {
                g::multinomial(make_tensor({0, 0, 1, 0}, {2, 2}), 1, true);
              }),
              HasSubstr("invalid multinomial distribution (sum of probabilities <= 0) in row 0"));
  EXPECT_THAT(error_message([&] {
                g::multinomial(make_tensor({1e308, 1e308}, {2}), 1);
              }),
              HasSubstr("sum of probabilities is inf"));
  EXPECT_THAT(error_message([&] {
                g::multinomial(make_tensor({1, 0, 0, 2}, {4}), 3);
              }),
              HasSubstr("not enough non-negative category to sample): row 0 has fewer than 3"));
}

TEST(Multinomial, BadArgumentsAreErrors) {
  const Tensor probs = g::ones({2, 3});
  EXPECT_THAT(error_message([&] { g::multinomial(probs, 4); }),
              HasSubstr("cannot sample num_samples (4) > prob_dist.size(-1) (3) samples without "
                        "replacement"));
  EXPECT_THAT(error_message([&] { g::multinomial(probs, 0, true); }),
              HasSubstr("cannot sample num_samples <= 0 samples"));
  EXPECT_THAT(error_message([&] {
                g::multinomial(g::ones({2, 2, 2}), 1);
              }),
              HasSubstr("prob_dist must be 1 or 2 dim"));
  EXPECT_THAT(error_message([&] { g::multinomial(g::ones({3}, g::kInt64), 1); }),
              HasSubstr("only floating-point probabilities"));
  EXPECT_THAT(error_message([&] {
                g::multinomial(g::ones({2, 0}), 1, true);
              }),
              HasSubstr("no categories"));
  EXPECT_EQ(g::multinomial(g::ones({0, 3}), 2).shape(), (g::Shape{0, 2}));
}

}  // namespace
