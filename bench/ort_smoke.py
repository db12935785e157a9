#!/usr/bin/env python3
"""Loads an exported model in onnxruntime and runs it once on a small batch: proof that the
export (including external data) is usable. Feeds every declared input with small values
(past_key_values with a past length of 0). An encoder-decoder folder (encoder_model.onnx and
decoder_model[_merged].onnx, optimum's layout) runs the encoder, then the decoder's first step
on its output, then, where the folder has a decoder with past, one cached step.

    python bench/ort_smoke.py OUTPUT_DIR
"""
import os
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


def seq2seq_feeds(session, encoder_hidden_states, mask, input_ids, past=None):
    """One decoder step: optimum's first step is fed empty (length 0) pasts and use_cache_branch
    false; a later step the previous step's presents (the cross-attention ones kept from the first)."""
    feeds = {}
    for i in session.get_inputs():
        if i.name.startswith("past_key_values"):
            dtype = np.float16 if "float16" in i.type else np.float32
            batch = input_ids.shape[0]
            feeds[i.name] = past[i.name] if past else np.zeros((batch, i.shape[1], 0, i.shape[3]), dtype)
        elif i.name == "use_cache_branch":
            feeds[i.name] = np.array([past is not None])
        elif i.name == "encoder_hidden_states":
            feeds[i.name] = encoder_hidden_states
        elif i.name in ("encoder_attention_mask", "attention_mask"):
            feeds[i.name] = mask
        else:
            feeds[i.name] = input_ids
    return feeds


def smoke_seq2seq(folder, batch=1, length=8):
    """Encoder, the decoder's first step, then one cached step where the folder has a decoder with past."""
    options = dict(providers=["CPUExecutionProvider"])
    start = time.perf_counter()
    encoder = ort.InferenceSession(os.path.join(folder, "encoder_model.onnx"), **options)
    merged = os.path.join(folder, "decoder_model_merged.onnx")
    first = ort.InferenceSession(merged if os.path.exists(merged) else os.path.join(folder, "decoder_model.onnx"), **options)
    with_past = os.path.join(folder, "decoder_with_past_model.onnx")
    cached = first if os.path.exists(merged) else (ort.InferenceSession(with_past, **options) if os.path.exists(with_past) else None)
    loaded = time.perf_counter()
    mask = np.ones((batch, length), np.int64)
    hidden = encoder.run(None, {"input_ids": np.full((batch, length), 5, np.int64), "attention_mask": mask})[0]
    start_token = np.zeros((batch, 1), np.int64)
    names = [o.name for o in first.get_outputs()]
    outputs = dict(zip(names, first.run(None, seq2seq_feeds(first, hidden, mask, start_token))))
    finite = bool(np.isfinite(hidden).all()) and all(bool(np.isfinite(v).all()) for v in outputs.values())
    steps = 1
    if cached is not None and any(n.startswith("present.") for n in names):
        past = {n.replace("present.", "past_key_values.", 1): v for n, v in outputs.items() if n.startswith("present.")}
        token = outputs["logits"][:, -1:].argmax(-1).astype(np.int64)
        step = dict(zip([o.name for o in cached.get_outputs()], cached.run(None, seq2seq_feeds(cached, hidden, mask, token, past))))
        finite = finite and bool(np.isfinite(step["logits"]).all())
        steps = 2
    ran = time.perf_counter()
    return {"load_seconds": round(loaded - start, 2), "run_seconds": round(ran - loaded, 2), "first_output": "logits",
            "shape": list(outputs["logits"].shape), "finite": finite, "outputs": len(outputs), "decoder_steps": steps}


def smoke(folder):
    """Loads folder/model.onnx, runs it once; returns load and run seconds and whether outputs are finite.
    onnxruntime's CPU provider has no bfloat16 kernels: a bfloat16 model is checked by
    onnx.checker instead (types, shapes and external data references). A folder without model.onnx
    but with encoder_model.onnx is an encoder-decoder export (smoke_seq2seq)."""
    path = folder.rstrip("/") + "/model.onnx"
    if not os.path.exists(path) and os.path.exists(os.path.join(folder, "encoder_model.onnx")):
        encoder = os.path.join(folder, "encoder_model.onnx")
        if holds_bfloat16(encoder):
            for name in sorted(os.listdir(folder)):
                if name.endswith(".onnx"):
                    onnx.checker.check_model(os.path.join(folder, name))
            return {"checked_by": "onnx.checker (no bfloat16 kernels in onnxruntime's CPU provider)", "finite": None}
        return smoke_seq2seq(folder)
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
