// Host overhead: the cost of an op on 1-element float32 tensors (goal: add <= 0.5 us).
//
// With one element the arithmetic is free, so the time is everything around it: argument
// checks, shape and dtype inference, allocating the output (a Storage, a TensorImpl and its
// memory), the kernel lookup and the elementwise iterator's set-up. "time_per_op" is the
// time of one op (the chain's time over its ten ops); console output shows it with an SI
// prefix (120n = 120 ns). graft::empty alone shows how much of that is allocation.
#include "bench_common.h"

namespace graft::bench {
namespace {

// Reports the time of one of `ops_per_iteration` ops, in seconds.
void report_time_per_op(benchmark::State& state, double ops_per_iteration) {
  state.counters["time_per_op"] =
      benchmark::Counter(ops_per_iteration, benchmark::Counter::kIsIterationInvariantRate |
                                                benchmark::Counter::kInvert);
}

void BM_add_1elem(benchmark::State& state) {
  const Tensor a = filled({1}, 1), b = filled({1}, 2);
  const float want = a.item<float>() + b.item<float>();
  if (!check_close(state, "1-element add", (a + b).item<float>(), want, 0)) return;
  for (auto _ : state) benchmark::DoNotOptimize(a + b);
  report_time_per_op(state, 1);
}

void BM_add_inplace_1elem(benchmark::State& state) {
  const Tensor a = filled({1}, 1), b = filled({1}, 2);
  for (auto _ : state) a.add_(b);
  report_time_per_op(state, 1);
}

// Ten ops in a row, each on the previous result: tensor-tensor, tensor-scalar and unary.
void BM_chain_10_ops_1elem(benchmark::State& state) {
  const Tensor a = filled({1}, 1), b = filled({1}, 2) + 2.0f;  // b in [1, 3): no div by 0
  for (auto _ : state) {
    Tensor y = a + b;
    y = y * b;
    y = y - a;
    y = y / b;
    y = y.tanh();
    y = y.exp();
    y = -y;
    y = y + 1.0f;
    y = y * 0.5f;
    y = y.relu();
    benchmark::DoNotOptimize(y);
  }
  report_time_per_op(state, 10);
}

// The allocation part of an op: one uninitialised 1-element tensor.
void BM_empty_1elem(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(empty({1}, TensorOptions(kFloat32)));
  report_time_per_op(state, 1);
}

BENCHMARK(BM_add_1elem);
BENCHMARK(BM_add_inplace_1elem);
BENCHMARK(BM_chain_10_ops_1elem);
BENCHMARK(BM_empty_1elem);

}  // namespace
}  // namespace graft::bench
