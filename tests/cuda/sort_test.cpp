// CUDA sort, argsort, topk (kernels/cuda/sort.cu) and multinomial (kernels/cuda/multinomial.cu)
// against their CPU twins, which tests/kernels/{sort,multinomial}_test.cpp check against
// naive loops and std::stable_sort.
//
// Both backends order (key, index) pairs in the same strict order, so values and indices
// must be identical, ties and NaNs included. Line lengths cover one shared-memory tile and
// less (1, 7, 2048), just over a tile (2049), several tiles with padding (5000), and a
// million elements (the global merge passes); lines lie along the last dim and along dim 0
// (elements `inner` apart); inputs are every dtype with many ties, NaNs and signed zeros; and
// every output lands in memory poisoned with 0xFF bytes. topk takes k = 1, a few, a tile and
// more, and the whole line, sorted and unsorted. multinomial must give the CPU's samples for
// the same seed, and report a bad row with the CPU's error.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "cuda/cuda_test_util.h"
#include "test_util.h"

namespace g = graft;
using g::Shape;
using g::Tensor;
using g::testing::error_message;
using g::testing::expect_matches_cpu;
using g::testing::make_tensor;
using g::testing::poison_cuda_cache;
using ::testing::HasSubstr;

namespace {

const g::Device kCuda = g::Device::cuda();
constexpr g::DType kAllDTypes[] = {g::kBool,  g::kUInt8,   g::kInt32,
                                   g::kInt64, g::kFloat32, g::kFloat64};

// Random CPU values of `dtype` with many ties; floating ones also hold NaN, +-inf and -0.0.
Tensor sample(const Shape& shape, g::DType dtype) {
  switch (dtype) {
    case g::kBool:
      return g::rand(shape) > 0.5;
    case g::kUInt8:
      return g::randint(0, 256, shape, dtype);
    case g::kInt32:
    case g::kInt64:
      return g::randint(-50, 50, shape, dtype);
    default: {
      Tensor x = g::randint(-20, 20, shape, g::kInt64).to(dtype) / 4;
      const Tensor u = g::rand(shape);
      x = g::where(u < 0.02, std::numeric_limits<double>::quiet_NaN(), x);
      x = g::where(u > 0.99, std::numeric_limits<double>::infinity(), x);
      x = g::where(u > 0.5, g::where(u < 0.52, -0.0, x), x);
      return x.to(dtype);
    }
  }
}

// The shapes of the lines: (lines, n) sorted along dim 1 and (n, lines) along dim 0.
struct Case {
  Shape shape;
  int64_t dim;
};
const std::vector<Case> kCases = {{{5, 1}, 1},       {{3, 7}, 1},         {{4, 2048}, 1},
                                  {{3, 2049}, 1},    {{2, 5000}, 1},      {{5000, 3}, 0},
                                  {{1, 1 << 20}, 1}, {{(1 << 20) + 3}, 0}};

void expect_pair_matches(const std::tuple<Tensor, Tensor>& cuda,
                         const std::tuple<Tensor, Tensor>& cpu) {
  expect_matches_cpu(std::get<0>(cuda), std::get<0>(cpu));
  expect_matches_cpu(std::get<1>(cuda), std::get<1>(cpu));
}

TEST(CudaSort, MatchesTheCpuForEveryDtypeLengthAndDirection) {
  GRAFT_REQUIRE_CUDA();
  g::manual_seed(1);
  for (const Case& c : kCases) {
    for (g::DType dtype : kAllDTypes) {
      const Tensor x = sample(c.shape, dtype);
      const Tensor on_cuda = x.to(kCuda);
      for (const bool descending : {false, true}) {
        SCOPED_TRACE(std::string(g::dtype_name(dtype)) + " " + std::to_string(c.shape.numel()) +
                     (descending ? " descending" : " ascending"));
        poison_cuda_cache(c.shape.numel() * 8);
        expect_pair_matches(g::sort(on_cuda, c.dim, descending), g::sort(x, c.dim, descending));
        expect_matches_cpu(g::argsort(on_cuda, c.dim, descending),
                           g::argsort(x, c.dim, descending));
      }
    }
  }
}

TEST(CudaTopk, MatchesTheCpuForEveryKLargestSmallestSortedOrNot) {
  GRAFT_REQUIRE_CUDA();
  g::manual_seed(2);
  for (const Case& c : kCases) {
    const int64_t n = c.shape[c.dim];
    for (g::DType dtype : {g::kUInt8, g::kInt64, g::kFloat32, g::kFloat64}) {
      const Tensor x = sample(c.shape, dtype);
      const Tensor on_cuda = x.to(kCuda);
      for (const int64_t k : {int64_t{1}, int64_t{5}, int64_t{2049}, n}) {
        if (k > n) continue;
        for (const bool largest : {true, false}) {
          for (const bool sorted : {true, false}) {
            SCOPED_TRACE(std::string(g::dtype_name(dtype)) + " n " + std::to_string(n) + " k " +
                         std::to_string(k) + (largest ? " largest" : " smallest") +
                         (sorted ? " sorted" : " unsorted"));
            poison_cuda_cache(c.shape.numel() * 8);
            expect_pair_matches(g::topk(on_cuda, k, c.dim, largest, sorted),
                                g::topk(x, k, c.dim, largest, sorted));
          }
        }
      }
    }
  }
}

TEST(CudaSort, NonContiguousZeroDimAndEmptyInputsAndGradients) {
  GRAFT_REQUIRE_CUDA();
  const Tensor x = sample({6, 9, 5}, g::kFloat32);
  const Tensor strided = x.permute({2, 0, 1}).index({g::Slice(), g::Slice(g::None, g::None, 2)});
  expect_pair_matches(g::sort(strided.to(kCuda), 1), g::sort(strided, 1));
  expect_pair_matches(g::topk(strided.to(kCuda), 2, 2), g::topk(strided, 2, 2));
  const Tensor scalar = make_tensor({3}, {}, g::kFloat32);
  expect_pair_matches(g::sort(scalar.to(kCuda)), g::sort(scalar));
  expect_pair_matches(g::topk(scalar.to(kCuda), 1), g::topk(scalar, 1));
  EXPECT_EQ(std::get<0>(g::sort(g::zeros({0, 4}, kCuda))).shape(), (Shape{0, 4}));
  EXPECT_EQ(std::get<1>(g::topk(g::zeros({3, 4}, kCuda), 0)).shape(), (Shape{3, 0}));
  const Tensor leaf = g::randn({4, 300}, g::kFloat64).requires_grad_();
  const Tensor leaf_cuda = leaf.detach().to(kCuda).requires_grad_();
  std::get<0>(g::topk(leaf, 30)).pow(2).sum().backward();
  std::get<0>(g::topk(leaf_cuda, 30)).pow(2).sum().backward();
  expect_matches_cpu(leaf_cuda.grad(), leaf.grad());
}

TEST(CudaMultinomial, GivesTheCpuSamplesForTheSameSeed) {
  GRAFT_REQUIRE_CUDA();
  for (g::DType dtype : {g::kFloat32, g::kFloat64}) {
    Tensor probs = g::rand({300, 1000}, dtype);
    probs = g::where(probs < 0.3, 0.0, probs).to(dtype);  // categories never to be drawn
    for (const bool replacement : {true, false}) {
      for (const int64_t samples : {int64_t{1}, int64_t{7}, int64_t{500}}) {
        SCOPED_TRACE(std::string(g::dtype_name(dtype)) + (replacement ? " with" : " without") +
                     " replacement, " + std::to_string(samples) + " samples");
        g::manual_seed(3);
        poison_cuda_cache(300 * samples * 8);
        const Tensor on_cuda = g::multinomial(probs.to(kCuda), samples, replacement);
        g::manual_seed(3);
        expect_matches_cpu(on_cuda, g::multinomial(probs, samples, replacement));
      }
    }
  }
  const Tensor one_d = g::rand({50});
  g::manual_seed(4);
  const Tensor on_cuda = g::multinomial(one_d.to(kCuda), 20000, true);
  g::manual_seed(4);
  expect_matches_cpu(on_cuda, g::multinomial(one_d, 20000, true));
}

TEST(CudaMultinomial, ReportsTheFirstBadRowWithTheCpuMessage) {
  GRAFT_REQUIRE_CUDA();
  Tensor probs = g::rand({500, 20});
  probs.index_put_({300, 4}, -1.0);
  probs.index_put_({400}, 0.0);
  const std::string message = error_message([&] { g::multinomial(probs.to(kCuda), 2); });
  EXPECT_EQ(message, error_message([&] { g::multinomial(probs, 2); }));
  EXPECT_THAT(message, HasSubstr("element < 0 (row 300)"));
}

}  // namespace
