// CPU matmul: each matrix of the batch is one Eigen GEMM over zero-copy maps.
//
// An operand is mapped row-major when its columns are adjacent (col_stride 1) and
// column-major when its rows are, with the other stride as Eigen's outer stride: a
// transposed t() view is then just a column-major map and reaches Eigen's GEMM without a
// copy. (The op layer copies the rare operand that has neither stride 1.) The inner stride
// stays a compile-time 1, since a Map with a runtime inner stride makes Eigen evaluate the
// operand into a temporary before every product.
//
// Threads: Eigen runs single-threaded (graft is built without OpenMP, Eigen's only way to
// thread); graft spreads the work over its own threads (thread_pool.h). A large GEMM is cut
// into tiles of the output, each one Eigen GEMM, claimed by the threads one at a time, so
// that a thread that is off its core (a busy machine) holds up at most one tile. The tiles
// have a fixed size, so a tile's sums never depend on the thread count; under
// use_deterministic_algorithms (kernels/settings.h) every GEMM is tiled, even on one
// thread, and the bits are those of any thread count. Many small matrices go to
// parallel_for over the batch instead; a single small one runs whole.
//
// On CPUs with AVX-512, float32 and float16 go to graft's own kernels instead, and bfloat16 to
// its own where the CPU multiplies bfloat16 (packed_gemm.h); elsewhere the op layer hands this
// file float32 copies of 16-bit operands (cpu_matmul_takes). A product too narrow or short for
// those kernels' tiles whose operands both run along k, as a classifier head's x @ w.t(), is
// taken as dot products (dot_products.h) on every CPU, in 8 lanes where there is no AVX-512.
#include <Eigen/Core>
#include <algorithm>

#include "graft/kernels/cpu/cpu_kernels.h"
#include "graft/kernels/cpu/dot_products.h"
#include "graft/kernels/cpu/packed_gemm.h"
#include "graft/kernels/cpu/parallel.h"
#include "graft/kernels/matmul.h"
#include "graft/kernels/settings.h"

