#!/usr/bin/env bash
# Sets up, builds, and runs the main job on the bundled example: exports the tiny BERT sentiment
# classifier in Tests/Fixtures/example-bert to out/example-bert, then runs it in onnxruntime.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
swift build -c release --product onnx-export
.build/release/onnx-export --model Tests/Fixtures/example-bert --task text-classification --force out/example-bert
.venv/bin/python - <<'PY'
import numpy as np, onnxruntime as ort
session = ort.InferenceSession("out/example-bert/model.onnx", providers=["CPUExecutionProvider"])
feeds = {"input_ids": np.array([[2, 10, 11, 12, 3], [2, 13, 3, 0, 0]], dtype=np.int64),
         "attention_mask": np.array([[1, 1, 1, 1, 1], [1, 1, 1, 0, 0]], dtype=np.int64),
         "token_type_ids": np.zeros((2, 5), dtype=np.int64)}
logits = session.run(["logits"], feeds)[0]
print("onnxruntime logits for a batch of 2:\n", logits)
PY
