// The packed GEMMs (see packed_gemm.h): asking the CPU what it runs, packing, the four
// kernels' tiles, and the blocks the threads share.
#include "graft/kernels/cpu/packed_gemm.h"

#include <algorithm>
#include <array>
#include <atomic>
#include <cstring>
#include <type_traits>
#include <utility>
#include <vector>

#include "graft/core/error.h"
#include "graft/kernels/cpu/bfloat16_packing.h"
#include "graft/kernels/cpu/cpu_features.h"
#include "graft/kernels/cpu/dot_products.h"
#include "graft/kernels/cpu/half_blocks.h"
#include "graft/kernels/cpu/lane_masks.h"
#include "graft/kernels/cpu/parallel.h"
#include "graft/kernels/cpu/thread_buffer.h"
#include "graft/kernels/cpu/tile_operands.h"
#include "graft/kernels/cpu/ymm_tiles.h"
#if GRAFT_YMM_KERNELS && GRAFT_F16C_CONVERSIONS
#include "graft/kernels/cpu/half_lanes_v3.h"
#endif
#include "graft/kernels/cpu/zmm_transpose.h"
#if defined(__x86_64__) && defined(__GNUC__)
#include "graft/kernels/cpu/half_lanes_avx512.h"
#endif

// The kernels need GCC's or Clang's per-function target attribute and x86-64's intrinsics;
// AMX also needs Linux's permission to use the tile registers (cpu_features.h asks for it).
#if defined(__x86_64__) && defined(__GNUC__)
#define GRAFT_X86_KERNELS 1
#include <immintrin.h>
#if defined(__linux__)
#define GRAFT_AMX 1
#include "graft/kernels/cpu/amx_tiles.h"
#endif
#endif

