// The dot-product tiles of dot_products.h.
#include "graft/kernels/cpu/dot_products.h"

#include <algorithm>
#include <array>
#include <type_traits>
#include <utility>

#include "graft/core/error.h"
#include "graft/kernels/cpu/parallel.h"

#if defined(__x86_64__) && defined(__GNUC__)
#include "graft/kernels/cpu/avx512_file.h"
#include "graft/kernels/cpu/half_lanes_avx512.h"
#include "graft/kernels/cpu/lane_masks.h"

namespace graft::kernels::cpu {
namespace {

// A tile's most rows of a and columns of b: 24 accumulators, 4 vectors of a and one of b, in
// AVX-512's 32 registers.
constexpr int kTileRows = 4, kTileColumns = 6;

// Multiply-adds below which a task is not worth handing to another thread.
constexpr int64_t kTaskWork = int64_t{1} << 16;

template <class T>
struct Operands {
  const T* a;
  int64_t a_row;  // a's row stride; its rows are contiguous along k
  const T* b;
  int64_t b_column;  // b's column stride; its columns are contiguous along k
  int64_t k;
  T* out;
  int64_t out_row;  // out's row stride
  bool accumulate;  // out += a x b
};

// 16 consecutive elements from p as floats, float16 and bfloat16 widened (half_lanes_avx512.h).
template <class T>
GRAFT_AVX512 __m512 widened16(const T* p) {
  if constexpr (std::is_same_v<T, float>)
    return _mm512_loadu_ps(p);
  else
    return widen16(p);
}

// The first `count` (< 16) elements from p as floats, the other lanes zero.
template <class T>
GRAFT_AVX512 __m512 widened16(const T* p, int64_t count) {
  if constexpr (std::is_same_v<T, float>)
    return _mm512_maskz_loadu_ps(static_cast<__mmask16>(first_lanes16(count)), p);
  else
    return widen16(p, count);
}

// sums[r][c] += a's row r times b's column c over one step of k from `at`: 16 elements (kWhole),
// or the first `count`. Every loop unrolled, so that the sums live in registers (rolled, GCC
// kept them in memory too, storing all 24 at every step).
template <bool kWhole, int kRows, int kColumns, class T>
GRAFT_AVX512 void add_step(__m512 (&sums)[kRows][kColumns], const Operands<T>& p, const T* a,
                           const T* b, int64_t at, int64_t count) {
  __m512 rows[kRows];
#pragma GCC unroll 4
  for (int r = 0; r < kRows; ++r) {
    const T* q = a + r * p.a_row + at;
    rows[r] = kWhole ? widened16(q) : widened16(q, count);
  }
#pragma GCC unroll 6
  for (int c = 0; c < kColumns; ++c) {
    const T* q = b + c * p.b_column + at;
    const __m512 column = kWhole ? widened16(q) : widened16(q, count);
#pragma GCC unroll 4
    for (int r = 0; r < kRows; ++r) sums[r][c] = _mm512_fmadd_ps(rows[r], column, sums[r][c]);
  }
}

// out[r][c] for the kRows rows of a from `row` and the kColumns columns of b from `column`
// (added to out's value with accumulate), summed in float and rounded once to T.
template <int kRows, int kColumns, class T>
__attribute__((target("avx512f"))) void dot_tile(const Operands<T>& p, int64_t row,
                                                 int64_t column) {
  const T* a = p.a + row * p.a_row;
  const T* b = p.b + column * p.b_column;
  __m512 sums[kRows][kColumns];
#pragma GCC unroll 4
  for (int r = 0; r < kRows; ++r)
#pragma GCC unroll 6
    for (int c = 0; c < kColumns; ++c) sums[r][c] = _mm512_setzero_ps();
  int64_t at = 0;
  for (; at + 16 <= p.k; at += 16) add_step<true>(sums, p, a, b, at, 16);
  if (at < p.k) add_step<false>(sums, p, a, b, at, p.k - at);
#pragma GCC unroll 4
  for (int r = 0; r < kRows; ++r)
#pragma GCC unroll 6
    for (int c = 0; c < kColumns; ++c) {
      T& out = p.out[(row + r) * p.out_row + column + c];
      const float sum = _mm512_reduce_add_ps(sums[r][c]);
      out = T(p.accumulate ? static_cast<float>(out) + sum : sum);
    }
}

template <class T>
using DotTile = void (*)(const Operands<T>&, int64_t, int64_t);

// tiles<T>[r - 1][c - 1] is the tile of r rows and c columns.
template <class T, int kRows, int... kColumns>
constexpr std::array<DotTile<T>, sizeof...(kColumns)> tiles_of_rows(
    std::integer_sequence<int, kColumns...>) {
  return {&dot_tile<kRows, kColumns + 1, T>...};
}
template <class T, int... kRows>
constexpr auto tile_table(std::integer_sequence<int, kRows...>) {
  return std::array{
      tiles_of_rows<T, kRows + 1>(std::make_integer_sequence<int, kTileColumns>{})...};
}
template <class T>
constexpr auto kTiles = tile_table<T>(std::make_integer_sequence<int, kTileRows>{});

int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

// The packed GEMM that would otherwise take T's products: dot_products serves where its tiles
// would not be whole. bfloat16 not where that is AMX, whose tiles may pay even mostly empty
// (not measured: no machine with AMX was at hand).
template <class T>
PackedGemm packed_kernel() {
  if constexpr (std::is_same_v<T, float>) return PackedGemm::kAvx512Float;
  if constexpr (std::is_same_v<T, Half>) return PackedGemm::kAvx512Half;
  return PackedGemm::kAvx512BFloat16;
}

}  // namespace

template <class T>
bool dot_products_serve(const StridedMatrix<T>& a, const StridedMatrix<T>& b, int64_t m,
                        int64_t n) {
  const PackedGemm kernel = packed_kernel<T>();
  if (a.col_stride != 1 || b.row_stride != 1 || !cpu_runs(kernel)) return false;
  if (std::is_same_v<T, BFloat16> && best_packed_gemm(kBFloat16) != kernel) return false;
  return !packed_gemm_pays(kernel, m, n);
}

template <class T>
void dot_products(const StridedMatrix<T>& a, const StridedMatrix<T>& b, T* out, int64_t m,
                  int64_t k, int64_t n, bool accumulate, int64_t out_stride) {
  GRAFT_CHECK(a.col_stride == 1 && b.row_stride == 1 && cpu_runs(packed_kernel<T>()),
              "dot_products(): called for operands it does not take");
  const Operands<T> p{
      a.data,    a.row_stride, b.data, b.col_stride, k, out, out_stride == 0 ? n : out_stride,
      accumulate};
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
                   kTiles<T>[rows - 1][columns - 1](p, row, column);
                 }
               });
}

