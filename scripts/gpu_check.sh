#!/usr/bin/env bash
# The GPU check: everything graft asks of a GPU, in one device call of under 8 minutes.
#
#   1. binaries: graft_tests, cuda_bench and versus_graft carried from the developer's machine
#      (scripts/gpu_carry.sh) when their source fingerprint matches this tree; otherwise
#      built here for sm_90 (Ninja, Release, -j16) against the carried dependencies
#   2. the whole test suite on the GPU (the graft_tests binary: the cases ctest would run,
#      in one process, so the CUDA context is made once rather than once per case), then
#      the collectives as a world of one (graft_distributed_tests: NCCL on a CUDA tensor)
#   3. cuda_bench (benchmarks/cuda_bench.cpp) and PyTorch's figures for the same ops
#      (benchmarks/versus_torch_cuda.py)
#   4. compute-sanitizer memcheck over the CUDA tests (the suites in tests/cuda/), and
#      racecheck over the tests of the kernels that use shared memory (matmul, reduce,
#      softmax, attention); both leave out the tests that took 200 ms or more in step 2
#   5. benchmarks/versus on CUDA: the gpu GPT's training iteration, the attention rows and
#      the softmax and reduction rows, interleaved with PyTorch's
#   6. $OUT/gpu-results.md (scripts/gpu_report.py): date, GPU, commit, each step's outcome,
#      each figure with its ceiling and percentage, the issue's goals, the versus table
#
# Each step runs under `timeout`, capped by what is left of GRAFT_GPU_CHECK_BUDGET_S; a
# step that fails or runs out of time is recorded and the check goes on. Steps are ordered
# by what matters most when time runs short. At most 8 files go to $OUT (the device tool
# returns 8): gpu-results.md, check.log, build.log, tests.log, memcheck.log, racecheck.log,
# cuda_bench.jsonl, torch_bench.jsonl.
#
# On the device machine (from the developer's machine, after scripts/gpu_carry.sh):
#   run(command="bash scripts/gpu_check.sh", carry=[".gpu_deps"], timeout_s=540)
# Settings, all optional:
#   OUT                        results folder (the device tool sets it; else build-gpu-out/)
#   GRAFT_GPU_CHECK_DRY_RUN=1  for a machine without a GPU: skips the sanitizers and accepts
#                              that the CUDA tests skip and the benchmarks find no device;
#                              the build, the tests' run and the report work as on the GPU
#   GRAFT_GPU_CHECK_BUDGET_S   seconds for the whole check (450)
#   GRAFT_GPU_BUILD_DIR        where to build when the carried binaries do not fit
#                              (build-gpu/)
#   GRAFT_GPU_FORCE_BUILD=1    build even when the carried binaries match the tree
#   GRAFT_GPU_USE_CARRIED=1    use the carried binaries even when the tree has changed since
#   GRAFT_GPU_SANITIZE_MAX_MS  tests that took this long or longer in step 2 are left out
#                              of the sanitizer runs (200)
set -euo pipefail
# shellcheck source=scripts/gpu_common.sh
source "$(dirname "${BASH_SOURCE[0]}")/gpu_common.sh"
cd "$GRAFT_GPU_ROOT"

dry_run="${GRAFT_GPU_CHECK_DRY_RUN:-0}"
budget_s="${GRAFT_GPU_CHECK_BUDGET_S:-450}"
build_dir="${GRAFT_GPU_BUILD_DIR:-$GRAFT_GPU_ROOT/build-gpu}"
out="${OUT:-$GRAFT_GPU_ROOT/build-gpu-out}"
mkdir -p "$out"
out="$(cd "$out" && pwd)"
check_log="$out/check.log"
: >"$check_log"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
steps="$work/steps.tsv" # step, outcome, seconds, log: the report's step table
: >"$steps"
deadline=$((SECONDS + budget_s))

log() { printf '[%4ds] %s\n' "$SECONDS" "$*" | tee -a "$check_log"; }
record() { printf '%s\t%s\t%s\t%s\n' "$@" >>"$steps"; }

