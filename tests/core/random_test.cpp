// Random numbers: the Philox block function against Random123's known answers, every
// distribution against a reference written here from the layout kernels/random.h
// documents, the stream's bookkeeping, and the distributions' statistics.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include "graft/core/random.h"
#include "test_util.h"

namespace g = graft;
using g::testing::error_message;
using ::testing::HasSubstr;

namespace {

constexpr double kPi = 3.14159265358979323846;

std::vector<uint32_t> words(const g::PhiloxBlock& block) {
  return {block.words[0], block.words[1], block.words[2], block.words[3]};
}

// Element i of a call that started at block `offset` reads block offset + i / E at
// position i % E, with E = 4 for 32-bit draws and 2 for 64-bit ones.
g::PhiloxBlock block_of(uint64_t seed, uint64_t offset, int64_t i, int per_block) {
  return g::philox_block(seed, offset + static_cast<uint64_t>(i / per_block));
}

double bits24(uint32_t word) { return static_cast<double>(word >> 8) / 16777216.0; }
double bits53(uint32_t hi, uint32_t lo) {
  return static_cast<double>(((static_cast<uint64_t>(hi) << 32) | lo) >> 11) / 9007199254740992.0;
}

double reference_uniform(g::DType dtype, uint64_t seed, uint64_t offset, int64_t i) {
  if (dtype == g::kFloat32) return bits24(block_of(seed, offset, i, 4).words[i % 4]);
  const g::PhiloxBlock b = block_of(seed, offset, i, 2);
  return bits53(b.words[2 * (i % 2)], b.words[2 * (i % 2) + 1]);
}

// Box-Muller in double: u1 in (0, 1] from the pair's first uniform, u2 in [0, 1) from its
// second; even elements take the cosine, odd ones the sine.
double reference_normal(g::DType dtype, uint64_t seed, uint64_t offset, int64_t i) {
  double u1, u2;
  if (dtype == g::kFloat32) {
    const g::PhiloxBlock b = block_of(seed, offset, i, 4);
    const int pair = static_cast<int>(i % 4) / 2;
    u1 = bits24(b.words[2 * pair]) + 1.0 / 16777216.0;
    u2 = bits24(b.words[2 * pair + 1]);
  } else {
    const g::PhiloxBlock b = block_of(seed, offset, i, 2);
    u1 = bits53(b.words[0], b.words[1]) + 1.0 / 9007199254740992.0;
    u2 = bits53(b.words[2], b.words[3]);
  }
  const double r = std::sqrt(-2.0 * std::log(u1));
  return i % 2 == 0 ? r * std::cos(2 * kPi * u2) : r * std::sin(2 * kPi * u2);
}

// low + floor(x * (high - low) / 2^64) for the 64-bit word x of the element, in 128 bits.
int64_t reference_integer(int64_t low, int64_t high, uint64_t seed, uint64_t offset, int64_t i) {
  __extension__ using U128 = unsigned __int128;
  const g::PhiloxBlock b = block_of(seed, offset, i, 2);
  const uint64_t x = (static_cast<uint64_t>(b.words[2 * (i % 2)]) << 32) | b.words[2 * (i % 2) + 1];
  const uint64_t span = static_cast<uint64_t>(high) - static_cast<uint64_t>(low);
  return static_cast<int64_t>(static_cast<uint64_t>(low) +
                              static_cast<uint64_t>((static_cast<U128>(x) * span) >> 64));
}

struct Moments {
  double mean, variance;
};
Moments moments(const std::vector<double>& v) {
  const double mean = std::accumulate(v.begin(), v.end(), 0.0) / static_cast<double>(v.size());
  double sq = 0;
  for (double x : v) sq += (x - mean) * (x - mean);
  return {mean, sq / static_cast<double>(v.size() - 1)};
}

double fraction(const std::vector<double>& v, bool (*pred)(double)) {
  return static_cast<double>(std::count_if(v.begin(), v.end(), pred)) /
         static_cast<double>(v.size());
}

}  // namespace

