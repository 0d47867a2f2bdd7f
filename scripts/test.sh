#!/usr/bin/env bash
# The test suite: installs what is missing, builds everything (library, tests,
# benchmarks, examples) and runs every test with ctest. Arguments go to the CMake
# configure step (see common.sh). See README.md.
set -euo pipefail
# shellcheck source=scripts/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

graft_install_packages
graft_configure "$@"
# shellcheck disable=SC2119 # no targets: build everything
graft_build
graft_log "running the test suite"
cd "$GRAFT_BUILD_DIR"
ctest --output-on-failure --parallel "$(nproc)"
