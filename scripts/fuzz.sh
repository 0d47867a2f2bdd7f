#!/usr/bin/env bash
# The long local fuzzing campaign (docs/fuzzing.md): builds tests/fuzz with clang and
# libFuzzer under ASan + UBSan in build-fuzz/, then fuzzes each target (or the one named)
# for a bounded time, one process at a time, and prints a table of executions and coverage.
#
#   bash scripts/fuzz.sh                # every target, 600 s each
#   bash scripts/fuzz.sh idx 60         # one target, 60 s
#
# Each run starts from a scratch copy of tests/fuzz/corpus/<target> (in build-fuzz/work/),
# so the committed corpus changes only on purpose. To keep the new inputs that reach new
# code, minimise them into the committed corpus and commit the few that are worth it:
#   build-fuzz/tests/fuzz/fuzz_<target> -merge=1 tests/fuzz/corpus/<target> \
#     build-fuzz/work/<target>
# A crash, leak, timeout or out-of-memory input lands in build-fuzz/crashes/<target>/ (kept
# across runs: "found" counts them all; delete one once it is handled). Fix
# the reader (a malformed file must be a graft::Error), add a GoogleTest test next to the
# reader's tests, and copy the input into tests/fuzz/regressions/<target>/, which ctest
# replays from then on (fuzz.<target>).
# Settings from the environment: GRAFT_FUZZ_DIR (default build-fuzz/), GRAFT_FUZZ_RSS_MB
# (memory limit per input, default 2048), GRAFT_FUZZ_TIMEOUT (seconds per input, default 10).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=scripts/common.sh
source scripts/common.sh

targets=(json safetensors npy npz idx checkpoint image)
if [ $# -ge 1 ] && [ "$1" != all ]; then targets=("$1"); fi
seconds="${2:-600}"
build="${GRAFT_FUZZ_DIR:-$PWD/build-fuzz}"

# -O1 -g as for CI's sanitizer build; CUDA off (kernels are not readers); only the fuzz
# programs are built.
GRAFT_BUILD_DIR="$build" CC=clang CXX=clang++ graft_configure -DGRAFT_FUZZ=ON \
  -DGRAFT_CUDA=OFF -DGRAFT_BUILD_TESTS=OFF -DGRAFT_BUILD_EXAMPLES=OFF \
  -DGRAFT_BUILD_BENCHMARKS=OFF -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O1 -g"
GRAFT_BUILD_DIR="$build" graft_build "${targets[@]/#/fuzz_}"

# halt_on_error: a UBSan report is a finding, not a line in the log. allocator_may_return_null
# as in CI: a request larger than memory reaches graft's own error; libFuzzer's
# -rss_limit_mb and -malloc_limit_mb still catch one input that allocates too much.
export ASAN_OPTIONS="halt_on_error=1:detect_leaks=1:allocator_may_return_null=1"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1"
# One of libFuzzer's final stats ("stat::<name>: <value>") from a log.
final_stat() { sed -n "s/^stat::$2: *//p" "$1"; }
summary=()
for target in "${targets[@]}"; do
  work="$build/work/$target"
  crashes="$build/crashes/$target"
  log="$build/fuzz-$target.log"
  rm -rf "$work"
  mkdir -p "$work" "$crashes"
  cp tests/fuzz/corpus/"$target"/* "$work"/
  graft_log "fuzzing $target for $seconds s (log: $log)"
  status=0
  "$build/tests/fuzz/fuzz_$target" "$work" \
    -dict=tests/fuzz/dict/"$target".dict -max_total_time="$seconds" \
    -rss_limit_mb="${GRAFT_FUZZ_RSS_MB:-2048}" -timeout="${GRAFT_FUZZ_TIMEOUT:-10}" \
    -artifact_prefix="$crashes/" -print_final_stats=1 >"$log" 2>&1 || status=$?
  # The final stats (-print_final_stats) and the last status line ("#N ... cov: C ft: F").
  last=$(grep -E '^#[0-9]+' "$log" | tail -n 1)
  summary+=("$(printf '%-12s %12s %8s %6s %6s %7s  %s' "$target" \
    "$(final_stat "$log" number_of_executed_units)" "$(final_stat "$log" average_exec_per_sec)" \
    "$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$last")" \
    "$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$last")" \
    "$(find "$crashes" -type f | wc -l)" \
    "$([ "$status" = 0 ] && echo ok || echo "FAILED (exit $status, see $log)")")")
done

graft_log "summary ($seconds s per target; crashes in $build/crashes/)"
printf '%-12s %12s %8s %6s %6s %7s  %s\n' target executions exec/s cov ft found result
printf '%s\n' "${summary[@]}"
