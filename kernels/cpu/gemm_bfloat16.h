// bfloat16 GEMMs of graft's own for the x86 CPUs that multiply bfloat16 in hardware, chosen
// at run time: graft is built for x86-64-v3 (AVX2), which has no bfloat16 arithmetic, so
// these kernels are compiled for their extension alone and called only where the CPU (and,
// for AMX, the operating system) says it runs them. Elsewhere the op layer widens bfloat16
// to float32 for the float32 GEMM, correct but no faster than float32.
//
// Two instruction sets, one layout idea. Both multiply pairs of bfloat16 along k and add
// the two products into a float32 sum, so both take their operands packed in k-pairs: a
// 32-bit word holds (a[i][2p], a[i][2p+1]), or (b[2p][j], b[2p+1][j]).
//   - AVX512-BF16 (Cooper Lake, Sapphire Rapids, Zen 4 on): vdpbf16ps does 16 such lanes,
//     64 FLOPs an instruction. A 12 x 32 tile of the output lives in 24 zmm registers for
//     the whole of k; each k-pair loads two vectors of b, broadcasts each of a's 12 pairs
//     and issues 24 vdpbf16ps.
//   - AMX-BF16 (Sapphire Rapids on): tdpbf16ps multiplies a 16 x 32 tile of a by a 32 x 16
//     tile of b into a 16 x 16 float32 tile, 16384 FLOPs an instruction. A 32 x 32 output
//     tile is four accumulator tiles; each step of 32 k loads two tiles of a and two of b
//     and issues four tdpbf16ps.
// Which is faster depends on the chip: on the Xeon this was written on, vdpbf16ps retires
// at a quarter of the rate of a float32 FMA (so AVX512-BF16 only matches float32), while
// AMX is the one that pays (docs/half.md has the figures). AMX is chosen when present.
//
// The sums are float32 from the first product to the last, rounded once to bfloat16 by
// graft's own conversion (ties to even): the float32 GEMM of the widened operands, up to
// the order of the additions. As both instructions do, bfloat16 subnormals (below 1.2e-38)
// count as zero in the products. Threads share fixed blocks of the output and each element
// is one tile's sum in one order, so the bits never depend on the thread count.
#pragma once

#include <cstdint>

#include "graft/core/half.h"

namespace graft::kernels::cpu {

enum class BFloat16Gemm { kNone, kAvx512, kAmx };

// Whether this CPU and OS run `kernel` (asked once; never off x86-64 Linux for kAmx).
bool cpu_runs(BFloat16Gemm kernel);
// The fastest kernel this machine runs: kAmx, else kAvx512, else kNone.
BFloat16Gemm best_bfloat16_gemm();

// One operand matrix: element (i, j) at data[i * row_stride + j * col_stride].
struct BFloat16Matrix {
  const BFloat16* data;
  int64_t row_stride, col_stride;
};

// out (m, n), contiguous and row-major, = a (m, k) x b (k, n); k == 0 gives zeros. `kernel`
// must be one the machine runs.
void gemm_bfloat16(BFloat16Gemm kernel, BFloat16Matrix a, BFloat16Matrix b, BFloat16* out,
                   int64_t m, int64_t k, int64_t n);

}  // namespace graft::kernels::cpu
