// The bfloat16 GEMMs (see gemm_bfloat16.h): asking the CPU what it runs, packing into
// k-pairs, the AVX512-BF16 and AMX tiles, and the blocks the threads share.
#include "graft/kernels/cpu/gemm_bfloat16.h"

#include <algorithm>
#include <vector>

#include "graft/core/error.h"
#include "graft/kernels/cpu/parallel.h"

// The kernels need GCC's or Clang's per-function target attribute and x86-64's intrinsics;
// AMX also needs Linux's permission to use the tile registers.
#if defined(__x86_64__) && defined(__GNUC__)
#define GRAFT_X86_BFLOAT16 1
#include <cpuid.h>
#include <immintrin.h>
#if defined(__linux__)
#define GRAFT_AMX 1
#include <sys/syscall.h>
#include <unistd.h>
#endif
#endif

namespace graft::kernels::cpu {

#if GRAFT_X86_BFLOAT16

namespace {

int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

// Element (i, j) of x, or zero outside (rows, cols): the packing's zero padding.
BFloat16 element(const BFloat16Matrix& x, int64_t i, int64_t j, int64_t rows, int64_t cols) {
  return i < rows && j < cols ? x.data[i * x.row_stride + j * x.col_stride] : BFloat16(0.0f);
}

// Two bfloat16 in one 32-bit word, the first in the low half, as both instructions read them.
uint32_t pair(BFloat16 first, BFloat16 second) {
  return first.bits() | static_cast<uint32_t>(second.bits()) << 16;
}

// Columns of b per panel and of an output tile, for both kernels.
constexpr int64_t kPanelColumns = 32;

// Rows [r, r + rows) of a, k-pairs in groups of `group`: pair p of row i, p = g * group + q,
// at panel[(g * rows + i) * group + q]. With group 1 (AVX512) the rows' pairs of one k-step
// sit side by side, to be broadcast in turn; with group 16 (AMX) a row's 16 pairs are one
// 64-byte row of a tile.
void pack_a_panel(const BFloat16Matrix& a, int64_t r, int64_t m, int64_t k, int64_t rows,
                  int64_t group, int64_t pairs, uint32_t* panel) {
  for (int64_t i = 0; i < rows; ++i)
    for (int64_t p = 0; p < pairs; ++p)
      panel[(p / group * rows + i) * group + p % group] =
          pair(element(a, r + i, 2 * p, m, k), element(a, r + i, 2 * p + 1, m, k));
}

// Columns [j, j + kPanelColumns) of b: pair p of column c at panel[p * kPanelColumns + c].
// Sixteen columns of one pair are a zmm vector (AVX512) or a row of a tile (AMX's "VNNI"
// layout of b).
void pack_b_panel(const BFloat16Matrix& b, int64_t j, int64_t k, int64_t n, int64_t pairs,
                  uint32_t* panel) {
  for (int64_t p = 0; p < pairs; ++p)
    for (int64_t c = 0; c < kPanelColumns; ++c)
      panel[p * kPanelColumns + c] =
          pair(element(b, 2 * p, j + c, k, n), element(b, 2 * p + 1, j + c, k, n));
}

// The AVX512-BF16 kernel: a 12 x 32 tile in registers.
struct Avx512Kernel {
  static constexpr int64_t kRows = 12;
  static constexpr int64_t kPairGroup = 1;
  static constexpr int64_t kBlockPanels[2] = {8, 4};  // a thread's block: 96 x 128
  struct Session {};                                  // no state to set up

  // tile (kRows x kPanelColumns) = a_panel x b_panel over `pairs` k-pairs.
  __attribute__((target("avx512f,avx512bf16"))) static void tile(const uint32_t* a_panel,
                                                                 const uint32_t* b_panel,
                                                                 int64_t pairs, float* tile) {
    __m512 sums[kRows][2];
#pragma GCC unroll 12
    for (int64_t i = 0; i < kRows; ++i) sums[i][0] = sums[i][1] = _mm512_setzero_ps();
    for (int64_t p = 0; p < pairs; ++p) {
      const auto b_low =
          reinterpret_cast<__m512bh>(_mm512_loadu_si512(b_panel + p * kPanelColumns));
      const auto b_high =
          reinterpret_cast<__m512bh>(_mm512_loadu_si512(b_panel + p * kPanelColumns + 16));
#pragma GCC unroll 12
      for (int64_t i = 0; i < kRows; ++i) {
        const auto a_pair =
            reinterpret_cast<__m512bh>(_mm512_set1_epi32(static_cast<int>(a_panel[p * kRows + i])));
        sums[i][0] = _mm512_dpbf16_ps(sums[i][0], a_pair, b_low);
        sums[i][1] = _mm512_dpbf16_ps(sums[i][1], a_pair, b_high);
      }
    }
#pragma GCC unroll 12
    for (int64_t i = 0; i < kRows; ++i) {
      _mm512_storeu_ps(tile + i * kPanelColumns, sums[i][0]);
      _mm512_storeu_ps(tile + i * kPanelColumns + 16, sums[i][1]);
    }
  }
};

#if GRAFT_AMX

// The AMX kernel: a 32 x 32 tile in four accumulator tiles.
struct AmxKernel {
  static constexpr int64_t kRows = 32;
  static constexpr int64_t kPairGroup = 16;           // 32 k per step: a tile row of 64 bytes
  static constexpr int64_t kBlockPanels[2] = {4, 4};  // a thread's block: 128 x 128

