#!/usr/bin/env python3
"""Inference latency in onnxruntime (CPU, 2 intra-op threads) of our export against the optimum
exporter's, plain and with `--optimize O2`, measured in the same run.

    python bench/inference_bench.py [--optimum-cli PATH] [--models bert-base gpt2] [--batch 1 8] [--seq 128]

For each model it makes a random-weight checkpoint of the real size (make_checkpoint.py), exports
it with onnx-export and, when --optimum-cli is given, with `optimum-cli export onnx` plain and
with `--optimize O2`; then it times each model.onnx. bert-base runs feature-extraction over
--seq tokens; gpt2 runs text-generation-with-past for one new token after a past of --seq tokens.
Sessions of every variant stay open and are timed in turns (round robin, many rounds, the order
reversed every other round, a pause and an untimed run at each switch), so machine noise falls on
all of them alike. Prints median latencies, the ratio to ours paired round by round (median and
quartiles: the spread says how far one run can be trusted), node counts, and writes
bench/results/inference.json.

`--ours DIR` (repeatable as `--compare NAME=DIR`) times already exported folders instead.
"""
import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np
import onnx
import onnxruntime as ort

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
TASKS = {"bert-base": "feature-extraction", "gpt2": "text-generation-with-past"}


def feeds(session, batch, seq):
    """Inputs by name, as both exporters name them; with a KV cache, one new token after `seq`."""
    names = {i.name: i for i in session.get_inputs()}
    with_past = any(n.startswith("past_key_values") for n in names)
    new = 1 if with_past else seq
    total = seq + new if with_past else seq
    rng = np.random.default_rng(0)
    f = {}
    for name, i in names.items():
        if name.startswith("past_key_values"):
            dtype = np.float16 if "float16" in i.type else np.float32
            f[name] = rng.standard_normal((batch, i.shape[1], seq, i.shape[3])).astype(dtype)
        elif name == "attention_mask":
            f[name] = np.ones((batch, total), np.int64)
        elif name == "position_ids":
            f[name] = np.tile(np.arange(total - new, total, dtype=np.int64), (batch, 1))
        elif name == "input_ids":
            f[name] = rng.integers(5, 1000, (batch, new), dtype=np.int64)
        else:
            f[name] = np.zeros((batch, new), np.int64)
    return f


def session(path):
    options = ort.SessionOptions()
    options.intra_op_num_threads = 2
    options.inter_op_num_threads = 1
    return ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])


def time_variants(paths, batch, seq, rounds, per_round):
    """Latency per variant, timed in turns: each round runs every variant `per_round` times, in
    forward order on even rounds and reverse order on odd ones (no variant always runs first).

    Returns name -> (median ms over all runs, [per-round medians]); ratios between variants are
    taken round by round, so a slow spell of the shared machine falls on both sides of a ratio."""
    sessions = {name: session(p) for name, p in paths.items()}
    inputs = {name: feeds(s, batch, seq) for name, s in sessions.items()}
    for name, s in sessions.items():
        for _ in range(2):
            s.run(None, inputs[name])
    times = {name: [] for name in sessions}
    per_round_medians = {name: [] for name in sessions}
    names = list(sessions)
    for r in range(rounds):
        for name in (names if r % 2 == 0 else names[::-1]):
            s = sessions[name]
            # The previous variant's worker threads spin for a while after its last run; let them
            # stop, and run once untimed, so no variant is timed against another's spinning.
            time.sleep(0.05)
            s.run(None, inputs[name])
            this_round = []
            for _ in range(per_round):
                start = time.perf_counter()
                s.run(None, inputs[name])
                this_round.append((time.perf_counter() - start) * 1000)
            times[name] += this_round
            per_round_medians[name].append(statistics.median(this_round))
    return {name: (statistics.median(times[name]), per_round_medians[name]) for name in sessions}


def paired_ratio(variant, baseline):
    """Median and quartiles of variant/baseline over rounds (each round's medians paired)."""
    ratios = sorted(v / b for v, b in zip(variant, baseline))
    if len(ratios) < 4:
        m = statistics.median(ratios)
        return m, m, m
    q1, median, q3 = statistics.quantiles(ratios, n=4)
    return median, q1, q3


