#!/usr/bin/env bash
# Coverage-guided fuzzing of the checkpoint readers with libFuzzer (the Swift toolchain ships it).
#
#   scripts/fuzz.sh list                    the targets
#   scripts/fuzz.sh TARGET SECONDS [ARGS]   build if needed, then fuzz TARGET for SECONDS
#                                           (ARGS go to libFuzzer, e.g. -runs=1000000)
#   scripts/fuzz.sh TARGET repro FILE...    run saved inputs once (a crash, a regression file)
#
# The corpus grows in Fuzzing/corpus/TARGET (seeded from Tests/Fixtures by Fuzzing/make_seeds.py);
# crashes, leaks, timeouts and inputs that allocate past the limit land in
# Fuzzing/findings/TARGET/. Keep a finding as Tests/Fixtures/fuzz-regressions/TARGET/NAME once the
# reader refuses it with an ExportError: FuzzRegressionTests runs every file there.
set -euo pipefail
cd "$(dirname "$0")/.."

# target → the dictionary parts (Fuzzing/dictionaries/*.dict) of its format's tokens
declare -A DICTS=(
  [safetensors]="json safetensors"
  [safetensors-index]="json safetensors sharded-index"
  [config]="json config"
  [original-config]="json config"
  [pytorch]="zip pickle"
  [tensor-bundle]="tensor-bundle"
  [npy]="npy"
  [npz]="npy zip"
  [openai-params]="json npy"
)
ORDER=(safetensors safetensors-index config original-config pytorch tensor-bundle npy npz openai-params)

usage() { echo "usage: scripts/fuzz.sh list | TARGET SECONDS [libFuzzer args] | TARGET repro FILE..." >&2; exit 2; }
[ $# -ge 1 ] || usage
if [ "$1" = list ]; then printf '%s\n' "${ORDER[@]}"; exit 0; fi
[ $# -ge 2 ] && [ -n "${DICTS[$1]:-}" ] || usage
target=$1 mode=$2; shift 2

# Release with address sanitizer and libFuzzer's coverage instrumentation, in a package of its own
# (Fuzzing/) so the main package's build and tests never link libFuzzer.
# lld: gold fails on this link (an internal error in its DWARF reader); the toolchain ships lld.
mkdir -p Fuzzing/.build
if ! swift build --package-path Fuzzing -c release -Xswiftc -sanitize=fuzzer,address -Xswiftc -use-ld=lld \
    >Fuzzing/.build/fuzz-build.log 2>&1; then
  grep -v '^\[' Fuzzing/.build/fuzz-build.log >&2
  echo "fuzz.sh: building the fuzz targets failed" >&2
  exit 1
fi
binary="Fuzzing/.build/release/reader-fuzz"
export ONNX_EXPORT_FUZZ_TARGET=$target
# Leaks are findings (LeakSanitizer comes with the toolchain's address sanitizer runtime).
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1}"

# 2 GiB resident, 512 MiB in one allocation, 10 s per input: far above what a reader needs for
# the small inputs here, so hitting one is a finding (a size taken from the file unchecked, a loop).
limits=(-rss_limit_mb=2048 -malloc_limit_mb=512 -timeout=10)
corpus="Fuzzing/corpus/$target" findings="Fuzzing/findings/$target"
mkdir -p "$corpus" "$findings"
if [ "$mode" = repro ]; then
  [ $# -ge 1 ] || usage
  exec "$binary" "${limits[@]}" -artifact_prefix="$findings/" "$@"
fi
[[ "$mode" =~ ^[0-9]+$ ]] || usage

python3 Fuzzing/make_seeds.py "$target" "$corpus"
dict="Fuzzing/.build/$target.dict"
for part in ${DICTS[$target]}; do cat "Fuzzing/dictionaries/$part.dict"; done > "$dict"
# Inputs up to 8 KiB, as the seeds: several times more runs a second than at 64 KiB, and every
# structure the readers parse fits.
exec "$binary" "${limits[@]}" -max_len=8192 -max_total_time="$mode" -dict="$dict" -artifact_prefix="$findings/" \
  -print_final_stats=1 "$@" "$corpus"
