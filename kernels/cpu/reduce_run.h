// reduce_run: one contiguous or strided run of elements through a reducer of
// kernels/reducers.h, the inner loop of the CPU reductions (reduce.cpp), and of the
// optimizer's sum of gradient squares (optim.cpp), which is the 2-norm reducer's
// accumulation.
#pragma once

#include <algorithm>
#include <cstdint>
#include <limits>
#include <type_traits>

#include "graft/kernels/cpu/cpu_features.h"
#include "graft/kernels/cpu/float_products.h"
#include "graft/kernels/cpu/half_blocks.h"
#include "graft/kernels/cpu/prefetch.h"
#include "graft/kernels/cpu/reduce_avx512.h"
#include "graft/kernels/cpu/reduce_v3.h"
#include "graft/kernels/reducers.h"

namespace graft::kernels::cpu {

// Independent accumulators in the innermost loop, and elements per pairwise leaf. NumPy
// uses 8 accumulators; graft uses 32, which the compiler holds in four AVX2 registers of
// floats (max, min) or eight of doubles (float sums): with 8, a float max was one register
// whose every step waited for the last (four times slower along a row than with 32).
inline constexpr int kAccumulators = 32;
inline constexpr int64_t kPairwiseBlock = 1024;

// Whether R takes 16-bit elements as float (reducers.h's kStepsInComputeType), and whether
// it sums or multiplies a float leaf in float (kLeavesInFloat), and which.
template <class R>
inline constexpr bool steps_in_compute_type = requires {
  R::kStepsInComputeType;
};
template <class R>
inline constexpr bool leaves_in_float = requires {
  requires R::kLeavesInFloat;
};
template <class R>
inline constexpr bool sums_leaves_in_float = requires {
  requires R::kLeavesInFloat && !R::kMultiplies;
};
template <class R>
inline constexpr bool multiplies_leaves_in_float = requires {
  requires R::kLeavesInFloat && R::kMultiplies;
};

// acc[0] merged with all the others, by halving: the merges of a step are independent of each
// other, where a chain of N - 1 would each wait on the last (for a float max, such a chain
// cost more than the leaf itself).
template <int N, class Acc, class Merge>
Acc merged_by_halving(Acc (&acc)[N], const Merge& merge) {
  for (int width = N / 2; width > 0; width /= 2)
    for (int k = 0; k < width; ++k) acc[k] = merge(acc[k], acc[k + width]);
  return acc[0];
}

// The sum of a float leaf (float32, or a widened 16-bit one) whose reducer sums leaves in
// float, through 64 accumulators, eight AVX2 registers: reduce_run's 32 made four, each added
// to twice an iteration. Sum over the rows of (1024, 1024) on the 2-core
// Xeon, three runs each back to back: 49-58 us with 32, 45-50 with 64 (PyTorch: 40-44).
// Element j goes to accumulator j mod 64, the last partial step included, as in the 16-lane
// form where the CPU has AVX-512 (reduce_avx512.h), which gives the same bits.
inline float float_sum_leaf(const float* p, int64_t n) {
  constexpr int kSums = 2 * kAccumulators;
  float acc[kSums] = {};
  int64_t i = 0;
  for (; i + kSums <= n; i += kSums)
    for (int k = 0; k < kSums; ++k) acc[k] += p[i + k];
  for (int k = 0; i + k < n; ++k) acc[k] += p[i + k];
  return merged_by_halving(acc, [](float a, float b) { return a + b; });
}

// Whether R is Family's reducer (a max or min, an argmax or argmin) of float32, or of a 16-bit
// float, whose leaves are widened to float32's first, and which.
template <template <class, bool> class Family, class R>
struct FloatOf {
  static constexpr bool kIs = false, kIsMax = false;
};
template <template <class, bool> class Family, class T, bool kMax>
requires std::is_same_v<T, float> || is_float16_v<T>
struct FloatOf<Family, Family<T, kMax>> {
  static constexpr bool kIs = true, kIsMax = kMax;
};
template <class R>
using FloatExtreme = FloatOf<ExtremeReducer, R>;
template <class R>
using FloatArgExtreme = FloatOf<ArgExtremeReducer, R>;

// The max (or min) of a contiguous float leaf: the extreme of the numbers by one compare and
// select (a vmaxps), and whether any element is NaN in accumulators of its own, a NaN result
// at the end if so: three operations a vector, where the reducer's NaN-first step took four
// and a blend (max over the rows of (1024, 1024) ran at 1.48 times PyTorch's time).
template <bool kMax>
float float_extreme_leaf(const float* p, int64_t n) {
  float acc[kAccumulators];
  int32_t nan[kAccumulators] = {};
  for (auto& a : acc) a = ExtremeReducer<float, kMax>::identity();
  const auto better = [](float v, float a) { return kMax ? v > a : v < a; };
  const auto step = [&](int k, float v) {
    acc[k] = better(v, acc[k]) ? v : acc[k];
    nan[k] |= v != v;
  };
  int64_t i = 0;
  for (; i + kAccumulators <= n; i += kAccumulators)
    for (int k = 0; k < kAccumulators; ++k) step(k, p[i + k]);
  for (int k = 0; i + k < n; ++k) step(k, p[i + k]);
  int32_t any_nan = 0;
  for (int k = 0; k < kAccumulators; ++k) any_nan |= nan[k];
  if (any_nan != 0) return std::numeric_limits<float>::quiet_NaN();
  return merged_by_halving(acc, [&](float a, float b) { return better(b, a) ? b : a; });
}

// Reduces the n elements p[0], p[stride], ... whose flat reduced indices start at `index`,
// one reducer step each, through kAccumulators independent accumulators.
template <bool kContiguous, class R, class T>
typename R::Acc reduce_leaf_stepwise(const R& r, const T* p, int64_t stride, int64_t n,
                                     int64_t index) {
  const int64_t step = kContiguous ? 1 : stride;
  typename R::Acc acc[kAccumulators];
  for (auto& a : acc) a = r.identity();
  int64_t i = 0;
  for (; i + kAccumulators <= n; i += kAccumulators)
    for (int k = 0; k < kAccumulators; ++k)
      acc[k] = r.step(acc[k], p[(i + k) * step], index + i + k);
  for (; i < n; ++i) acc[0] = r.step(acc[0], p[i * step], index + i);
  return merged_by_halving(acc, [&](const auto& a, const auto& b) { return r.merge(a, b); });
}

// Whether R reduces a contiguous float leaf by one of the functions above.
template <class R>
inline constexpr bool has_float_leaves = leaves_in_float<R> || FloatExtreme<R>::kIs;
// Whether float_leaves<R> below takes leaves of T: float32 ones where has_float_leaves<R>, and
// 16-bit ones for a float sum.
template <class R, class T>
inline constexpr bool has_leaves_of = [] {
  if constexpr (std::is_same_v<T, float>)
    return has_float_leaves<R>;
  else if constexpr (is_float16_v<T>)
    return sums_leaves_in_float<R>;
  else
    return false;
}();

// The n contiguous 16-bit floats at p widened into `widened` by the vector conversions
// (half_blocks.h), for the builds and reducers that do not widen them in registers (element by
// element a float16 widens one value an instruction). That waits for memory, with more work
// behind each load than the out-of-order window sees past, so the lines of the leaf two on are
// asked for first (the next one's were asked for by the leaf before): sums of 16M float16
// values on the 2-core Xeon, two threads, 0.59 of float32's GB/s, 0.72-0.73 asking ahead
// (docs/performance.md, "16-bit elementwise ops and sums").
template <class H>
void widen_leaf(const H* p, int64_t n, float* widened) {
  constexpr auto kSize = static_cast<int64_t>(sizeof(H));
  prefetch_lines(p, 2 * n * kSize, n * kSize);
  widen_block(p, widened, n);
}

// The float sum, max or min of R's leaf of the n contiguous elements at p, for builds without
// AVX2: float_sum_leaf or float_extreme_leaf, a 16-bit leaf widened first.
template <class R, class T>
float portable_leaf(const T* p, int64_t n) {
  if constexpr (is_float16_v<T>) {
    float widened[kPairwiseBlock];
    widen_leaf(p, n, widened);
    return portable_leaf<R>(widened, n);
  } else if constexpr (sums_leaves_in_float<R>) {
    return float_sum_leaf(p, n);
  } else {
    return float_extreme_leaf<FloatExtreme<R>::kIsMax>(p, n);
  }
}

// out[j] = the leaf of the n contiguous elements at p + j * stride (n <= kPairwiseBlock) as
// R's accumulator, for j < rows, where has_leaves_of<R, T>. 16 lanes wide where the CPU has
// AVX-512 (reduce_avx512.h), else 8 in AVX2 (reduce_v3.h), a whole block of rows in one call,
// 16-bit floats widened in registers (the portable leaves above serve builds without AVX2):
// one row a call, the calls and each row's merge of its lanes cost as much as reading the row
// itself from L2 (sum over the rows of (256, 1024), one thread: 12.5 us, against 7.1 in one
// loop). Products are checked (float_products.h): a chunk of rows in which a float
// multiplication lost bits to float's range is multiplied again step by step, in R's double.
template <class R, class T>
void float_leaves(const T* p, int64_t stride, int64_t rows, int64_t n, typename R::Acc* out) {
  static_assert(has_leaves_of<R, T>);
  constexpr FloatLeaf kLeaf = sums_leaves_in_float<R>   ? FloatLeaf::kSum
                              : FloatExtreme<R>::kIsMax ? FloatLeaf::kMax
                                                        : FloatLeaf::kMin;
  constexpr int64_t kChunk = kProductLeavesAtOnce;  // rows a chunk, each kind alike
  std::conditional_t<multiplies_leaves_in_float<R>, double, float> leaves[kChunk];
  for (int64_t first = 0; first < rows; first += kChunk) {
    const int64_t count = std::min(kChunk, rows - first);
    const T* chunk = p + first * stride;
    if constexpr (multiplies_leaves_in_float<R>) {
      if (!float_product_leaves(chunk, stride, count, n, leaves)) {
        const R r{ReduceArgs{}};
        for (int64_t j = 0; j < count; ++j)
          out[first + j] = reduce_leaf_stepwise<true>(r, chunk + j * stride, 1, n, 0);
        continue;
      }
    } else if (cpu_runs_avx512()) {
      if constexpr (is_float16_v<T>)
        sum_leaves_avx512(chunk, stride, count, n, leaves);
      else
        float_leaves_avx512(kLeaf, chunk, stride, count, n, leaves);
    } else if constexpr (GRAFT_REDUCE_V3) {
      if constexpr (is_float16_v<T>)
        sum_leaves_v3(chunk, stride, count, n, leaves);
      else
        float_leaves_v3(kLeaf, chunk, stride, count, n, leaves);
    } else {
      for (int64_t j = 0; j < count; ++j) leaves[j] = portable_leaf<R>(chunk + j * stride, n);
    }
    for (int64_t j = 0; j < count; ++j) out[first + j] = leaves[j];
  }
}

// The first i < n at which p[i] is `value` (for a NaN value, the first NaN), or n: each chunk of
// 32 elements tested whole in a loop the compiler vectorises, then the chunk that holds it
// element by element.
inline int64_t first_equal(const float* p, int64_t n, float value) {
  const auto scan = [&](const auto& equal) {
    constexpr int64_t kChunk = 32;
    int64_t start = 0;
    for (; start + kChunk <= n; start += kChunk) {
      int32_t hits = 0;  // a count, not a bool: GCC vectorises an integer sum
      for (int64_t j = start; j < start + kChunk; ++j) hits += equal(p[j]);
      if (hits > 0) break;
    }
    for (int64_t i = start; i < n; ++i)
      if (equal(p[i])) return i;
    return n;
  };
  if (value != value) return scan([](float v) { return v != v; });
  return scan([value](float v) { return v == value; });
}

// argmax (argmin) of a contiguous float leaf whose first flat index is `index`: the leaf's max
// (NaN if it holds one) by the vectorised extreme leaf, then the first element equal to it
// (the first NaN), as ArgExtremeReducer's merges would pick. Step by step, each a compare and
// a select of a (value, index) pair, argmax over the rows of (1024, 1024) took 1.39 ms against
// PyTorch's 0.81; this way 0.09 (two threads, the 2-core Xeon).
template <bool kMax>
typename ArgExtremeReducer<float, kMax>::Acc float_arg_extreme_leaf(const float* p, int64_t n,
                                                                    int64_t index) {
  using R = ArgExtremeReducer<float, kMax>;
  if (n == 0) return R(ReduceArgs{}).identity();
  float extreme;
  float_leaves<ExtremeReducer<float, kMax>>(p, 0, 1, n, &extreme);
  return {extreme, index + first_equal(p, n, extreme)};
}

// Reduces the n elements p[0], p[stride], ... whose flat reduced indices start at `index`:
// leaves of kPairwiseBlock elements through kAccumulators independent accumulators, leaves
// combined pairwise.
template <bool kContiguous, class R, class T>
typename R::Acc reduce_run(const R& r, const T* p, int64_t stride, int64_t n, int64_t index) {
  const int64_t step = kContiguous ? 1 : stride;
  // A contiguous 16-bit leaf is reduced as float: a sum by float_leaves, widening each step's
  // values in registers where the build or CPU can; other reducers widen it into memory first.
  // A max, min, argmax or argmin then takes float32's leaf (its extreme is one of the values,
  // exactly: step by step, each compare widened both values, one an instruction for float16,
  // and a float16 max over the rows of a (1024, 1024) took 650 us, bfloat16's 130); the rest
  // step in float.
  if constexpr (kContiguous && is_float16_v<T> &&
                (steps_in_compute_type<R> || FloatExtreme<R>::kIs || FloatArgExtreme<R>::kIs)) {
    if (n <= kPairwiseBlock) {
      if constexpr (has_leaves_of<R, T>) {
        typename R::Acc leaf;
        float_leaves<R>(p, 0, 1, n, &leaf);
        return leaf;
      } else {
        float widened[kPairwiseBlock];
        widen_leaf(p, n, widened);
        if constexpr (FloatExtreme<R>::kIs) {
          typename R::Acc extreme;
          float_leaves<R>(widened, 0, 1, n, &extreme);
          return extreme;
        } else if constexpr (FloatArgExtreme<R>::kIs) {
          const auto leaf = float_arg_extreme_leaf<FloatArgExtreme<R>::kIsMax>(widened, n, index);
          return {static_cast<T>(leaf.value), leaf.index};
        } else {
          return reduce_run<true>(r, widened, 1, n, index);
        }
      }
    }
  }
  // A float leaf (float32, or a widened 16-bit one) of a float sum, product, max or min, argmax
  // or argmin.
  if constexpr (kContiguous && std::is_same_v<T, float> && has_float_leaves<R>) {
    if (n <= kPairwiseBlock) {
      typename R::Acc leaf;
      float_leaves<R>(p, 0, 1, n, &leaf);
      return leaf;
    }
  }
  if constexpr (kContiguous && std::is_same_v<T, float> && FloatArgExtreme<R>::kIs) {
    if (n <= kPairwiseBlock) return float_arg_extreme_leaf<FloatArgExtreme<R>::kIsMax>(p, n, index);
  }
  if (n > kPairwiseBlock) {
    // Left half first (as separate statements: argument order is unspecified, and walking
    // memory backwards defeats the hardware prefetcher).
    const int64_t half = n / 2 / kAccumulators * kAccumulators;
    const auto left = reduce_run<kContiguous>(r, p, stride, half, index);
    return r.merge(left,
                   reduce_run<kContiguous>(r, p + half * step, stride, n - half, index + half));
  }
  return reduce_leaf_stepwise<kContiguous>(r, p, stride, n, index);
}

}  // namespace graft::kernels::cpu