// ---- the block function

TEST(Philox, MatchesRandom123KnownAnswers) {
  // Random123's kat_vectors for philox4x32_10 (checked against a Python transcription of
  // the round function too).
  EXPECT_EQ(words(g::philox4x32_10({{0, 0, 0, 0}}, 0, 0)),
            (std::vector<uint32_t>{0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8}));
  const uint32_t ones = 0xffffffff;
  EXPECT_EQ(words(g::philox4x32_10({{ones, ones, ones, ones}}, ones, ones)),
            (std::vector<uint32_t>{0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd}));
  EXPECT_EQ(words(g::philox4x32_10({{0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344}}, 0xa4093822,
                                   0x299f31d0)),
            (std::vector<uint32_t>{0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1}));
}

TEST(Philox, BlockIndexIsTheCounterAndSeedIsTheKey) {
  const uint64_t seed = 0x0123456789abcdefull, index = 0xfedcba9876543210ull;
  EXPECT_EQ(words(g::philox_block(seed, index)),
            words(g::philox4x32_10({{0x76543210, 0xfedcba98, 0, 0}}, 0x89abcdef, 0x01234567)));
}

// ---- every element equals the documented layout

TEST(Random, RandIsTheTop24Or53BitsOfItsWords) {
  for (g::DType dtype : {g::kFloat32, g::kFloat64}) {
    g::manual_seed(42);
    const std::vector<double> got = g::rand({3, 333}, dtype).to_vector<double>();
    for (int64_t i = 0; i < 999; ++i)
      ASSERT_EQ(got[i], reference_uniform(dtype, 42, 0, i)) << dtype << " element " << i;
  }
}

TEST(Random, RandnIsBoxMullerOnPairsOfUniforms) {
  for (g::DType dtype : {g::kFloat32, g::kFloat64}) {
    g::manual_seed(7);
    const std::vector<double> got = g::randn({1001}, dtype).to_vector<double>();
    const double tol = dtype == g::kFloat32 ? 2e-5 : 1e-12;  // float32 computes in float
    for (int64_t i = 0; i < 1001; ++i) {
      const double want = reference_normal(dtype, 7, 0, i);
      ASSERT_NEAR(got[i], want, tol * std::max(1.0, std::abs(want))) << dtype << " element " << i;
    }
  }
}

TEST(Random, RandintIsTheMultiplyShiftOfA64BitWord) {
  const std::pair<int64_t, int64_t> ranges[] = {
      {-3, 7},
      {0, 1000003},
      {-(int64_t{1} << 40), int64_t{1} << 41},
      {std::numeric_limits<int64_t>::min(), std::numeric_limits<int64_t>::max()}};
  for (auto [low, high] : ranges) {
    g::manual_seed(3);
    const g::Tensor t = g::randint(low, high, {501});
    const int64_t* got = t.data_ptr<int64_t>();
    for (int64_t i = 0; i < 501; ++i)
      ASSERT_EQ(got[i], reference_integer(low, high, 3, 0, i)) << "[" << low << ", " << high << ")";
  }
}

// ---- the stream: seeds, offsets, prefixes, threads

TEST(Random, EachCallReservesTheBlocksItUsesSoCallsNeverOverlap) {
  g::manual_seed(5);
  EXPECT_EQ(g::default_generator().seed(), 5u);
  EXPECT_EQ(g::default_generator().offset(), 0u);
  g::rand({10});  // float32: 4 elements a block -> 3 blocks
  EXPECT_EQ(g::default_generator().offset(), 3u);
  g::rand({3}, g::kFloat64);  // 2 a block -> 2 blocks
  EXPECT_EQ(g::default_generator().offset(), 5u);
  g::randint(0, 10, {4});  // 2 a block -> 2 blocks
  EXPECT_EQ(g::default_generator().offset(), 7u);
  g::randn({0, 4});  // nothing drawn, nothing reserved
  EXPECT_EQ(g::default_generator().offset(), 7u);
  // The next call starts at block 7.
  const std::vector<double> got = g::rand({5}).to_vector<double>();
  for (int64_t i = 0; i < 5; ++i) EXPECT_EQ(got[i], reference_uniform(g::kFloat32, 5, 7, i));
}

