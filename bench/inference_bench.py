#!/usr/bin/env python3
"""Inference latency of exported models in onnxruntime (CPU, 2 threads): our export against the
optimum exporter's, plain and with `--optimize O2`, measured in the same run.

    python bench/inference_bench.py --ours DIR [--optimum DIR] [--optimum-o2 DIR] [--batch 1 8] [--seq 128]

Each DIR holds a model.onnx of the same checkpoint and task. For decoders with a KV cache the
timed step is one new token after a past of --seq tokens. Prints median latencies and node
counts, and writes bench/results/inference.json.
"""
import argparse
import json
import os
import statistics
import time

import numpy as np
import onnx
import onnxruntime as ort

HERE = os.path.dirname(os.path.abspath(__file__))


def feeds(session, batch, seq):
    names = {i.name: i for i in session.get_inputs()}
    with_past = any(n.startswith("past_key_values") for n in names)
    new = 1 if with_past else seq
    total = seq + new if with_past else seq
    rng = np.random.default_rng(0)
    f = {}
    for name, i in names.items():
        if name.startswith("past_key_values"):
            f[name] = rng.standard_normal((batch, i.shape[1], seq, i.shape[3])).astype(np.float32)
        elif name == "attention_mask":
            f[name] = np.ones((batch, total), np.int64)
        elif name == "position_ids":
            f[name] = np.tile(np.arange(total - new, total, dtype=np.int64), (batch, 1))
        elif name == "input_ids":
            f[name] = rng.integers(5, 1000, (batch, new), dtype=np.int64)
        else:
            f[name] = np.zeros((batch, new), np.int64)
    return f


def measure(path, batch, seq, runs, warmup=3):
    options = ort.SessionOptions()
    options.intra_op_num_threads = 2
    options.inter_op_num_threads = 1
    session = ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])
    f = feeds(session, batch, seq)
    for _ in range(warmup):
        session.run(None, f)
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        session.run(None, f)
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ours", required=True)
    ap.add_argument("--optimum")
    ap.add_argument("--optimum-o2")
    ap.add_argument("--batch", type=int, nargs="+", default=[1, 8])
    ap.add_argument("--seq", type=int, default=128)
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--label", default="model")
    args = ap.parse_args()
    variants = [(n, d) for n, d in (("ours", args.ours), ("optimum", args.optimum), ("optimum O2", args.optimum_o2)) if d]
    rows = []
    for batch in args.batch:
        # Interleave the variants run by run so machine noise hits them alike.
        medians = {name: [] for name, _ in variants}
        for _ in range(3):
            for name, d in variants:
                medians[name].append(measure(os.path.join(d, "model.onnx"), batch, args.seq, args.runs // 3 or 1))
        for name, d in variants:
            nodes = len(onnx.load(os.path.join(d, "model.onnx"), load_external_data=False).graph.node)
            rows.append({"label": args.label, "variant": name, "batch": batch, "seq": args.seq,
                         "median_ms": round(statistics.median(medians[name]), 2), "nodes": nodes})
            print(f"{args.label:12s} {name:11s} batch {batch:2d} seq {args.seq}: {rows[-1]['median_ms']:8.2f} ms  ({nodes} nodes)")
    os.makedirs(os.path.join(HERE, "results"), exist_ok=True)
    out = os.path.join(HERE, "results", f"inference-{args.label}.json")
    with open(out, "w") as fh:
        json.dump(rows, fh, indent=2)


if __name__ == "__main__":
    main()