namespace graft::kernels::cpu {

#if GRAFT_X86_KERNELS

namespace {

int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

// Columns of b per panel and of an output tile, for every kernel.
constexpr int64_t kPanelColumns = 32;

// A kernel is a struct with
//   Element, Word            the operands' type, and what packing stores: a float32 (the
//                            element itself, or a float16 widened), or two bfloat16 of
//                            consecutive k in 32 bits
//   kKPerWord                k per word: 1 or 2
//   kRows                    rows of a per panel, and of an output tile
//   kWordGroup               words of a row of a stored together: a panel holds word w of
//                            row i at (w / group * kRows + i) * group + w % group. With 1,
//                            the rows' words of one k-step sit side by side, to be
//                            broadcast in turn; with 16 (AMX) a row's 16 words are one
//                            64-byte row of a tile.
//   kBlockPanels             a thread's block of the output, in row and column panels
//   Session                  what a thread sets up for a block (AMX's tile shapes)
//   tile(a, b, words, out, stride)  out (kRows x kPanelColumns, float32, rows `stride`
//                            floats apart) = a_panel x b_panel; or, for a kernel that can
//                            read its operands where they lie, tile_in_place (below)
//   pack_lines, pack_columns for a kernel whose words are floats (kPacksFloats): its packers,
//                            pack_float_lines and pack_float_columns in its instruction set
// b's panels are the same for all: word w of column c at w * kPanelColumns + c, so that 16
// columns of one word are a zmm vector (or two ymm ones), or a row of an AMX tile ("VNNI"
// layout).

// Element (i, j) of x, or zero outside (rows, cols): the packing's zero padding.
template <class T>
T element(const StridedMatrix<T>& x, int64_t i, int64_t j, int64_t rows, int64_t cols) {
  return i < rows && j < cols ? x.data[i * x.row_stride + j * x.col_stride] : T(0.0f);
}

// The word of x holding (i, j) and, for a two-element word, the next element along k:
// (i, j + 1) in a, (i + 1, j) in b (kAlongRows). bfloat16 pairs put the first in the low
// half, as vdpbf16ps and tdpbf16ps read them.
template <class Kernel, bool kAlongRows>
typename Kernel::Word word(const StridedMatrix<typename Kernel::Element>& x, int64_t i, int64_t j,
                           int64_t rows, int64_t cols) {
  if constexpr (Kernel::kKPerWord == 1) {
    return element(x, i, j, rows, cols);
  } else {
    const auto second = element(x, kAlongRows ? i + 1 : i, kAlongRows ? j : j + 1, rows, cols);
    return element(x, i, j, rows, cols).bits() | static_cast<uint32_t>(second.bits()) << 16;
  }
}

// Packing moves each element once, but for the small products of a training step (k and n of
// a few hundred) that is as much work as the products themselves: done element by element
// through word()'s bounds checks it took as long as the tiles (a GPT step, 2026-12-04). So a
// panel of floats (float32's, for a only ever a partial one: whole panels are read in place;
// float16's, widened as they are copied) is copied along whichever of the operand's dims is
// contiguous, without checks; the paired bfloat16 words take the general path.
template <class Kernel>
constexpr bool kPacksFloats = Kernel::kKPerWord == 1 && Kernel::kWordGroup == 1;

// 16 elements from p as floats, the first `count` of them (the rest 0, nothing read past
// them): float32 as it is, float16 widened (half_lanes_avx512.h).
__attribute__((target("avx512f"), always_inline)) inline __m512 load_floats(const float* p,
                                                                            int64_t count) {
  if (count >= 16) return _mm512_loadu_ps(p);
  return _mm512_maskz_loadu_ps(first_lanes16(count), p);
}
__attribute__((target("avx512f"), always_inline)) inline __m512 load_floats(const Half* p,
                                                                            int64_t count) {
  if (count >= 16) return widen16(p);
  // An edge: the few elements copied (AVX-512F has no masked 16-bit load).
  alignas(32) Half part[16] = {};
  for (int64_t i = 0; i < count; ++i) part[i] = p[i];
  return widen16(part);
}

// GCC 12's false alarm inside its shuffle intrinsics (zmm_transpose.h), once inlined here.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"

// Panels [0, panels) of `width` lines each, one after another, k * width floats apiece, from
// the lines of a float32 or float16 operand (along k, `across` apart), zero from line `count`
// on:
//   packed[(p * k + w) * width + c] = x[w * along + (p * width + c) * across]
// Walked along whichever stride is 1, so that reads or writes are contiguous. Where the lines
// are adjacent (b's columns, or a's rows in a transpose), kRowBlock k-steps at a time: each
// panel's share of them one stretch of packed memory written in order, each k-step's share a
// masked vector copy or two from one row, the block's rows read across all the panels while
// they are in L1. Panel by panel and element by element, packing the transpose of a (768, 512)
// gradient took a fifth of its product's time (each k-step's lines of a panel, 48 bytes, a new
// cache line 2 KB on); by groups of panels down all of k, two of b's panels at a time, a
// (1024, 1024) b packed in 560-590 us on one thread and 250 on two, where blocks of 16
// k-steps take 405-490 and 195-240 (a copy of 4 MB: 280 us on one).
constexpr int64_t kRowBlock = 16;

// Panel p's lines, k-steps [w0, k), element by element: pack_float_lines where no vector path
// takes them.
template <class E>
void pack_line_elements(const E* x, int64_t along, int64_t across, int64_t count, int64_t k,
                        int64_t width, int64_t p, int64_t w0, float* packed) {
  for (int64_t c = 0; c < width; ++c) {
    const int64_t line = p * width + c;
    for (int64_t w = w0; w < k; ++w)
      packed[(p * k + w) * width + c] =
          line < count ? static_cast<float>(x[w * along + line * across]) : 0.0f;
  }
}

template <class E>
__attribute__((target("avx512f"))) void pack_float_lines(const E* x, int64_t along, int64_t across,
                                                         int64_t count, int64_t k, int64_t width,
                                                         int64_t panels, float* packed) {
  if (across == 1) {
    for (int64_t w0 = 0; w0 < k; w0 += kRowBlock)
      for (int64_t p = 0; p < panels; ++p)
        for (int64_t w = w0; w < std::min(k, w0 + kRowBlock); ++w)
          for (int64_t c = 0; c < width; c += 16) {
            const int64_t line = p * width + c;
            _mm512_mask_storeu_ps(packed + (p * k + w) * width + c, first_lanes16(width - c),
                                  load_floats(x + w * along + line, count - line));
          }
    return;
  }
  for (int64_t p = 0; p < panels; ++p) {
    int64_t w0 = 0;
    if (along == 1 && width <= 16) {
      // Each line's k-steps adjacent (a row-major a): 16 k-steps of the panel's lines at a
      // time, transposed in registers, each k-step's `width` values one masked store.
      const int64_t lines = std::clamp<int64_t>(count - p * width, 0, width);
      for (; w0 + 16 <= k; w0 += 16) {
        __m512 block[16];
        for (int64_t c = 0; c < 16; ++c)
          block[c] =
              c < lines ? load_floats(x + (p * width + c) * across + w0, 16) : _mm512_setzero_ps();
        transpose_16x16(block);
        for (int64_t w = 0; w < 16; ++w)
          _mm512_mask_storeu_ps(packed + (p * k + w0 + w) * width, first_lanes16(width), block[w]);
      }
    }
    pack_line_elements(x, along, across, count, k, width, p, w0, packed);
  }
}

#if GRAFT_YMM_KERNELS
// 8 elements from p as floats: float32 as it is, float16 and bfloat16 widened (half_lanes_v3.h).
inline __m256 load8(const float* p) { return _mm256_loadu_ps(p); }
#if GRAFT_F16C_CONVERSIONS
template <class H>
inline __m256 load8(const H* p) {
  return widen8(p);
}
#endif

// The first `count` (at most 8) floats of v at to, nothing past them written: AVX2's masked
// store (vmaskmovps) costs a dozen cycles and more on AMD's Zen.
inline void store_first(float* to, __m256 v, int64_t count) {
  if (count == 8) return _mm256_storeu_ps(to, v);
  __m128 part = _mm256_castps256_ps128(v);
  if (count >= 4) {
    _mm_storeu_ps(to, part);
    part = _mm256_extractf128_ps(v, 1);
    to += 4, count -= 4;
  }
  if (count >= 2) {
    _mm_storel_pi(reinterpret_cast<__m64*>(to), part);
    part = _mm_movehl_ps(part, part);
    to += 2, count -= 2;
  }
  if (count == 1) _mm_store_ss(to, part);
}

// pack_float_lines for the AVX2 kernels: adjacent lines copied (or widened) 8 at a time; lines
// along k (a row-major a, panels of 6 rows) 8 k-steps of them at a time, transposed in
// registers; the rest element by element.
template <class E>
void pack_float_lines_v3(const E* x, int64_t along, int64_t across, int64_t count, int64_t k,
                         int64_t width, int64_t panels, float* packed) {
  if (across != 1) {
    for (int64_t p = 0; p < panels; ++p) {
      int64_t w0 = 0;
      if (along == 1 && width <= 8) {
        const int64_t lines = std::clamp<int64_t>(count - p * width, 0, width);
        for (; w0 + 8 <= k; w0 += 8) {
          __m256 block[8];
          for (int64_t c = 0; c < 8; ++c)
            block[c] = c < lines ? load8(x + (p * width + c) * across + w0) : _mm256_setzero_ps();
          transpose_8x8(block);
          for (int64_t w = 0; w < 8; ++w)
            store_first(packed + (p * k + w0 + w) * width, block[w], width);
        }
      }
      pack_line_elements(x, along, across, count, k, width, p, w0, packed);
    }
    return;
  }
  for (int64_t w0 = 0; w0 < k; w0 += kRowBlock)
    for (int64_t p = 0; p < panels; ++p) {
      const int64_t lines = std::clamp<int64_t>(count - p * width, 0, width);
      for (int64_t w = w0; w < std::min(k, w0 + kRowBlock); ++w) {
        const E* const from = x + w * along + p * width;
        float* const to = packed + (p * k + w) * width;
        int64_t c = 0;
        for (; c + 8 <= lines; c += 8) _mm256_storeu_ps(to + c, load8(from + c));
        for (; c < lines; ++c) to[c] = static_cast<float>(from[c]);
        for (; c < width; ++c) to[c] = 0.0f;
      }
    }
}
#endif

// a's row panels [first, last), each words * kRows words, from packed + first's.
template <class Kernel>
void pack_a_panels(const StridedMatrix<typename Kernel::Element>& a, int64_t first, int64_t last,
                   int64_t m, int64_t k, int64_t words, typename Kernel::Word* packed) {
  constexpr int64_t kRows = Kernel::kRows, kGroup = Kernel::kWordGroup;
  const int64_t r0 = first * kRows;
  if constexpr (kPacksFloats<Kernel>) {
    if (a.col_stride == 1 || a.row_stride == 1)
      return Kernel::pack_lines(a.data + r0 * a.row_stride, a.col_stride, a.row_stride, m - r0, k,
                                kRows, last - first, packed);
  }
  // bfloat16 in k-pairs (a widening kernel's floats took the path above).
  if constexpr (std::is_same_v<typename Kernel::Element, BFloat16> && Kernel::kKPerWord == 2) {
    if (pack_bfloat16_a(a.data, a.row_stride, a.col_stride, m, k, first, last, kRows, kGroup, words,
                        packed))
      return;
  }
  for (int64_t r = r0; r < last * kRows; r += kRows) {
    typename Kernel::Word* panel = packed + (r - r0) * words;
    for (int64_t i = 0; i < kRows; ++i)
      for (int64_t w = 0; w < words; ++w)
        panel[(w / kGroup * kRows + i) * kGroup + w % kGroup] =
            word<Kernel, false>(a, r + i, w * Kernel::kKPerWord, m, k);
  }
}

// A b panel's columns, k-steps [w0, k), element by element: pack_float_columns' tail.
template <class E>
void pack_column_elements(const E* first, int64_t col_stride, int64_t k, int64_t w0, float* panel) {
  for (int64_t c = 0; c < kPanelColumns; ++c)
    for (int64_t w = w0; w < k; ++w)
      panel[w * kPanelColumns + c] = static_cast<float>(first[c * col_stride + w]);
}

// A b panel of floats whose columns are contiguous (k runs along memory): 16 columns of 16 k
// at a time transposed in registers, the rest of k element by element.
template <class E>
__attribute__((target("avx512f"))) void pack_float_columns(const E* first, int64_t col_stride,
                                                           int64_t k, float* panel) {
  int64_t w0 = 0;
  for (; w0 + 16 <= k; w0 += 16) {
    for (int64_t half = 0; half < kPanelColumns; half += 16) {
      __m512 block[16];
      for (int64_t c = 0; c < 16; ++c)
        block[c] = load_floats(first + (half + c) * col_stride + w0, 16);
      transpose_16x16(block);
      for (int64_t w = 0; w < 16; ++w)
        _mm512_storeu_ps(panel + (w0 + w) * kPanelColumns + half, block[w]);
    }
  }
  pack_column_elements(first, col_stride, k, w0, panel);
}

#pragma GCC diagnostic pop

#if GRAFT_YMM_KERNELS
// pack_float_columns for the AVX2 kernels: 8 columns of 8 k at a time (widened) transposed in
// registers.
template <class E>
void pack_float_columns_v3(const E* first, int64_t col_stride, int64_t k, float* panel) {
  int64_t w0 = 0;
  for (; w0 + 8 <= k; w0 += 8) {
    for (int64_t eighth = 0; eighth < kPanelColumns; eighth += 8) {
      __m256 block[8];
      for (int64_t c = 0; c < 8; ++c) block[c] = load8(first + (eighth + c) * col_stride + w0);
      transpose_8x8(block);
      for (int64_t w = 0; w < 8; ++w)
        _mm256_storeu_ps(panel + (w0 + w) * kPanelColumns + eighth, block[w]);
    }
  }
  pack_column_elements(first, col_stride, k, w0, panel);
}
#endif

// b's column panels [first, last), each words * kPanelColumns words, from packed + first's.
template <class Kernel>
void pack_b_panels(const StridedMatrix<typename Kernel::Element>& b, int64_t first, int64_t last,
                   int64_t k, int64_t n, int64_t words, typename Kernel::Word* packed) {
  const int64_t j0 = first * kPanelColumns;
  if constexpr (kPacksFloats<Kernel>) {
    // Whole panels of columns contiguous along k: transposed 16 x 16 in registers.
    if (b.row_stride == 1 && b.col_stride != 1) {
      for (int64_t j = j0; j < last * kPanelColumns; j += kPanelColumns) {
        float* panel = packed + (j - j0) * words;
        if (n - j >= kPanelColumns)
          Kernel::pack_columns(b.data + j * b.col_stride, b.col_stride, k, panel);
        else
          Kernel::pack_lines(b.data + j * b.col_stride, 1, b.col_stride, n - j, k, kPanelColumns, 1,
                             panel);
      }
      return;
    }
    if (b.col_stride == 1)
      return Kernel::pack_lines(b.data + j0, b.row_stride, 1, n - j0, k, kPanelColumns,
                                last - first, packed);
  }
  if constexpr (std::is_same_v<typename Kernel::Element, BFloat16> && Kernel::kKPerWord == 2) {
    if (pack_bfloat16_b(b.data, b.row_stride, b.col_stride, k, n, first, last, words, packed))
      return;
  }
  for (int64_t j = j0; j < last * kPanelColumns; j += kPanelColumns) {
    typename Kernel::Word* panel = packed + (j - j0) * words;
    for (int64_t w = 0; w < words; ++w)
      for (int64_t c = 0; c < kPanelColumns; ++c)
        panel[w * kPanelColumns + c] = word<Kernel, true>(b, w * Kernel::kKPerWord, j + c, k, n);
  }
}

// The 14 x 32 float32 tile both AVX-512 kernels keep in 28 zmm registers for the whole of
// k, two vectors a row; with b's two vectors and a's broadcast value, 31 of the 32. It reads
// 2-8% more than the 12 x 32 tile it replaced (four registers idle): square products from
// 256^2 to 2048^2 on two threads of the 2-core Xeon 270-293 -> 282-303 GFLOP/s, 1024^2 on one
// 136-149 -> 149, a GPT layer's twelve products the same within the noise.
struct ZmmTile {
  static constexpr int64_t kRows = 14;
  static constexpr int64_t kWordGroup = 1;
  static constexpr int64_t kBlockPanels[2] = {8, 4};  // a thread's block: 112 x 128
  static constexpr int64_t kPackedRowsFrom = 512;     // see packing_rows_pays
  struct Session {};                                  // no state to set up

