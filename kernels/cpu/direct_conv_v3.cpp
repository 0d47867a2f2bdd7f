// DirectConv's AVX2 transposes (direct_conv_v3.h).
#include "graft/kernels/cpu/direct_conv_v3.h"

#include <algorithm>

#include "graft/kernels/cpu/cpu_features.h"

#if GRAFT_YMM_KERNELS
#include <immintrin.h>

#include "graft/kernels/cpu/lane_masks.h"
#include "graft/kernels/cpu/ymm_tiles.h"

namespace graft::kernels::cpu {

void from_planes_v3(const float* planes, int64_t n, int64_t out_h, int64_t out_w, int64_t width,
                    int64_t stride, float* product) {
  const int64_t out_plane = out_h * out_w;
  for (int64_t oh = 0; oh < out_h; ++oh) {
    float* const row = product + oh * width * stride;
    for (int64_t ow0 = 0; ow0 < out_w; ow0 += 8) {
      const int64_t pixels = std::min<int64_t>(8, out_w - ow0);
      const __m256i lanes = first_lanes8(pixels);
      for (int64_t c0 = 0; c0 < stride; c0 += 8) {
        __m256 block[8];
        for (int64_t c = 0; c < 8; ++c)
          block[c] = c0 + c < n ? _mm256_maskload_ps(
                                      planes + (c0 + c) * out_plane + oh * out_w + ow0, lanes)
                                : _mm256_setzero_ps();
        transpose_8x8(block);
        for (int64_t p = 0; p < pixels; ++p)
          _mm256_storeu_ps(row + (ow0 + p) * stride + c0, block[p]);
      }
    }
    // The positions past the row's end, up to the next row's first pixel (none after the last).
    if (oh + 1 < out_h) std::fill(row + out_w * stride, row + width * stride, 0.0f);
  }
}

// Masked loads and stores only at the edges: AMD's Zen 4 takes a dozen cycles or more for a
// vmaskmovps store, and to_planes_v3 stored that way took 7% of conv2's forward and backward.
void to_planes_v3(const float* product, int64_t stride, int64_t out_plane, int64_t n,
                  const float* bias, float* planes) {
  for (int64_t q0 = 0; q0 < out_plane; q0 += 8) {
    const int64_t rows = std::min<int64_t>(8, out_plane - q0);
    const __m256i stored = first_lanes8(rows);
    for (int64_t c0 = 0; c0 < n; c0 += 8) {
      const int64_t channels = std::min<int64_t>(8, n - c0);
      const __m256i lanes = first_lanes8(channels);
      __m256 block[8];
      for (int64_t r = 0; r < 8; ++r) {
        const float* row = product + (q0 + r) * stride + c0;
        block[r] = r >= rows       ? _mm256_setzero_ps()
                   : channels == 8 ? _mm256_loadu_ps(row)
                                   : _mm256_maskload_ps(row, lanes);
      }
      transpose_8x8(block);
      for (int64_t c = 0; c < channels; ++c) {
        __m256 plane = block[c];
        if (bias != nullptr) plane = _mm256_add_ps(plane, _mm256_set1_ps(bias[c0 + c]));
        float* const to = planes + (c0 + c) * out_plane + q0;
        if (rows == 8)
          _mm256_storeu_ps(to, plane);
        else
          _mm256_maskstore_ps(to, stored, plane);
      }
    }
  }
}

}  // namespace graft::kernels::cpu

#else  // no AVX2 and FMA in this build: DirectConv does not serve, so these are never called.

namespace graft::kernels::cpu {

void from_planes_v3(const float*, int64_t, int64_t, int64_t, int64_t, int64_t, float*) {
  fail_built_without_v3("from_planes_v3");
}
void to_planes_v3(const float*, int64_t, int64_t, int64_t, const float*, float*) {
  fail_built_without_v3("to_planes_v3");
}

}  // namespace graft::kernels::cpu

#endif
