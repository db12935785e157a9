#!/usr/bin/env python3
"""Loads an exported model in onnxruntime and runs it once on a small batch: proof that the
export (including external data) is usable. Feeds every declared input with small values
(past_key_values with a past length of 0).

    python bench/ort_smoke.py OUTPUT_DIR
"""
import sys
import time

import numpy as np
import onnx
import onnxruntime as ort


def feeds_for(session, batch=1, length=8):
    feeds = {}
    for i in session.get_inputs():
        if i.name.startswith("past_key_values"):
            dtype = np.float16 if "float16" in i.type else np.float32
            feeds[i.name] = np.zeros((batch, i.shape[1], 0, i.shape[3]), dtype)
        elif i.name == "position_ids":
            feeds[i.name] = np.tile(np.arange(length, dtype=np.int64), (batch, 1))
        elif i.name == "attention_mask":
            feeds[i.name] = np.ones((batch, length), np.int64)
        else:
            feeds[i.name] = np.full((batch, length), 5, np.int64) if i.name == "input_ids" else np.zeros((batch, length), np.int64)
    return feeds


def holds_bfloat16(path):
    """Whether the graph's weights are bfloat16 (read from the graph alone, not the external data)."""
    model = onnx.load(path, load_external_data=False)
    return any(t.data_type == onnx.TensorProto.BFLOAT16 for t in model.graph.initializer)


def smoke(folder):
    """Loads folder/model.onnx, runs it once; returns load and run seconds and whether outputs are finite.
    onnxruntime's CPU provider has no bfloat16 kernels: a bfloat16 model is checked by
    onnx.checker instead (types, shapes and external data references)."""
    path = folder.rstrip("/") + "/model.onnx"
    if holds_bfloat16(path):
        onnx.checker.check_model(path)
        return {"checked_by": "onnx.checker (no bfloat16 kernels in onnxruntime's CPU provider)", "finite": None}
    start = time.perf_counter()
    session = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    loaded = time.perf_counter()
    outputs = session.run(None, feeds_for(session))
    ran = time.perf_counter()
    first = session.get_outputs()[0].name
    return {"load_seconds": round(loaded - start, 2), "run_seconds": round(ran - loaded, 2), "first_output": first,
            "shape": list(outputs[0].shape), "finite": bool(np.isfinite(outputs[0]).all()), "outputs": len(outputs)}


def main():
    r = smoke(sys.argv[1])
    if "checked_by" in r:
        print(f"checked by {r['checked_by']}")
        return
    print(f"onnxruntime {ort.__version__}: loaded in {r['load_seconds']:.2f} s, ran in {r['run_seconds']:.2f} s; "
          f"{r['first_output']} {r['shape']} finite={r['finite']}; {r['outputs']} outputs")


if __name__ == "__main__":
    main()
