#!/usr/bin/env bash
# Every benchmark, end to end, on a fresh clone: sets up and builds, makes random-weight
# checkpoints of real sizes, times exports against cp (and the optimum exporter, with
# --with-optimum), times inference in onnxruntime, and prints the tables of bench/README.md.
#
#   bench/run_all.sh [--with-optimum]
#
# Needs about 15 GB of free disk under ${TMPDIR:-/tmp}/onnx-export-bench (and 8 GB more for the
# optimum venv). Results: bench/results/*.json.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
swift build -c release --product onnx-export
py=.venv/bin/python
optimum=()
if [ "${1:-}" = "--with-optimum" ]; then
    optimum=(--optimum-cli "$(bench/setup_optimum.sh)")
fi
rm -f bench/results/*.json
$py bench/export_bench.py --model bert-base --task feature-extraction --runs 5 "${optimum[@]}"
$py bench/export_bench.py --model bert-base --task feature-extraction --runs 5 --dtype fp16
# ALBERT's 12 layers share one group's weights (stored once); DeBERTa-v3's relative attention.
$py bench/export_bench.py --model albert-base --task feature-extraction --runs 5 "${optimum[@]}"
$py bench/export_bench.py --model deberta-v3-base --task feature-extraction --runs 5 "${optimum[@]}"
# T5 (t5-base's shape, encoder-decoder): four graphs, as optimum writes them, sharing one data file.
$py bench/export_bench.py --model t5-base --task text2text-generation-with-past --runs 5 "${optimum[@]}"
$py bench/export_bench.py --model gpt2-large --task text-generation-with-past --runs 5 "${optimum[@]}"
$py bench/export_bench.py --model gpt2-large --task text-generation-with-past --runs 5 --dtype fp16
$py bench/export_bench.py --model llama-4g --task text-generation-with-past --runs 5
# A bfloat16 checkpoint, as LLaMA-family models ship: widened to float32 (the default), and kept
# as stored (--dtype auto).
$py bench/export_bench.py --model llama-4g-bf16 --task text-generation-with-past --runs 5
$py bench/export_bench.py --model llama-4g-bf16 --task text-generation-with-past --runs 5 --dtype auto
$py bench/inference_bench.py "${optimum[@]}"
$py bench/report.py
