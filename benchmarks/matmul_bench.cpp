// Square float32 GEMM: graft::matmul against a direct Eigen product (goal: ratio >= 0.95).
//
// Both sides multiply the same row-major data: graft through its public matmul, Eigen
// through Maps of the tensors' memory, `c.noalias() = a * b` into a preallocated row-major
// matrix. This binary is built with OpenMP, so Eigen's GEMM uses the threads graft's does.
// An n x n product is 2 n^3 FLOPs. graft's call also allocates its n x n output.
#include <Eigen/Core>

#include "bench_common.h"

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

  const double flops = 2.0 * static_cast<double>(n) * n * n;
  run_paired(
      state, {"GFLOP/s", "eigen_GFLOP/s", flops, flops},
      [&] { benchmark::DoNotOptimize(matmul(lhs, b)); }, eigen_gemm);
}

void BM_matmul(benchmark::State& state) { run_gemm(state, false); }
void BM_matmul_transposed_a(benchmark::State& state) { run_gemm(state, true); }

BENCHMARK(BM_matmul)->RangeMultiplier(2)->Range(256, 2048)->UseManualTime()->Unit(
    benchmark::kMillisecond);
BENCHMARK(BM_matmul_transposed_a)
    ->RangeMultiplier(2)
    ->Range(256, 2048)
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace graft::bench
