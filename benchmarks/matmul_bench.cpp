// Square float32 GEMM: graft::matmul (graft's AVX2 or AVX-512 kernel, or Eigen inside in a
// build without AVX2: the label says which) against a direct Eigen product (goal: ratio >=
// 0.95); a classifier's head, x @ w.t() for 10 classes, the same way; and bfloat16 against
// float32 (goal: ratio >= 1.5 from 1024^2 up, issue 13).
//
// Both sides multiply the same row-major data: graft through its public matmul, Eigen
// through Maps of the tensors' memory, `c.noalias() = a * b` into a preallocated row-major
// matrix. This binary is built with OpenMP, so Eigen's GEMM uses the threads graft's does.
// An n x n product is 2 n^3 FLOPs. graft's call also allocates its n x n output.
#include <Eigen/Core>
#include <cmath>

#include "bench_common.h"
#include "graft/kernels/cpu/dot_products.h"
#include "graft/kernels/cpu/packed_gemm.h"

namespace graft::bench {
namespace {

using RowMajorMatrix = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using ConstMap = Eigen::Map<const RowMajorMatrix>;

// graft's a @ b (a transposed first when `transpose_a`) against Eigen's on the same data.
void run_gemm(benchmark::State& state, bool transpose_a) {
  const int64_t n = state.range(0);
  const Tensor a = filled({n, n}, 1), b = filled({n, n}, 2);
  const ConstMap ea(a.data_ptr<float>(), n, n), eb(b.data_ptr<float>(), n, n);
  RowMajorMatrix ec(n, n);
  const Tensor lhs = transpose_a ? a.t() : a;
  const auto eigen_gemm = [&] {
    if (transpose_a)
      ec.noalias() = ea.transpose() * eb;
    else
      ec.noalias() = ea * eb;
    benchmark::ClobberMemory();
  };

  // Each entry is a dot product of n terms in [-1, 1): compare to Eigen's with a tolerance
  // for float32 rounding in a different summation order.
  eigen_gemm();
  const Tensor c = matmul(lhs, b).contiguous();
  const ConstMap got(c.data_ptr<float>(), n, n);
  const double err = (got - ec).cwiseAbs().maxCoeff();
  if (!check_close(state, "max |graft - eigen|", err, 0.0, 1e-5 * static_cast<double>(n))) return;

  using kernels::cpu::PackedGemm;
  const PackedGemm kernel = kernels::cpu::best_packed_gemm(kFloat32);
  state.SetLabel(kernel == PackedGemm::kAvx512Float ? "graft's AVX-512 kernel"
                 : kernel == PackedGemm::kAvx2Float ? "graft's AVX2 kernel"
                                                    : "Eigen inside graft");
  const double flops = 2.0 * static_cast<double>(n) * n * n;
  run_paired(
      state, {"GFLOP/s", "eigen_GFLOP/s", flops, flops},
      [&] { benchmark::DoNotOptimize(matmul(lhs, b)); }, eigen_gemm);
}

// bfloat16 against float32, both through graft's matmul on the same values: the issue's
// goal is a bfloat16 rate of at least 1.5x float32's from 1024^2 up. The label names the
// kernel that served bfloat16 (packed_gemm.h), "widened to float32" where there is none.
void BM_matmul_bfloat16(benchmark::State& state) {
  const int64_t n = state.range(0);
  const Tensor a = filled({n, n}, 1), b = filled({n, n}, 2);
  const Tensor a16 = a.to(kBFloat16), b16 = b.to(kBFloat16);
  const Tensor wide_a = a16.to(kFloat32), wide_b = b16.to(kFloat32);
  // The same values multiplied in float32 and rounded: entries are below n in magnitude, and
  // a bfloat16 rounding is within 2^-8 of the value.
  const double err =
      (matmul(a16, b16).to(kFloat32) - matmul(wide_a, wide_b)).abs().max().item<double>();
  if (!check_close(state, "max |bfloat16 - float32|", err, 0.0,
                   std::ldexp(static_cast<double>(n), -8)))
    return;
  using kernels::cpu::PackedGemm;
  const PackedGemm kernel = kernels::cpu::best_packed_gemm(kBFloat16);
  state.SetLabel(kernel == PackedGemm::kAmxBFloat16      ? "AMX"
                 : kernel == PackedGemm::kAvx512BFloat16 ? "AVX512-BF16"
                 : kernel == PackedGemm::kAvx2BFloat16   ? "AVX2, widened as packed"
                                                         : "widened to float32");
  const double flops = 2.0 * static_cast<double>(n) * n * n;
  run_paired(
      state, {"GFLOP/s", "float32_GFLOP/s", flops, flops},
      [&] { benchmark::DoNotOptimize(matmul(a16, b16)); },
      [&] { benchmark::DoNotOptimize(matmul(wide_a, wide_b)); });
}

// A classifier's head: x (64, k) @ w.t() for a (10, k) weight, as nn::Linear runs it (k = 256:
// the MLP's, 3136: the CNN's), against Eigen's x * w^T on the same memory. The label says
// whether graft's dot products (dot_products.h) took it.
void BM_matmul_linear_head(benchmark::State& state) {
  constexpr int64_t kBatch = 64, kClasses = 10;
  const int64_t k = state.range(0);
  const Tensor x = filled({kBatch, k}, 1), w = filled({kClasses, k}, 2);
  const ConstMap ex(x.data_ptr<float>(), kBatch, k), ew(w.data_ptr<float>(), kClasses, k);
  RowMajorMatrix ec(kBatch, kClasses);
  const auto eigen_gemm = [&] {
    ec.noalias() = ex * ew.transpose();
    benchmark::ClobberMemory();
  };
  eigen_gemm();
  const Tensor c = matmul(x, w.t());
  const ConstMap got(c.data_ptr<float>(), kBatch, kClasses);
  if (!check_close(state, "max |graft - eigen|", (got - ec).cwiseAbs().maxCoeff(), 0.0,
                   1e-5 * static_cast<double>(k)))
    return;
  const kernels::cpu::StridedMatrix<float> a{x.data_ptr<float>(), k, 1},
      b{w.data_ptr<float>(), 1, k};
  state.SetLabel(kernels::cpu::dot_products_serve(a, b, kBatch, k, kClasses)
                     ? "graft's dot products"
                     : "graft's GEMM");
  const double flops = 2.0 * static_cast<double>(kBatch) * kClasses * k;
  run_paired(
      state, {"GFLOP/s", "eigen_GFLOP/s", flops, flops},
      [&] { benchmark::DoNotOptimize(matmul(x, w.t())); }, eigen_gemm);
}

void BM_matmul(benchmark::State& state) { run_gemm(state, false); }
void BM_matmul_transposed_a(benchmark::State& state) { run_gemm(state, true); }

BENCHMARK(BM_matmul)->RangeMultiplier(2)->Range(256, 2048)->UseManualTime()->Unit(
    benchmark::kMillisecond);
BENCHMARK(BM_matmul_bfloat16)
    ->RangeMultiplier(2)
    ->Range(256, 2048)
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_matmul_linear_head)
    ->Arg(256)
    ->Arg(3136)
    ->UseManualTime()
    ->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_matmul_transposed_a)
    ->RangeMultiplier(2)
    ->Range(256, 2048)
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace graft::bench
