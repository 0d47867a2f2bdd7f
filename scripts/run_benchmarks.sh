#!/usr/bin/env bash
# Builds graft's CPU benchmarks in Release, runs them and writes
# benchmarks/results/cpu-<YYYY-MM-DD>.md (machine, commit, load, every figure and ratio).
#
# Usage: scripts/run_benchmarks.sh [build-dir]        (default: build-bench)
#   GRAFT_BENCH_REPETITIONS  repetitions of each benchmark; the table shows the median (5)
#   GRAFT_BENCH_MAX_LOAD     wait for the 1-minute load average to drop below this (1.5)
#   GRAFT_BENCH_WAIT_S       ... but no longer than this many seconds (600), then run anyway
#   GRAFT_BENCH_FILTER       a --benchmark_filter regex, to run part of each binary (all)
# Timings on a busy machine are noise: the load before and after goes into the results.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build-bench}
repetitions=${GRAFT_BENCH_REPETITIONS:-5}
# The GEMM baselines thread with OpenMP, whose idle threads would spin on the cores that
# graft's own threads need when their turn comes in the same loop: they sleep instead
# (conv_bench's graft figures were half as high with them spinning; docs/performance.md).
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-passive}
families=(elementwise reduce matmul half overhead)
source "$root/scripts/wait_for_quiet.sh"

generator=()
command -v ninja >/dev/null && generator=(-G Ninja)
cmake -S "$root" -B "$build" "${generator[@]}" -DCMAKE_BUILD_TYPE=Release \
  -DGRAFT_CUDA=OFF -DGRAFT_BUILD_BENCHMARKS=ON -DGRAFT_BUILD_TESTS=OFF -DGRAFT_BUILD_EXAMPLES=OFF \
  >/dev/null
cmake --build "$build" --target "${families[@]/%/_bench}"

wait_for_quiet

out_dir=$(mktemp -d)
trap 'rm -rf "$out_dir"' EXIT
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
jsons=()
for family in "${families[@]}"; do
  jsons+=("$out_dir/$family.json")
  "$build/benchmarks/${family}_bench" --benchmark_repetitions="$repetitions" \
    --benchmark_report_aggregates_only=true --benchmark_filter="${GRAFT_BENCH_FILTER:-.}" \
    --benchmark_out="$out_dir/$family.json" --benchmark_out_format=json
done
load_after=$(cut -d' ' -f1-3 /proc/loadavg)

commit=$(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown)
if [[ -n $(git -C "$root" status --porcelain 2>/dev/null) ]]; then
  commit="$commit (plus uncommitted changes)"
fi
results="$root/benchmarks/results/cpu-$(date -u +%F).md"
mkdir -p "$(dirname "$results")"
GRAFT_BENCH_COMMIT=$commit GRAFT_BENCH_LOAD_BEFORE=$load_before \
  GRAFT_BENCH_LOAD_AFTER=$load_after GRAFT_BENCH_REPETITIONS=$repetitions \
  python3 "$root/scripts/benchmark_report.py" "$results" "${jsons[@]}"
echo "wrote $results"
