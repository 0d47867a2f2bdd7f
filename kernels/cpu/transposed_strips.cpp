// The register transposes of transposed_strips.h.
#include "graft/kernels/cpu/transposed_strips.h"

#include "graft/core/error.h"

#if defined(__x86_64__) && defined(__GNUC__)
#include "graft/kernels/cpu/avx512_file.h"
#include "graft/kernels/cpu/lane_masks.h"
#include "graft/kernels/cpu/zmm_transpose.h"

namespace graft::kernels::cpu {

__attribute__((target("avx512f"))) void transpose_strip(const uint32_t* src, int64_t col_stride,
                                                        int64_t rows, int64_t cols, uint32_t* buf,
                                                        int64_t buf_stride) {
  const auto lanes = static_cast<__mmask16>(first_lanes16(rows));
  for (int64_t j0 = 0; j0 < cols; j0 += 16) {
    // Column j0 + k of the strip is 16 adjacent words: one line, read whole.
    __m512 block[16];
    for (int64_t k = 0; k < 16; ++k)
      block[k] = j0 + k < cols ? _mm512_maskz_loadu_ps(lanes, src + (j0 + k) * col_stride)
                               : _mm512_setzero_ps();
    transpose_16x16(block);
    const auto stored = static_cast<__mmask16>(first_lanes16(cols - j0));
    for (int64_t i = 0; i < rows; ++i)
      _mm512_mask_storeu_ps(buf + i * buf_stride + j0, stored, block[i]);
  }
}

}  // namespace graft::kernels::cpu

#else

namespace graft::kernels::cpu {

void transpose_strip(const uint32_t*, int64_t, int64_t, int64_t, uint32_t*, int64_t) {
  detail::fail("transpose_strip(): graft was built without its AVX-512 kernels");
}

}  // namespace graft::kernels::cpu

#endif