  template <class E>
  static void pack_lines(const E* x, int64_t along, int64_t across, int64_t count, int64_t k,
                         int64_t width, int64_t panels, float* packed) {
    pack_float_lines(x, along, across, count, k, width, panels, packed);
  }
  template <class E>
  static void pack_columns(const E* first, int64_t col_stride, int64_t k, float* panel) {
    pack_float_columns(first, col_stride, k, panel);
  }

  template <int64_t kTileRows>
  __attribute__((target("avx512f"), always_inline)) static void store(
      const __m512 (&sums)[kTileRows][2], float* out, int64_t stride) {
#pragma GCC unroll 14
    for (int64_t i = 0; i < kTileRows; ++i) {
      _mm512_storeu_ps(out + i * stride, sums[i][0]);
      _mm512_storeu_ps(out + i * stride + 16, sums[i][1]);
    }
  }
};

// A product whose k runs long (a weight's gradient: k is the batch's rows) streams both
// operands' k-steps from L3 or memory for each tile: where b, or a's transpose, is read in
// place, every k-step starts a new line half a KB to 2 KB on, and the hardware prefetchers,
// which stop at each 4 KB page, fetch them late. Such a tile asks for b's two lines and, when
// a's rows lie side by side, a's line kPrefetchSteps k-steps ahead itself. A short product's
// operands come back from L1 and L2 for every tile, where prefetching only costs issue slots.
// Measured on the 2-core Xeon, 2 threads, old and new in turn: a GPT training step's (cpu
// config) (128, 768) x (768, 128) weight gradients 134 -> 99 us each, its backward 15.3-16.0
// -> 14.3-14.9 ms; 1024^2 x 1024^2 278-290 -> 305-317 GFLOP/s. 32 k-steps ahead did no better.
constexpr int64_t kPrefetchWords = 256;  // the k from which a tile prefetches
constexpr int64_t kPrefetchSteps = 16;   // how far ahead, in k-steps

// AVX-512 float32: each k loads two vectors of b, broadcasts each of a's 14 values and
// issues 28 FMAs. Neither operand needs packing when it has a contiguous dim: a's values are
// broadcast one at a time, from anywhere, and b's 32 values of one k are two vector loads
// when its columns are adjacent. tile_in_place reads them where they lie, which saves the
// copies (as costly as the tiles for a training step's small products); only a b contiguous
// along k (the forward's W^T) must be transposed into a panel.
struct Avx512FloatKernel : ZmmTile {
  using Element = float;
  using Word = float;
  static constexpr int64_t kKPerWord = 1;

  // a's value (i, w) at a[row[i] + word[w]]; b's 32 values of word w from b + w * b_word. A
  // packed panel is one such layout: rows 1 apart, words kRows apart; b_word kPanelColumns.
  // The sums start from zero, or from out's values with `accumulate`. Tiles of fewer rows
  // serve a last partial tile read in place (float_tile) and window_tile's callers.
  template <int64_t kTileRows = kRows, class Rows, class Words>
  __attribute__((target("avx512f"))) static void tile_in_place(const float* a, Rows row, Words word,
                                                               const float* b, int64_t b_word,
                                                               int64_t words, float* out,
                                                               int64_t stride, bool accumulate) {
    static_assert(kTileRows >= 1 && kTileRows <= kRows);
    __m512 sums[kTileRows][2] = {};
    if (accumulate) {
      for (int64_t i = 0; i < kTileRows; ++i) {
        sums[i][0] = _mm512_loadu_ps(out + i * stride);
        sums[i][1] = _mm512_loadu_ps(out + i * stride + 16);
      }
    }
    // Long k: a's and b's lines kPrefetchSteps k-steps on, asked for now (see above).
    const bool prefetching = words >= kPrefetchWords;
    for (int64_t w = 0; w < words; ++w) {
      const __m512 b_low = _mm512_loadu_ps(b + w * b_word);
      const __m512 b_high = _mm512_loadu_ps(b + w * b_word + 16);
      const float* a_word = a + word[w];
      if (prefetching) {
        // Past the last k-step these name lines beyond the operands: a prefetch never faults.
        const float* b_ahead = b + (w + kPrefetchSteps) * b_word;
        _mm_prefetch(reinterpret_cast<const char*>(b_ahead), _MM_HINT_T0);
        _mm_prefetch(reinterpret_cast<const char*>(b_ahead + 16), _MM_HINT_T0);
        // Only where word[] is arithmetic: a window's offsets end at its last k-step.
        if constexpr (std::is_same_v<Rows, Fixed<1>> && !std::is_same_v<Words, Offsets>) {
          const float* a_ahead = a + word[w + kPrefetchSteps];
          _mm_prefetch(reinterpret_cast<const char*>(a_ahead), _MM_HINT_T0);
          _mm_prefetch(reinterpret_cast<const char*>(a_ahead + kTileRows - 1), _MM_HINT_T0);
        }
      }
#pragma GCC unroll 14
      for (int64_t i = 0; i < kTileRows; ++i) {
        const __m512 a_value = _mm512_set1_ps(a_word[row[i]]);
        sums[i][0] = _mm512_fmadd_ps(a_value, b_low, sums[i][0]);
        sums[i][1] = _mm512_fmadd_ps(a_value, b_high, sums[i][1]);
      }
    }
    store(sums, out, stride);
  }
};

#if GRAFT_YMM_KERNELS

// What the AVX2 kernels share, as ZmmTile is the AVX-512 ones': the 6-row tile, the blocks,
// and the packers.
struct YmmTile {
  static constexpr int64_t kRows = kYmmTileRows;
  static constexpr int64_t kWordGroup = 1;
  static constexpr int64_t kBlockPanels[2] = {16, 4};  // a thread's block: 96 x 128
  struct Session {};

