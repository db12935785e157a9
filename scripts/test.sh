#!/usr/bin/env bash
# Sets up and runs every test: the Swift unit tests, then the parity, CLI-error and
# external-data tests that export the committed fixtures and run them in onnxruntime.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
swift build --product onnx-export
swift test 2>&1 | tail -n 40
export ONNX_EXPORT_BIN="$PWD/.build/debug/onnx-export"
.venv/bin/python -m pytest Tests/parity -q -p no:cacheprovider
