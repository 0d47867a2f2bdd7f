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

// store_narrowed32 and narrow16 (half_lanes_avx512.h).
template <class H, BFloat16Narrowing kNarrowing = BFloat16Narrowing::kIntegerSteps>
__attribute__((target("avx512f"))) void narrow_lanes(const float* in, H* out, int64_t n) {
  int64_t i = 0;
  for (; i + 32 <= n; i += 32)
    store_narrowed32<H, kNarrowing>(out + i, _mm512_loadu_ps(in + i), _mm512_loadu_ps(in + i + 16));
  for (; i + 16 <= n; i += 16)
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + i),
                        narrow16<H, kNarrowing>(_mm512_loadu_ps(in + i)));
  for (; i < n; ++i) out[i] = H(in[i]);
}

void narrow_block_avx512(const float* in, Half* out, int64_t n) { narrow_lanes(in, out, n); }
void narrow_block_avx512(const float* in, BFloat16* out, int64_t n) { narrow_lanes(in, out, n); }
void narrow_block_avx512_bf16(const float* in, BFloat16* out, int64_t n) {
  narrow_lanes<BFloat16, BFloat16Narrowing::kInstruction>(in, out, n);
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
