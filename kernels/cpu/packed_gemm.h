// graft's own packed GEMMs: one for its x86-64-v3 build target (AVX2), and four for the x86
// instruction sets beyond it, chosen at run time. Those four are compiled for their extension
// alone and called only where the CPU (and, for AMX, the operating system) says it runs them;
// without AVX-512 the AVX2 kernel serves float32 and 16-bit products go through float32
// copies. Eigen's GEMM serves what none takes (float64, integers, a build for an older target).
//
// Seven kernels, one structure. The operands are packed into panels: a's rows in groups (a
// panel's height), b's columns in groups of 32, k running down each panel, zero-padded at
// the edges (b's once per product, a's in each block of the output by the thread that reads
// them; the float32 kernel reads either operand where it lies when its layout allows, and
// bfloat16 is packed by vectors, bfloat16_packing.h); a tile of the output then stays in
// registers for the whole of k while a thread walks its block of tiles.
//   - AVX2 float32 (every x86-64-v3 CPU: Haswell and Zen on): a 6 x 32 tile as two 6 x 16
//     halves (ymm_tiles.h), 12 ymm registers each; each k loads two vectors of b, broadcasts
//     each of a's 6 values and issues 12 8-wide FMAs. Its float16 and bfloat16 forms run the
//     same tile on panels widened as they are packed (AVX2 has no 16-bit product).
//   - AVX-512 float32 (Skylake-SP, Ice Lake, Sapphire Rapids, Zen 4 on): a 14 x 32 tile in
//     28 zmm registers; each k loads two vectors of b, broadcasts each of a's 14 values and
//     issues 28 16-wide FMAs: twice AVX2's width.
//   - AVX-512 float16: the float32 kernel's tile, its panels packed from float16 operands
//     widened as they are copied (AVX-512 has no float16 product that sums in float32).
//   - AVX512-BF16 (Cooper Lake, Sapphire Rapids, Zen 4 on): vdpbf16ps adds the products of
//     two consecutive k into each float32 lane, so both operands are packed in k-pairs (a
//     32-bit word holds (a[i][2p], a[i][2p+1]) or (b[2p][j], b[2p+1][j])); the same 14 x 32
//     tile, two k a step.
//   - AMX-BF16 (Sapphire Rapids on): tdpbf16ps multiplies a 16 x 32 tile of a by a 32 x 16
//     tile of b (the same k-pairs) into a 16 x 16 float32 tile. A 32 x 32 output tile is four
//     accumulator tiles; each step of 32 k loads two tiles of a and two of b and issues four
//     tdpbf16ps.
// How fast each is depends on the chip: on the Xeon this was written on, vdpbf16ps issues at
// a quarter of the rate of a float32 FMA, so AVX512-BF16 only matches AVX2 float32, while
// AMX is 3.1-3.4 times this file's AVX-512 float32 from 512^2 up (docs/half.md has the
// figures). AMX is chosen when present.
//
// Sums are float32 from the first product to the last; a 16-bit result is rounded once by
// graft's conversion (ties to even), so it is the float32 GEMM of the widened operands up to
// the order of the additions. As both bfloat16 instructions do, bfloat16 subnormals (below
// 1.2e-38) count as zero in the products. Threads share fixed blocks of the output and each
// element is one tile's sum in one order, so the bits never depend on the thread count.
#pragma once

#include <cstdint>

#include "graft/core/dtype.h"
#include "graft/core/half.h"

