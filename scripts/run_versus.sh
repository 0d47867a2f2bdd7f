#!/usr/bin/env bash
# graft versus PyTorch (benchmarks/versus/README.md): builds graft's worker in Release,
# installs PyTorch from PyPI into a virtual environment of its own, waits for a quiet
# machine and writes benchmarks/results/versus-<device>-<YYYY-MM-DD>.md, on the CPU and, when
# both graft and PyTorch see a GPU, on CUDA too.
#
# Usage: scripts/run_versus.sh [versus.py options, e.g. --only matmul conv --rounds 3]
#   GRAFT_VERSUS_PYTHON   a Python that already has torch and numpy (skips the venv;
#                         the GPU machine's preinstalled PyTorch, say)
#   GRAFT_VERSUS_BUILD    the build folder (build-versus)
#   GRAFT_BENCH_MAX_LOAD, GRAFT_BENCH_WAIT_S   as for scripts/run_benchmarks.sh
# PyTorch is never a build or test dependency of graft: only this script installs it.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
build=${GRAFT_VERSUS_BUILD:-$root/build-versus}
source "$root/scripts/wait_for_quiet.sh"

generator=()
command -v ninja >/dev/null && generator=(-G Ninja)
cmake -S "$root" -B "$build" "${generator[@]}" -DCMAKE_BUILD_TYPE=Release \
  -DGRAFT_BUILD_BENCHMARKS=ON -DGRAFT_BUILD_EXAMPLES=ON -DGRAFT_BUILD_TESTS=OFF >/dev/null
cmake --build "$build" --target versus_graft

python=${GRAFT_VERSUS_PYTHON:-}
if [[ -z $python ]]; then
  venv=$build/versus-venv
  if [[ ! -x $venv/bin/python ]] || ! "$venv/bin/python" -c 'import torch, numpy' 2>/dev/null; then
    echo "installing PyTorch and NumPy from PyPI into $venv (once; a few GB)" >&2
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet torch numpy
  fi
  python=$venv/bin/python
fi

wait_for_quiet
results=$root/benchmarks/results
mkdir -p "$results"
worker=$build/benchmarks/versus/versus_graft
python3 "$root/benchmarks/versus/versus.py" --graft "$worker" --python "$python" \
  --out "$results/versus-cpu-$(date -u +%F).md" "$@"

# CUDA when both sides have it: graft built with its CUDA backend on a machine with a GPU.
if "$python" -c 'import torch, sys; sys.exit(not torch.cuda.is_available())' &&
  echo | "$worker" --device cuda >/dev/null 2>&1; then
  python3 "$root/benchmarks/versus/versus.py" --graft "$worker" --python "$python" \
    --device cuda --out "$results/versus-cuda-$(date -u +%F).md" "$@"
fi
