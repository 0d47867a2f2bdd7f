# Sourced by the benchmark scripts: wait_for_quiet waits (up to GRAFT_BENCH_WAIT_S seconds,
# 600) for the 1-minute load average to drop below GRAFT_BENCH_MAX_LOAD (1.5), then returns
# either way: timings on a busy machine are noise, so the scripts record the load too.
wait_for_quiet() {
  local max_load=${GRAFT_BENCH_MAX_LOAD:-1.5} wait_s=${GRAFT_BENCH_WAIT_S:-600} waited=0 load
  while load=$(cut -d' ' -f1 /proc/loadavg) &&
    awk -v l="$load" -v m="$max_load" 'BEGIN { exit !(l >= m) }' && ((waited < wait_s)); do
    echo "load average $load >= $max_load; waiting (${waited}s of ${wait_s}s)" >&2
    sleep 30
    waited=$((waited + 30))
  done
}
