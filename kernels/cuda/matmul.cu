// CUDA matmul: the twin of kernels/cpu/matmul.cpp, over the same MatmulArgs.
//
// The kernels are the progression in matmul_variants.cuh (naive, coalesced, smem_tiled,
// register_tiled_2d, vectorized, warp_tiled) and its tensor-core step in
// matmul_tensor_core.cuh (tensor_core: float16 and bfloat16 on sm_80 and newer; every other
// dtype, layout or GPU it cannot take runs warp_tiled), plus `cublas`, the vendor's GEMM as a
// baseline to measure them against. graft::cuda::set_matmul_variant picks the one every
// CUDA matmul uses from then on. The default is tensor_core, the last step of the progression:
// float16 and bfloat16 on the tensor cores, everything else on warp_tiled (on the H100 at
// 4096^3: bfloat16 275 TFLOP/s against warp_tiled's 9.5, float32 the same 21.9 either way).
//
// Launch shapes: naive and coalesced take 32x32-thread blocks; the tiled kernels take
// TileConfig::threads threads and a tile shape per element size, since 8-byte types
// (float64, int64) need twice the registers per accumulator: their tiles hold a quarter of
// the elements, so the accumulators stay in registers. Grids cover (n tiles, m tiles,
// batches), capped at CUDA's limits; the kernels loop over what a capped grid leaves out.
//
// cublas runs cublas{S,D}gemmStridedBatched with the default math mode (no TF32 tensor-op
// math, so float32 results keep float32 precision like the hand-written kernels), and
// cublasGemmStridedBatchedEx for float16 and bfloat16 (float32 accumulation, tensor cores:
// the baseline of the tensor_core variant). cuBLAS is
// column-major: out^T (n, m) = b^T (n, k) x a^T (k, m), each operand read in place as
// transposed or not. Integer dtypes, and layouts cuBLAS cannot address (a zero row stride
// from expand(), sizes past int), fall back to warp_tiled.
#include <cublas_v2.h>

#include <algorithm>
#include <atomic>
#include <climits>
#include <cstdint>
#include <cstdlib>
#include <map>
#include <mutex>
#include <sstream>
#include <string>
#include <type_traits>
#include <vector>

#include "graft/core/warning.h"
#include "graft/kernels/cuda/common.cuh"
#include "graft/kernels/cuda/cuda_kernels.h"
#include "graft/kernels/cuda/matmul_tensor_core.cuh"
#include "graft/kernels/cuda/matmul_variants.cuh"
#include "graft/kernels/cuda/runtime.h"
#include "graft/kernels/matmul.h"

