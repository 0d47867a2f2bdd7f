// What every graft benchmark shares: inputs, the copy baseline and paired timing.
//
// The issue asks for each figure as a ratio to a baseline measured in the same binary.
// Google Benchmark cannot divide one benchmark's figure by another's, so each benchmark
// times its baseline itself: every iteration runs the graft op and then the baseline, each
// timed with steady_clock. Both see the same machine state (the same other load on a shared
// machine, the same caches), so the ratio is steadier than two figures taken apart. The
// graft op's time is the benchmark's manual time; the counters report both rates and the
// ratio, and --benchmark_repetitions gives their median and spread.
#pragma once

#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <string>

#include <graft/graft.h>

#include "graft/kernels/cpu/parallel.h"

namespace graft::bench {

// 16M float32 = 64 MiB per tensor, twice the 32 MiB L3 of the machine the results came
// from, so every pass streams from memory. As a matrix it is (4096, 4096).
inline constexpr int64_t kSide = 4096;
inline constexpr int64_t kNumel = kSide * kSide;
inline constexpr double kTensorBytes = kNumel * sizeof(float);

// A contiguous float32 tensor with values in [-1, 1) that vary from element to element (no
// randn needed); writing every element also commits its pages before anything is timed.
inline Tensor filled(const Shape& shape, uint32_t seed = 1) {
  Tensor t = empty(shape, TensorOptions(kFloat32));
  float* p = t.data_ptr<float>();
  uint32_t state = seed;
  for (int64_t i = 0; i < t.numel(); ++i) {
    state = state * 1664525u + 1013904223u;  // Numerical Recipes' LCG
    p[i] = static_cast<float>(state >> 8) / static_cast<float>(1u << 23) - 1.0f;
  }
  return t;
}

// The bandwidth baseline: dst[i] = src[i], a plain loop of ordinary loads and stores split
// across threads by graft's own parallel_for, as graft's elementwise kernels are.
class CopyBaseline {
 public:
  explicit CopyBaseline(int64_t numel) : src_(filled({numel}, 7)), dst_(filled({numel}, 8)) {}
  void operator()() const {
    const float* src = src_.data_ptr<float>();
    float* dst = dst_.data_ptr<float>();
    kernels::cpu::parallel_for(0, src_.numel(), kernels::cpu::kParallelGrain,
                               [&](int64_t begin, int64_t end) {
                                 for (int64_t i = begin; i < end; ++i) dst[i] = src[i];
                               });
    benchmark::ClobberMemory();
  }
  double bytes() const { return 2.0 * static_cast<double>(src_.nbytes()); }

 private:
  Tensor src_, dst_;
};

// How a pair of figures is named and how much work (bytes or FLOPs) one run of each does.
struct PairedFigures {
  std::string unit;           // the graft op's rate, e.g. "GB/s"
  std::string baseline_unit;  // the baseline's rate, e.g. "copy_GB/s"
  double work = 0;            // bytes or FLOPs of one graft op
  double baseline_work = 0;   // bytes or FLOPs of one baseline run
};

// Runs `subject` (the graft op) and `baseline` once per iteration and reports both rates in
// units of 1e9 per second, and "ratio" = subject rate / baseline rate. The benchmark must be
// registered with UseManualTime(): its time is the subject's alone.
template <class Subject, class Baseline>
void run_paired(benchmark::State& state, const PairedFigures& figures, const Subject& subject,
                const Baseline& baseline) {
  using Clock = std::chrono::steady_clock;
  double subject_s = 0, baseline_s = 0;
  for (auto _ : state) {
    const auto t0 = Clock::now();
    subject();
    const auto t1 = Clock::now();
    baseline();
    const auto t2 = Clock::now();
    const double s = std::chrono::duration<double>(t1 - t0).count();
    state.SetIterationTime(s);
    subject_s += s;
    baseline_s += std::chrono::duration<double>(t2 - t1).count();
  }
  const double n = static_cast<double>(state.iterations());
  const double rate = figures.work * n / subject_s / 1e9;
  const double baseline_rate = figures.baseline_work * n / baseline_s / 1e9;
  state.counters[figures.unit] = rate;
  state.counters[figures.baseline_unit] = baseline_rate;
  state.counters["ratio"] = rate / baseline_rate;
}

// Before timing, a benchmark checks that the op computes what it should: true when
// |got - want| <= tol * max(1, |want|); otherwise the benchmark is skipped with a message.
inline bool check_close(benchmark::State& state, const char* what, double got, double want,
                        double tol) {
  if (std::abs(got - want) <= tol * std::max(1.0, std::abs(want))) return true;
  state.SkipWithError(
      (std::string(what) + ": got " + std::to_string(got) + ", want " + std::to_string(want))
          .c_str());
  return false;
}

}  // namespace graft::bench
