#!/usr/bin/env bash
# The PyTorch half of the Python tests and benchmark: installs PyTorch from PyPI into a
# virtual environment (gigabytes, which is why CI skips these cases), then runs the pytest
# suite with it (python/tests/test_torch_interop.py no longer skips) and the per-call
# overhead benchmark with PyTorch beside graft. Run `bash scripts/test.sh` first: it builds
# the module into $GRAFT_BUILD_DIR/python.
#   GRAFT_TORCH_VENV   where the environment goes (default: $GRAFT_BUILD_DIR/torch-venv)
set -euo pipefail
# shellcheck source=scripts/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

venv="${GRAFT_TORCH_VENV:-$GRAFT_BUILD_DIR/torch-venv}"
if [ ! -x "$venv/bin/python" ]; then
  graft_log "creating $venv (with Debian's NumPy and pytest visible)"
  /usr/bin/python3 -m venv --system-site-packages "$venv"
fi
"$venv/bin/python" -c "import torch" 2>/dev/null || {
  graft_log "installing PyTorch from PyPI"
  "$venv/bin/pip" install torch
}
export PYTHONPATH="$GRAFT_BUILD_DIR/python" GRAFT_SOURCE_DIR="$GRAFT_ROOT"
graft_log "pytest with PyTorch"
"$venv/bin/python" -m pytest -q -p no:cacheprovider "$GRAFT_ROOT/python/tests"
graft_log "per-call overhead, graft beside PyTorch"
"$venv/bin/python" "$GRAFT_ROOT/benchmarks/python/overhead.py"
