// The AVX-512 float32 leaves of reduce_avx512.h.
#include "graft/kernels/cpu/reduce_avx512.h"

#include <algorithm>
#include <cstdint>
#include <initializer_list>
#include <limits>

#include "graft/kernels/cpu/float_products.h"
#include "graft/kernels/cpu/lane_masks.h"

#if defined(__x86_64__) && defined(__GNUC__)
#include "graft/kernels/cpu/avx512_file.h"
#include "graft/kernels/cpu/half_lanes_avx512.h"

namespace graft::kernels::cpu {
namespace {

// Accumulator registers: 64 lanes, as reduce_run.h's 8-lane leaves keep 64 sums.
constexpr int kRegisters = 4;
constexpr int64_t kStep = 16 * kRegisters;

// 16 elements from p as float32, the first `count` of them (the rest zero: +0.0).
GRAFT_AVX512 __m512 load16(const float* p, int64_t count) {
  if (count >= 16) return _mm512_loadu_ps(p);
  return _mm512_maskz_loadu_ps(static_cast<__mmask16>(first_lanes16(count)), p);
}
// 16-bit floats widened, likewise (half_lanes_avx512.h).
template <class H>
GRAFT_AVX512 __m512 load16(const H* p, int64_t count) {
  return widen16(p, count);
}

// How far ahead of its step a 16-bit sum asks for memory, in bytes: into L1 kNearBytes on,
// into L2 kFarBytes on. A 16-bit step widens and adds what a float32 step loads in half the
// bytes, and the hardware prefetchers fall behind it: summing 16M bfloat16 values on the
// 2-core Xeon, two threads, a bare loop of these steps reads at 0.58-0.65 of float32's GB/s
// (docs/performance.md, "16-bit sums: asking for memory in two steps"). Each leaf asking for
// the whole leaf two on before it starts (2 KB ahead, 32 requests at once): sums 0.82-0.88,
// over dim 1 0.81-0.91; each step asking for its own two lines 16 KB on: 0.96-0.99 and
// 0.90-1.01; in two steps, 4 KB on into L1 and 32 KB on into L2: 1.00-1.04 and 1.00-1.05.
// The lines asked for past a run's end are at most kFarBytes of another tensor's, and a run
// shorter than a step asks for none.
constexpr uintptr_t kNearBytes = 4096, kFarBytes = 32768;

// Walks p[0, n) a step of 64 elements at a time, calling step(r, v, mask) for register r and
// the 16 elements v it takes (the lanes of `mask` only: all of them but in the last, partial
// step, whose other lanes are zero).
template <class T, class Step>
GRAFT_AVX512 void for_each_step(const T* p, int64_t n, const Step& step) {
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
    for (int r = 0; r < kRegisters; ++r)
      step(r, load16(p + i + 16 * r, 16), static_cast<__mmask16>(0xffff));
  }
  for (int r = 0; r < kRegisters && i + 16 * r < n; ++r) {
    const int64_t count = n - i - 16 * r;
    step(r, load16(p + i + 16 * r, count), static_cast<__mmask16>(first_lanes16(count)));
  }
}

// The four registers' 64 lanes merged by halving, as reduce_run.h's merged_by_halving merges
// 64 accumulators: lane k with k + 32, then k + 16, ..., k + 1, every step one merge16(a, b,
// lanes) of the register and its upper lanes moved down into the step's lower lanes (the
// others keep a's: they are not read, and merging them too could raise a product's overflow
// flag for nothing; float_products.h). Through memory, the last four steps' fifteen scalar
// merges cost a leaf of 16-bit values a quarter of its time.
template <class Merge16>
GRAFT_AVX512 float merged_by_halving(const __m512 (&acc)[kRegisters], const Merge16& merge16) {
  __m512 x = merge16(merge16(acc[0], acc[2], 0xffff), merge16(acc[1], acc[3], 0xffff), 0xffff);
  x = merge16(x, _mm512_shuffle_f32x4(x, x, 0xEE), 0x00ff);               // 8-15 onto 0-7
  x = merge16(x, _mm512_shuffle_f32x4(x, x, 0x01), 0x000f);               // 4-7 onto 0-3
  x = merge16(x, _mm512_permute_ps(x, _MM_SHUFFLE(3, 2, 3, 2)), 0x0003);  // 2-3 onto 0-1
  x = merge16(x, _mm512_permute_ps(x, _MM_SHUFFLE(1, 1, 1, 1)), 0x0001);  // 1 onto 0
  return _mm512_cvtss_f32(x);
}

// a + b (or a * b) in the lanes of `lanes`, a in the others.
template <bool kProduct>
GRAFT_AVX512 __m512 combine16(__m512 a, __m512 b, __mmask16 lanes) {
  return kProduct ? _mm512_mask_mul_ps(a, lanes, a, b) : _mm512_mask_add_ps(a, lanes, a, b);
}

// `b better than a ? b : a`, reduce_run.h's merge of two maxima (or minima): vmaxps(b, a).
template <bool kMax>
GRAFT_AVX512 __m512 better16(__m512 a, __m512 b, __mmask16 lanes) {
  return kMax ? _mm512_mask_max_ps(a, lanes, b, a) : _mm512_mask_min_ps(a, lanes, b, a);
}

template <class T>
GRAFT_AVX512 float sum_leaf(const T* p, int64_t n) {
  __m512 acc[kRegisters];
  for (auto& a : acc) a = _mm512_setzero_ps();
  // The last step's lanes past n hold zeros, which change nothing: accumulators that start at
  // +0.0 are never -0.0.
  for_each_step(p, n, [&](int r, __m512 v, __mmask16) GRAFT_AVX512_LAMBDA {
    acc[r] = _mm512_add_ps(acc[r], v);
  });
  return merged_by_halving(acc, combine16<false>);
}

static_assert(16 * kRegisters == kProductLanes);

// m becomes its mantissa in [1, 2) and its exponent is added to e, in the lanes where m is a
// normal float: zeros, subnormals, infinities and NaN stay what they are (exact: a power of
// two takes nothing from a float's bits), as float_products.cpp's take_exponents.
GRAFT_AVX512 void take_exponent(__m512& m, __m512& e) {
  const __m512 magnitude = _mm512_abs_ps(m);
  const __mmask16 large =
      _mm512_cmp_ps_mask(magnitude, _mm512_set1_ps(std::numeric_limits<float>::min()), _CMP_GE_OQ);
  const __mmask16 normal = _mm512_mask_cmp_ps_mask(
      large, magnitude, _mm512_set1_ps(std::numeric_limits<float>::infinity()), _CMP_LT_OQ);
  e = _mm512_mask_add_ps(e, normal, e, _mm512_getexp_ps(m));
  m = _mm512_mask_getmant_ps(m, normal, m, _MM_MANT_NORM_1_2, _MM_MANT_SIGN_src);
}

// The product of a float leaf as a float mantissa times 2^exponent (float_products.h): element
// j multiplied into lane j mod 64, every kProductStepsPerExponent steps each lane's exponent
// taken out and added up apart (small integers, exact as floats), the lanes' mantissas and
// exponents merged by the sums' halving.
GRAFT_AVX512 void product_leaf(const float* p, int64_t n, float& mantissa_out,
                               int32_t& exponent_out) {
  __m512 mantissa[kRegisters], exponent[kRegisters];
  for (int r = 0; r < kRegisters; ++r) {
    mantissa[r] = _mm512_set1_ps(1.0f);
    exponent[r] = _mm512_setzero_ps();
  }
  constexpr int64_t kSpan = kProductStepsPerExponent * kStep;
  for (int64_t first = 0; first < n; first += kSpan) {
    for_each_step(p + first, std::min(kSpan, n - first),
                  [&](int r, __m512 v, __mmask16 mask)
                      GRAFT_AVX512_LAMBDA { mantissa[r] = combine16<true>(mantissa[r], v, mask); });
    for (int r = 0; r < kRegisters; ++r) take_exponent(mantissa[r], exponent[r]);
  }
  mantissa_out = merged_by_halving(mantissa, combine16<true>);
  exponent_out = static_cast<int32_t>(merged_by_halving(exponent, combine16<false>));
}

template <bool kMax>
GRAFT_AVX512 float extreme_leaf(const float* p, int64_t n) {
  __m512 acc[kRegisters];
  for (auto& a : acc)
    a = _mm512_set1_ps(kMax ? -std::numeric_limits<float>::infinity()
                            : std::numeric_limits<float>::infinity());
  // vmaxps(v, a) is `v > a ? v : a`, reduce_run.h's step, and keeps a when v is NaN: whether
  // every lane so far was a number is kept apart, in a mask for each register. A masked
  // compare ands into its mask in the same instruction, where or-ing a NaN test into one
  // mask took a second (max over the rows of (256, 1024), one thread: 10.7 -> 7.x us).
  __mmask16 numbers[kRegisters];
  for (auto& m : numbers) m = 0xffff;
  for_each_step(p, n, [&](int r, __m512 v, __mmask16 mask) GRAFT_AVX512_LAMBDA {
    acc[r] = kMax ? _mm512_mask_max_ps(acc[r], mask, v, acc[r])
                  : _mm512_mask_min_ps(acc[r], mask, v, acc[r]);
    numbers[r] = _mm512_mask_cmp_ps_mask(numbers[r], v, v, _CMP_ORD_Q);  // past n: zeros
  });
  if ((numbers[0] & numbers[1] & numbers[2] & numbers[3]) != 0xffff)
    return std::numeric_limits<float>::quiet_NaN();
  return merged_by_halving(acc, better16<kMax>);
}

}  // namespace