  template <class E>
  static void pack_lines(const E* x, int64_t along, int64_t across, int64_t count, int64_t k,
                         int64_t width, int64_t panels, float* packed) {
    pack_float_lines_v3(x, along, across, count, k, width, panels, packed);
  }
  template <class E>
  static void pack_columns(const E* first, int64_t col_stride, int64_t k, float* panel) {
    pack_float_columns_v3(first, col_stride, k, panel);
  }
};

// AVX2 float32 (every x86-64-v3 CPU: Haswell and Zen on, Intel's laptop and desktop CPUs since
// Alder Lake, which have no AVX-512): ymm_tiles.h's 6 x 16 tile twice over a 32-column panel,
// reading its operands where they lie as Avx512FloatKernel does. Eigen's AVX2 GEMM, which it
// replaced, packs both operands at every call: on the GPT's training step under
// GRAFT_CPU_CAPABILITY=avx2 its packing was 13% of the profile, its products 57%.
struct Avx2FloatKernel : YmmTile {
  using Element = float;
  using Word = float;
  static constexpr int64_t kKPerWord = 1;
  // A row-major a packed from n = 512 as for AVX-512 (two threads of the 2-core EPYC under
  // GRAFT_CPU_CAPABILITY=avx2, read in place against packed: 1024^2 11.7 against 10.6 ms,
  // 2048^2 102 against 90, 512^2 the same).
  static constexpr int64_t kPackedRowsFrom = 512;

  // Avx512FloatKernel::tile_in_place's contract, the panel's two halves of 16 columns in turn.
  template <int64_t kTileRows = kRows, class Rows, class Words>
  static void tile_in_place(const float* a, Rows row, Words word, const float* b, int64_t b_word,
                            int64_t words, float* out, int64_t stride, bool accumulate) {
    for (int64_t half = 0; half < kPanelColumns; half += 16)
      ymm_tile<kTileRows>(a, row, word, b + half, b_word, words, out + half, stride, accumulate);
  }
};

#endif  // GRAFT_YMM_KERNELS

// Whether Kernel reads its operands in place (tile_in_place) where their layout allows.
template <class Kernel>
constexpr bool kReadsInPlace = requires(const float* p, float* q, int64_t s) {
  Kernel::tile_in_place(p, Strided{s}, Strided{s}, p, s, s, q, s, false);
};

// Whether Kernel's tiles read a row-major a where it lies (tile_rows: AMX, whose a tile is
// 16 rows of 32 consecutive k; AVX512-BF16, which broadcasts a's words from anywhere), and
// whether they take a last partial panel there too (tile_rows with a row count).
template <class Kernel>
constexpr bool kTilesPartialRows = requires(const void* a, const uint32_t* b, float* out,
                                            int64_t s) {
  Kernel::tile_rows(s, a, s, s, b, s, out, s);
};
template <class Kernel>
constexpr bool kTilesRowMajorA = kTilesPartialRows<Kernel> ||
                                 requires(const void* a, const uint32_t* b, float* out, int64_t s) {
  Kernel::tile_rows(a, s, s, b, s, out, s);
};

// An a read in place along k, a step of more than a few rows at a time (a transpose), is read
// only while its steps are shorter than kInPlaceAStride elements; beyond, it is packed (panels
// contiguous, as BLAS packs them). Every tile streams its operands' k-steps through L1, and
// at 2 KB steps and more they miss there far more often: a (768, 512) gradient's transpose
// times a (768, 128) input, one thread, 110 GFLOP/s read in place against 139 packed (at 384
// elements, 142 against 142; at 256, two threads, 2% better in place still). k is at most
// kPassWords (below), so the stride also bounds the span a panel covers.
constexpr int64_t kInPlaceAStride = 512;

constexpr int64_t kPageFloats = 1024;      // a 4 KB page (and a way of L1: 48 KB in 12 ways)
constexpr int64_t kPackedBFromRows = 128;  // rows of a from which b far apart is packed

// Whether b, its columns adjacent, is read where it lies for an a of m rows: each k-step's 32
// values are two vector loads from one row (whole cache lines where the rows are 64-byte
// aligned, as a contiguous tensor's are), wherever the rows are. Packing b (a copy) pays where
// its rows are a page or more apart, each k-step on a new page (at 4 KB multiples every
// k-step's lines fall into the same two sets of L1 too), and a has rows enough to read each
// panel many times. Two threads, 64-byte aligned operands as graft's tensors are, in place
// against packed: 1024^2 195 against 260 GFLOP/s, (768, 1536) x (1536, 1536) 218 against 248,
// (128, 1024) x (1024, 1024) 200 against 209; but (64, 1024) x (1024, 1024) 195 against 177,
// (32, 1024) x (1024, 1024) 180 against 143; and below 4 KB in place at every m: 512^2 274
// against 262, 768^2 280 against 262, 256^2 245 against 232, the transpose of a (768, 128)
// gradient times a (768, 512) input (the GPT's weight gradient) 248 against 216. (Measured on
// unaligned rows, where every vector load straddles two lines, in-place reads had looked slower
// from 512 floats apart, and b was packed from there.)
template <class T>
bool b_read_in_place(const StridedMatrix<T>& b, int64_t m) {
  return b.col_stride == 1 && (b.row_stride < kPageFloats || m < kPackedBFromRows);
}

// Whether a tile can read a where it lies: a strided matrix with contiguous rows (the steps
// along k are elements), or contiguous columns with short steps; or windows.
template <class T>
bool a_readable_in_place(const StridedMatrix<T>& a) {
  return a.col_stride == 1 || (a.row_stride == 1 && a.col_stride < kInPlaceAStride);
}
bool a_readable_in_place(const WindowMatrix&) { return true; }

// Whether a row-major a is better packed than read in place, for an output n columns wide. A
// tile reading it in place broadcasts from 14 rows, 14 streams along k; a packed panel is one.
// The tile alone, b's panel in L2, runs 8-10% faster on the packed panel whatever the rows'
// stride (177-185 GFLOP/s against 199-204, rows 512 to 1040 floats apart), and the copy,
// transposed in registers, is repaid over n's column panels from n = 512 on. Two threads, old
// and new in turn: 512^2 276 -> 293 GFLOP/s (one thread 149 -> 163), (768, 128) x (128, 512)
// 268 -> 283, (768, 512) x (512, 512) 292 -> 302; at n = 256 2% slower, n = 384 within the
// noise either way. (Rows a multiple of 4 KB apart were packed first, from n = 1024, on the
// wrong reason that they fell into one set of L1: 1024^2 295 -> 315, 2048^2 286 -> 302.)
// (Kernel::kPackedRowsFrom: 512, for both float32 kernels.)
template <class Kernel, class T>
bool packing_rows_pays(const StridedMatrix<T>& a, int64_t n) {
  return a.col_stride == 1 && n >= Kernel::kPackedRowsFrom;
}
template <class Kernel>
bool packing_rows_pays(const WindowMatrix&, int64_t) {
  return false;
}

// A float32 Kernel's tiles for 1 to kRows rows.
template <class Kernel, class Rows, class Words, size_t... kIndex>
constexpr auto float_tiles(std::index_sequence<kIndex...>) {
  return std::array{&Kernel::template tile_in_place<kIndex + 1, Rows, Words>...};
}

// A tile of `rows` rows (1 to kRows) from a[row[i] + word[w]], a where it lies or a packed
// panel: a whole one by the kRows instantiation, a last partial one by its own row count's, so
// that no partial panel of an operand read in place is copied, and no panel's rows of zero
// padding are multiplied. (Attention's products
// of 64 rows made four whole tiles and a partial panel packed for every head: 70 rows of
// multiply-adds for 64, and the packing 5% of attention's time.)
template <class Kernel, class Rows, class Words>
void float_tile(int64_t rows, const float* a, Rows row, Words word, const float* b, int64_t b_word,
                int64_t words, float* out, int64_t stride, bool accumulate) {
  static constexpr auto kTiles =
      float_tiles<Kernel, Rows, Words>(std::make_index_sequence<Kernel::kRows>{});
  kTiles[rows - 1](a, row, word, b, b_word, words, out, stride, accumulate);
}

// Kernel's tile of rows [r, r + rows) read where a lies.
template <class Kernel>
void tile_reading_a(const StridedMatrix<float>& a, int64_t r, int64_t rows, const float* b,
                    int64_t b_word, int64_t words, float* out, int64_t stride, bool accumulate) {
  // a_readable_in_place: contiguous rows, or contiguous columns.
  const float* first = a.data + r * a.row_stride;
  if (a.col_stride == 1)
    float_tile<Kernel>(rows, first, Strided{a.row_stride}, Fixed<1>{}, b, b_word, words, out,
                       stride, accumulate);
  else
    float_tile<Kernel>(rows, first, Fixed<1>{}, Strided{a.col_stride}, b, b_word, words, out,
                       stride, accumulate);
}
template <class Kernel>
void tile_reading_a(const WindowMatrix& a, int64_t r, int64_t rows, const float* b, int64_t b_word,
                    int64_t words, float* out, int64_t stride, bool accumulate) {
  if (a.transposed)
    float_tile<Kernel>(rows, a.data, Offsets{a.offsets + r}, Fixed<1>{}, b, b_word, words, out,
                       stride, accumulate);
  else
    float_tile<Kernel>(rows, a.data + r, Fixed<1>{}, Offsets{a.offsets}, b, b_word, words, out,
                       stride, accumulate);
}

// float16: the float32 tile on panels of floats, both operands widened as they are packed
// (AVX-512 has no float16 product that sums in float32; AMX-FP16 comes after Sapphire Rapids).
// A product of float16 tensors then costs about what float32's costs, without the widened
// copies of the whole operands and of the output that it took before: two threads of the
// 2-core Xeon, in turns, (256, 256)^2 183-194 -> 131-140 us (float32 109-120), (1024, 1024)^2
// 7.7-8.0 -> 7.0-7.2 ms (float32 7.0-7.3). A long k runs in one pass (a float16 output cannot
// carry float32 sums from one pass to the next).
struct Avx512HalfKernel : ZmmTile {
  using Element = Half;
  using Word = float;
  static constexpr int64_t kKPerWord = 1;

