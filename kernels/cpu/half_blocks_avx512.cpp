// The AVX-512 forms of half_blocks.h's conversions: 16 lanes an instruction where the x86-64-v3
// forms take 8 (float16, F16C) or emulate the rounding in 8-lane integer steps (bfloat16).
#include "graft/kernels/cpu/half_blocks.h"

#if defined(__x86_64__) && defined(__GNUC__)
#include "graft/kernels/cpu/avx512_file.h"
#include "graft/kernels/cpu/half_lanes_avx512.h"

namespace graft::kernels::cpu {

// The 16 lanes of widen16 (half_lanes_avx512.h).
template <class H>
__attribute__((target("avx512f"))) void widen_lanes(const H* in, float* out, int64_t n) {
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) _mm512_storeu_ps(out + i, widen16(in + i));
  for (; i < n; ++i) out[i] = static_cast<float>(in[i]);
}

void widen_block_avx512(const Half* in, float* out, int64_t n) { widen_lanes(in, out, n); }
void widen_block_avx512(const BFloat16* in, float* out, int64_t n) { widen_lanes(in, out, n); }

// The 16 lanes of narrow16 (half_lanes_avx512.h).
template <class H>
__attribute__((target("avx512f"))) void narrow_lanes(const float* in, H* out, int64_t n) {
  int64_t i = 0;
  for (; i + 16 <= n; i += 16)
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + i), narrow16<H>(_mm512_loadu_ps(in + i)));
  for (; i < n; ++i) out[i] = H(in[i]);
}

void narrow_block_avx512(const float* in, Half* out, int64_t n) { narrow_lanes(in, out, n); }
void narrow_block_avx512(const float* in, BFloat16* out, int64_t n) { narrow_lanes(in, out, n); }

// vcvtneps2bf16 rounds the same way, NaNs included, in one instruction where the integer steps
// take ten; but it counts a subnormal float (below 2^-126) as zero. A vector with one, found by
// vfpclassps, goes the integer way (subnormal floats are rare: the smallest normal is 1.2e-38).
// Two vectors at a time: one test and one branch for both, and one vcvtne2ps2bf16.
__attribute__((target("avx512f,avx512dq,avx512bf16"))) void narrow_block_avx512_bf16(
    const float* in, BFloat16* out, int64_t n) {
  constexpr int kSubnormal = 0x20;  // vfpclassps's category
  int64_t i = 0;
  for (; i + 32 <= n; i += 32) {
    const __m512 low = _mm512_loadu_ps(in + i), high = _mm512_loadu_ps(in + i + 16);
    if ((_mm512_fpclass_ps_mask(low, kSubnormal) | _mm512_fpclass_ps_mask(high, kSubnormal)) == 0) {
      _mm512_storeu_si512(out + i, reinterpret_cast<__m512i>(_mm512_cvtne2ps_pbh(high, low)));
      continue;
    }
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + i),
                        bfloat16_by_integers(_mm512_castps_si512(low)));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + i + 16),
                        bfloat16_by_integers(_mm512_castps_si512(high)));
  }
  for (; i + 16 <= n; i += 16) {
    const __m512 x = _mm512_loadu_ps(in + i);
    const __m256i narrowed = _mm512_fpclass_ps_mask(x, kSubnormal) == 0
                                 ? reinterpret_cast<__m256i>(_mm512_cvtneps_pbh(x))
                                 : bfloat16_by_integers(_mm512_castps_si512(x));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + i), narrowed);
  }
  for (; i < n; ++i) out[i] = BFloat16(in[i]);
}

}  // namespace graft::kernels::cpu

#else

namespace graft::kernels::cpu {

void widen_block_avx512(const Half*, float*, int64_t) {
  fail_built_without_avx512("widen_block_avx512");
}
void widen_block_avx512(const BFloat16*, float*, int64_t) {
  fail_built_without_avx512("widen_block_avx512");
}
void narrow_block_avx512(const float*, Half*, int64_t) {
  fail_built_without_avx512("narrow_block_avx512");
}
void narrow_block_avx512(const float*, BFloat16*, int64_t) {
  fail_built_without_avx512("narrow_block_avx512");
}
void narrow_block_avx512_bf16(const float*, BFloat16*, int64_t) {
  fail_built_without_avx512("narrow_block_avx512_bf16");
}

}  // namespace graft::kernels::cpu

#endif
