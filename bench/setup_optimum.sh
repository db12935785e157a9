#!/usr/bin/env bash
# Installs the optimum exporter (optimum-onnx, transformers, torch) in a venv outside the
# repository, for the benchmarks' comparison: torch brings gigabytes and is never a test need.
# Prints the path of its optimum-cli.
#
#   bench/setup_optimum.sh [VENV_DIR]      (default: ${TMPDIR:-/tmp}/onnx-export-bench/venv-optimum)
set -euo pipefail
venv="${1:-${TMPDIR:-/tmp}/onnx-export-bench/venv-optimum}"
if [ ! -x "$venv/bin/optimum-cli" ]; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q "optimum-onnx" "transformers<4.58" torch onnx "onnxruntime==1.32.0" >&2
fi
echo "$venv/bin/optimum-cli"
