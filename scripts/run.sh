#!/usr/bin/env bash
# The main job: installs what is missing (Fashion-MNIST included), builds graft, trains the
# default model on Fashion-MNIST with graft-train (examples/train.cpp) into runs/latest/,
# then classifies two exported test images with graft-predict (examples/predict.cpp), the
# seed article's round trip from an image file to a class name. Arguments go to the CMake
# configure step (see common.sh). GRAFT_TRAIN_ARGS adds options to graft-train
# (GRAFT_TRAIN_ARGS="--model mlp --epochs 5"). See README.md and docs/training.md.
set -euo pipefail
# shellcheck source=scripts/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

graft_install_packages
graft_configure "$@"
graft_build graft_train graft_predict
out="$GRAFT_ROOT/runs/latest"
graft_log "training: graft-train --out $out --export-images 2 ${GRAFT_TRAIN_ARGS:-}"
# Word splitting is intended: GRAFT_TRAIN_ARGS holds several options.
# shellcheck disable=SC2086
"$GRAFT_BUILD_DIR/examples/graft-train" --out "$out" --export-images 2 ${GRAFT_TRAIN_ARGS:-}
graft_log "predicting two exported test images"
"$GRAFT_BUILD_DIR/examples/graft-predict" "$out/checkpoint.safetensors" "$out"/images/*.pgm
graft_log "done: $out holds metrics.csv, checkpoint.safetensors, curves.svg and images/"