  // The tile registers' shapes are per thread and must be loaded before use; releasing
  // them after a block returns the thread to the cheap state the OS saves quickly.
  // Tiles 0-3 accumulate the output's four 16 x 16 quarters; 4 and 5 hold a's two 16-row
  // halves, 6 and 7 b's two 16-column halves: all 16 rows of 64 bytes.
  struct TileConfig {
    uint8_t palette, start_row, reserved[14];
    uint16_t bytes_per_row[16];
    uint8_t rows[16];
  };
  // A constant in memory: GCC 12 does not see that ldtilecfg reads its operand, and drops
  // the stores that would fill a local one.
  alignas(64) static constexpr TileConfig kTileConfig = {
      .palette = 1,
      .start_row = 0,
      .reserved = {},
      .bytes_per_row = {64, 64, 64, 64, 64, 64, 64, 64},
      .rows = {16, 16, 16, 16, 16, 16, 16, 16}};
  struct Session {
    __attribute__((target("amx-tile"))) Session() { _tile_loadconfig(&kTileConfig); }
    __attribute__((target("amx-tile"))) ~Session() { _tile_release(); }
    Session(const Session&) = delete;
    Session& operator=(const Session&) = delete;
  };

  __attribute__((target("amx-tile,amx-bf16"))) static void tile(const uint32_t* a_panel,
                                                                const uint32_t* b_panel,
                                                                int64_t pairs, float* tile) {
    _tile_zero(0);
    _tile_zero(1);
    _tile_zero(2);
    _tile_zero(3);
    for (int64_t g = 0; g < pairs / kPairGroup; ++g) {
      const uint32_t* a = a_panel + g * kRows * kPairGroup;
      const uint32_t* b = b_panel + g * kPairGroup * kPanelColumns;
      _tile_loadd(4, a, 64);
      _tile_loadd(5, a + 16 * kPairGroup, 64);
      _tile_loadd(6, b, kPanelColumns * 4);
      _tile_loadd(7, b + 16, kPanelColumns * 4);
      _tile_dpbf16ps(0, 4, 6);
      _tile_dpbf16ps(1, 4, 7);
      _tile_dpbf16ps(2, 5, 6);
      _tile_dpbf16ps(3, 5, 7);
    }
    constexpr int64_t kStride = kPanelColumns * 4;
    _tile_stored(0, tile, kStride);
    _tile_stored(1, tile + 16, kStride);
    _tile_stored(2, tile + 16 * kPanelColumns, kStride);
    _tile_stored(3, tile + 16 * kPanelColumns + 16, kStride);
  }
};

// CPUID says whether the core has AMX; XCR0 whether the OS saves its state; and Linux
// grants a process the tile data (8 KB more per context switch) only when asked.
bool amx_usable() {
  unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
  if (!__get_cpuid_count(7, 0, &eax, &ebx, &ecx, &edx)) return false;
  const bool amx_bf16 = edx & (1u << 22), amx_tile = edx & (1u << 24);
  if (!amx_bf16 || !amx_tile) return false;
  if (!__get_cpuid(1, &eax, &ebx, &ecx, &edx) || !(ecx & (1u << 27))) return false;  // OSXSAVE
  uint32_t xcr0_low = 0, xcr0_high = 0;
  asm volatile("xgetbv" : "=a"(xcr0_low), "=d"(xcr0_high) : "c"(0));
  constexpr uint32_t kTileState = (1u << 17) | (1u << 18);  // XTILECFG, XTILEDATA
  if ((xcr0_low & kTileState) != kTileState) return false;
  constexpr int kRequestPermission = 0x1023;  // ARCH_REQ_XCOMP_PERM
  constexpr int kTileData = 18;               // XFEATURE_XTILEDATA
  return syscall(SYS_arch_prctl, kRequestPermission, kTileData) == 0;
}

#endif  // GRAFT_AMX

// out = a x b with Kernel: both operands packed once, then the output's blocks shared by
// the threads, each block a loop over its tiles.
template <class Kernel>
void gemm_with(BFloat16Matrix a, BFloat16Matrix b, BFloat16* out, int64_t m, int64_t k, int64_t n) {
  constexpr int64_t kRows = Kernel::kRows;
  const int64_t pairs = ceil_div(ceil_div(k, 2), Kernel::kPairGroup) * Kernel::kPairGroup;
  const int64_t row_panels = ceil_div(m, kRows), column_panels = ceil_div(n, kPanelColumns);
  std::vector<uint32_t> packed_a(row_panels * pairs * kRows);
  std::vector<uint32_t> packed_b(column_panels * pairs * kPanelColumns);
  // Packing reads each operand once: a grain of about kParallelGrain words per task.
  const int64_t grain = std::max<int64_t>(1, kParallelGrain / std::max<int64_t>(pairs * 32, 1));
  parallel_for(0, row_panels, grain, [&](int64_t first, int64_t last) {
    for (int64_t panel = first; panel < last; ++panel)
      pack_a_panel(a, panel * kRows, m, k, kRows, Kernel::kPairGroup, pairs,
                   packed_a.data() + panel * pairs * kRows);
  });
  parallel_for(0, column_panels, grain, [&](int64_t first, int64_t last) {
    for (int64_t panel = first; panel < last; ++panel)
      pack_b_panel(b, panel * kPanelColumns, k, n, pairs,
                   packed_b.data() + panel * pairs * kPanelColumns);
  });

  const int64_t block_rows = Kernel::kBlockPanels[0] * kRows;
  const int64_t block_columns = Kernel::kBlockPanels[1] * kPanelColumns;
  const int64_t column_blocks = ceil_div(n, block_columns);
  parallel_blocks(ceil_div(m, block_rows) * column_blocks, [&](int64_t block) {
    [[maybe_unused]] const typename Kernel::Session session;  // for the whole block
    const int64_t first_row = block / column_blocks * block_rows;
    const int64_t first_column = block % column_blocks * block_columns;
    alignas(64) float tile[kRows * kPanelColumns];
    for (int64_t j = first_column; j < std::min(n, first_column + block_columns);
         j += kPanelColumns) {
      const uint32_t* b_panel = packed_b.data() + j / kPanelColumns * pairs * kPanelColumns;
      for (int64_t r = first_row; r < std::min(m, first_row + block_rows); r += kRows) {
        Kernel::tile(packed_a.data() + r / kRows * pairs * kRows, b_panel, pairs, tile);
        const int64_t rows = std::min(kRows, m - r), columns = std::min(kPanelColumns, n - j);
        for (int64_t i = 0; i < rows; ++i)
          for (int64_t c = 0; c < columns; ++c)
            out[(r + i) * n + j + c] = BFloat16(tile[i * kPanelColumns + c]);
      }
    }
  });
}

}  // namespace

bool cpu_runs(BFloat16Gemm kernel) {
  static const bool avx512 = [] {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512bf16") != 0;
  }();
#if GRAFT_AMX
  static const bool amx = amx_usable();
#else
  constexpr bool amx = false;
#endif
  switch (kernel) {
    case BFloat16Gemm::kNone:
      return true;
    case BFloat16Gemm::kAvx512:
      return avx512;
    case BFloat16Gemm::kAmx:
      return amx;
  }
  return false;
}

void gemm_bfloat16(BFloat16Gemm kernel, BFloat16Matrix a, BFloat16Matrix b, BFloat16* out,
                   int64_t m, int64_t k, int64_t n) {
  GRAFT_CHECK(kernel != BFloat16Gemm::kNone && cpu_runs(kernel),
              "gemm_bfloat16(): this machine does not run the kernel asked for");
  if (m == 0 || n == 0) return;
#if GRAFT_AMX
  if (kernel == BFloat16Gemm::kAmx) return gemm_with<AmxKernel>(a, b, out, m, k, n);
#endif
  gemm_with<Avx512Kernel>(a, b, out, m, k, n);
}

#else  // not x86-64 with GCC or Clang: only the widened float32 GEMM

bool cpu_runs(BFloat16Gemm kernel) { return kernel == BFloat16Gemm::kNone; }

void gemm_bfloat16(BFloat16Gemm, BFloat16Matrix, BFloat16Matrix, BFloat16*, int64_t, int64_t,
                   int64_t) {
  detail::fail("gemm_bfloat16(): graft was built without bfloat16 GEMM kernels");
}

#endif

BFloat16Gemm best_bfloat16_gemm() {
  if (cpu_runs(BFloat16Gemm::kAmx)) return BFloat16Gemm::kAmx;
  if (cpu_runs(BFloat16Gemm::kAvx512)) return BFloat16Gemm::kAvx512;
  return BFloat16Gemm::kNone;
}

}  // namespace graft::kernels::cpu
