// The AVX2 float32 leaves of reduce_v3.h: reduce_avx512.cpp's at 8 lanes a register.
#include "graft/kernels/cpu/reduce_v3.h"

#include <algorithm>
#include <cstdint>
#include <limits>

#include "graft/kernels/cpu/cpu_features.h"
#include "graft/kernels/cpu/float_products.h"

#if GRAFT_REDUCE_V3
#include <immintrin.h>

#include "graft/kernels/cpu/half_lanes_v3.h"
#include "graft/kernels/cpu/lane_masks.h"

namespace graft::kernels::cpu {
namespace {

// Accumulator registers: 64 lanes, as reduce_run.h's portable leaves keep 64 sums.
constexpr int kRegisters = 8;
constexpr int64_t kStep = 8 * kRegisters;
static_assert(kStep == kProductLanes);

// 8 elements from p as float32, the first `count` of them, `fill` in the lanes past them
// (nothing read there): float32 as it is, 16-bit floats widened (half_lanes_v3.h).
inline __m256 load8(const float* p, int64_t count, float fill) {
  if (count >= 8) return _mm256_loadu_ps(p);
  const __m256i lanes = first_lanes8(count);
  return _mm256_blendv_ps(_mm256_set1_ps(fill), _mm256_maskload_ps(p, lanes),
                          _mm256_castsi256_ps(lanes));
}
template <class H>
inline __m256 load8(const H* p, int64_t count, float fill) {
  if (count >= 8) return widen8(p);
  return _mm256_blendv_ps(_mm256_set1_ps(fill), widen8(p, count),
                          _mm256_castsi256_ps(first_lanes8(count)));
}

// How far ahead of its step a 16-bit sum asks for memory, as reduce_avx512.cpp's does, for
// the same reason: into L1 kNearBytes on, into L2 kFarBytes on.
constexpr uintptr_t kNearBytes = 4096, kFarBytes = 32768;

// Walks p[0, n) a step of 64 elements at a time, calling step(r, v) for register r and the 8
// elements v it takes; in the last, partial step, the lanes past n hold `fill`.
template <class T, class Step>
inline void for_each_step(const T* p, int64_t n, float fill, const Step& step) {
  int64_t i = 0;
  for (; i + kStep <= n; i += kStep) {
    if constexpr (sizeof(T) == 2) {  // a step's 128 bytes: two lines
      // Addresses as integers: past the end of p, a pointer would be undefined behaviour.
      const auto here = reinterpret_cast<uintptr_t>(p + i);
      for (const uintptr_t line : {here + kNearBytes, here + kNearBytes + 64})
        _mm_prefetch(reinterpret_cast<const char*>(line), _MM_HINT_T0);
      for (const uintptr_t line : {here + kFarBytes, here + kFarBytes + 64})
        _mm_prefetch(reinterpret_cast<const char*>(line), _MM_HINT_T1);
    }
    for (int r = 0; r < kRegisters; ++r) step(r, load8(p + i + 8 * r, 8, fill));
  }
  for (int r = 0; r < kRegisters && i + 8 * r < n; ++r)
    step(r, load8(p + i + 8 * r, n - i - 8 * r, fill));
}

// The eight registers' 64 lanes merged by halving, as reduce_run.h's merged_by_halving merges
// 64 accumulators (lane l of register r is accumulator 8 r + l): registers r and r + 4, then
// r + 2, then 1; then within the one left, lanes l and l + 4, l + 2, l + 1. merge8 and merge4
// take the lower accumulators first.
template <class Acc, class Merge8, class Merge4>
inline auto merged_by_halving(Acc (&acc)[kRegisters], const Merge8& merge8, const Merge4& merge4) {
  for (int width = kRegisters / 2; width > 0; width /= 2)
    for (int r = 0; r < width; ++r) acc[r] = merge8(acc[r], acc[r + width]);
  return merge4(acc[0]);
}

// Lanes l and l + 4, l + 2, l + 1 of x merged by `merge` (on 4-lane registers), lane 0's value.
template <class Merge>
inline float merged_lanes(__m256 x, const Merge& merge) {
  __m128 y = merge(_mm256_castps256_ps128(x), _mm256_extractf128_ps(x, 1));
  y = merge(y, _mm_movehl_ps(y, y));
  y = merge(y, _mm_shuffle_ps(y, y, _MM_SHUFFLE(1, 1, 1, 1)));
  return _mm_cvtss_f32(y);
}

template <class T>
inline float sum_leaf(const T* p, int64_t n) {
  __m256 acc[kRegisters];
  for (auto& a : acc) a = _mm256_setzero_ps();
  // Lanes past n add +0.0, which changes nothing: accumulators that start at +0.0 are never
  // -0.0.
  for_each_step(p, n, 0.0f, [&](int r, __m256 v) { acc[r] = _mm256_add_ps(acc[r], v); });
  return merged_by_halving(
      acc, [](__m256 a, __m256 b) { return _mm256_add_ps(a, b); },
      [](__m256 x) {
        return merged_lanes(x, [](__m128 a, __m128 b) { return _mm_add_ps(a, b); });
      });
}

// The max (or min) of a leaf: vmaxps(v, a) is `v > a ? v : a`, reduce_run.h's step, and
// keeps a when v is NaN, so whether any element was NaN is kept apart, in two registers of
// NaN tests (one for each accumulator, sixteen registers in all, spilled two to the stack and
// cost 15% of the leaf). Lanes past n hold the identity.
template <bool kMax>
inline float extreme_leaf(const float* p, int64_t n) {
  constexpr float kIdentity =
      kMax ? -std::numeric_limits<float>::infinity() : std::numeric_limits<float>::infinity();
  __m256 acc[kRegisters];
  for (auto& a : acc) a = _mm256_set1_ps(kIdentity);
  __m256 nan[2] = {_mm256_setzero_ps(), _mm256_setzero_ps()};
  for_each_step(p, n, kIdentity, [&](int r, __m256 v) {
    acc[r] = kMax ? _mm256_max_ps(v, acc[r]) : _mm256_min_ps(v, acc[r]);
    nan[r % 2] = _mm256_or_ps(nan[r % 2], _mm256_cmp_ps(v, v, _CMP_UNORD_Q));
  });
  if (_mm256_movemask_ps(_mm256_or_ps(nan[0], nan[1])) != 0)
    return std::numeric_limits<float>::quiet_NaN();
  // The merge of two: `b better than a ? b : a` (reduce_run.h), vmaxps(b, a).
  return merged_by_halving(
      acc, [](__m256 a, __m256 b) { return kMax ? _mm256_max_ps(b, a) : _mm256_min_ps(b, a); },
      [](__m256 x) {
        return merged_lanes(
            x, [](__m128 a, __m128 b) { return kMax ? _mm_max_ps(b, a) : _mm_min_ps(b, a); });
      });
}

// m becomes its mantissa in [1, 2) and its exponent is added to e, in the lanes where m is a
// normal float (zeros, subnormals, infinities and NaN stay what they are), by the bits, as
// float_products.cpp's take_exponents.
inline void take_exponent(__m256& m, __m256i& e) {
  const __m256i bits = _mm256_castps_si256(m);
  const __m256i biased = _mm256_and_si256(_mm256_srli_epi32(bits, 23), _mm256_set1_epi32(0xff));
  // Normal: a biased exponent in [1, 254].
  const __m256i normal = _mm256_andnot_si256(_mm256_cmpgt_epi32(biased, _mm256_set1_epi32(254)),
                                             _mm256_cmpgt_epi32(biased, _mm256_setzero_si256()));
  e = _mm256_add_epi32(e,
                       _mm256_and_si256(normal, _mm256_sub_epi32(biased, _mm256_set1_epi32(127))));
  const __m256i exponent_field = _mm256_and_si256(normal, _mm256_set1_epi32(0x7f800000));
  const __m256i one_field = _mm256_and_si256(normal, _mm256_set1_epi32(0x3f800000));
  m = _mm256_castsi256_ps(_mm256_or_si256(_mm256_andnot_si256(exponent_field, bits), one_field));
}

// take_exponent for registers whose every lane is a normal float: five instructions a
// register to its twelve, the exponents' bias taken off once for all of them.
inline void take_normal_exponents(__m256 (&m)[kRegisters], __m256i& e) {
  for (auto& x : m) {
    const __m256i bits = _mm256_castps_si256(x);
    e = _mm256_add_epi32(e, _mm256_and_si256(_mm256_srli_epi32(bits, 23), _mm256_set1_epi32(0xff)));
    x = _mm256_castsi256_ps(
        _mm256_or_si256(_mm256_and_si256(bits, _mm256_set1_epi32(static_cast<int32_t>(0x807fffff))),
                        _mm256_set1_epi32(0x3f800000)));
  }
  e = _mm256_sub_epi32(e, _mm256_set1_epi32(127 * kRegisters));
}

// Whether a lane of any of the registers lies outside [2^-32, 2^32) in magnitude (zeros,
// subnormals, infinities and NaN included). A lane's bits shifted past the sign, less those of
// 2^-32 shifted alike, fall in [0, 2^30) exactly there: below it they wrap past 2^31, above it
// they reach 2^30. Three instructions a register.
inline bool any_lane_outside_taking_range(const __m256 (&m)[kRegisters]) {
  const __m256i low = _mm256_set1_epi32(0x2f800000 << 1);  // 2^-32's bits, shifted
  __m256i offsets = _mm256_setzero_si256();
  for (const __m256 x : m)
    offsets = _mm256_or_si256(offsets,
                              _mm256_sub_epi32(_mm256_slli_epi32(_mm256_castps_si256(x), 1), low));
  return _mm256_testz_si256(offsets, _mm256_set1_epi32(static_cast<int32_t>(0xc0000000))) == 0;
}

// The product of a float leaf as a float mantissa times 2^exponent (float_products.h): element
// j multiplied into lane j mod 64, each lane's exponent taken out whenever, after
// kProductStepsPerExponent steps, some lane has left [2^-32, 2^32), and once more at the end;
// the lanes' mantissas then merged by halving. Taking the exponents by the bits is a dozen
// instructions a register, and taking them after every four steps, as the AVX-512 leaf does
// with its two, cost more than the multiplies (prod over the rows of a (1024, 1024), two
// threads on the EPYC under the cap: 44-50 us, the sum 33). Taken less often, the bits are the
// same: a power of two scales a normal float exactly. From a lane in that range, four more
// elements leave float's range only if they average 2^24 or 2^-24 in magnitude (2^32 from
// [1, 2)), and the CPU's flags say when they do. The exponents are integers, whose sum is
// exact in any order, so they add up in one register, not one for each of the mantissas'
// (with sixteen registers in all, the loop spilled to the stack).
inline void product_leaf(const float* p, int64_t n, float& mantissa_out, int32_t& exponent_out) {
  __m256 mantissa[kRegisters];
  for (auto& m : mantissa) m = _mm256_set1_ps(1.0f);
  __m256i exponent = _mm256_setzero_si256();
  constexpr int64_t kSpan = kProductStepsPerExponent * kStep;
  bool taken = false;
  for (int64_t first = 0; first < n; first += kSpan) {
    // Lanes past n multiply by 1.
    for_each_step(p + first, std::min(kSpan, n - first), 1.0f,
                  [&](int r, __m256 v) { mantissa[r] = _mm256_mul_ps(mantissa[r], v); });
    taken = any_lane_outside_taking_range(mantissa);
    if (taken)
      for (auto& m : mantissa) take_exponent(m, exponent);
  }
  // The mantissas in [1, 2) (or zeros, infinities, NaN), whose 64 multiply within float's range:
  // just taken, or every lane normal.
  if (!taken) take_normal_exponents(mantissa, exponent);
  mantissa_out = merged_by_halving(
      mantissa, [](__m256 a, __m256 b) { return _mm256_mul_ps(a, b); },
      [](__m256 x) {
        return merged_lanes(x, [](__m128 a, __m128 b) { return _mm_mul_ps(a, b); });
      });
  __m128i e =
      _mm_add_epi32(_mm256_castsi256_si128(exponent), _mm256_extracti128_si256(exponent, 1));
  e = _mm_add_epi32(e, _mm_unpackhi_epi64(e, e));
  e = _mm_add_epi32(e, _mm_shuffle_epi32(e, _MM_SHUFFLE(1, 1, 1, 1)));
  exponent_out = _mm_cvtsi128_si32(e);
}

template <class T>
void sum_leaves(const T* p, int64_t stride, int64_t rows, int64_t n, float* out) {
  for (int64_t j = 0; j < rows; ++j) out[j] = sum_leaf(p + j * stride, n);
}

}  // namespace

void float_leaves_v3(FloatLeaf leaf, const float* p, int64_t stride, int64_t rows, int64_t n,
                     float* out) {
  for (int64_t j = 0; j < rows; ++j) {
    const float* row = p + j * stride;
    out[j] = leaf == FloatLeaf::kSum   ? sum_leaf(row, n)
             : leaf == FloatLeaf::kMax ? extreme_leaf<true>(row, n)
                                       : extreme_leaf<false>(row, n);
  }
}

void product_leaves_v3(const float* p, int64_t stride, int64_t rows, int64_t n, float* mantissa,
                       int32_t* exponent) {
  for (int64_t j = 0; j < rows; ++j) product_leaf(p + j * stride, n, mantissa[j], exponent[j]);
}

void sum_leaves_v3(const Half* p, int64_t stride, int64_t rows, int64_t n, float* out) {
  sum_leaves(p, stride, rows, n, out);
}

void sum_leaves_v3(const BFloat16* p, int64_t stride, int64_t rows, int64_t n, float* out) {
  sum_leaves(p, stride, rows, n, out);
}

}  // namespace graft::kernels::cpu

#else  // no AVX2 and F16C in this build: GRAFT_REDUCE_V3 keeps these from being called.

namespace graft::kernels::cpu {

void float_leaves_v3(FloatLeaf, const float*, int64_t, int64_t, int64_t, float*) {
  fail_built_without_v3("float_leaves_v3");
}
void product_leaves_v3(const float*, int64_t, int64_t, int64_t, float*, int32_t*) {
  fail_built_without_v3("product_leaves_v3");
}
void sum_leaves_v3(const Half*, int64_t, int64_t, int64_t, float*) {
  fail_built_without_v3("sum_leaves_v3");
}
void sum_leaves_v3(const BFloat16*, int64_t, int64_t, int64_t, float*) {
  fail_built_without_v3("sum_leaves_v3");
}

}  // namespace graft::kernels::cpu

#endif