#else  // no AVX-512 kernels outside x86-64 with GCC or Clang

namespace graft::kernels::cpu {

template <class T>
bool dot_products_serve(const StridedMatrix<T>&, const StridedMatrix<T>&, int64_t, int64_t) {
  return false;
}

template <class T>
void dot_products(const StridedMatrix<T>&, const StridedMatrix<T>&, T*, int64_t, int64_t, int64_t,
                  bool, int64_t) {
  detail::fail("dot_products(): graft was built without its AVX-512 kernels");
}

#endif

// The element types of the packed GEMMs.
template bool dot_products_serve(const StridedMatrix<float>&, const StridedMatrix<float>&, int64_t,
                                 int64_t);
template bool dot_products_serve(const StridedMatrix<Half>&, const StridedMatrix<Half>&, int64_t,
                                 int64_t);
template bool dot_products_serve(const StridedMatrix<BFloat16>&, const StridedMatrix<BFloat16>&,
                                 int64_t, int64_t);
template void dot_products(const StridedMatrix<float>&, const StridedMatrix<float>&, float*,
                           int64_t, int64_t, int64_t, bool, int64_t);
template void dot_products(const StridedMatrix<Half>&, const StridedMatrix<Half>&, Half*, int64_t,
                           int64_t, int64_t, bool, int64_t);
template void dot_products(const StridedMatrix<BFloat16>&, const StridedMatrix<BFloat16>&,
                           BFloat16*, int64_t, int64_t, int64_t, bool, int64_t);

}  // namespace graft::kernels::cpu
