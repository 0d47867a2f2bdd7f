// MultinomialArgs and the sampler every backend runs, written once.
//
// Draws come from graft's Philox stream (core/random.h) and use only arithmetic that gives
// the same bits on the CPU and on CUDA, so the same seed gives the same samples on both:
// one float64 uniform u per draw (53 bits, kernels/random.h's uniform_from_words), the
// probabilities converted to double, sums taken in index order, and u * total compared with
// running sums: no transcendental functions, whose last bits differ between glibc and
// CUDA's libdevice.
//   - With replacement: inverse CDF. The row's cumulative sums, then per draw the first
//     category whose cumulative sum exceeds u * total (a binary search).
//   - Without replacement: sequential draws, each by inverse CDF over the weights not yet
//     taken (a taken category's weight is zeroed): O(num_samples x n) per row, fine for
//     language-model sampling (a few samples over a vocabulary); not a Gumbel top-k, whose
//     log would break the bit-for-bit agreement between devices.
// A category of probability 0 is never drawn: its cumulative sum equals its predecessor's,
// so it is never the first to exceed u * total. Draw e = row * num_samples + s reads block
// offset + e / 2 of the stream (two float64 uniforms a block), so the op reserves
// ceil(rows * num_samples / 2) blocks.
//
// Each row is checked before it is sampled, as PyTorch does (finite, non-negative, positive
// sum, enough non-zero categories without replacement); a kernel reports the smallest bad row
// with its check, encoded as row * kMultinomialChecks + check, and fail_multinomial() turns
// that into the error.
#pragma once

#include <cfloat>
#include <cstdint>

#include "graft/core/dtype.h"
#include "graft/core/error.h"
#include "graft/core/host_device.h"
#include "graft/core/random.h"
#include "graft/kernels/random.h"