namespace graft::kernels::cpu {
namespace {

// Multiply-adds of one GEMM from which tiling it over the threads beats running it whole.
constexpr int64_t kTiledWork = int64_t{64} * 64 * 256;
// Multiply-adds a thread should get at least when the batch is split.
constexpr int64_t kBatchGrainWork = int64_t{1} << 17;
// Output tile: wide enough for Eigen's GEMM kernel, small enough that a (512, 512) product
// gives 16 tiles to share. A tile re-packs the rows of `a` it needs, a small cost next to
// its multiply-adds (k * 64 per element packed).
constexpr int64_t kTileRows = 256;
constexpr int64_t kTileColumns = 64;

template <class T, int Order>
using ConstMatrixMap = Eigen::Map<const Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Order>,
                                  Eigen::Unaligned, Eigen::OuterStride<>>;
template <class T>
using OutMatrixMap = Eigen::Map<Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>,
                                Eigen::Unaligned, Eigen::OuterStride<>>;

// The (rows, cols) matrix of `operand` at `data`, in storage order Order.
template <class T, int Order>
ConstMatrixMap<T, Order> map_matrix(const T* data, int64_t rows, int64_t cols,
                                    const MatmulOperand& operand) {
  const int64_t outer = Order == Eigen::RowMajor ? operand.row_stride : operand.col_stride;
  return ConstMatrixMap<T, Order>(data, rows, cols, Eigen::OuterStride<>(outer));
}

// Calls gemm(i) for every matrix i of the batch: many small ones (under kTiledWork each)
// shared among the threads by matrix, the others one after another.
template <class Gemm>
void for_each_matrix(int64_t batches, int64_t work, const Gemm& gemm) {
  if (batches > 1 && work < kTiledWork) {
    parallel_for(0, batches, std::max<int64_t>(1, kBatchGrainWork / work),
                 [&](int64_t begin, int64_t end) {
                   for (int64_t i = begin; i < end; ++i) gemm(i);
                 });
  } else {
    for (int64_t i = 0; i < batches; ++i) gemm(i);
  }
}

template <class T, int OrderA, int OrderB>
void gemm_batches(const MatmulArgs& args) {
  const T* a = static_cast<const T*>(args.a.data);
  const T* b = static_cast<const T*>(args.b.data);
  T* out = static_cast<T*>(args.out);
  const int64_t m = args.m, k = args.k, n = args.n;
  // Rows [r, r + rows) and columns [j, j + cols) of out[i] (m, n) = a[i] (m, k) x b[i]
  // (k, n); k == 0 gives zeros (Eigen clears the output).
  auto gemm = [&](int64_t i, int64_t r, int64_t rows, int64_t j, int64_t cols) {
    OutMatrixMap<T>(out + i * m * n + r * n + j, rows, cols, Eigen::OuterStride<>(n)).noalias() =
        map_matrix<T, OrderA>(a + args.batch_offset(args.a, i) + r * args.a.row_stride, rows, k,
                              args.a) *
        map_matrix<T, OrderB>(b + args.batch_offset(args.b, i) + j * args.b.col_stride, k, cols,
                              args.b);
  };
  const int64_t batches = args.batch_count();
  const int64_t work = std::max<int64_t>(m * n * k, 1);
  if (are_deterministic_algorithms_enabled() || (available_threads() > 1 && work >= kTiledWork)) {
    const int64_t row_tiles = (m + kTileRows - 1) / kTileRows;
    const int64_t column_tiles = (n + kTileColumns - 1) / kTileColumns;
    const int64_t tiles = row_tiles * column_tiles;
    parallel_blocks(batches * tiles, [&](int64_t block) {
      const int64_t tile = block % tiles;
      const int64_t r = tile / column_tiles * kTileRows, j = tile % column_tiles * kTileColumns;
      gemm(block / tiles, r, std::min(kTileRows, m - r), j, std::min(kTileColumns, n - j));
    });
  } else {
    for_each_matrix(batches, work, [&](int64_t i) { gemm(i, 0, m, 0, n); });
  }
}

// Matrix i of the batch: its operands as graft's own kernels read them, and its output.
template <class T>
struct BatchMatrix {
  StridedMatrix<T> a, b;
  T* out;
};
template <class T>
BatchMatrix<T> batch_matrix(const MatmulArgs& args, int64_t i) {
  return {{static_cast<const T*>(args.a.data) + args.batch_offset(args.a, i), args.a.row_stride,
           args.a.col_stride},
          {static_cast<const T*>(args.b.data) + args.batch_offset(args.b, i), args.b.row_stride,
           args.b.col_stride},
          static_cast<T*>(args.out) + i * args.m * args.n};
}

// Whether the dot products serve the batch's products (dot_products.h): the same answer for
// every matrix, which differ only in where they lie.
template <class T>
bool dot_products_serve(const MatmulArgs& args) {
  const BatchMatrix<T> first = batch_matrix<T>(args, 0);
  return dot_products_serve(first.a, first.b, args.m, args.k, args.n);
}

// Each matrix of the batch by graft's own kernels: as dot products where they serve, else
// packed and run by `kernel` (packed_gemm.h: float32, float16 and bfloat16 on a CPU with the
// instructions for them), which shares its blocks among the threads; many small matrices share
// the threads by matrix instead.
template <class T>
void matmul_own(const MatmulArgs& args, PackedGemm kernel) {
  const int64_t m = args.m, k = args.k, n = args.n;
  const bool dots = dot_products_serve<T>(args);
  for_each_matrix(args.batch_count(), std::max<int64_t>(m * n * k, 1), [&](int64_t i) {
    const BatchMatrix<T> x = batch_matrix<T>(args, i);
    if (dots) return dot_products(x.a, x.b, x.out, m, k, n);
    packed_gemm(kernel, x.a, x.b, x.out, m, k, n);
  });
}

template <class T>
void matmul_typed(const MatmulArgs& args) {
  constexpr int kRow = Eigen::RowMajor, kCol = Eigen::ColMajor;
  const bool a_row_major = args.a.col_stride == 1, b_row_major = args.b.col_stride == 1;
  if (a_row_major && b_row_major) return gemm_batches<T, kRow, kRow>(args);
  if (a_row_major) return gemm_batches<T, kRow, kCol>(args);
  if (b_row_major) return gemm_batches<T, kCol, kRow>(args);
  gemm_batches<T, kCol, kCol>(args);
}

void matmul_kernel(const MatmulArgs& args) {
  if (args.m == 0 || args.n == 0 || args.batch_count() == 0) return;
  if (const PackedGemm kernel = best_packed_gemm(args.dtype); kernel != PackedGemm::kNone) {
    if (args.dtype == kFloat32) return matmul_own<float>(args, kernel);
    if (args.dtype == kFloat16) return matmul_own<Half>(args, kernel);
    return matmul_own<BFloat16>(args, kernel);
  }
  // float32 without those kernels: dot products where they serve (their x86-64-v3 form), else
  // Eigen's GEMM below.
  if (args.dtype == kFloat32 && dot_products_serve<float>(args))
    return matmul_own<float>(args, PackedGemm::kNone);
  visit_dtype(args.dtype, [&](auto tag) {
    using T = decltype(tag);
    if constexpr (std::is_same_v<T, bool> || std::is_same_v<T, uint8_t> || is_float16_v<T>) {
      graft::detail::fail("matmul kernel called with ", args.dtype,
                          "; the op layer should have rejected it (or widened it to float32)");
    } else {
      matmul_typed<T>(args);
    }
  });
}

}  // namespace

void register_matmul(KernelTable& table) { table.matmul[static_cast<int>(kCPU)] = &matmul_kernel; }

}  // namespace graft::kernels::cpu

namespace graft::kernels {

bool cpu_matmul_takes(DType dtype) {
  if (is_reduced_floating_point(dtype))
    return cpu::best_packed_gemm(dtype) != cpu::PackedGemm::kNone;
  return true;
}

}  // namespace graft::kernels
