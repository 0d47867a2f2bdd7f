// The dot-product tiles of dot_products.h.
#include "graft/kernels/cpu/dot_products.h"

#include <algorithm>
#include <array>
#include <utility>

#include "graft/core/error.h"
#include "graft/kernels/cpu/parallel.h"

#if defined(__x86_64__) && defined(__GNUC__)
#include "graft/kernels/cpu/avx512_file.h"
#include "graft/kernels/cpu/lane_masks.h"

namespace graft::kernels::cpu {
namespace {

// A tile's most rows of a and columns of b: 24 accumulators, 4 vectors of a and one of b, in
// AVX-512's 32 registers.
constexpr int kTileRows = 4, kTileColumns = 6;

// Multiply-adds below which a task is not worth handing to another thread.
constexpr int64_t kTaskWork = int64_t{1} << 16;

struct Operands {
  const float* a;
  int64_t a_row;  // a's row stride; its rows are contiguous along k
  const float* b;
  int64_t b_column;  // b's column stride; its columns are contiguous along k
  int64_t k;
  float* out;
  int64_t n;  // out's row stride
};

// out[r][c] for the kRows rows of a from `row` and the kColumns columns of b from `column`.
template <int kRows, int kColumns>
__attribute__((target("avx512f"))) void dot_tile(const Operands& p, int64_t row, int64_t column) {
  const float* a = p.a + row * p.a_row;
  const float* b = p.b + column * p.b_column;
  // Every loop over the tile unrolled, so that the sums live in registers (rolled, GCC kept
  // them in memory too, storing all 24 at every step).
  __m512 sums[kRows][kColumns];
#pragma GCC unroll 4
  for (int r = 0; r < kRows; ++r)
#pragma GCC unroll 6
    for (int c = 0; c < kColumns; ++c) sums[r][c] = _mm512_setzero_ps();
  // 16 lanes of k a step, the last step's lanes past k read as zeros.
  for (int64_t at = 0; at < p.k; at += 16) {
    const auto lanes = static_cast<__mmask16>(p.k - at >= 16 ? 0xffff : first_lanes16(p.k - at));
    __m512 rows[kRows];
#pragma GCC unroll 4
    for (int r = 0; r < kRows; ++r) rows[r] = _mm512_maskz_loadu_ps(lanes, a + r * p.a_row + at);
#pragma GCC unroll 6
    for (int c = 0; c < kColumns; ++c) {
      const __m512 column = _mm512_maskz_loadu_ps(lanes, b + c * p.b_column + at);
#pragma GCC unroll 4
      for (int r = 0; r < kRows; ++r) sums[r][c] = _mm512_fmadd_ps(rows[r], column, sums[r][c]);
    }
  }
#pragma GCC unroll 4
  for (int r = 0; r < kRows; ++r)
#pragma GCC unroll 6
    for (int c = 0; c < kColumns; ++c)
      p.out[(row + r) * p.n + column + c] = _mm512_reduce_add_ps(sums[r][c]);
}

using DotTile = void (*)(const Operands&, int64_t, int64_t);

// kTiles[r - 1][c - 1] is the tile of r rows and c columns.
template <int kRows, int... kColumns>
constexpr std::array<DotTile, sizeof...(kColumns)> tiles_of_rows(
    std::integer_sequence<int, kColumns...>) {
  return {&dot_tile<kRows, kColumns + 1>...};
}
template <int... kRows>
constexpr auto tile_table(std::integer_sequence<int, kRows...>) {
  return std::array{tiles_of_rows<kRows + 1>(std::make_integer_sequence<int, kTileColumns>{})...};
}
constexpr auto kTiles = tile_table(std::make_integer_sequence<int, kTileRows>{});

int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

}  // namespace

bool dot_products_serve(const StridedMatrix<float>& a, const StridedMatrix<float>& b, int64_t m,
                        int64_t n) {
  return a.col_stride == 1 && b.row_stride == 1 && cpu_runs(PackedGemm::kAvx512Float) &&
         !packed_gemm_pays(PackedGemm::kAvx512Float, m, n);
}

void dot_products(const StridedMatrix<float>& a, const StridedMatrix<float>& b, float* out,
                  int64_t m, int64_t k, int64_t n) {
  GRAFT_CHECK(a.col_stride == 1 && b.row_stride == 1 && cpu_runs(PackedGemm::kAvx512Float),
              "dot_products(): called for operands it does not take");
  const Operands p{a.data, a.row_stride, b.data, b.col_stride, k, out, n};
  // Rows and columns in groups as even as they come (10 columns: two tiles of 5, not 6 and 4).
  const int64_t row_groups = ceil_div(m, kTileRows), column_groups = ceil_div(n, kTileColumns);
  const int64_t tile_work = std::max<int64_t>(1, m / row_groups * (n / column_groups) * k);
  parallel_for(0, row_groups * column_groups, std::max<int64_t>(1, kTaskWork / tile_work),
               [&](int64_t first, int64_t last) {
                 for (int64_t t = first; t < last; ++t) {
                   const int64_t rg = t / column_groups, cg = t % column_groups;
                   const int64_t row = rg * m / row_groups, column = cg * n / column_groups;
                   const int64_t rows = (rg + 1) * m / row_groups - row;
                   const int64_t columns = (cg + 1) * n / column_groups - column;
                   kTiles[rows - 1][columns - 1](p, row, column);
                 }
               });
}

}  // namespace graft::kernels::cpu

#else  // no AVX-512 kernels outside x86-64 with GCC or Clang

namespace graft::kernels::cpu {

bool dot_products_serve(const StridedMatrix<float>&, const StridedMatrix<float>&, int64_t,
                        int64_t) {
  return false;
}

void dot_products(const StridedMatrix<float>&, const StridedMatrix<float>&, float*, int64_t,
                  int64_t, int64_t) {
  detail::fail("dot_products(): graft was built without its AVX-512 kernels");
}

}  // namespace graft::kernels::cpu

#endif
