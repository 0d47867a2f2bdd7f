# shellcheck shell=bash
# Shared set-up for scripts/run.sh and scripts/test.sh (sourced, not run).
#
# On a fresh Debian 12 machine it installs what graft needs to build (only the packages
# that are missing, so a second run touches nothing), then configures and builds with
# CMake. Arguments given to run.sh / test.sh go to the CMake configure step
# (`bash scripts/test.sh -DGRAFT_CUDA=OFF`). Settings, all optional, from the environment:
#   GRAFT_BUILD_DIR    build folder (default: build/ in the repository)
#   GRAFT_CMAKE_ARGS   more configure arguments, split at spaces
#   GRAFT_SKIP_APT=1   never call apt-get (for machines set up by other means)

GRAFT_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
GRAFT_BUILD_DIR="${GRAFT_BUILD_DIR:-$GRAFT_ROOT/build}"

# Debian package -> why graft needs it.
GRAFT_PACKAGES=(
  cmake            # the build (3.25 or newer; Debian 12 ships 3.25.1)
  ninja-build      # faster incremental builds than make
  g++              # a C++20 compiler (its libgomp: OpenMP for the benchmarks' Eigen baseline)
  libeigen3-dev    # the host-side matrix library (Eigen 3.4)
  libgtest-dev     # the test suite (GoogleTest)
  libbenchmark-dev # the kernel benchmarks (Google Benchmark)
  zlib1g-dev       # gzip-compressed datasets (IDX files)
  libpng-dev       # graft-predict reads PNG images (libpng)
  libturbojpeg0-dev # graft-predict reads JPEG images (libjpeg-turbo's TurboJPEG API)
  libopenmpi-dev   # graft::distributed's multi-process collectives (Open MPI)
  openmpi-bin      # mpirun, which starts and connects the processes of a distributed run
  dataset-fashion-mnist # the main job's data (/usr/share/datasets/fashion-mnist)
  fortunes         # graft-gpt's default corpus (/usr/share/games/fortunes)
  python3-dev      # the Python module graft (python/): Python's headers
  pybind11-dev     # ... and its binding library (pybind11 2.10)
  python3-numpy    # the Python tests share memory with NumPy
  python3-pytest   # ... and run under pytest
)

graft_log() { printf '\n==> %s\n' "$*"; }

# Installs the missing packages of GRAFT_PACKAGES with apt-get, through sudo when not root.
graft_install_packages() {
  local missing=() pkg
  for pkg in "${GRAFT_PACKAGES[@]}"; do
    dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
  done
  if [ "${#missing[@]}" -eq 0 ]; then
    graft_log "all required Debian packages are installed"
    return
  fi
  if [ "${GRAFT_SKIP_APT:-0}" = 1 ]; then
    echo "graft: missing packages ${missing[*]} and GRAFT_SKIP_APT=1; install them first" >&2
    return 1
  fi
  local sudo=()
  if [ "$(id -u)" -ne 0 ]; then
    if ! command -v sudo >/dev/null; then
      echo "graft: missing packages ${missing[*]}; run as root or install sudo" >&2
      return 1
    fi
    sudo=(sudo)
  fi
  graft_log "installing ${missing[*]}"
  "${sudo[@]}" apt-get update
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y --no-install-recommends \
    "${missing[@]}"
}

# Configures GRAFT_BUILD_DIR (Ninja when present, ccache when present); the arguments go
# to CMake after those of GRAFT_CMAKE_ARGS.
graft_configure() {
  local args=(-S "$GRAFT_ROOT" -B "$GRAFT_BUILD_DIR")
  # A build folder keeps its generator; only a new one picks Ninja.
  if [ ! -f "$GRAFT_BUILD_DIR/CMakeCache.txt" ] && command -v ninja >/dev/null; then
    args+=(-G Ninja)
  fi
  if command -v ccache >/dev/null; then
    # pch_defines,time_macros: without them ccache does not cache the files compiled with a
    # precompiled header (every test file's).
    local ccache="/usr/bin/env;CCACHE_SLOPPINESS=pch_defines,time_macros;ccache"
    args+=("-DCMAKE_CXX_COMPILER_LAUNCHER=$ccache" "-DCMAKE_CUDA_COMPILER_LAUNCHER=$ccache")
  fi
  # The Python module is built for Debian's interpreter, the one python3-numpy and
  # python3-pytest belong to, even when another python3 (pyenv, a venv) comes first on PATH.
  if [ -x /usr/bin/python3 ]; then
    args+=(-DPython_EXECUTABLE=/usr/bin/python3)
  fi
  # Word splitting is intended: GRAFT_CMAKE_ARGS holds several arguments.
  # shellcheck disable=SC2206
  args+=(${GRAFT_CMAKE_ARGS:-} "$@")
  graft_log "configuring $GRAFT_BUILD_DIR"
  cmake "${args[@]}"
}

# Builds the given targets of GRAFT_BUILD_DIR, or everything when none are given.
graft_build() {
  local targets=() target
  for target in "$@"; do targets+=(--target "$target"); done
  graft_log "building ${*:-everything}"
  cmake --build "$GRAFT_BUILD_DIR" --parallel "$(nproc)" "${targets[@]}"
}
