#!/usr/bin/env python3
"""Loads an exported model in onnxruntime and runs it once on a small batch: proof that the
export (including external data) is usable. Feeds every declared input with small values
(past_key_values with a past length of 0).

    python bench/ort_smoke.py OUTPUT_DIR
"""
import sys
import time

import numpy as np
import onnxruntime as ort


def feeds_for(session, batch=1, length=8):
    feeds = {}
    for i in session.get_inputs():
        if i.name.startswith("past_key_values"):
            feeds[i.name] = np.zeros((batch, i.shape[1], 0, i.shape[3]), np.float32)
        elif i.name == "position_ids":
            feeds[i.name] = np.tile(np.arange(length, dtype=np.int64), (batch, 1))
        elif i.name == "attention_mask":
            feeds[i.name] = np.ones((batch, length), np.int64)
        else:
            feeds[i.name] = np.full((batch, length), 5, np.int64) if i.name == "input_ids" else np.zeros((batch, length), np.int64)
    return feeds


def main():
    path = sys.argv[1].rstrip("/") + "/model.onnx"
    start = time.perf_counter()
    session = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    loaded = time.perf_counter()
    outputs = session.run(None, feeds_for(session))
    ran = time.perf_counter()
    shapes = {o.name: list(v.shape) for o, v in zip(session.get_outputs(), outputs)}
    first = session.get_outputs()[0].name
    print(f"onnxruntime {ort.__version__}: loaded in {loaded - start:.2f} s, ran in {ran - loaded:.2f} s; "
          f"{first} {shapes[first]} finite={bool(np.isfinite(outputs[0]).all())}; {len(outputs)} outputs")


if __name__ == "__main__":
    main()