namespace graft::kernels {

struct MultinomialArgs {
  DType dtype = kFloat32;       // any floating dtype: each value read as a double
  const void* probs = nullptr;  // contiguous (rows, n), n >= 1
  int64_t rows = 0, n = 0;
  int64_t num_samples = 0;  // >= 1; <= n without replacement
  bool replacement = false;
  uint64_t seed = 0;
  uint64_t offset = 0;        // the first Philox block of this call
  double* scratch = nullptr;  // (rows, n) on the device: each row's weights, then its sums
  int64_t* out = nullptr;     // contiguous (rows, num_samples)
};

// What the check of a row found.
enum class MultinomialCheck : int { kOk, kBadValue, kZeroSum, kInfiniteSum, kTooFewCategories };
inline constexpr int kMultinomialChecks = 5;

// Philox blocks a call of `draws` draws reads.
inline uint64_t multinomial_blocks(int64_t draws) { return static_cast<uint64_t>(draws + 1) / 2; }

// The uniform in [0, 1) of draw `draw` (row * num_samples + sample) of the call.
GRAFT_HOST_DEVICE inline double multinomial_uniform(const MultinomialArgs& args, int64_t draw) {
  const PhiloxBlock block = philox_block(args.seed, args.offset + static_cast<uint64_t>(draw / 2));
  return uniform_from_words<double>(block, 2 * static_cast<int>(draw % 2), false);
}

// Copies row `row` of the probabilities into its scratch row as doubles and checks it; with
// replacement, then turns the scratch row into cumulative sums, added in index order.
template <class T>
GRAFT_HOST_DEVICE MultinomialCheck prepare_row(const MultinomialArgs& args, int64_t row) {
  const T* probs = static_cast<const T*>(args.probs) + row * args.n;
  double* w = args.scratch + row * args.n;
  double total = 0;
  int64_t positive = 0;
  for (int64_t i = 0; i < args.n; ++i) {
    const auto p = static_cast<double>(probs[i]);
    if (!(p >= 0 && p <= DBL_MAX)) return MultinomialCheck::kBadValue;  // NaN fails both
    w[i] = p;
    total += p;
    positive += p > 0 ? 1 : 0;
  }
  if (!(total > 0)) return MultinomialCheck::kZeroSum;
  if (total > DBL_MAX) return MultinomialCheck::kInfiniteSum;
  if (!args.replacement && positive < args.num_samples) return MultinomialCheck::kTooFewCategories;
  if (args.replacement) {
    double running = 0;
    for (int64_t i = 0; i < args.n; ++i) {
      running += w[i];
      w[i] = running;
    }
  }
  return MultinomialCheck::kOk;
}

// With replacement, after prepare_row: sample `sample` of row `row`, the first category i
// with cdf[i] > u * total (binary search). Should u * total round up to total itself, the
// first i with cdf[i] == total: the last category of non-zero probability.
GRAFT_HOST_DEVICE inline int64_t draw_with_replacement(const MultinomialArgs& args, int64_t row,
                                                       int64_t sample) {
  const double* cdf = args.scratch + row * args.n;
  const double total = cdf[args.n - 1];
  const double target = multinomial_uniform(args, row * args.num_samples + sample) * total;
  const bool below_total = target < total;
  int64_t lo = 0, hi = args.n - 1;  // the answer lies in [lo, hi]; hi always qualifies
  while (lo < hi) {
    const int64_t mid = lo + (hi - lo) / 2;
    if (below_total ? cdf[mid] > target : cdf[mid] >= total)
      hi = mid;
    else
      lo = mid + 1;
  }
  return lo;
}

// Without replacement, after prepare_row: every sample of row `row` in turn, each the first
// category whose running sum of the weights not yet taken exceeds u * (their total); its
// weight is then zeroed. The running sum adds the same weights in the same order as the
// total, so it reaches the total exactly; a target rounded up to the total takes the last
// category still holding weight (prepare_row made sure there are enough).
GRAFT_HOST_DEVICE inline void draw_without_replacement(const MultinomialArgs& args, int64_t row) {
  double* w = args.scratch + row * args.n;
  for (int64_t s = 0; s < args.num_samples; ++s) {
    double total = 0;
    for (int64_t i = 0; i < args.n; ++i) total += w[i];
    const double target = multinomial_uniform(args, row * args.num_samples + s) * total;
    double running = 0;
    int64_t chosen = -1;
    for (int64_t i = 0; i < args.n; ++i) {
      if (w[i] == 0) continue;
      running += w[i];
      chosen = i;
      if (running > target) break;
    }
    w[chosen] = 0;
    args.out[row * args.num_samples + s] = chosen;
  }
}

// The error for the smallest bad row a kernel found, encoded as row * kMultinomialChecks +
// check; PyTorch's wording, with the row.
[[noreturn]] inline void fail_multinomial(uint64_t encoded, const MultinomialArgs& args) {
  const auto row = static_cast<int64_t>(encoded / kMultinomialChecks);
  switch (static_cast<MultinomialCheck>(encoded % kMultinomialChecks)) {
    case MultinomialCheck::kBadValue:
      detail::fail(
          "multinomial(): probability tensor contains either inf, nan or element < 0 (row ", row,
          ")");
    case MultinomialCheck::kZeroSum:
      detail::fail(
          "multinomial(): invalid multinomial distribution (sum of probabilities <= 0) in "
          "row ",
          row);
    case MultinomialCheck::kInfiniteSum:
      detail::fail(
          "multinomial(): invalid multinomial distribution (sum of probabilities is inf) "
          "in row ",
          row, "; scale the probabilities down");
    case MultinomialCheck::kTooFewCategories:
      detail::fail(
          "multinomial(): invalid multinomial distribution (with replacement=False, not "
          "enough non-negative category to sample): row ",
          row, " has fewer than ", args.num_samples,
          " categories of non-zero probability; pass replacement = true or draw fewer");
    case MultinomialCheck::kOk:
      break;
  }
  detail::fail("multinomial(): a kernel reported row ", row, " without a failed check");
}

}  // namespace graft::kernels
