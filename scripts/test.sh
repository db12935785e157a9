#!/usr/bin/env bash
# Sets up and runs every test: the Swift unit tests, then the parity, CLI-error and
# external-data tests that export the committed fixtures and run them in onnxruntime.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
swift build -c release --product onnx-export
swift test 2>&1 | tail -n 40
# The parity tests run the release binary: the one users run (and release-only miscompiles exist).
export ONNX_EXPORT_BIN="$PWD/.build/release/onnx-export"
.venv/bin/python -m pytest Tests/parity -q -p no:cacheprovider
