// The vector packing of bfloat16_packing.h. AVX-512 BW and VL (16-bit masked loads) come with
// every CPU that has AVX512-BF16 or AMX, the only ones whose kernels read these panels.
#include "graft/kernels/cpu/bfloat16_packing.h"

#if defined(__x86_64__) && defined(__GNUC__)

#include <immintrin.h>

#include <algorithm>

#include "graft/kernels/cpu/lane_masks.h"
#include "graft/kernels/cpu/zmm_transpose.h"

// GCC 12's false alarm inside its shuffle intrinsics (zmm_transpose.h).
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"

#define GRAFT_BW_TARGET __attribute__((target("avx512f,avx512bw,avx512vl")))

namespace graft::kernels::cpu {
namespace {

// 32 elements from p, those past `count` zero (none read then).
GRAFT_BW_TARGET inline __m512i load32(const BFloat16* p, int64_t count) {
  return count <= 0 ? _mm512_setzero_si512() : _mm512_maskz_loadu_epi16(first_lanes32(count), p);
}
// 16 elements from p, likewise.
GRAFT_BW_TARGET inline __m256i load16(const BFloat16* p, int64_t count) {
  return count <= 0 ? _mm256_setzero_si256() : _mm256_maskz_loadu_epi16(first_lanes16(count), p);
}

// 16 words, each low[l] | high[l] << 16.
GRAFT_BW_TARGET inline __m512i pairs(__m256i low, __m256i high) {
  return _mm512_or_si512(_mm512_cvtepu16_epi32(low),
                         _mm512_slli_epi32(_mm512_cvtepu16_epi32(high), 16));
}

// The 16 x 16 words of v transposed (as floats: only the bits move).
GRAFT_BW_TARGET inline void transpose_words(__m512i (&v)[16]) {
  __m512 f[16];
  for (int i = 0; i < 16; ++i) f[i] = _mm512_castsi512_ps(v[i]);
  transpose_16x16(f);
  for (int i = 0; i < 16; ++i) v[i] = _mm512_castps_si512(f[i]);
}

// A row-major a: word w of row i is elements 2w and 2w + 1 of the row, as they lie.
GRAFT_BW_TARGET void row_major_a(const BFloat16* a, int64_t row_stride, int64_t m, int64_t k,
                                 int64_t r0, int64_t rows, int64_t group, int64_t words,
                                 uint32_t* panel) {
  if (group == 16) {  // AMX: 16 words (64 bytes) of a row together
    for (int64_t i = 0; i < rows; ++i)
      for (int64_t g = 0; g < words / 16; ++g)
        _mm512_storeu_si512(panel + (g * rows + i) * 16,
                            r0 + i < m ? load32(a + (r0 + i) * row_stride + 32 * g, k - 32 * g)
                                       : _mm512_setzero_si512());
    return;
  }
  // One word of every row together: 16 words of 16 rows transposed at a time.
  for (int64_t w0 = 0; w0 < words; w0 += 16) {
    __m512i v[16];
    for (int64_t i = 0; i < 16; ++i)
      v[i] = i < rows && r0 + i < m ? load32(a + (r0 + i) * row_stride + 2 * w0, k - 2 * w0)
                                    : _mm512_setzero_si512();
    transpose_words(v);
    for (int64_t t = 0; t < std::min<int64_t>(16, words - w0); ++t)
      _mm512_mask_storeu_epi32(panel + (w0 + t) * rows, first_lanes16(rows), v[t]);
  }
}

// A column-major a: word w of rows [r, r + 16) pairs row 2w of the k-rows with row 2w + 1.
GRAFT_BW_TARGET inline __m512i column_major_word(const BFloat16* a, int64_t col_stride, int64_t m,
                                                 int64_t k, int64_t r, int64_t w) {
  const int64_t valid = m - r;
  return pairs(
      2 * w < k ? load16(a + r + 2 * w * col_stride, valid) : _mm256_setzero_si256(),
      2 * w + 1 < k ? load16(a + r + (2 * w + 1) * col_stride, valid) : _mm256_setzero_si256());
}

GRAFT_BW_TARGET void column_major_a(const BFloat16* a, int64_t col_stride, int64_t m, int64_t k,
                                    int64_t r0, int64_t rows, int64_t group, int64_t words,
                                    uint32_t* panel) {
  if (group == 1) {  // a word's rows together, as the pairs come
    for (int64_t w = 0; w < words; ++w)
      _mm512_mask_storeu_epi32(panel + w * rows, first_lanes16(rows),
                               column_major_word(a, col_stride, std::min(m, r0 + rows), k, r0, w));
    return;
  }
  // AMX: a row's 16 words together, so 16 words of 16 rows are transposed.
  for (int64_t g = 0; g < words / 16; ++g)
    for (int64_t h = 0; h < rows; h += 16) {
      __m512i v[16];
      for (int64_t t = 0; t < 16; ++t)
        v[t] = column_major_word(a, col_stride, m, k, r0 + h, 16 * g + t);
      transpose_words(v);
      for (int64_t i = 0; i < 16; ++i) _mm512_storeu_si512(panel + (g * rows + h + i) * 16, v[i]);
    }
}

// A row-major b: word w of 32 columns pairs k-row 2w with k-row 2w + 1.
GRAFT_BW_TARGET void row_major_b(const BFloat16* b, int64_t row_stride, int64_t k, int64_t columns,
                                 int64_t words, uint32_t* panel) {
  for (int64_t w = 0; w < words; ++w) {
    const __m512i low =
        2 * w < k ? load32(b + 2 * w * row_stride, columns) : _mm512_setzero_si512();
    const __m512i high =
        2 * w + 1 < k ? load32(b + (2 * w + 1) * row_stride, columns) : _mm512_setzero_si512();
    _mm512_storeu_si512(panel + w * 32,
                        pairs(_mm512_castsi512_si256(low), _mm512_castsi512_si256(high)));
    _mm512_storeu_si512(panel + w * 32 + 16, pairs(_mm512_extracti64x4_epi64(low, 1),
                                                   _mm512_extracti64x4_epi64(high, 1)));
  }
}

// A column-major b: word w of a column is its elements 2w and 2w + 1, as they lie; 16 words of
// 16 columns transposed at a time.
GRAFT_BW_TARGET void column_major_b(const BFloat16* b, int64_t col_stride, int64_t k,
                                    int64_t columns, int64_t words, uint32_t* panel) {
  for (int64_t w0 = 0; w0 < words; w0 += 16)
    for (int64_t h = 0; h < 32; h += 16) {
      __m512i v[16];
      for (int64_t c = 0; c < 16; ++c)
        v[c] = h + c < columns ? load32(b + (h + c) * col_stride + 2 * w0, k - 2 * w0)
                               : _mm512_setzero_si512();
      transpose_words(v);
      for (int64_t t = 0; t < std::min<int64_t>(16, words - w0); ++t)
        _mm512_storeu_si512(panel + (w0 + t) * 32 + h, v[t]);
    }
}

}  // namespace

bool pack_bfloat16_a(const BFloat16* a, int64_t row_stride, int64_t col_stride, int64_t m,
                     int64_t k, int64_t first, int64_t last, int64_t rows, int64_t group,
                     int64_t words, uint32_t* packed) {
  const bool layout_served = (group == 1 && rows <= 16) || (group == 16 && rows % 16 == 0);
  if (!layout_served || (col_stride != 1 && row_stride != 1)) return false;
  for (int64_t p = first; p < last; ++p) {
    uint32_t* panel = packed + (p - first) * words * rows;
    if (col_stride == 1)
      row_major_a(a, row_stride, m, k, p * rows, rows, group, words, panel);
    else
      column_major_a(a, col_stride, m, k, p * rows, rows, group, words, panel);
  }
  return true;
}

bool pack_bfloat16_b(const BFloat16* b, int64_t row_stride, int64_t col_stride, int64_t k,
                     int64_t n, int64_t first, int64_t last, int64_t words, uint32_t* packed) {
  if (col_stride != 1 && row_stride != 1) return false;
  for (int64_t p = first; p < last; ++p) {
    uint32_t* panel = packed + (p - first) * words * 32;
    const int64_t j = p * 32, columns = std::min<int64_t>(32, n - j);
    if (col_stride == 1)
      row_major_b(b + j, row_stride, k, columns, words, panel);
    else
      column_major_b(b + j * col_stride, col_stride, k, columns, words, panel);
  }
  return true;
}

}  // namespace graft::kernels::cpu

#else  // not x86-64 with GCC or Clang: the element by element path

namespace graft::kernels::cpu {

bool pack_bfloat16_a(const BFloat16*, int64_t, int64_t, int64_t, int64_t, int64_t, int64_t, int64_t,
                     int64_t, int64_t, uint32_t*) {
  return false;
}
bool pack_bfloat16_b(const BFloat16*, int64_t, int64_t, int64_t, int64_t, int64_t, int64_t, int64_t,
                     uint32_t*) {
  return false;
}

}  // namespace graft::kernels::cpu

#endif