  static void tile(const float* a_panel, const float* b_panel, int64_t words, float* out,
                   int64_t stride) {
    float_tile<Avx512FloatKernel>(kRows, a_panel, Fixed<1>{}, Fixed<kRows>{}, b_panel,
                                  kPanelColumns, words, out, stride, false);
  }
};

#if GRAFT_YMM_KERNELS && GRAFT_F16C_CONVERSIONS

// float16 and bfloat16 on CPUs without AVX-512 (whose AVX2 has no 16-bit product): the AVX2
// float32 tile on panels of floats, both operands widened as they are packed, as
// Avx512HalfKernel does. Before, matmul widened both whole operands into float32 tensors and
// narrowed a float32 result: a (256, 256) bfloat16 product took 2.3 times float32's time.
template <class E>
struct Avx2WideningKernel : YmmTile {
  using Element = E;
  using Word = float;
  static constexpr int64_t kKPerWord = 1;

  static void tile(const float* a_panel, const float* b_panel, int64_t words, float* out,
                   int64_t stride) {
    float_tile<Avx2FloatKernel>(kRows, a_panel, Fixed<1>{}, Fixed<kRows>{}, b_panel, kPanelColumns,
                                words, out, stride, false);
  }
};

#endif  // GRAFT_YMM_KERNELS && GRAFT_F16C_CONVERSIONS

// AVX512-BF16: the same, two k a step, each 32-bit lane adding a pair's two products. A
// word of a (two consecutive k of one row) lies as it is in a row-major a, so the tile reads
// such an a where it lies as well as a packed panel: word (i, w) at row_bytes * i +
// step_bytes * w, a last partial panel by a tile of its own row count. Reading a (256, 256) a
// in place spared packing it (7% of the product's profile on the 2-core EPYC) and the tile ran
// as fast; its last panel of 4 rows was 14 rows of multiply-adds, 4% of the profile.
struct Avx512BFloat16Kernel : ZmmTile {
  using Element = BFloat16;
  using Word = uint32_t;
  static constexpr int64_t kKPerWord = 2;

  template <int64_t kTileRows, class Rows, class Words>
  __attribute__((target("avx512f,avx512bf16"))) static void tile_at(const char* a, Rows row,
                                                                    Words word,
                                                                    const uint32_t* b_panel,
                                                                    int64_t words, float* out,
                                                                    int64_t stride) {
    __m512 sums[kTileRows][2] = {};
    for (int64_t w = 0; w < words; ++w) {
      const auto b_low =
          reinterpret_cast<__m512bh>(_mm512_loadu_si512(b_panel + w * kPanelColumns));
      const auto b_high =
          reinterpret_cast<__m512bh>(_mm512_loadu_si512(b_panel + w * kPanelColumns + 16));
      const char* a_word = a + word[w];
#pragma GCC unroll 14
      for (int64_t i = 0; i < kTileRows; ++i) {
        uint32_t pair;  // a row's stride may be odd: a word need not be 4-byte aligned
        std::memcpy(&pair, a_word + row[i], sizeof(pair));
        const auto a_pair = reinterpret_cast<__m512bh>(_mm512_set1_epi32(static_cast<int>(pair)));
        sums[i][0] = _mm512_dpbf16_ps(sums[i][0], a_pair, b_low);
        sums[i][1] = _mm512_dpbf16_ps(sums[i][1], a_pair, b_high);
      }
    }
    store(sums, out, stride);
  }

  // tile_at for 1 to kRows rows of an a where it lies.
  template <size_t... kIndex>
  static constexpr auto row_tiles(std::index_sequence<kIndex...>) {
    return std::array{&tile_at<kIndex + 1, Strided, Strided>...};
  }

  static void tile(const uint32_t* a_panel, const uint32_t* b_panel, int64_t words, float* out,
                   int64_t stride) {
    tile_at<kRows>(reinterpret_cast<const char*>(a_panel), Fixed<sizeof(Word)>{},
                   Fixed<kRows * sizeof(Word)>{}, b_panel, words, out, stride);
  }

  // `rows` rows (1 to kRows) of an a where it lies.
  static void tile_rows(int64_t rows, const void* a_rows, int64_t row_bytes, int64_t step_bytes,
                        const uint32_t* b_panel, int64_t words, float* out, int64_t stride) {
    static constexpr auto kTiles = row_tiles(std::make_index_sequence<kRows>{});
    kTiles[rows - 1](static_cast<const char*>(a_rows), Strided{row_bytes}, Strided{step_bytes},
                     b_panel, words, out, stride);
  }
};

#if GRAFT_AMX

// The AMX kernel: a 32 x 32 tile in four accumulator tiles.
struct AmxKernel {
  using Element = BFloat16;
  using Word = uint32_t;
  static constexpr int64_t kKPerWord = 2;
  static constexpr int64_t kRows = 32;
  static constexpr int64_t kWordGroup = 16;           // 32 k per step: a tile row of 64 bytes
  static constexpr int64_t kBlockPanels[2] = {4, 4};  // a thread's block: 128 x 128

  // Tiles 0-3 accumulate the output's four 16 x 16 quarters; 4 and 5 hold a's two 16-row
  // halves, 6 and 7 b's two 16-column halves (amx_tiles.h).
  using Session = AmxTileSession;

  static constexpr uintptr_t kAhead = 2;  // steps ahead that a step asks for

