#!/usr/bin/env bash
# Prepares .gpu_deps/, what the GPU check (scripts/gpu_check.sh) needs from this machine.
#
# The device machine has nvcc 13.0, CMake, ninja, compute-sanitizer and PyTorch, but no
# Eigen, GoogleTest or Google Benchmark, and its time is scarce (15 minutes a task). So the
# check normally runs binaries built here (same nvcc, same x86-64), and can fall back to
# building there from the carried dependencies. Compressed, since what travels is limited
# to 64 MiB and the binaries shrink about four times:
#
#   .gpu_deps/bin.tar.gz    bin/: graft_tests, graft_distributed_tests (the collectives on
#                           a CUDA tensor: NCCL's world of one), cuda_bench and versus_graft
#                           (benchmarks/versus: whole training steps), built here for sm_90;
#                           runtime/: libgomp.so.1, which they need and the device may lack
#                           (the CUDA libraries are the device's own: same toolkit version)
#   .gpu_deps/usr.tar.gz    usr/: Eigen (Eigen/ only; graft includes Eigen/Core),
#                           GoogleTest and GoogleMock, Google Benchmark: headers, libraries
#                           and CMake configs in /usr's layout, for a build on the device
#   .gpu_deps/fingerprint   the sources' fingerprint (gpu_common.sh) when bin/ was built
#   .gpu_deps/commit        the commit, for the results table (the device gets no .git)
#
# .gpu_deps/ goes into .git/info/exclude, so it travels only when the device call names it:
#   run(command="bash scripts/gpu_check.sh", carry=[".gpu_deps"], timeout_s=540)
# The working tree plus .gpu_deps/ must stay under the device tool's 64 MiB; this script
# stops with an error when they would not.
#
# Usage: scripts/gpu_carry.sh [--deps-only]   (--deps-only: no build; the check then builds
#                                              on the device, which takes minutes of its time)
#   GRAFT_GPU_CARRY_BUILD_DIR   where to build here (default: build-gpu-carry/)
set -euo pipefail
# shellcheck source=scripts/gpu_common.sh
source "$(dirname "${BASH_SOURCE[0]}")/gpu_common.sh"
cd "$GRAFT_GPU_ROOT"

build_binaries=1
case "${1:-}" in
  --deps-only) build_binaries=0 ;;
  "") ;;
  *)
    echo "usage: $0 [--deps-only]" >&2
    exit 2
    ;;
esac
build_dir="${GRAFT_GPU_CARRY_BUILD_DIR:-$GRAFT_GPU_ROOT/build-gpu-carry}"
limit_mib=64
multiarch="$(gcc -print-multiarch)"
libdir="/usr/lib/$multiarch"

exclude="$(git rev-parse --git-path info/exclude)"
mkdir -p "$(dirname "$exclude")"
grep -qxF '/.gpu_deps/' "$exclude" 2>/dev/null || echo '/.gpu_deps/' >>"$exclude"

rm -rf "$GRAFT_GPU_DEPS"
mkdir -p "$GRAFT_GPU_DEPS"
stage="$(mktemp -d)"
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage"/{bin,runtime} "$stage/usr/include/eigen3" "$stage/usr/lib/$multiarch/cmake" \
  "$stage/usr/share/eigen3"

# ---- dependencies for a build on the device, in /usr's layout: the CMake configs find
# their files relative to themselves, so CMAKE_PREFIX_PATH=<unpacked>/usr is all it takes.
cp -r /usr/include/eigen3/Eigen /usr/include/eigen3/signature_of_eigen3_matrix_library \
  "$stage/usr/include/eigen3/"
cp -r /usr/share/eigen3/cmake "$stage/usr/share/eigen3/"
cp -r /usr/include/gtest /usr/include/gmock /usr/include/benchmark "$stage/usr/include/"
cp -r "$libdir/cmake/GTest" "$libdir/cmake/benchmark" "$stage/usr/lib/$multiarch/cmake/"
cp -a "$libdir"/libgtest*.a "$libdir"/libgmock*.a "$libdir"/libbenchmark* \
  "$stage/usr/lib/$multiarch/"
tar -czf "$GRAFT_GPU_DEPS/usr.tar.gz" -C "$stage" usr

# ---- binaries built here
if ((build_binaries)); then
  launchers=()
  if command -v ccache >/dev/null; then
    launchers=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_CUDA_COMPILER_LAUNCHER=ccache)
  fi
  # GRAFT_DISTRIBUTED=OFF: the device has no MPI library, and binaries linked to this
  # machine's libmpi would not start there.
  cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=Release -DGRAFT_CUDA=ON \
    -DCMAKE_CUDA_ARCHITECTURES=90 -DGRAFT_BUILD_TESTS=ON -DGRAFT_BUILD_BENCHMARKS=ON \
    -DGRAFT_BUILD_EXAMPLES=ON -DGRAFT_DISTRIBUTED=OFF "${launchers[@]}"
  # The fingerprint is taken before the build, so an edit during it shows as stale.
  fingerprint="$(graft_gpu_fingerprint)"
  ninja -C "$build_dir" graft_tests graft_distributed_tests cuda_bench versus_graft
  cp "$build_dir/tests/graft_tests" "$build_dir/tests/distributed/graft_distributed_tests" \
    "$build_dir/benchmarks/cuda_bench" "$build_dir/benchmarks/versus/versus_graft" "$stage/bin/"
  cp -L "$(gcc -print-file-name=libgomp.so.1)" "$stage/runtime/"
  tar -czf "$GRAFT_GPU_DEPS/bin.tar.gz" -C "$stage" bin runtime
  echo "$fingerprint" >"$GRAFT_GPU_DEPS/fingerprint"
fi

commit="$(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
if [[ -n "$(git status --porcelain --untracked-files=no 2>/dev/null)" ]]; then
  commit="$commit (plus uncommitted changes)"
fi
echo "$commit" >"$GRAFT_GPU_DEPS/commit"

# ---- the device tool's limit: the working tree that travels plus what is carried
tree_bytes="$(git ls-files -z --cached --others --exclude-standard |
  xargs -0 stat -c %s 2>/dev/null | awk '{ s += $1 } END { print s + 0 }')"
deps_bytes="$(du -sb "$GRAFT_GPU_DEPS" | cut -f1)"
total_mib=$(((tree_bytes + deps_bytes) / 1048576))
echo "gpu_carry: .gpu_deps $((deps_bytes / 1048576)) MiB + working tree" \
  "$((tree_bytes / 1048576)) MiB = $total_mib MiB (limit $limit_mib MiB)"
if ((total_mib >= limit_mib)); then
  echo "gpu_carry: over the device tool's $limit_mib MiB; try --deps-only" >&2
  exit 1
fi
echo "gpu_carry: ready; call the device with carry=[\".gpu_deps\"]"
