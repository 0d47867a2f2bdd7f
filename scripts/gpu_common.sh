# shellcheck shell=bash
# What scripts/gpu_carry.sh and scripts/gpu_check.sh share (sourced, not run).
#
# The device machine gets a copy of the working tree without .git, so "is the carried build
# the build of this tree?" is answered by a fingerprint of the sources instead of a commit:
# the SHA-256 of every build input's contents, listed in a fixed order. Both machines
# compute it with the same `find`, so it matches exactly when the sources do.

GRAFT_GPU_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# Ignored by git (gpu_carry.sh adds it to .git/info/exclude); name it in the device call's
# `carry` to send it along.
export GRAFT_GPU_DEPS="$GRAFT_GPU_ROOT/.gpu_deps"

# Prints the fingerprint of the sources that go into the carried binaries (gpu_carry.sh).
graft_gpu_fingerprint() {
  (
    cd "$GRAFT_GPU_ROOT" || exit 1
    find CMakeLists.txt cmake core kernels autograd io nn optim data distributed tests benchmarks \
      -type f \
      \( -name '*.h' -o -name '*.cpp' -o -name '*.cu' -o -name '*.cuh' \
      -o -name CMakeLists.txt -o -name '*.cmake' -o -name '*.in' \) -print0 |
      LC_ALL=C sort -z | xargs -0 sha256sum | sha256sum | cut -c1-16
  )
}