__attribute__((target("avx512f"))) void float_leaves_avx512(FloatLeaf leaf, const float* p,
                                                            int64_t stride, int64_t rows, int64_t n,
                                                            float* out) {
  for (int64_t j = 0; j < rows; ++j) {
    const float* row = p + j * stride;
    out[j] = leaf == FloatLeaf::kSum   ? sum_leaf(row, n)
             : leaf == FloatLeaf::kMax ? extreme_leaf<true>(row, n)
                                       : extreme_leaf<false>(row, n);
  }
}

__attribute__((target("avx512f"))) void product_leaves_avx512(const float* p, int64_t stride,
                                                              int64_t rows, int64_t n,
                                                              float* mantissa, int32_t* exponent) {
  for (int64_t j = 0; j < rows; ++j) product_leaf(p + j * stride, n, mantissa[j], exponent[j]);
}

__attribute__((target("avx512f"))) void sum_leaves_avx512(const Half* p, int64_t stride,
                                                          int64_t rows, int64_t n, float* out) {
  for (int64_t j = 0; j < rows; ++j) out[j] = sum_leaf(p + j * stride, n);
}

__attribute__((target("avx512f"))) void sum_leaves_avx512(const BFloat16* p, int64_t stride,
                                                          int64_t rows, int64_t n, float* out) {
  for (int64_t j = 0; j < rows; ++j) out[j] = sum_leaf(p + j * stride, n);
}

}  // namespace graft::kernels::cpu

#else  // not x86-64 with GCC or Clang: cpu_runs_avx512() is false, so these never run.

#include "graft/kernels/cpu/cpu_features.h"

namespace graft::kernels::cpu {

void float_leaves_avx512(FloatLeaf, const float*, int64_t, int64_t, int64_t, float*) {
  fail_built_without_avx512("float_leaves_avx512");
}
void product_leaves_avx512(const float*, int64_t, int64_t, int64_t, float*, int32_t*) {
  fail_built_without_avx512("product_leaves_avx512");
}
void sum_leaves_avx512(const Half*, int64_t, int64_t, int64_t, float*) {
  fail_built_without_avx512("sum_leaves_avx512");
}
void sum_leaves_avx512(const BFloat16*, int64_t, int64_t, int64_t, float*) {
  fail_built_without_avx512("sum_leaves_avx512");
}

}  // namespace graft::kernels::cpu

#endif