#define GRAFT_CUBLAS_CHECK(expr)                                                                \
  do {                                                                                          \
    const cublasStatus_t graft_cublas_status = (expr);                                          \
    if (graft_cublas_status != CUBLAS_STATUS_SUCCESS) [[unlikely]]                              \
      ::graft::detail::fail("cuBLAS error: ", cublasGetStatusString(graft_cublas_status), " (", \
                            #expr, " at ", __FILE__, ":", __LINE__, ")");                       \
  } while (false)

namespace graft::kernels::cuda {
namespace {

using matmul::GemmParams;
using matmul::OperandLayout;
using matmul::TileConfig;

enum class Variant {
  naive,
  coalesced,
  smem_tiled,
  register_tiled_2d,
  vectorized,
  warp_tiled,
  tensor_core,
  cublas
};
constexpr const char* kVariantNames[] = {
    "naive",      "coalesced",  "smem_tiled",  "register_tiled_2d",
    "vectorized", "warp_tiled", "tensor_core", "cublas"};
// The last step of the progression (see the file comment for the measurement).
std::atomic<Variant> g_variant{Variant::tensor_core};

// Tile shapes, (BM, BN, BK, WM, WN, WNITER, TM, TN, pad); see matmul_variants.cuh.
// smem_tiled: 32x32 block tiles, one element per thread (1024 threads); a pad of 1 makes
// both tile stores conflict-free (there are no float4 reads of these tiles).
using SmemTiled = TileConfig<32, 32, 32, 1, 32, 1, 1, 1, 1>;
// register_tiled_2d: 8x8 thread tiles in 128x128 block tiles (256 threads), each warp two
// rows of 16 threads; 8-byte types: 4x4 in 64x64.
template <class T>
using RegisterTiled = std::conditional_t<sizeof(T) == 8, TileConfig<64, 64, 8, 8, 64, 1, 4, 4, 4>,
                                         TileConfig<128, 128, 8, 16, 128, 1, 8, 8, 4>>;
// warp_tiled: 64x64 warp tiles of four 64x16 sub-tiles in 128x128 block tiles (128 threads,
// 8x4 per thread and sub-tile, BK 16: the worklog's kernel 10); 8-byte types: 32x32 warp
// tiles of two 32x16 sub-tiles, 4x4 per thread, in 64x64.
template <class T>
using WarpTiled = std::conditional_t<sizeof(T) == 8, TileConfig<64, 64, 16, 32, 32, 2, 4, 4, 4>,
                                     TileConfig<128, 128, 16, 64, 64, 4, 8, 4, 4>>;

// ---- launchers

// How `operand`, a stack of (rows, cols) matrices, is read: tile loads walk its contiguous
// dim (a dim of size 1 never counts as the walk), and float4 loads need that dim contiguous
// and every other stride that moves a tile row (the other matrix dim, the batch dims) and
// the data pointer aligned to 16 bytes. A stride along a dim of size 1 never moves anything.
template <class T>
OperandLayout layout_of(const MatmulOperand& operand, const MatmulArgs& args, int64_t rows,
                        int64_t cols) {
  OperandLayout layout;
  layout.row_stride = operand.row_stride;
  layout.col_stride = operand.col_stride;
  std::copy(operand.batch_strides, operand.batch_strides + kMaxDims, layout.batch_strides);
  layout.walk_cols =
      rows == 1 || (cols > 1 && std::abs(operand.col_stride) <= std::abs(operand.row_stride));
  constexpr int64_t kVector = 16 / sizeof(T);
  auto aligned = [&](int64_t size, int64_t stride) { return size == 1 || stride % kVector == 0; };
  bool ok = reinterpret_cast<uintptr_t>(operand.data) % 16 == 0 &&
            (layout.walk_cols ? operand.col_stride == 1 && aligned(rows, operand.row_stride)
                              : operand.row_stride == 1 && aligned(cols, operand.col_stride));
  for (int d = 0; d < args.batch_ndim; ++d)
    ok = ok && aligned(args.batch_sizes[d], operand.batch_strides[d]);
  layout.vector_loads = ok;
  return layout;
}

template <class T>
GemmParams<T> gemm_params(const MatmulArgs& args) {
  GemmParams<T> p;
  p.a = static_cast<const T*>(args.a.data);
  p.b = static_cast<const T*>(args.b.data);
  p.out = static_cast<T*>(args.out);
  p.m = args.m;
  p.n = args.n;
  p.k = args.k;
  p.batches = args.batch_count();
  p.batch_ndim = args.batch_ndim;
  std::copy(args.batch_sizes, args.batch_sizes + kMaxDims, p.batch_sizes);
  p.a_layout = layout_of<T>(args.a, args, args.m, args.k);
  p.b_layout = layout_of<T>(args.b, args, args.k, args.n);
  return p;
}

// Launches `kernel` on blocks of `block` threads over the (bm, bn) tiles of every matrix.
template <class T>
void launch(void (*kernel)(GemmParams<T>), const GemmParams<T>& p, int bm, int bn, dim3 block) {
  auto tiles = [](int64_t size, int64_t tile, int64_t cap) {
    return static_cast<unsigned>(std::min((size + tile - 1) / tile, cap));
  };
  const dim3 grid(tiles(p.n, bn, INT_MAX), tiles(p.m, bm, 65535), tiles(p.batches, 1, 65535));
  kernel<<<grid, block>>>(p);
  GRAFT_CUDA_CHECK_LAUNCH();
}

template <class T, class Cfg, bool kVector>
void launch_tiled(const GemmParams<T>& p) {
  launch<T>(matmul::matmul_kernel_tiled<T, Cfg, kVector>, p, Cfg::bm, Cfg::bn, dim3(Cfg::threads));
}

// make(device) for the current device, called on the first use there and kept for the
// process. Each caller passes a lambda of its own type, so each has its own table.
template <class Make>
auto for_current_device(const Make& make) {
  using Value = decltype(make(0));
  static std::mutex mutex;
  static std::map<int, Value> values;
  int device = 0;
  GRAFT_CUDA_CHECK(cudaGetDevice(&device));
  const std::lock_guard<std::mutex> lock(mutex);
  const auto found = values.find(device);
  if (found != values.end()) return found->second;
  return values[device] = make(device);
}

// Whether the current device runs the tensor-core kernel (an sm_80 GPU or newer, with code
// built for it: matmul::tensor_core_unavailable), asked once a device; every instantiation
// is compiled for the same architectures, so one answers for all. An sm_80 GPU that cannot
// (graft built for older GPUs alone) is warned about: its 16-bit products run on warp_tiled,
// right but some thirty times slower.
bool tensor_cores_available() {
  return for_current_device([](int device) {
    const std::string why =
        matmul::tensor_core_unavailable<BFloat16, matmul::TensorCoreTiles, true, true>();
    int major = 0;
    GRAFT_CUDA_CHECK(cudaDeviceGetAttribute(&major, cudaDevAttrComputeCapabilityMajor, device));
    if (!why.empty() && major >= 8)
      warn("CUDA device " + std::to_string(device) +
           ": float16 and bfloat16 matmuls run without tensor cores: " + why);
    return why.empty();
  });
}

// The tensor-core kernel for 16-bit operands it can read with cp.async (both contiguous along
// one dim, 16-byte aligned: the layouts' vector_loads) into an output it can write in pairs (4
// bytes at a time where n is even: store_pair) on an sm_80+ GPU; false otherwise.
template <class T>
bool tensor_core_gemm(const GemmParams<T>& p) {
  if constexpr (!is_float16_v<T>) {
    return false;
  } else {
    const bool pairs_aligned = reinterpret_cast<uintptr_t>(p.out) % sizeof(uint32_t) == 0;
    if (!p.a_layout.vector_loads || !p.b_layout.vector_loads || !pairs_aligned ||
        !tensor_cores_available())
      return false;
    // a (m, k) walks its cols when k is contiguous; b (k, n) when n is.
    const bool a_k_contiguous = p.a_layout.walk_cols, b_k_contiguous = !p.b_layout.walk_cols;
    using Cfg = matmul::TensorCoreTiles;
    if (a_k_contiguous && b_k_contiguous) matmul::launch_tensor_core<T, Cfg, true, true>(p);
    if (a_k_contiguous && !b_k_contiguous) matmul::launch_tensor_core<T, Cfg, true, false>(p);
    if (!a_k_contiguous && b_k_contiguous) matmul::launch_tensor_core<T, Cfg, false, true>(p);
    if (!a_k_contiguous && !b_k_contiguous) matmul::launch_tensor_core<T, Cfg, false, false>(p);
    return true;
  }
}

template <class T>
void hand_written(const MatmulArgs& args, Variant variant) {
  const GemmParams<T> p = gemm_params<T>(args);
  constexpr int kSide = matmul::kWarpSize;
  const dim3 square(kSide, kSide);
  switch (variant) {
    case Variant::naive:
      return launch<T>(matmul::matmul_kernel_per_element<T, false>, p, kSide, kSide, square);
    case Variant::coalesced:
      return launch<T>(matmul::matmul_kernel_per_element<T, true>, p, kSide, kSide, square);
    case Variant::smem_tiled:
      return launch_tiled<T, SmemTiled, false>(p);
    case Variant::register_tiled_2d:
      return launch_tiled<T, RegisterTiled<T>, false>(p);
    case Variant::vectorized:
      return launch_tiled<T, RegisterTiled<T>, true>(p);
    case Variant::tensor_core:
      if (tensor_core_gemm<T>(p)) return;
      [[fallthrough]];
    case Variant::warp_tiled:
    case Variant::cublas:
      return launch_tiled<T, WarpTiled<T>, true>(p);
  }
}

// One cuBLAS handle per device, created on first use and kept for the process (destroying
// it at exit would race the CUDA runtime's own teardown).
cublasHandle_t cublas_handle() {
  return for_current_device([](int) {
    cublasHandle_t handle = nullptr;
    GRAFT_CUBLAS_CHECK(cublasCreate(&handle));
    GRAFT_CUBLAS_CHECK(cublasSetMathMode(handle, CUBLAS_DEFAULT_MATH));
    return handle;
  });
}

// A (rows, cols) row-major-addressed operand M as cuBLAS reads M^T, a column-major
// (cols, rows) matrix: as is (N) when M's columns are adjacent, transposed (T) when its rows
// are; `ld` the stride between cuBLAS columns, which cuBLAS wants >= the rows it stores.
// A stride along a dim of size 1 is free, so it is chosen to satisfy cuBLAS.
struct BlasOperand {
  cublasOperation_t op = CUBLAS_OP_N;
  int64_t ld = 0;
  bool ok = false;
};
BlasOperand blas_operand(const MatmulOperand& operand, int64_t rows, int64_t cols) {
  if (operand.col_stride == 1 || cols == 1) {
    const int64_t ld = rows == 1 ? std::max<int64_t>(cols, 1) : operand.row_stride;
    return {CUBLAS_OP_N, ld, ld >= std::max<int64_t>(cols, 1) && ld <= INT_MAX};
  }
  if (operand.row_stride == 1 || rows == 1) {
    const int64_t ld = cols == 1 ? std::max<int64_t>(rows, 1) : operand.col_stride;
    return {CUBLAS_OP_T, ld, ld >= std::max<int64_t>(rows, 1) && ld <= INT_MAX};
  }
  return {};
}

// The batch dims with size-1 dims dropped and neighbours merged where both operands step
// evenly across them (out, contiguous, always does), so a plain batched product is one call.
struct BlasBatch {
  int ndim = 0;
  int64_t sizes[kMaxDims] = {}, a[kMaxDims] = {}, b[kMaxDims] = {};
};
BlasBatch blas_batch(const MatmulArgs& args) {
  BlasBatch batch;
  for (int d = 0; d < args.batch_ndim; ++d) {
    const int64_t size = args.batch_sizes[d];
    if (size == 1) continue;
    const int last = batch.ndim - 1;
    if (last >= 0 && batch.a[last] == args.a.batch_strides[d] * size &&
        batch.b[last] == args.b.batch_strides[d] * size) {
      batch.sizes[last] *= size;
      batch.a[last] = args.a.batch_strides[d];
      batch.b[last] = args.b.batch_strides[d];
    } else {
      batch.sizes[batch.ndim] = size;
      batch.a[batch.ndim] = args.a.batch_strides[d];
      batch.b[batch.ndim++] = args.b.batch_strides[d];
    }
  }
  return batch;
}

// cuBLAS's GEMM: one strided-batched call per index of the outer collapsed batch dims.
// False (nothing launched) where cuBLAS cannot read the operands in place.
template <class T>
bool cublas_gemm(const MatmulArgs& args) {
  const BlasOperand a = blas_operand(args.a, args.m, args.k);
  const BlasOperand b = blas_operand(args.b, args.k, args.n);
  const BlasBatch batch = blas_batch(args);
  const int64_t inner = batch.ndim > 0 ? batch.sizes[batch.ndim - 1] : 1;
  if (!a.ok || !b.ok || std::max({args.m, args.n, args.k, inner}) > INT_MAX) return false;
  const int64_t a_step = batch.ndim > 0 ? batch.a[batch.ndim - 1] : 0;
  const int64_t b_step = batch.ndim > 0 ? batch.b[batch.ndim - 1] : 0;
  const int64_t outer = args.batch_count() / inner, out_step = args.m * args.n;
  const cublasHandle_t handle = cublas_handle();
  // The scale factors are of the compute type: float32 for 16-bit operands (CUBLAS_COMPUTE_32F).
  const compute_type_t<T> one = 1, zero = 0;
  for (int64_t index = 0; index < outer; ++index) {
    int64_t a_offset = 0, b_offset = 0, remaining = index;
    for (int d = batch.ndim - 2; d >= 0; --d) {
      a_offset += remaining % batch.sizes[d] * batch.a[d];
      b_offset += remaining % batch.sizes[d] * batch.b[d];
      remaining /= batch.sizes[d];
    }
    const T* a_data = static_cast<const T*>(args.a.data) + a_offset;
    const T* b_data = static_cast<const T*>(args.b.data) + b_offset;
    T* out = static_cast<T*>(args.out) + index * inner * out_step;
    const int n = static_cast<int>(args.n), m = static_cast<int>(args.m);
    const int k = static_cast<int>(args.k), count = static_cast<int>(inner);
    const int ldb = static_cast<int>(b.ld), lda = static_cast<int>(a.ld);
    if constexpr (std::is_same_v<T, float>) {
      GRAFT_CUBLAS_CHECK(cublasSgemmStridedBatched(handle, b.op, a.op, n, m, k, &one, b_data, ldb,
                                                   b_step, a_data, lda, a_step, &zero, out, n,
                                                   out_step, count));
    } else if constexpr (std::is_same_v<T, double>) {
      GRAFT_CUBLAS_CHECK(cublasDgemmStridedBatched(handle, b.op, a.op, n, m, k, &one, b_data, ldb,
                                                   b_step, a_data, lda, a_step, &zero, out, n,
                                                   out_step, count));
    } else {
      // 16-bit operands and output, float32 scale factors and accumulation.
      const cudaDataType type = std::is_same_v<T, BFloat16> ? CUDA_R_16BF : CUDA_R_16F;
      GRAFT_CUBLAS_CHECK(cublasGemmStridedBatchedEx(
          handle, b.op, a.op, n, m, k, &one, b_data, type, ldb, b_step, a_data, type, lda, a_step,
          &zero, out, type, n, out_step, count, CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT));
    }
  }
  return true;
}

void matmul_cuda(const MatmulArgs& args) {
  if (args.m == 0 || args.n == 0 || args.batch_count() == 0) return;
  const Variant variant = g_variant.load();
  visit_dtype(args.dtype, [&](auto tag) {
    using T = decltype(tag);
    if constexpr (std::is_same_v<T, bool> || std::is_same_v<T, uint8_t>) {
      graft::detail::fail("matmul kernel called with ", args.dtype,
                          "; the op layer should have rejected it");
    } else if constexpr (std::is_floating_point_v<compute_type_t<T>>) {
      // An empty sum (k == 0) is 0: written here rather than left to cuBLAS's beta scaling
      // of an output it would not otherwise read.
      if (variant == Variant::cublas && args.k == 0) {
        GRAFT_CUDA_CHECK(
            cudaMemsetAsync(args.out, 0, args.batch_count() * args.m * args.n * sizeof(T)));
      } else if (variant != Variant::cublas || !cublas_gemm<T>(args)) {
        hand_written<T>(args, variant);
      }
    } else {
      hand_written<T>(args, variant);
    }
  });
}

}  // namespace

void register_matmul(KernelTable& table) { table.matmul[static_cast<int>(kCUDA)] = &matmul_cuda; }

}  // namespace graft::kernels::cuda

namespace graft::cuda {

using kernels::cuda::kVariantNames;

void set_matmul_variant(const std::string& name) {
  const auto found = std::find(std::begin(kVariantNames), std::end(kVariantNames), name);
  if (found == std::end(kVariantNames)) {
    std::ostringstream names;
    for (const char* known : kVariantNames)
      names << (known == kVariantNames[0] ? "" : ", ") << known;
    detail::fail("cuda::set_matmul_variant(): unknown matmul variant '", name,
                 "'; the variants are ", names.str());
  }
  kernels::cuda::g_variant.store(
      static_cast<kernels::cuda::Variant>(found - std::begin(kVariantNames)));
}

std::string matmul_variant() {
  return kVariantNames[static_cast<int>(kernels::cuda::g_variant.load())];
}

std::vector<std::string> matmul_variants() {
  return {std::begin(kVariantNames), std::end(kVariantNames)};
}

}  // namespace graft::cuda
