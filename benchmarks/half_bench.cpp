// 16-bit floats against float32 on the CPU, op by op (issue 13's goal: ratio >= 1).
//
// Each benchmark runs one op on 16M float16 or bfloat16 values and, as its baseline in the
// same iteration, the same op on the same values in float32. Bytes count each input read
// once and the output written once, in each side's own element size, so "ratio" = the
// 16-bit side's GB/s / float32's: 1 means the same bandwidth, and a 16-bit op that takes
// as long as float32's moves half the bytes and scores 0.5. The 16-bit side computes in
// float32 (kernels/cpu/loops.h's float blocks, the reductions' float accumulators), so
// where float32 is memory-bound the 16-bit op can approach 2.
#include <string>

#include "bench_common.h"

namespace graft::bench {
namespace {

struct Pair {
  Tensor wide, narrow;  // the same values in float32 and in the 16-bit dtype
};

Pair make(DType dtype, uint32_t seed) {
  const Tensor narrow = filled({kNumel}, seed).to(dtype);
  return {narrow.to(kFloat32), narrow};
}

// Times op(narrow...) against op(wide...), checking first that they agree to the 16-bit
// dtype's precision at every 4099th element.
template <class Op>
void run_against_float32(benchmark::State& state, DType dtype, int inputs, bool reduces,
                         const Op& op) {
  const Pair a = make(dtype, 1), b = make(dtype, 2);
  const auto run = [&](bool narrow) {
    return inputs == 1 ? op(narrow ? a.narrow : a.wide, Tensor())
                       : op(narrow ? a.narrow : a.wide, narrow ? b.narrow : b.wide);
  };
  const Tensor want = run(false), got = run(true).to(kFloat32);
  const double tolerance = dtype == kFloat16 ? 2e-3 : 1.6e-2;
  const Tensor gap = ((got - want).abs() - tolerance * (want.abs() + 1)).contiguous();
  const float* p = gap.data_ptr<float>();
  for (int64_t i = 0; i < gap.numel(); i += 4099)
    if (!check_close(state, "16-bit result beyond its precision", std::max(p[i], 0.0f), 0.0, 0.0))
      return;
  const double elements = static_cast<double>(kNumel) * (inputs + (reduces ? 0 : 1));
  state.SetLabel(dtype_name(dtype));
  run_paired(
      state, {"GB/s", "float32_GB/s", elements * 2, elements * 4},
      [&] { benchmark::DoNotOptimize(run(true)); }, [&] { benchmark::DoNotOptimize(run(false)); });
}

const DType kDTypes[] = {kFloat16, kBFloat16};

void BM_half_add(benchmark::State& state) {
  run_against_float32(state, kDTypes[state.range(0)], 2, false,
                      [](const Tensor& x, const Tensor& y) { return x + y; });
}
void BM_half_mul_scalar(benchmark::State& state) {
  run_against_float32(state, kDTypes[state.range(0)], 1, false,
                      [](const Tensor& x, const Tensor&) { return x * 2.0; });
}
void BM_half_exp(benchmark::State& state) {
  run_against_float32(state, kDTypes[state.range(0)], 1, false,
                      [](const Tensor& x, const Tensor&) { return x.exp(); });
}
void BM_half_sum(benchmark::State& state) {
  run_against_float32(state, kDTypes[state.range(0)], 1, true,
                      [](const Tensor& x, const Tensor&) { return x.sum(); });
}
void BM_half_sum_dim1(benchmark::State& state) {
  run_against_float32(state, kDTypes[state.range(0)], 1, true, [](const Tensor& x, const Tensor&) {
    return x.view({kSide, kSide}).sum({1});
  });
}

#define GRAFT_HALF_BENCHMARK(fn) \
  BENCHMARK(fn)->Arg(0)->Arg(1)->UseManualTime()->Unit(benchmark::kMillisecond)
GRAFT_HALF_BENCHMARK(BM_half_add);
GRAFT_HALF_BENCHMARK(BM_half_mul_scalar);
GRAFT_HALF_BENCHMARK(BM_half_exp);
GRAFT_HALF_BENCHMARK(BM_half_sum);
GRAFT_HALF_BENCHMARK(BM_half_sum_dim1);

}  // namespace
}  // namespace graft::bench
