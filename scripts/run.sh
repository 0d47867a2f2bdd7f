#!/usr/bin/env bash
# The main job: installs what is missing, builds graft and runs the seed article's
# round trip (examples/seed_roundtrip.cpp): Eigen matrix -> zero-copy tensor -> math ->
# back to Eigen, and a uint8 image through a tiny model. See README.md.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

graft_install_packages
graft_build seed_roundtrip
graft_log "running examples/seed_roundtrip"
"$GRAFT_BUILD_DIR/examples/seed_roundtrip"