# run_step NAME CAP_S STDOUT STDERR COMMAND...: runs COMMAND under timeout (CAP_S or what is
# left of the budget, whichever is less) and records its outcome; never fails the script.
run_step() {
  local name="$1" cap="$2" stdout="$3" stderr="$4"
  shift 4
  local left=$((deadline - SECONDS))
  if ((left < 20)); then
    record "$name" "skipped: the ${budget_s}s budget is spent" 0 "-"
    log "$name: skipped (budget spent)"
    return 0
  fi
  local limit=$((cap < left ? cap : left)) start=$SECONDS rc=0
  log "$name: $* (limit ${limit}s)"
  timeout --kill-after=10 "$limit" "$@" >>"$stdout" 2>>"$stderr" || rc=$?
  local outcome="ok"
  if ((rc == 124 || rc == 137)); then
    outcome="timed out after ${limit}s"
  elif ((rc != 0)); then
    outcome="failed (exit $rc)"
  fi
  record "$name" "$outcome" "$((SECONDS - start))" "$(basename "$stdout")"
  log "$name: $outcome in $((SECONDS - start))s"
}

# ---- 0. the machine
log "GPU check in $GRAFT_GPU_ROOT, results in $out, budget ${budget_s}s, dry run: $dry_run"
{
  echo "== uname"
  uname -a
  echo "== nvidia-smi"
  nvidia-smi || echo "(no nvidia-smi)"
  echo "== nvcc"
  nvcc --version || echo "(no nvcc on PATH)"
  echo "== cmake / ninja"
  cmake --version | head -1 || true
  ninja --version || echo "(no ninja)"
} >>"$check_log" 2>&1
gpu_name="$(nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader \
  2>/dev/null | head -1 || true)"
sanitizer="$(command -v compute-sanitizer || true)"
for candidate in /usr/local/cuda/bin/compute-sanitizer \
  /usr/local/cuda/compute-sanitizer/compute-sanitizer; do
  [[ -z "$sanitizer" && -x "$candidate" ]] && sanitizer="$candidate"
done
if git rev-parse --git-dir >/dev/null 2>&1; then
  commit="$(git rev-parse --short HEAD)"
  [[ -z "$(git status --porcelain --untracked-files=no)" ]] ||
    commit="$commit (plus uncommitted changes)"
else
  commit="$(cat "$GRAFT_GPU_DEPS/commit" 2>/dev/null || echo unknown) (as carried)"
fi