def node_count(path):
    return len(onnx.load(path, load_external_data=False).graph.node)


def model_file(folder):
    path = os.path.join(folder, "model.onnx")
    if not os.path.exists(path):
        raise SystemExit(f"{folder}: no model.onnx (holds {sorted(os.listdir(folder))})")
    return path


def export_all(model, work, args):
    """Exports `model` with onnx-export and, if available, optimum plain and O2; returns name -> model.onnx."""
    ckpt = os.path.join(work, model)
    if not os.path.exists(os.path.join(ckpt, "model.safetensors")):
        subprocess.run([sys.executable, os.path.join(HERE, "make_checkpoint.py"), model, ckpt], check=True)
    task = TASKS[model]
    paths = {}
    out = os.path.join(work, f"{model}-ours")
    subprocess.run([args.bin, "--model", ckpt, "--task", task, "--opset", str(args.opset), "--force", out],
                   check=True, stdout=subprocess.DEVNULL)
    paths["ours"] = model_file(out)
    if args.optimum_cli:
        for name, extra in (("optimum", []), ("optimum O2", ["--optimize", "O2"])):
            out = os.path.join(work, f"{model}-{name.replace(' ', '-')}")
            shutil.rmtree(out, ignore_errors=True)
            subprocess.run([args.optimum_cli, "export", "onnx", "-m", ckpt, "--task", task, "--opset", str(args.opset),
                            *extra, out], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            paths[name] = model_file(out)
    return paths


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--models", nargs="+", default=list(TASKS), choices=list(TASKS))
    ap.add_argument("--optimum-cli", help="path of optimum-cli (in its own venv) to compare with its exports")
    ap.add_argument("--compare", action="append", default=[], metavar="NAME=DIR",
                    help="time already exported folders instead of exporting (the first is the baseline)")
    ap.add_argument("--batch", type=int, nargs="+", default=[1, 8])
    ap.add_argument("--seq", type=int, default=128)
    ap.add_argument("--rounds", type=int, default=16)
    ap.add_argument("--per-round", type=int, default=3)
    ap.add_argument("--opset", type=int, default=17)
    ap.add_argument("--work", default=os.path.join(tempfile.gettempdir(), "onnx-export-bench"))
    ap.add_argument("--bin", default=os.path.join(ROOT, ".build", "release", "onnx-export"))
    args = ap.parse_args()

    if args.compare:
        jobs = [("models", {n: model_file(d) for n, d in (c.split("=", 1) for c in args.compare)})]
    else:
        jobs = [(m, export_all(m, args.work, args)) for m in args.models]
    rows = []
    for model, paths in jobs:
        counts = {name: node_count(p) for name, p in paths.items()}
        baseline = next(iter(paths))
        for batch in args.batch:
            timed = time_variants(paths, batch, args.seq, args.rounds, args.per_round)
            for name in paths:
                median, rounds_of = timed[name]
                ratio, q1, q3 = paired_ratio(rounds_of, timed[baseline][1])
                rows.append({"model": model, "task": TASKS.get(model, ""), "variant": name, "batch": batch, "seq": args.seq,
                             "median_ms": round(median, 2), "vs_ours": round(ratio, 3),
                             "vs_ours_q1": round(q1, 3), "vs_ours_q3": round(q3, 3), "nodes": counts[name]})
                r = rows[-1]
                print(f"{model:10s} {name:11s} batch {batch:2d} seq {args.seq}: {r['median_ms']:9.2f} ms "
                      f"({ratio:.3f}x {baseline}, quartiles {q1:.3f}-{q3:.3f} over {args.rounds} rounds), "
                      f"{r['nodes']} nodes", flush=True)
    os.makedirs(os.path.join(HERE, "results"), exist_ok=True)
    with open(os.path.join(HERE, "results", "inference.json"), "w") as fh:
        json.dump({"onnxruntime": ort.__version__, "threads": 2, "rows": rows}, fh, indent=2)


if __name__ == "__main__":
    main()
