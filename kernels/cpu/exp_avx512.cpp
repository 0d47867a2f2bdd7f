// exp_avx512 (exp_avx512.h).
#include "graft/kernels/cpu/exp_avx512.h"

#include "graft/core/error.h"

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>

// GCC 12 warns falsely inside its own AVX-512 intrinsics ("may be used uninitialized", bug
// 105593; zmm_transpose.h): silenced for this file, all of it intrinsics.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"

namespace graft::kernels::cpu {
namespace {

// e^x for 16 floats.
__attribute__((target("avx512f"), always_inline)) inline __m512 exp16(__m512 x) {
  // Beyond these, the result is inf or rounds to 0 anyway; clamping keeps n ln 2 finite (an inf
  // x would make r = inf - inf). min/max return their second operand when either is NaN, so
  // a NaN x passes through.
  x = _mm512_min_ps(_mm512_set1_ps(89.0f), x);
  x = _mm512_max_ps(_mm512_set1_ps(-104.0f), x);
  const __m512 n = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(1.44269504088896341f)),
                                        _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(0.693359375f), x);  // ln 2's leading bits
  r = _mm512_fnmadd_ps(n, _mm512_set1_ps(-2.12194440e-4f), r);      // and the rest
  __m512 p = _mm512_set1_ps(1.9875691500e-4f);
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.3981999507e-3f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(8.3334519073e-3f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(4.1665795894e-2f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.6666665459e-1f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(5.0000001201e-1f));
  const __m512 e = _mm512_add_ps(_mm512_fmadd_ps(p, _mm512_mul_ps(r, r), r), _mm512_set1_ps(1.0f));
  return _mm512_scalef_ps(e, n);
}

}  // namespace

__attribute__((target("avx512f"))) void exp_avx512(const float* in, float* out, int64_t n) {
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) _mm512_storeu_ps(out + i, exp16(_mm512_loadu_ps(in + i)));
  if (i < n) {
    const auto tail = static_cast<__mmask16>((1u << (n - i)) - 1);
    _mm512_mask_storeu_ps(out + i, tail, exp16(_mm512_maskz_loadu_ps(tail, in + i)));
  }
}

}  // namespace graft::kernels::cpu

#else

namespace graft::kernels::cpu {

void exp_avx512(const float*, float*, int64_t) {
  detail::fail("exp_avx512(): graft was built without its AVX-512 kernels");
}

}  // namespace graft::kernels::cpu

#endif