TEST(Random, SameSeedSameNumbersAndManualSeedRewinds) {
  g::manual_seed(123);
  const std::vector<double> a = g::randn({100}).to_vector<double>();
  const std::vector<double> b = g::randn({100}).to_vector<double>();
  g::manual_seed(123);
  EXPECT_EQ(g::randn({100}).to_vector<double>(), a);
  EXPECT_EQ(g::randn({100}).to_vector<double>(), b);
  EXPECT_NE(a, b);  // consecutive calls continue the stream
}

TEST(Random, DifferentSeedsGiveDifferentNumbers) {
  g::manual_seed(1);
  const std::vector<double> a = g::rand({100}).to_vector<double>();
  g::manual_seed(2);
  const std::vector<double> b = g::rand({100}).to_vector<double>();
  int equal = 0;
  for (size_t i = 0; i < a.size(); ++i) equal += a[i] == b[i];
  EXPECT_LT(equal, 3);
}

TEST(Random, ASmallCallIsThePrefixOfABigOne) {
  for (g::DType dtype : {g::kFloat32, g::kFloat64}) {
    g::manual_seed(9);
    const std::vector<double> big = g::randn({100000}, dtype).to_vector<double>();
    g::manual_seed(9);
    const std::vector<double> small = g::randn({37}, dtype).to_vector<double>();
    EXPECT_EQ(small, std::vector<double>(big.begin(), big.begin() + 37));
  }
}

TEST(Random, NumbersDoNotDependOnTheThreadCount) {
  const int threads = g::get_num_threads();
  auto draw_all = [](int n_threads) {
    g::set_num_threads(n_threads);
    g::manual_seed(11);
    std::vector<double> all = g::rand({1 << 20}).to_vector<double>();
    for (double x : g::randn({1 << 20}, g::kFloat64).to_vector<double>()) all.push_back(x);
    for (double x : g::randint(-50, 50, {1 << 20}).to_vector<double>()) all.push_back(x);
    return all;
  };
  const std::vector<double> one = draw_all(1), two = draw_all(2);
  g::set_num_threads(threads);
  EXPECT_EQ(one, two);
}

// ---- statistics over a million samples

TEST(Random, RandIsUniformOnZeroToOne) {
  g::manual_seed(2024);
  for (g::DType dtype : {g::kFloat32, g::kFloat64}) {
    const std::vector<double> v = g::rand({1000, 1000}, dtype).to_vector<double>();
    const Moments m = moments(v);
    EXPECT_NEAR(m.mean, 0.5, 0.005);
    EXPECT_NEAR(m.variance, 1.0 / 12.0, 0.001);
    EXPECT_GE(*std::min_element(v.begin(), v.end()), 0.0);
    EXPECT_LT(*std::max_element(v.begin(), v.end()), 1.0);
    EXPECT_NEAR(fraction(v, [](double x) { return x < 0.1; }), 0.1, 0.002);
  }
}

TEST(Random, RandnIsStandardNormal) {
  g::manual_seed(2025);
  for (g::DType dtype : {g::kFloat32, g::kFloat64}) {
    const std::vector<double> v = g::randn({1000000}, dtype).to_vector<double>();
    const Moments m = moments(v);
    EXPECT_NEAR(m.mean, 0.0, 0.01);
    EXPECT_NEAR(std::sqrt(m.variance), 1.0, 0.01);
    // P(|z| < 1) = 0.6827, P(|z| > 3) = 0.0027.
    EXPECT_NEAR(fraction(v, [](double x) { return std::abs(x) < 1; }), 0.6827, 0.003);
    EXPECT_NEAR(fraction(v, [](double x) { return std::abs(x) > 3; }), 0.0027, 0.0005);
    EXPECT_TRUE(std::all_of(v.begin(), v.end(), [](double x) { return std::isfinite(x); }));
  }
}