# ---- 1. binaries: carried, or built here
build_log="$out/build.log"
: >"$build_log"
fingerprint="$(graft_gpu_fingerprint)"
carried="$(cat "$GRAFT_GPU_DEPS/fingerprint" 2>/dev/null || echo none)"
# The carried archives, unpacked where a later call on the same machine finds them again
# (a build there keeps their path in its CMake cache).
deps="$GRAFT_GPU_ROOT/build-gpu-deps"
rm -rf "$deps"
mkdir -p "$deps"
for archive in "$GRAFT_GPU_DEPS"/*.tar.gz; do
  [[ -f "$archive" ]] && tar -xzf "$archive" -C "$deps"
done
lib_path=""
if [[ -x "$deps/bin/graft_tests" && -x "$deps/bin/cuda_bench" && -x "$deps/bin/versus_graft" &&
  "${GRAFT_GPU_FORCE_BUILD:-0}" != 1 &&
  ("$carried" == "$fingerprint" || "${GRAFT_GPU_USE_CARRIED:-0}" == 1) ]]; then
  build_mode="carried binaries (their sources: $carried; this tree: $fingerprint)"
  echo "using $build_mode" >>"$build_log"
  record build "ok: carried" 0 build.log
  tests_bin="$deps/bin/graft_tests"
  distributed_bin="$deps/bin/graft_distributed_tests"
  bench_bin="$deps/bin/cuda_bench"
  versus_bin="$deps/bin/versus_graft"
  # Built against this libgomp; the device's may be missing or another version.
  lib_path="$deps/runtime"
else
  build_mode="built on this machine (carried sources: $carried; this tree: $fingerprint)"
  cmake_args=(-S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=Release -DGRAFT_CUDA=ON
    -DCMAKE_CUDA_ARCHITECTURES=90 -DGRAFT_BUILD_TESTS=ON -DGRAFT_BUILD_BENCHMARKS=ON
    -DGRAFT_BUILD_EXAMPLES=ON -DGRAFT_DISTRIBUTED=OFF -DCMAKE_POLICY_VERSION_MINIMUM=3.5)
  [[ -d "$deps/usr" ]] && cmake_args+=(-DCMAKE_PREFIX_PATH="$deps/usr")
  command -v nvcc >/dev/null && cmake_args+=(-DCMAKE_CUDA_COMPILER="$(command -v nvcc)")
  run_step configure 60 "$build_log" "$build_log" cmake "${cmake_args[@]}"
  run_step build 300 "$build_log" "$build_log" \
    cmake --build "$build_dir" --parallel 16 --target graft_tests graft_distributed_tests cuda_bench \
    versus_graft
  tests_bin="$build_dir/tests/graft_tests"
  distributed_bin="$build_dir/tests/distributed/graft_distributed_tests"
  bench_bin="$build_dir/benchmarks/cuda_bench"
  versus_bin="$build_dir/benchmarks/versus/versus_graft"
fi

# The CUDA libraries are the device's own (the toolkit matches): RUNPATH finds them, else
# these folders do.
for dir in /usr/local/cuda/lib64 /usr/local/cuda/targets/x86_64-linux/lib; do
  [[ -d "$dir" ]] && lib_path="${lib_path:+$lib_path:}$dir"
done
export LD_LIBRARY_PATH="$lib_path${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
if [[ -x "$tests_bin" ]]; then
  {
    echo "== ldd graft_tests (LD_LIBRARY_PATH=$LD_LIBRARY_PATH)"
    ldd "$tests_bin"
  } >>"$check_log" 2>&1 || true
fi

# ---- 2. the whole suite
tests_log="$out/tests.log"
: >"$tests_log"
# GRAFT_GPU_ISOLATE: a gtest filter (e.g. '*tensor_core*') of tests that run after the suite in
# a process of their own: those of a kernel on its first GPU run. A fault there (a bad address,
# a trap) poisons the process's CUDA context, and would fail every CUDA test after it.
isolate="${GRAFT_GPU_ISOLATE:-}"
if [[ -x "$tests_bin" ]]; then
  run_step tests 150 "$tests_log" "$tests_log" "$tests_bin" --gtest_color=no \
    ${isolate:+"--gtest_filter=-$isolate"}
  if [[ -n "$isolate" ]]; then
    run_step "tests $isolate" 90 "$tests_log" "$tests_log" "$tests_bin" --gtest_color=no \
      "--gtest_filter=$isolate"
  fi
else
  record tests "skipped: no graft_tests binary (see build.log)" 0 tests.log
fi
# The collectives, a world of one (no MPI on the device): their CUDA cases run through NCCL.
if [[ -x "$distributed_bin" ]]; then
  run_step distributed 60 "$tests_log" "$tests_log" "$distributed_bin" --gtest_color=no \
    "--gtest_filter=-BeforeInit.*"
else
  record distributed "skipped: no graft_distributed_tests binary (see build.log)" 0 tests.log
fi

# ---- 3. benchmarks: graft's, then PyTorch's for the same ops
graft_json="$out/cuda_bench.jsonl"
torch_json="$out/torch_bench.jsonl"
: >"$graft_json"
: >"$torch_json"
if [[ -x "$bench_bin" ]]; then
  run_step cuda_bench 150 "$graft_json" "$check_log" "$bench_bin"
else
  record cuda_bench "skipped: no cuda_bench binary (see build.log)" 0 cuda_bench.jsonl
fi
# LD_LIBRARY_PATH is graft's: PyTorch brings its own libraries.
run_step torch_bench 90 "$torch_json" "$check_log" \
  env -u LD_LIBRARY_PATH PYTHONUNBUFFERED=1 python3 benchmarks/versus_torch_cuda.py

# ---- 4. compute-sanitizer over the CUDA tests
# gtest filter of the suites defined in the given test files: Suite.*, and the prefixed
# names of value- and type-parameterized suites (Prefix/Suite.*, Suite/0.*).
suite_filter() {
  sed -nE 's/^[[:space:]]*(TEST|TEST_F|TEST_P|TYPED_TEST|TYPED_TEST_P)\([[:space:]]*([A-Za-z0-9_]+).*/\2/p' \
    "$@" | sort -u | awk '{ f = f (f ? ":" : "") $1 ".*:*/" $1 ".*:" $1 "/*" } END { print f }'
}
shopt -s nullglob
cuda_tests=(tests/cuda/*_test.cpp)
race_tests=(tests/cuda/*matmul*_test.cpp tests/cuda/*reduce*_test.cpp tests/cuda/*softmax*_test.cpp
  tests/cuda/*attention*_test.cpp)
shopt -u nullglob
# Tests that took GRAFT_GPU_SANITIZE_MAX_MS (200) or more in step 2 are left out of the
# sanitizer runs, which are tens of times slower: on 2026-12-06 the five slowest (30 s of
# the suite's 43 natively) kept memcheck and racecheck from finishing in their time. Their
# names go to the sanitizer's log.
slow_tests() {
  sed -nE 's/^\[ +OK \] ([^ ]+) \(([0-9]+) ms\)$/\2 \1/p' "$tests_log" 2>/dev/null |
    awk -v max="${GRAFT_GPU_SANITIZE_MAX_MS:-200}" '$1 >= max { print $2 }' | paste -sd: -
}
sanitize() { # sanitize TOOL CAP FILES...
  local tool="$1" cap="$2"
  shift 2
  local log="$out/$tool.log"
  : >"$log"
  if [[ "$dry_run" == 1 ]]; then
    record "$tool" "skipped: dry run" 0 "$tool.log"
  elif [[ -z "$sanitizer" ]]; then
    record "$tool" "skipped: no compute-sanitizer found" 0 "$tool.log"
  elif (($# == 0)); then
    record "$tool" "skipped: no test files for it in tests/cuda/" 0 "$tool.log"
  elif [[ ! -x "$tests_bin" ]]; then
    record "$tool" "skipped: no graft_tests binary" 0 "$tool.log"
  else
    local filter slow
    slow="$(slow_tests)"
    filter="$(suite_filter "$@")${slow:+-$slow}"
    echo "left out (${GRAFT_GPU_SANITIZE_MAX_MS:-200} ms or more in the tests step): ${slow:-none}" >>"$log"
    echo "gtest filter: $filter" >>"$log"
    # API errors are left to graft, which checks every CUDA call and fails the test on an
    # unexpected one; counted here they would flag the out-of-memory test's own failed
    # cudaMalloc. The sanitizer looks for what graft cannot see: bad accesses and races.
    run_step "$tool" "$cap" "$log" "$log" "$sanitizer" --tool "$tool" --error-exitcode 1 \
      --report-api-errors no --print-limit 50 \
      "$tests_bin" --gtest_color=no --gtest_filter="$filter"
  fi
}
sanitize memcheck 150 "${cuda_tests[@]}"
sanitize racecheck 90 "${race_tests[@]}"

# ---- 5. whole steps against PyTorch (benchmarks/versus, interleaved rounds): the gpu GPT's
# training iteration in float32 and under bfloat16 autocast (issue 14), the attention rows,
# and the softmax and reduction rows of the CUDA goals (versus.py's CUDA_GOALS). The MLP and CNN steps need
# Fashion-MNIST, which the device lacks. Last: a figure matters less than a sanitizer.
versus_md="$work/versus.md"
if [[ -x "${versus_bin:-}" ]]; then
  run_step versus 100 "$check_log" "$check_log" env -u LD_LIBRARY_PATH PYTHONUNBUFFERED=1 \
    python3 benchmarks/versus/versus.py --graft "$versus_bin" --python python3 --device cuda \
    --rounds 3 --out "$versus_md" --only gpt_gpu_step attention softmax_64x10 softmax_16384x1024 \
    sum_dim mean_dim max_dim
else
  record versus "skipped: no versus_graft binary (see build.log)" 0 check.log
fi

# ---- 6. the report
log "report: $out/gpu-results.md"
python3 scripts/gpu_report.py --out "$out/gpu-results.md" --steps "$steps" \
  --graft "$graft_json" --torch "$torch_json" --tests "$tests_log" \
  --memcheck "$out/memcheck.log" --racecheck "$out/racecheck.log" --versus "$versus_md" \
  --gpu "${gpu_name:-none found by nvidia-smi}" --commit "$commit" --build "$build_mode" \
  --dry-run "$dry_run"
cat "$out/gpu-results.md"
# The exit status says only that the report was written; this last line says how it went.
not_ok="$(awk -F'\t' '$2 !~ /^(ok|skipped)/ { print $1 }' "$steps" | paste -sd, -)"
log "done in ${SECONDS}s; steps that failed or timed out: ${not_ok:-none}"
