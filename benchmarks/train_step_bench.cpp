// The cost of graft-train's bookkeeping per step, as a share of the step itself (goal:
// under 1%). Each iteration runs one bare training step of the MLP (batch 64: forward,
// cross entropy, backward, Adam) and then one step with what graft-train adds, each timed
// with steady_clock, so both see the same machine state and the ratio is steady on a
// shared machine (bench_common.h):
//   grad_norm           the gradient norm for steps.csv as graft-train gets it: summed by
//                       Adam's update in its own pass (Optimizer::set_grad_norm_tracking),
//                       one host read;
//   grad_norm_separate  the same norm by get_total_norm before the step, a second read of
//                       every gradient (what clipping pays);
//   clip                clip_grad_norm_ at max_norm 1 (norm, then every gradient scaled);
// and, alone, the time to write the MLP's checkpoint (model + Adam state, 2.4 MB, atomic
// write with fsync): divided by --save-every it is the per-step cost of step checkpoints.
#include <chrono>
#include <filesystem>

#include "checkpoint.h"
#include "model_step.h"

namespace graft::bench {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

using Params = const std::vector<Tensor>&;

// `with(step)` runs one step with the bookkeeping.
template <class With>
void paired_steps(benchmark::State& state, With with_step) {
  ModelStep step("mlp");
  double bare = 0, with = 0;
  for (auto _ : state) {
    auto start = Clock::now();
    step.run();
    bare += seconds_since(start);
    start = Clock::now();
    with_step(step);
    const double s = seconds_since(start);
    with += s;
    state.SetIterationTime(s);
  }
  state.counters["bare_step_us"] = 1e6 * bare / static_cast<double>(state.iterations());
  state.counters["overhead_pct"] = 100 * (with - bare) / bare;
}

void BM_mlp_step_grad_norm(benchmark::State& state) {
  paired_steps(state, [](ModelStep& step) {
    step.adam.set_grad_norm_tracking(true);
    step.run();
    benchmark::DoNotOptimize(step.adam.last_grad_norm().item<double>());
    step.adam.set_grad_norm_tracking(false);
  });
}

void BM_mlp_step_grad_norm_separate(benchmark::State& state) {
  paired_steps(state, [](ModelStep& step) {
    step.run([](Params params) {
      benchmark::DoNotOptimize(optim::get_total_norm(optim::grads(params)).item<double>());
    });
  });
}

void BM_mlp_step_clip(benchmark::State& state) {
  paired_steps(state, [](ModelStep& step) {
    step.run([](Params params) {
      benchmark::DoNotOptimize(optim::clip_grad_norm_(params, 1.0).item<double>());
    });
  });
}

// The separate gradient norm alone, on the gradients of one MLP step (203,530 floats,
// 0.8 MB, in cache as after a backward pass): with grad_norm_separate's overhead_pct, where
// its time goes.
void BM_mlp_grad_norm_alone(benchmark::State& state) {
  ModelStep step("mlp");
  step.run();
  const std::vector<Tensor> grads = optim::grads(step.params);
  int64_t bytes = 0;
  for (const Tensor& g : grads) bytes += g.nbytes();
  for (auto _ : state) {
    const auto start = Clock::now();
    benchmark::DoNotOptimize(optim::get_total_norm(grads).item<double>());
    state.SetIterationTime(seconds_since(start));
  }
  state.SetBytesProcessed(state.iterations() * bytes);
}

// The checkpoint alone; overhead_pct is its time over one bare step's, so a run with
// --save-every N pays overhead_pct / N per step.
void BM_mlp_checkpoint(benchmark::State& state) {
  ModelStep step("mlp");
  step.run();  // Adam's state exists after the first step
  double bare = 0;
  for (int i = 0; i < 20; ++i) {
    const auto start = Clock::now();
    step.run();
    bare += seconds_since(start) / 20;
  }
  const auto path = std::filesystem::temp_directory_path() / "graft-bench-checkpoint.safetensors";
  examples::Checkpoint checkpoint;
  checkpoint.info.model = "mlp";
  checkpoint.model = step.model->state_dict();
  checkpoint.optimizer = step.adam.state_dict();
  double total = 0;
  for (auto _ : state) {
    const auto start = Clock::now();
    examples::save_checkpoint(path, checkpoint);
    const double s = seconds_since(start);
    total += s;
    state.SetIterationTime(s);
  }
  std::filesystem::remove(path);
  state.counters["bare_step_us"] = 1e6 * bare;
  state.counters["overhead_pct"] = 100 * total / static_cast<double>(state.iterations()) / bare;
}

BENCHMARK(BM_mlp_step_grad_norm)->UseManualTime()->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_mlp_step_grad_norm_separate)->UseManualTime()->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_mlp_step_clip)->UseManualTime()->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_mlp_grad_norm_alone)->UseManualTime()->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_mlp_checkpoint)->UseManualTime()->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace graft::bench
