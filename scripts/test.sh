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
# Every reader's fuzz target for a few seconds (scripts/fuzz.sh: libFuzzer with address and leak
# sanitizers, seeded from the fixtures): a crash, leak, hang or runaway allocation fails the run.
for target in $(scripts/fuzz.sh list); do
  log="Fuzzing/.build/ci-$target.log"
  mkdir -p Fuzzing/.build
  scripts/fuzz.sh "$target" 5 >"$log" 2>&1 || { tail -n 60 "$log"; echo "fuzz target $target failed: scripts/fuzz.sh $target 5 reproduces it" >&2; exit 1; }
  grep -h 'stat::number_of_executed_units' "$log" | sed "s/^/fuzz $target: /"
done
