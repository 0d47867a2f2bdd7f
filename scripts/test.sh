#!/usr/bin/env bash
# The test suite: installs what is missing, builds everything (library, tests,
# benchmarks, examples) and runs every test with ctest. See README.md.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

graft_install_packages
graft_build
graft_log "running the test suite"
cd "$GRAFT_BUILD_DIR"
ctest --output-on-failure --parallel "$(nproc)"
