// Reductions of 16M float32 against a plain copy loop's bandwidth (goal: ratio >= 0.8).
//
// A reduction reads its 64 MiB input once and writes almost nothing, so its bytes are
// 64 MiB (plus the 16 KiB row for a reduction over one dim of (4096, 4096)). The copy moves
// 2 x 64 MiB; "ratio" compares per-byte rates. Reading alone is usually faster per byte than
// copying (no stores, no reads-for-ownership), so a memory-bound reduction can exceed 1.
#include "bench_common.h"

namespace graft::bench {
namespace {

// The reference: the reduction of a (4096, 4096) row-major matrix in double precision, as
// one value (dim = -1), or per column (dim = 0) or per row (dim = 1).
template <class Combine>
std::vector<double> reference(const Tensor& x, int dim, double init, const Combine& combine) {
  const float* p = x.data_ptr<float>();
  std::vector<double> out(dim < 0 ? 1 : kSide, init);
  for (int64_t i = 0; i < kSide; ++i)
    for (int64_t j = 0; j < kSide; ++j) {
      double& acc = out[dim < 0 ? 0 : dim == 0 ? j : i];
      acc = combine(acc, double(p[i * kSide + j]));
    }
  return out;
}

// Checks op() against `want` (float32 accumulation of 16M values: a loose tolerance), then
// times it against the copy.
template <class Op>
void run_reduction(benchmark::State& state, double bytes, const Op& op,
                   const std::vector<double>& want) {
  const std::vector<double> got = op().template to_vector<double>();
  if (got.size() != want.size()) {
    state.SkipWithError("reduction result has the wrong number of elements");
    return;
  }
  for (size_t i = 0; i < got.size(); ++i)
    if (!check_close(state, "reduction result", got[i], want[i], 1e-3)) return;
  const CopyBaseline copy(kNumel);
  run_paired(
      state, {"GB/s", "copy_GB/s", bytes, copy.bytes()}, [&] { benchmark::DoNotOptimize(op()); },
      copy);
}

double plus(double a, double b) { return a + b; }
double larger(double a, double b) { return std::max(a, b); }

void BM_sum_all(benchmark::State& state) {
  const Tensor x = filled({kSide, kSide});
  run_reduction(
      state, kTensorBytes, [&] { return x.sum(); }, reference(x, -1, 0.0, plus));
}

// Over dim 0 of (4096, 4096): 4096 column sums, each strided by a row.
void BM_sum_dim0(benchmark::State& state) {
  const Tensor x = filled({kSide, kSide});
  run_reduction(
      state, kTensorBytes + kSide * sizeof(float), [&] { return x.sum({0}); },
      reference(x, 0, 0.0, plus));
}

// Over dim 1 of (4096, 4096): 4096 row sums, each over contiguous memory.
void BM_sum_dim1(benchmark::State& state) {
  const Tensor x = filled({kSide, kSide});
  run_reduction(
      state, kTensorBytes + kSide * sizeof(float), [&] { return x.sum({1}); },
      reference(x, 1, 0.0, plus));
}

void BM_max_all(benchmark::State& state) {
  const Tensor x = filled({kSide, kSide});
  run_reduction(
      state, kTensorBytes, [&] { return x.max(); }, reference(x, -1, -INFINITY, larger));
}

#define GRAFT_REDUCE_BENCHMARK(fn) BENCHMARK(fn)->UseManualTime()->Unit(benchmark::kMillisecond)
GRAFT_REDUCE_BENCHMARK(BM_sum_all);
GRAFT_REDUCE_BENCHMARK(BM_sum_dim0);
GRAFT_REDUCE_BENCHMARK(BM_sum_dim1);
GRAFT_REDUCE_BENCHMARK(BM_max_all);

}  // namespace
}  // namespace graft::bench
