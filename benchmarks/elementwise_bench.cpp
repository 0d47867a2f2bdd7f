// Elementwise ops on 16M float32 against a plain copy loop's bandwidth (goal: ratio >= 0.8).
//
// Bytes count each input read once and the output written once: a + b moves 3 x 64 MiB,
// x * 2 and exp(x) move 2 x 64 MiB, the copy moves 2 x 64 MiB; "ratio" compares these
// per-byte rates. The ops allocate their output as a user's call does, so the figures include
// the allocation and first touch of 64 MiB; add_ (in place) shows the loop without them.
// exp does ~20 flops an element and may be compute-bound rather than memory-bound.
#include "bench_common.h"

namespace graft::bench {
namespace {

// Checks a contiguous float32 result against want(i) at every 4099th element, then times it.
template <class Op, class Want>
void run_elementwise(benchmark::State& state, double bytes, const Op& op, const Want& want) {
  const Tensor out = op();
  const float* p = out.data_ptr<float>();
  for (int64_t i = 0; i < out.numel(); i += 4099)
    if (!check_close(state, "elementwise result", p[i], want(i), 1e-5)) return;
  const CopyBaseline copy(kNumel);
  run_paired(
      state, {"GB/s", "copy_GB/s", bytes, copy.bytes()}, [&] { benchmark::DoNotOptimize(op()); },
      copy);
}

void BM_add(benchmark::State& state) {
  const Tensor a = filled({kNumel}, 1), b = filled({kNumel}, 2);
  const float *pa = a.data_ptr<float>(), *pb = b.data_ptr<float>();
  run_elementwise(
      state, 3 * kTensorBytes, [&] { return a + b; },
      [&](int64_t i) { return double(pa[i]) + pb[i]; });
}

// a += b: the same loop as BM_add without allocating (a's values grow; that costs nothing).
void BM_add_inplace(benchmark::State& state) {
  const Tensor a = filled({kNumel}, 1), b = filled({kNumel}, 2);
  const CopyBaseline copy(kNumel);
  run_paired(
      state, {"GB/s", "copy_GB/s", 3 * kTensorBytes, copy.bytes()}, [&] { a.add_(b); }, copy);
}

void BM_mul_scalar(benchmark::State& state) {
  const Tensor a = filled({kNumel}, 1);
  const float* pa = a.data_ptr<float>();
  run_elementwise(
      state, 2 * kTensorBytes, [&] { return a * 2.0f; }, [&](int64_t i) { return 2.0 * pa[i]; });
}

void BM_exp(benchmark::State& state) {
  const Tensor a = filled({kNumel}, 1);
  const float* pa = a.data_ptr<float>();
  run_elementwise(
      state, 2 * kTensorBytes, [&] { return a.exp(); },
      [&](int64_t i) { return std::exp(double(pa[i])); });
}

// (4096, 4096) + (4096,): the row is read once (16 KiB) and stays in cache.
void BM_broadcast_add(benchmark::State& state) {
  const Tensor m = filled({kSide, kSide}, 1), row = filled({kSide}, 2);
  const float *pm = m.data_ptr<float>(), *pr = row.data_ptr<float>();
  run_elementwise(
      state, 2 * kTensorBytes + kSide * sizeof(float), [&] { return m + row; },
      [&](int64_t i) { return double(pm[i]) + pr[i % kSide]; });
}

// a.t() + b on (4096, 4096): a is read down its columns, a stride of 16 KiB per element.
void BM_transposed_add(benchmark::State& state) {
  const Tensor a = filled({kSide, kSide}, 1), b = filled({kSide, kSide}, 2);
  const float *pa = a.data_ptr<float>(), *pb = b.data_ptr<float>();
  run_elementwise(
      state, 3 * kTensorBytes, [&] { return a.t() + b; },
      [&](int64_t i) { return double(pa[(i % kSide) * kSide + i / kSide]) + pb[i]; });
}

#define GRAFT_ELEMENTWISE_BENCHMARK(fn) \
  BENCHMARK(fn)->UseManualTime()->Unit(benchmark::kMillisecond)
GRAFT_ELEMENTWISE_BENCHMARK(BM_add);
GRAFT_ELEMENTWISE_BENCHMARK(BM_add_inplace);
GRAFT_ELEMENTWISE_BENCHMARK(BM_mul_scalar);
GRAFT_ELEMENTWISE_BENCHMARK(BM_exp);
GRAFT_ELEMENTWISE_BENCHMARK(BM_broadcast_add);
GRAFT_ELEMENTWISE_BENCHMARK(BM_transposed_add);

}  // namespace
}  // namespace graft::bench
