#!/usr/bin/env bash
# The main job: installs what is missing, builds graft and runs the seed article's
# round trip (examples/seed_roundtrip.cpp): Eigen matrix -> zero-copy tensor -> math ->
# back to Eigen, and a uint8 image through a tiny model. Arguments go to the CMake
# configure step (see common.sh). See README.md.
set -euo pipefail
# shellcheck source=scripts/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

graft_install_packages
graft_configure "$@"
graft_build seed_roundtrip
graft_log "running examples/seed_roundtrip"
"$GRAFT_BUILD_DIR/examples/seed_roundtrip"
