// The dot-product tiles of dot_products.h.
#include "graft/kernels/cpu/dot_products.h"

#include <algorithm>
#include <array>
#include <type_traits>
#include <utility>

#include "graft/core/error.h"
#include "graft/kernels/cpu/cpu_features.h"
#include "graft/kernels/cpu/parallel.h"

#if defined(__x86_64__) && defined(__GNUC__)
#include "graft/kernels/cpu/avx512_file.h"
#include "graft/kernels/cpu/half_lanes_avx512.h"
#include "graft/kernels/cpu/lane_masks.h"

namespace graft::kernels::cpu {
namespace {

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

// out[row][column] = sum (out's value plus sum with accumulate), rounded once to T: where every
// tile puts each of its sums.
template <class T>
void store_sum(const Operands<T>& p, int64_t row, int64_t column, float sum) {
  T& out = p.out[row * p.out_row + column];
  out = T(p.accumulate ? static_cast<float>(out) + sum : sum);
}

// The tiles in two forms, each a struct of its most rows and columns and its tile<R, C, T>:
// sums for the R rows of a from `row` and the C columns of b from `column`, in float.
//
// AVX-512: 16 lanes; 24 accumulators, 4 vectors of a and one of b in its 32 registers; every
// element type.
struct Zmm {
  static constexpr int kRows = 4, kColumns = 6;
  template <int kR, int kC, class T>
  __attribute__((target("avx512f"))) static void tile(const Operands<T>& p, int64_t row,
                                                      int64_t column) {
    const T* a = p.a + row * p.a_row;
    const T* b = p.b + column * p.b_column;
    __m512 sums[kR][kC] = {};
    int64_t at = 0;
    for (; at + 16 <= p.k; at += 16) add_step<true>(sums, p, a, b, at, 16);
    if (at < p.k) add_step<false>(sums, p, a, b, at, p.k - at);
#pragma GCC unroll 4
    for (int r = 0; r < kR; ++r)
#pragma GCC unroll 6
      for (int c = 0; c < kC; ++c)
        store_sum(p, row + r, column + c, _mm512_reduce_add_ps(sums[r][c]));
  }
};

#if GRAFT_DOT_PRODUCTS_V3
// x86-64-v3 (graft's build target: AVX2 and FMA), for CPUs without AVX-512, where float32 is
// the only type that comes here (their 16-bit products are float32 products of widened copies:
// cpu_matmul_takes): 8 lanes; 12 accumulators, 3 vectors of a and one of b in AVX2's 16. The
// same steps as Zmm's at half the width; the last step's lanes past k read as zeros by a masked
// load.
struct Ymm {
  static constexpr int kRows = 3, kColumns = 4;
  template <int kR, int kC, class T>
  static void tile(const Operands<T>& p, int64_t row, int64_t column) {
    static_assert(std::is_same_v<T, float>, "the x86-64-v3 tiles take float32 alone");
    const float* a = p.a + row * p.a_row;
    const float* b = p.b + column * p.b_column;
    __m256 sums[kR][kC] = {};
    for (int64_t at = 0; at < p.k; at += 8) {
      // Lane l is read where at + l < k: the mask's sign bits.
      const __m256i lanes = first_lanes8(p.k - at);
      __m256 rows[kR];
#pragma GCC unroll 3
      for (int r = 0; r < kR; ++r) rows[r] = _mm256_maskload_ps(a + r * p.a_row + at, lanes);
#pragma GCC unroll 4
      for (int c = 0; c < kC; ++c) {
        const __m256 col = _mm256_maskload_ps(b + c * p.b_column + at, lanes);
#pragma GCC unroll 3
        for (int r = 0; r < kR; ++r) sums[r][c] = _mm256_fmadd_ps(rows[r], col, sums[r][c]);
      }
    }
#pragma GCC unroll 3
    for (int r = 0; r < kR; ++r)
#pragma GCC unroll 4
      for (int c = 0; c < kC; ++c) {
        // The 8 lanes' sum: halves, then pairs, then the last two.
        __m128 sum =
            _mm_add_ps(_mm256_castps256_ps128(sums[r][c]), _mm256_extractf128_ps(sums[r][c], 1));
        sum = _mm_add_ps(sum, _mm_movehl_ps(sum, sum));
        sum = _mm_add_ss(sum, _mm_movehdup_ps(sum));
        store_sum(p, row + r, column + c, _mm_cvtss_f32(sum));
      }
  }
};
#endif

template <class T>
using DotTile = void (*)(const Operands<T>&, int64_t, int64_t);

// kTiles<Form, T>[r - 1][c - 1] is Form's tile of r rows and c columns.
template <class Form, class T, int kR, int... kC>
constexpr std::array<DotTile<T>, sizeof...(kC)> tiles_of_rows(std::integer_sequence<int, kC...>) {
  return {&Form::template tile<kR, kC + 1, T>...};
}
template <class Form, class T, int... kR>
constexpr auto tile_table(std::integer_sequence<int, kR...>) {
  return std::array{
      tiles_of_rows<Form, T, kR + 1>(std::make_integer_sequence<int, Form::kColumns>{})...};
}
template <class Form, class T>
constexpr auto kTiles = tile_table<Form, T>(std::make_integer_sequence<int, Form::kRows>{});

int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

// The packed GEMM that would otherwise take T's products: dot_products serves where its tiles
// would not be whole. bfloat16 not where that is AMX, whose tiles may pay even mostly empty
// (not measured: no machine with AMX was at hand).
template <class T>
PackedGemm packed_kernel() {
  if constexpr (std::is_same_v<T, float>) return best_packed_gemm(kFloat32);
  if constexpr (std::is_same_v<T, Half>) return PackedGemm::kAvx512Half;
  return PackedGemm::kAvx512BFloat16;
}

// out = a x b as dot_products says, by Form's tiles.
template <class Form, class T>
void run_tiles(const Operands<T>& p, int64_t m, int64_t n) {
  // Rows and columns in groups as even as they come (10 columns: two tiles of 5, not 6 and 4).
  const int64_t row_groups = ceil_div(m, Form::kRows), column_groups = ceil_div(n, Form::kColumns);
  const int64_t tile_work = std::max<int64_t>(1, m / row_groups * (n / column_groups) * p.k);
  parallel_for(0, row_groups * column_groups, std::max<int64_t>(1, kTaskWork / tile_work),
               [&](int64_t first, int64_t last) {
                 for (int64_t t = first; t < last; ++t) {
                   const int64_t rg = t / column_groups, cg = t % column_groups;
                   const int64_t row = rg * m / row_groups, column = cg * n / column_groups;
                   const int64_t rows = (rg + 1) * m / row_groups - row;
                   const int64_t columns = (cg + 1) * n / column_groups - column;
                   kTiles<Form, T>[rows - 1][columns - 1](p, row, column);
                 }
               });
}

// The operands as the tiles read them.
template <class T>
Operands<T> operands(const StridedMatrix<T>& a, const StridedMatrix<T>& b, T* out, int64_t n,
                     int64_t k, bool accumulate, int64_t out_stride) {
  return {a.data,    a.row_stride, b.data, b.col_stride, k, out, out_stride == 0 ? n : out_stride,
          accumulate};
}

}  // namespace

template <class T>
bool dot_products_serve(const StridedMatrix<T>& a, const StridedMatrix<T>& b, int64_t m, int64_t k,
                        int64_t n) {
  const PackedGemm kernel = packed_kernel<T>();
  if (a.col_stride != 1 || b.row_stride != 1 || packed_gemm_pays(kernel, m, n)) return false;
  // float32 by AVX-512's dot products or AVX2's (dot_products_v3), whichever this CPU has
  // besides its packed kernel; none in a build without AVX2 (kNone).
  if constexpr (std::is_same_v<T, float>)
    return kernel != PackedGemm::kNone;
  else
    return cpu_runs(kernel) &&
           (!std::is_same_v<T, BFloat16> || best_packed_gemm(kBFloat16) == kernel);
}

template <class T>
void dot_products(const StridedMatrix<T>& a, const StridedMatrix<T>& b, T* out, int64_t m,
                  int64_t k, int64_t n, bool accumulate, int64_t out_stride) {
  if constexpr (std::is_same_v<T, float>) {
    if (!cpu_runs(PackedGemm::kAvx512Float))
      return dot_products_v3(a, b, out, m, k, n, accumulate, out_stride);
  }
  GRAFT_CHECK(a.col_stride == 1 && b.row_stride == 1 && cpu_runs(packed_kernel<T>()),
              "dot_products(): called for operands it does not take");
  run_tiles<Zmm>(operands(a, b, out, n, k, accumulate, out_stride), m, n);
}

#if GRAFT_DOT_PRODUCTS_V3
void dot_products_v3(const StridedMatrix<float>& a, const StridedMatrix<float>& b, float* out,
                     int64_t m, int64_t k, int64_t n, bool accumulate, int64_t out_stride) {
  GRAFT_CHECK(a.col_stride == 1 && b.row_stride == 1,
              "dot_products_v3(): called for operands it does not take");
  run_tiles<Ymm>(operands(a, b, out, n, k, accumulate, out_stride), m, n);
}
#endif

#else  // no AVX-512 kernels outside x86-64 with GCC or Clang

namespace graft::kernels::cpu {

template <class T>
bool dot_products_serve(const StridedMatrix<T>&, const StridedMatrix<T>&, int64_t, int64_t,
                        int64_t) {
  return false;
}

template <class T>
void dot_products(const StridedMatrix<T>&, const StridedMatrix<T>&, T*, int64_t, int64_t, int64_t,
                  bool, int64_t) {
  detail::fail("dot_products(): graft was built without its AVX-512 kernels");
}

#endif

#if !GRAFT_DOT_PRODUCTS_V3
void dot_products_v3(const StridedMatrix<float>&, const StridedMatrix<float>&, float*, int64_t,
                     int64_t, int64_t, bool, int64_t) {
  fail_built_without_v3("dot_products_v3");
}
#endif

// The element types of the packed GEMMs.
template bool dot_products_serve(const StridedMatrix<float>&, const StridedMatrix<float>&, int64_t,
                                 int64_t, int64_t);
template bool dot_products_serve(const StridedMatrix<Half>&, const StridedMatrix<Half>&, int64_t,
                                 int64_t, int64_t);
template bool dot_products_serve(const StridedMatrix<BFloat16>&, const StridedMatrix<BFloat16>&,
                                 int64_t, int64_t, int64_t);
template void dot_products(const StridedMatrix<float>&, const StridedMatrix<float>&, float*,
                           int64_t, int64_t, int64_t, bool, int64_t);
template void dot_products(const StridedMatrix<Half>&, const StridedMatrix<Half>&, Half*, int64_t,
                           int64_t, int64_t, bool, int64_t);
template void dot_products(const StridedMatrix<BFloat16>&, const StridedMatrix<BFloat16>&,
                           BFloat16*, int64_t, int64_t, int64_t, bool, int64_t);

}  // namespace graft::kernels::cpu