  // out = a (32 rows, k) x b_panel, a's rows `row_bytes` apart and its k-steps of 32
  // `step_bytes` apart: a packed panel (rows of 64 bytes, steps of 2 KB), or a row-major a
  // where it lies (its rows, steps of 64 bytes).
  __attribute__((target("amx-tile,amx-bf16"))) static void tile_rows(
      const void* a_rows, int64_t row_bytes, int64_t step_bytes, const uint32_t* b_panel,
      int64_t words, float* out, int64_t stride) {
    zero_accumulators();
    const auto a_first = reinterpret_cast<uintptr_t>(a_rows);
    const auto row = static_cast<uintptr_t>(row_bytes);
    for (int64_t g = 0; g < words / kWordGroup; ++g) {
      const uintptr_t a = a_first + static_cast<uintptr_t>(g * step_bytes);
      const uint32_t* b = b_panel + g * kWordGroup * kPanelColumns;
      // The lines of the step kAhead on, as integers: past the operands' ends, a pointer would
      // be undefined behaviour (a prefetch never faults). Tile loads wait for their lines in
      // order, the hardware prefetchers do not keep up with them, and each step's operands
      // come from L2: (512, 512) 332-344 -> 276-293 us, (1024, 1024) 1.84-1.89 -> 1.75-1.79 ms.
      const uintptr_t a_ahead = a + kAhead * static_cast<uintptr_t>(step_bytes);
      const auto b_ahead = reinterpret_cast<uintptr_t>(b) + kAhead * kWordGroup * kPanelColumns * 4;
      for (uintptr_t line = 0; line < 32; ++line) {
        _mm_prefetch(reinterpret_cast<const char*>(a_ahead + line * row), _MM_HINT_T0);
        _mm_prefetch(reinterpret_cast<const char*>(b_ahead + line * 64), _MM_HINT_T0);
      }
      _tile_loadd(4, reinterpret_cast<const void*>(a), row_bytes);
      _tile_loadd(5, reinterpret_cast<const void*>(a + 16 * row), row_bytes);
      _tile_loadd(6, b, kPanelColumns * 4);
      _tile_loadd(7, b + 16, kPanelColumns * 4);
      _tile_dpbf16ps(0, 4, 6);
      _tile_dpbf16ps(1, 4, 7);
      _tile_dpbf16ps(2, 5, 6);
      _tile_dpbf16ps(3, 5, 7);
    }
    store_accumulators(out, stride);
  }