TEST(Random, RandintCoversItsRangeEvenly) {
  g::manual_seed(2026);
  const std::vector<double> v = g::randint(-3, 7, {1000000}).to_vector<double>();
  std::vector<int64_t> counts(10, 0);
  for (double x : v) {
    ASSERT_TRUE(x >= -3 && x < 7) << x;
    ++counts[static_cast<size_t>(x + 3)];
  }
  for (int64_t c : counts) EXPECT_NEAR(static_cast<double>(c), 100000.0, 3000.0);
}

// ---- dtypes, shapes and ranges

TEST(Random, DefaultsAndShapes) {
  EXPECT_EQ(g::rand({2, 3}).dtype(), g::kFloat32);
  EXPECT_EQ(g::randn({2, 3}).shape(), g::Shape({2, 3}));
  EXPECT_EQ(g::randint(0, 5, {4}).dtype(), g::kInt64);
  EXPECT_EQ(g::rand({}).dim(), 0);
  EXPECT_EQ(g::randn({}).numel(), 1);
  EXPECT_EQ(g::randint(0, 5, {0, 2}).numel(), 0);
}

TEST(Random, RandintHonoursTheRequestedDtype) {
  const std::vector<double> bytes = g::randint(0, 256, {5000}, g::kUInt8).to_vector<double>();
  EXPECT_EQ(*std::min_element(bytes.begin(), bytes.end()), 0.0);
  EXPECT_EQ(*std::max_element(bytes.begin(), bytes.end()), 255.0);
  EXPECT_EQ(g::randint(-5, 5, {3}, g::kInt32).dtype(), g::kInt32);
  const std::vector<double> floats = g::randint(-2, 3, {1000}, g::kFloat32).to_vector<double>();
  for (double x : floats) EXPECT_TRUE(x == std::floor(x) && x >= -2 && x < 3) << x;
  const std::vector<double> bools = g::randint(0, 2, {1000}, g::kBool).to_vector<double>();
  EXPECT_GT(std::count(bools.begin(), bools.end(), 1.0), 400);
  // A one-value range gives that value.
  EXPECT_EQ(g::randint(5, 6, {4}).to_vector<int64_t>(), (std::vector<int64_t>{5, 5, 5, 5}));
}

TEST(Random, RandintOverTheWholeInt64RangeReachesBothHalves) {
  const int64_t lo = std::numeric_limits<int64_t>::min(), hi = std::numeric_limits<int64_t>::max();
  const std::vector<int64_t> v = g::randint(lo, hi, {1000}).to_vector<int64_t>();
  const auto negative = std::count_if(v.begin(), v.end(), [](int64_t x) { return x < 0; });
  EXPECT_GT(negative, 400);
  EXPECT_LT(negative, 600);
  EXPECT_EQ(std::count(v.begin(), v.end(), hi), 0);
}

TEST(Random, Errors) {
  EXPECT_THAT(error_message([] { g::rand({2}, g::kInt64); }),
              HasSubstr("rand(): only floating-point dtypes are supported, got int64"));
  EXPECT_THAT(error_message([] { g::randn({2}, g::kBool); }),
              HasSubstr("randn(): only floating-point dtypes are supported, got bool"));
  EXPECT_THAT(error_message([] { g::randint(3, 3, {2}); }),
              HasSubstr("randint(): expected low < high, got low = 3 and high = 3"));
  EXPECT_THAT(error_message([] { g::randint(0, 300, {2}, g::kUInt8); }),
              HasSubstr("randint(): the range [0, 300) does not fit in uint8, which holds the "
                        "integers from 0 to 255"));
  EXPECT_THAT(error_message([] { g::randint(0, (int64_t{1} << 24) + 2, {2}, g::kFloat32); }),
              HasSubstr("does not fit in float32"));
  EXPECT_THAT(error_message([] { g::rand({-1}); }), HasSubstr("negative dimension -1"));
}