namespace graft::kernels::cpu {

enum class PackedGemm {
  kNone,
  kAvx2Float,
  kAvx2Half,
  kAvx2BFloat16,
  kAvx512Float,
  kAvx512Half,
  kAvx512BFloat16,
  kAmxBFloat16
};

// Whether this CPU and OS run `kernel` (asked once; kNone always runs).
bool cpu_runs(PackedGemm kernel);
// The fastest kernel this machine runs for `dtype`: for float32 kAvx512Float else kAvx2Float,
// for float16 kAvx512Half else kAvx2Half, for bfloat16 kAmxBFloat16, kAvx512BFloat16 or
// kAvx2BFloat16; kNone when there is none (a build without AVX2 on a CPU without AVX-512, and
// other dtypes).
PackedGemm best_packed_gemm(DType dtype);

// One operand matrix: element (i, j) at data[i * row_stride + j * col_stride].
template <class T>
struct StridedMatrix {
  const T* data;
  int64_t row_stride, col_stride;
};

// An a operand of float32 made of the sliding windows of a convolution's zero-padded image
// (direct_conv.h): element (i, w) at data[i + offsets[w]], row i an output pixel and word w a
// (channel, kernel row, kernel column) whose offset is a sum of three strides; or, transposed,
// at data[offsets[i] + w], the (channel, tap) down and the pixels along k (the weight
// gradient's operand). Read where it lies, as a strided a is, never copied into columns.
struct WindowMatrix {
  const float* data;
  const int64_t* offsets;
  bool transposed = false;
};

// Whether `kernel` pays on an (m, n) output: it holds at least one whole output tile (14 x 32
// for the AVX-512 kernels, 32 x 32 for AMX). Below that its zero-padded edge tiles are most
// of the work: a convolution's (32, 9) weight gradient ran at 0.6 of Eigen's speed.
bool packed_gemm_pays(PackedGemm kernel, int64_t m, int64_t n);

// out (m, n), row-major, = a (m, k) x b (k, n); k == 0 gives zeros. With `accumulate`,
// out += a x b instead, and out's rows may be `out_stride` elements apart (0: n, contiguous;
// both float32 only). `kernel` must be one this machine runs, for the operands' type.
void packed_gemm(PackedGemm kernel, StridedMatrix<float> a, StridedMatrix<float> b, float* out,
                 int64_t m, int64_t k, int64_t n, bool accumulate = false, int64_t out_stride = 0);
void packed_gemm(PackedGemm kernel, WindowMatrix a, StridedMatrix<float> b, float* out, int64_t m,
                 int64_t k, int64_t n, bool accumulate = false, int64_t out_stride = 0);
// packed_gemm by the best float32 kernel where this CPU has one and it pays on (m, n)
// (packed_gemm_pays), true; or, where it does not pay, dot products where they serve
// (dot_products.h: both operands along k), true; false, nothing done, elsewhere, for the
// caller's own GEMM (Eigen's) to run instead.
bool packed_gemm_if_it_pays(StridedMatrix<float> a, StridedMatrix<float> b, float* out, int64_t m,
                            int64_t k, int64_t n, bool accumulate = false, int64_t out_stride = 0);

// A float32 kernel's tile alone (kAvx512Float's or kAvx2Float's), for a caller whose tiles
// must follow its operand's shape rather than cover m in whole tiles (direct_conv.h: a tile is
// a piece of one output row, so that no pixel past a row's end is computed). out (rows, 32),
// its rows `out_stride` apart, = rows [0, rows) of the (untransposed) window operand a times
// b's 32 columns, word w's at b + w * b_word; 1 <= rows <= window_tile_rows(kernel): 14 for
// AVX-512, 6 for AVX2. `kernel` must be one this machine runs.
inline constexpr int64_t kWindowTileColumns = 32;
int64_t window_tile_rows(PackedGemm kernel);
void window_tile(PackedGemm kernel, WindowMatrix a, int64_t rows, const float* b, int64_t b_word,
                 int64_t words, float* out, int64_t out_stride);

void packed_gemm(PackedGemm kernel, StridedMatrix<BFloat16> a, StridedMatrix<BFloat16> b,
                 BFloat16* out, int64_t m, int64_t k, int64_t n);
void packed_gemm(PackedGemm kernel, StridedMatrix<Half> a, StridedMatrix<Half> b, Half* out,
                 int64_t m, int64_t k, int64_t n);

}  // namespace graft::kernels::cpu