  static void tile(const uint32_t* a_panel, const uint32_t* b_panel, int64_t words, float* out,
                   int64_t stride) {
    tile_rows(a_panel, 64, kRows * kWordGroup * 4, b_panel, words, out, stride);
  }
};

#endif  // GRAFT_AMX

// The packing space of b's panels, which every block reads, and of a block's a panels: the
// thread's own (thread_buffer.h).
struct PackedB {};
struct PackedBlockA {};

// Which row part of which GEMM call a thread's PackedBlockA holds, and where (calls numbered
// from 1; a buffer beyond ThreadBuffer's kept size may come back elsewhere).
struct PackedPart {
  uint64_t call = 0;
  int64_t part = -1;
  const void* data = nullptr;
};
std::atomic<uint64_t> g_gemm_calls{0};

// The output's blocks: its row panels cut into `row_parts` ranges as near equal as they come
// (sizes one panel apart at most), its column panels into blocks of `columns`. From the
// kernel's largest block (sized for the caches), halved, rows first, until there are two
// blocks a thread (a (128, 128) product made two blocks of 96 and 32 rows, one thread doing
// three quarters of the work); then the row parts are added to until every thread has as
// many blocks, where the panels allow: 55 row panels in blocks of 8 made 7 blocks for 2
// threads, one thread's 4 against the other's 3 (a GPT product of m = 768 in 14-row tiles).
// Which tiles a block holds does not change what any tile computes, so the bits stay the same.
struct Blocking {
  int64_t row_parts, columns;
};
Blocking blocking(const int64_t (&largest)[2], int64_t row_panels, int64_t column_panels) {
  int64_t rows = largest[0], columns = largest[1];
  const int64_t threads = available_threads(), wanted = 2 * threads;
  while (ceil_div(row_panels, rows) * ceil_div(column_panels, columns) < wanted &&
         (rows > 1 || columns > 1)) {
    if (rows >= columns && rows > 1)
      rows = ceil_div(rows, 2);
    else
      columns = ceil_div(columns, 2);
  }
  int64_t row_parts = ceil_div(row_panels, rows);
  const int64_t column_blocks = ceil_div(column_panels, columns);
  while (row_parts * column_blocks % threads != 0 && row_parts < row_panels) ++row_parts;
  return {row_parts, columns};
}

// out = a x b (or out += a x b, with accumulate; out's rows out_stride apart) with Kernel:
// both operands packed once, where they are not read in place, then the output's blocks
// shared by the threads, each block a loop over its tiles.
template <class Kernel, class A>
void gemm_with(const A& a, StridedMatrix<typename Kernel::Element> b, typename Kernel::Element* out,
               int64_t m, int64_t k, int64_t n, bool accumulate, int64_t out_stride) {
  using Word = typename Kernel::Word;
  constexpr int64_t kRows = Kernel::kRows;
  const int64_t words =
      ceil_div(ceil_div(k, Kernel::kKPerWord), Kernel::kWordGroup) * Kernel::kWordGroup;
  const int64_t row_panels = ceil_div(m, kRows), column_panels = ceil_div(n, kPanelColumns);
  ThreadBuffer<Word, PackedB> b_space;
  Word* const packed_b = b_space.data(column_panels * words * kPanelColumns);
  // A kernel that can reads a (a_readable_in_place: a window operand always) where it lies,
  // a last partial tile included (float_tile), and b (b_read_in_place) all but its last
  // partial panel, which is packed, zero-padded.
  bool a_in_place = false;
  if constexpr (kReadsInPlace<Kernel>)
    a_in_place = a_readable_in_place(a) && !packing_rows_pays<Kernel>(a, n);
  const bool b_in_place = kReadsInPlace<Kernel> && b_read_in_place(b, m);
  // A row-major a's whole row panels read where they lie by a kernel whose tiles can, when k
  // is whole steps (so that no step reads past a row's end); a last partial panel is packed
  // unless the kernel's tiles take it there too (kTilesPartialRows). On AMX, where each thread
  // packed every row part it worked on: bfloat16 products on two threads, 256^2 54-56 -> 46-48
  // us, 512^2 288-297 -> 233-261, 1024^2 1.74-1.76 -> 1.62-1.64 ms. Not where the rows are a
  // multiple of 4 KB apart: a tile's 14 or 32 rows would fall in one set of L1's (8 or 12 ways
  // of 4 KB), and AMX's 2048^2 ran no faster than packed.
  bool rows_in_place = false;
  if constexpr (kTilesRowMajorA<Kernel>)
    rows_in_place = a.col_stride == 1 && k % (Kernel::kKPerWord * Kernel::kWordGroup) == 0 &&
                    a.row_stride * static_cast<int64_t>(sizeof(BFloat16)) % 4096 != 0;
  // b's panels are packed once, for every block; a's in each block (below). Packing reads
  // each operand once: a grain of about kParallelGrain elements per task. (Counted in words, a
  // (256, 256) bfloat16 b of two elements a word was one task, packed by one thread while the
  // other waited.)
  const int64_t panel_elements = words * Kernel::kKPerWord * kPanelColumns;
  const int64_t grain = std::max<int64_t>(1, kParallelGrain / std::max<int64_t>(panel_elements, 1));
  parallel_for(b_in_place ? n / kPanelColumns : 0, column_panels, grain,
               [&](int64_t first, int64_t last) {
                 pack_b_panels<Kernel>(b, first, last, k, n, words,
                                       packed_b + first * words * kPanelColumns);
               });

  // Plain variables, not a structured binding: the lambda below captures row_parts, which
  // Clang before 16 cannot do for a binding.
  const Blocking blocks = blocking(Kernel::kBlockPanels, row_panels, column_panels);
  const int64_t row_parts = blocks.row_parts;
  const uint64_t call = g_gemm_calls.fetch_add(1, std::memory_order_relaxed) + 1;
  const int64_t block_columns = blocks.columns * kPanelColumns;
  const int64_t column_blocks = ceil_div(n, block_columns);
  parallel_blocks(row_parts * column_blocks, [&](int64_t block) {
    [[maybe_unused]] const typename Kernel::Session session;  // for the whole block
    const int64_t part = block / column_blocks;
    const int64_t first_panel = part * row_panels / row_parts;
    const int64_t last_panel = (part + 1) * row_panels / row_parts;
    const int64_t first_row = first_panel * kRows, last_row = std::min(m, last_panel * kRows);
    const int64_t first_column = block % column_blocks * block_columns;
    // The block's a panels, unless a is read in place, packed by the thread that reads them,
    // just before: they stay in its L2 for all the block's column panels. Packed all at once
    // before the blocks, the transpose of a (768, 512) gradient went out to memory and was
    // read back from there for each column panel. A thread that took this part's last block
    // too still has its panels (the blocks of a part are consecutive tasks), so each thread
    // packs each part it works on once.
    // Panels from first_packed on are packed (with rows_in_place, only a last partial one
    // that the kernel's tiles cannot take where it lies).
    const bool partial_packed =
        !kTilesPartialRows<Kernel> && m % kRows != 0 && last_panel == row_panels;
    const int64_t first_packed = !rows_in_place   ? first_panel
                                 : partial_packed ? row_panels - 1
                                                  : last_panel;
    const int64_t packed_panels = a_in_place ? 0 : last_panel - first_packed;
    ThreadBuffer<Word, PackedBlockA> a_space;
    Word* const packed_a = a_space.data(packed_panels * words * kRows);
    thread_local PackedPart t_packed;
    if constexpr (!std::is_same_v<A, WindowMatrix>) {
      if (packed_panels > 0 &&
          !(t_packed.call == call && t_packed.part == part && t_packed.data == packed_a)) {
        pack_a_panels<Kernel>(a, first_packed, last_panel, m, k, words, packed_a);
        t_packed = {call, part, packed_a};
      }
    }
    const auto packed_panel = [&](int64_t r) {
      return packed_a + (r / kRows - first_packed) * words * kRows;
    };
    alignas(64) float tile[kRows * kPanelColumns];
    for (int64_t j = first_column; j < std::min(n, first_column + block_columns);
         j += kPanelColumns) {
      const Word* b_panel = packed_b + j / kPanelColumns * words * kPanelColumns;
      const int64_t columns = std::min(kPanelColumns, n - j);
      for (int64_t r = first_row; r < last_row; r += kRows) {
        const int64_t rows = std::min(kRows, m - r);
        // A whole float32 tile goes straight into out; edge tiles and 16-bit outputs pass
        // through `tile`, to be cut or rounded.
        bool direct = false;
        float* dst = tile;
        int64_t dst_stride = kPanelColumns;
        if constexpr (std::is_same_v<typename Kernel::Element, float>) {
          direct = rows == kRows && columns == kPanelColumns;
          if (direct) {
            dst = out + r * out_stride + j;
            dst_stride = out_stride;
          }
        }
        if constexpr (kReadsInPlace<Kernel>) {
          const bool b_here = b_in_place && columns == kPanelColumns;
          const float* b_at = b_here ? b.data + j : b_panel;
          const int64_t b_word = b_here ? b.row_stride : kPanelColumns;
          // An edge tile starts from zero in `tile`, out's values added as it is copied out.
          const bool onto_out = accumulate && direct;
          if (a_in_place)
            tile_reading_a<Kernel>(a, r, rows, b_at, b_word, words, dst, dst_stride, onto_out);
          else
            float_tile<Kernel>(rows, packed_panel(r), Fixed<1>{}, Fixed<kRows>{}, b_at, b_word,
                               words, dst, dst_stride, onto_out);
        } else if constexpr (kTilesRowMajorA<Kernel>) {
          const auto* a_rows = a.data + r * a.row_stride;
          const int64_t row_bytes = a.row_stride * static_cast<int64_t>(sizeof(*a.data));
          const int64_t step_bytes = Kernel::kWordGroup * static_cast<int64_t>(sizeof(Word));
          if (r / kRows >= first_packed)
            Kernel::tile(packed_panel(r), b_panel, words, dst, dst_stride);
          else if constexpr (kTilesPartialRows<Kernel>)
            Kernel::tile_rows(rows, a_rows, row_bytes, step_bytes, b_panel, words, dst, dst_stride);
          else
            Kernel::tile_rows(a_rows, row_bytes, step_bytes, b_panel, words, dst, dst_stride);
        } else {
          Kernel::tile(packed_panel(r), b_panel, words, dst, dst_stride);
        }
        if (direct) continue;
        if constexpr (!std::is_same_v<typename Kernel::Element, float>) {
          // A 16-bit tile rounded by vectors, in one call, its rows then copied out (a whole
          // row's constant size inlined as vector moves). Element by element the conversions
          // took a tenth of a (512, 512) bfloat16 product, and a call a row a tenth of a
          // (256, 256) one; now, with the copies, 12% of its profile where it was 18%.
          if (!accumulate) {
            alignas(64) typename Kernel::Element narrowed[kRows * kPanelColumns];
            narrow_block(tile, narrowed, rows * kPanelColumns);
            for (int64_t i = 0; i < rows; ++i) {
              auto* const row = out + (r + i) * out_stride + j;
              if (columns == kPanelColumns)
                std::memcpy(row, narrowed + i * kPanelColumns, sizeof(narrowed[0]) * kPanelColumns);
              else
                std::memcpy(row, narrowed + i * kPanelColumns, sizeof(narrowed[0]) * columns);
            }
            continue;
          }
        }
        for (int64_t i = 0; i < rows; ++i)
          for (int64_t c = 0; c < columns; ++c) {
            auto& element = out[(r + i) * out_stride + j + c];
            const float sum = tile[i * kPanelColumns + c];
            element =
                typename Kernel::Element(accumulate ? static_cast<float>(element) + sum : sum);
          }
      }
    }
  });
}

}  // namespace

bool cpu_runs(PackedGemm kernel) {
  static const bool avx512 = cpu_runs_avx512();
  static const bool avx512_bf16 = cpu_runs_avx512_bf16();
#if GRAFT_AMX
  static const bool amx = cpu_runs_amx();
#else
  constexpr bool amx = false;
#endif
  switch (kernel) {
    case PackedGemm::kNone:
      return true;
    case PackedGemm::kAvx2Float:
      return GRAFT_YMM_KERNELS;
    case PackedGemm::kAvx2Half:
    case PackedGemm::kAvx2BFloat16:
      return GRAFT_YMM_KERNELS && GRAFT_F16C_CONVERSIONS;
    case PackedGemm::kAvx512Float:
    case PackedGemm::kAvx512Half:
      return avx512;
    case PackedGemm::kAvx512BFloat16:
      return avx512_bf16;
    case PackedGemm::kAmxBFloat16:
      return amx;
  }
  return false;
}

bool packed_gemm_pays(PackedGemm kernel, int64_t m, int64_t n) {
  switch (kernel) {
    case PackedGemm::kNone:
      return false;
    case PackedGemm::kAvx2Float:
    case PackedGemm::kAvx2Half:
    case PackedGemm::kAvx2BFloat16:
      return m >= kYmmTileRows && n >= kPanelColumns;
    case PackedGemm::kAvx512Float:
    case PackedGemm::kAvx512Half:
    case PackedGemm::kAvx512BFloat16:
      return m >= ZmmTile::kRows && n >= kPanelColumns;
    case PackedGemm::kAmxBFloat16:
#if GRAFT_AMX
      return m >= AmxKernel::kRows && n >= kPanelColumns;
#else
      return false;
#endif
  }
  return false;
}

namespace {

// Both float32 forms of a.
// The operands from word k0 on.
StridedMatrix<float> from_word(const StridedMatrix<float>& a, int64_t k0) {
  return {a.data + k0 * a.col_stride, a.row_stride, a.col_stride};
}
WindowMatrix from_word(const WindowMatrix& a, int64_t k0) {
  return a.transposed ? WindowMatrix{a.data + k0, a.offsets, true}
                      : WindowMatrix{a.data, a.offsets + k0, false};
}
StridedMatrix<float> from_row(const StridedMatrix<float>& b, int64_t k0) {
  return {b.data + k0 * b.row_stride, b.row_stride, b.col_stride};
}

// Words of k per pass (see float_gemm_with).
constexpr int64_t kPassWords = 1024;

// Both float32 forms of a, by Kernel. A long k runs in passes of kPassWords, each adding onto
// the last's output: a thread's block reads its row and column panels once per column panel,
// and at k = 2048 they no longer fit its L2 together (8 + 4 panels of 2048 words: 1.6 MB),
// where a pass's do. The sums are the same float32 values carried through `out`, so the bits
// do not change.
template <class Kernel, class A>
void float_gemm_with(const A& a, StridedMatrix<float> b, float* out, int64_t m, int64_t k,
                     int64_t n, bool accumulate, int64_t out_stride) {
  for (int64_t k0 = 0; k0 < std::max<int64_t>(k, 1); k0 += kPassWords)
    gemm_with<Kernel>(from_word(a, k0), from_row(b, k0), out, m, std::min(kPassWords, k - k0), n,
                      accumulate || k0 > 0, out_stride > 0 ? out_stride : n);
}

template <class A>
void float_gemm(PackedGemm kernel, const A& a, StridedMatrix<float> b, float* out, int64_t m,
                int64_t k, int64_t n, bool accumulate, int64_t out_stride) {
  GRAFT_CHECK(
      (kernel == PackedGemm::kAvx512Float || kernel == PackedGemm::kAvx2Float) && cpu_runs(kernel),
      "packed_gemm(): float32 takes the AVX-512 or the AVX2 kernel, on a CPU that has it");
  if (m == 0 || n == 0) return;
#if GRAFT_YMM_KERNELS
  if (kernel == PackedGemm::kAvx2Float)
    return float_gemm_with<Avx2FloatKernel>(a, b, out, m, k, n, accumulate, out_stride);
#endif
  float_gemm_with<Avx512FloatKernel>(a, b, out, m, k, n, accumulate, out_stride);
}

}  // namespace

int64_t window_tile_rows(PackedGemm kernel) {
  return kernel == PackedGemm::kAvx512Float ? Avx512FloatKernel::kRows
         : kernel == PackedGemm::kAvx2Float ? kYmmTileRows
                                            : 0;
}

void window_tile(PackedGemm kernel, WindowMatrix a, int64_t rows, const float* b, int64_t b_word,
                 int64_t words, float* out, int64_t out_stride) {
  GRAFT_CHECK(window_tile_rows(kernel) > 0 && cpu_runs(kernel) && !a.transposed && rows >= 1 &&
                  rows <= window_tile_rows(kernel),
              "window_tile(): takes 1 to ", window_tile_rows(kernel),
              " rows of an untransposed window operand, by a float32 kernel this CPU runs; got ",
              rows, " rows");
#if GRAFT_YMM_KERNELS
  if (kernel == PackedGemm::kAvx2Float)
    return tile_reading_a<Avx2FloatKernel>(a, 0, rows, b, b_word, words, out, out_stride, false);
#endif
  tile_reading_a<Avx512FloatKernel>(a, 0, rows, b, b_word, words, out, out_stride, false);
}

void packed_gemm(PackedGemm kernel, StridedMatrix<float> a, StridedMatrix<float> b, float* out,
                 int64_t m, int64_t k, int64_t n, bool accumulate, int64_t out_stride) {
  float_gemm(kernel, a, b, out, m, k, n, accumulate, out_stride);
}

void packed_gemm(PackedGemm kernel, WindowMatrix a, StridedMatrix<float> b, float* out, int64_t m,
                 int64_t k, int64_t n, bool accumulate, int64_t out_stride) {
  float_gemm(kernel, a, b, out, m, k, n, accumulate, out_stride);
}

void packed_gemm(PackedGemm kernel, StridedMatrix<BFloat16> a, StridedMatrix<BFloat16> b,
                 BFloat16* out, int64_t m, int64_t k, int64_t n) {
  GRAFT_CHECK((kernel == PackedGemm::kAvx512BFloat16 || kernel == PackedGemm::kAmxBFloat16 ||
               kernel == PackedGemm::kAvx2BFloat16) &&
                  cpu_runs(kernel),
              "packed_gemm(): bfloat16 takes the AVX512-BF16, AMX or AVX2 kernel, on a CPU that "
              "has it");
  if (m == 0 || n == 0) return;
#if GRAFT_AMX
  if (kernel == PackedGemm::kAmxBFloat16) return gemm_with<AmxKernel>(a, b, out, m, k, n, false, n);
#endif
#if GRAFT_YMM_KERNELS && GRAFT_F16C_CONVERSIONS
  if (kernel == PackedGemm::kAvx2BFloat16)
    return gemm_with<Avx2WideningKernel<BFloat16>>(a, b, out, m, k, n, false, n);
#endif
  gemm_with<Avx512BFloat16Kernel>(a, b, out, m, k, n, false, n);
}

void packed_gemm(PackedGemm kernel, StridedMatrix<Half> a, StridedMatrix<Half> b, Half* out,
                 int64_t m, int64_t k, int64_t n) {
  GRAFT_CHECK(
      (kernel == PackedGemm::kAvx512Half || kernel == PackedGemm::kAvx2Half) && cpu_runs(kernel),
      "packed_gemm(): float16 takes the AVX-512 or the AVX2 float16 kernel, on a CPU that "
      "has it");
  if (m == 0 || n == 0) return;
#if GRAFT_YMM_KERNELS && GRAFT_F16C_CONVERSIONS
  if (kernel == PackedGemm::kAvx2Half)
    return gemm_with<Avx2WideningKernel<Half>>(a, b, out, m, k, n, false, n);
#endif
  gemm_with<Avx512HalfKernel>(a, b, out, m, k, n, false, n);
}

#else  // not x86-64 with GCC or Clang: Eigen and widened copies only

bool cpu_runs(PackedGemm kernel) { return kernel == PackedGemm::kNone; }

bool packed_gemm_pays(PackedGemm, int64_t, int64_t) { return false; }

int64_t window_tile_rows(PackedGemm) { return 0; }

void window_tile(PackedGemm, WindowMatrix, int64_t, const float*, int64_t, int64_t, float*,
                 int64_t) {
  detail::fail("window_tile(): graft was built without its packed GEMM kernels");
}

void packed_gemm(PackedGemm, StridedMatrix<float>, StridedMatrix<float>, float*, int64_t, int64_t,
                 int64_t, bool, int64_t) {
  detail::fail("packed_gemm(): graft was built without its packed GEMM kernels");
}
void packed_gemm(PackedGemm, WindowMatrix, StridedMatrix<float>, float*, int64_t, int64_t, int64_t,
                 bool, int64_t) {
  detail::fail("packed_gemm(): graft was built without its packed GEMM kernels");
}
void packed_gemm(PackedGemm, StridedMatrix<BFloat16>, StridedMatrix<BFloat16>, BFloat16*, int64_t,
                 int64_t, int64_t) {
  detail::fail("packed_gemm(): graft was built without its packed GEMM kernels");
}
void packed_gemm(PackedGemm, StridedMatrix<Half>, StridedMatrix<Half>, Half*, int64_t, int64_t,
                 int64_t) {
  detail::fail("packed_gemm(): graft was built without its packed GEMM kernels");
}

#endif

bool packed_gemm_if_it_pays(StridedMatrix<float> a, StridedMatrix<float> b, float* out, int64_t m,
                            int64_t k, int64_t n, bool accumulate, int64_t out_stride) {
  static const PackedGemm kernel = best_packed_gemm(kFloat32);
  if (packed_gemm_pays(kernel, m, n)) {
    packed_gemm(kernel, a, b, out, m, k, n, accumulate, out_stride);
    return true;
  }
  if (!dot_products_serve(a, b, m, k, n)) return false;
  dot_products(a, b, out, m, k, n, accumulate, out_stride);
  return true;
}

PackedGemm best_packed_gemm(DType dtype) {
  if (dtype == kFloat32 && cpu_runs(PackedGemm::kAvx512Float)) return PackedGemm::kAvx512Float;
  if (dtype == kFloat32 && cpu_runs(PackedGemm::kAvx2Float)) return PackedGemm::kAvx2Float;
  if (dtype == kFloat16 && cpu_runs(PackedGemm::kAvx512Half)) return PackedGemm::kAvx512Half;
  if (dtype == kFloat16 && cpu_runs(PackedGemm::kAvx2Half)) return PackedGemm::kAvx2Half;
  if (dtype != kBFloat16) return PackedGemm::kNone;
  if (cpu_runs(PackedGemm::kAmxBFloat16)) return PackedGemm::kAmxBFloat16;
  if (cpu_runs(PackedGemm::kAvx512BFloat16)) return PackedGemm::kAvx512BFloat16;
  if (cpu_runs(PackedGemm::kAvx2BFloat16)) return PackedGemm::kAvx2BFloat16;
  return PackedGemm::kNone;
}

}  // namespace graft::kernels::cpu
