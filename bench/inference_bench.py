#!/usr/bin/env python3
"""Inference latency in onnxruntime (CPU, 2 intra-op threads) of our export against the optimum
exporter's, plain and with `--optimize O2`, measured in the same run.

    python bench/inference_bench.py [--optimum-cli PATH] [--models bert-base gpt2] [--batch 1 8] [--seq 128]

For each model it makes a random-weight checkpoint of the real size (make_checkpoint.py), exports
it with onnx-export and, when --optimum-cli is given, with `optimum-cli export onnx` plain and
with `--optimize O2`; then it times each model.onnx. bert-base runs feature-extraction over
--seq tokens; gpt2 runs text-generation-with-past for one new token after a past of --seq tokens.
Each variant runs in a worker process of its own, and each of --trials trials starts fresh
workers, so every variant is timed over several placements of its buffers in memory (which moved
a whole model's GEMMs by a few percent when two sessions shared one process). Within a trial the
variants are timed in turns (order reversed every other round, a pause and an untimed run at each
switch), so machine noise falls on all of them alike. Prints median latencies, the ratio to ours
(paired round by round within a trial; median and quartiles over trials), node counts, and writes
bench/results/inference.json.

`--compare NAME=DIR` (repeatable) times already exported folders instead; the first is the baseline.
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


def worker(path, batch, seq):
    """One variant in its own process: loads the model, says `ready <ms of one run>`, then for each
    line `N` on stdin runs once untimed and N times timed, and answers with the N latencies (ms)."""
    s = session(path)
    inputs = feeds(s, batch, seq)
    s.run(None, inputs)
    start = time.perf_counter()
    s.run(None, inputs)
    print(f"ready {(time.perf_counter() - start) * 1000:.3f}", flush=True)
    for line in sys.stdin:
        s.run(None, inputs)
        latencies = []
        for _ in range(int(line)):
            start = time.perf_counter()
            s.run(None, inputs)
            latencies.append((time.perf_counter() - start) * 1000)
        print(" ".join(f"{x:.3f}" for x in latencies), flush=True)


def start_workers(paths, batch, seq):
    workers = {}
    for name, path in paths.items():
        w = subprocess.Popen([sys.executable, os.path.abspath(__file__), "--worker", path, str(batch), str(seq)],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        ready = w.stdout.readline().split()
        if not ready or ready[0] != "ready":
            raise SystemExit(f"{name}: the worker for {path} did not start")
        workers[name] = (w, float(ready[1]))
    return workers


def time_variants(paths, batch, seq, trials, rounds, round_seconds):
    """Latency per variant. Each variant runs in a process of its own (sessions sharing a process
    share its heap, and where one session's buffers land moved the other's GEMMs by a few
    percent); every trial starts fresh processes, in alternating creation order, so each variant
    is measured over several placements of its buffers, not one. Within a trial the variants are
    timed in turns, order reversed every other round, a pause and an untimed run at each switch
    (the previous variant's worker threads spin for a while after its last run).

    Returns name -> (median ms over all runs, [per-trial median of the round-by-round ratio to the
    first variant]); a slow spell of the shared machine falls on both sides of a ratio."""
    names = list(paths)
    baseline = names[0]
    ratios = {name: [] for name in names}
    latencies = {name: [] for name in names}
    for trial in range(trials):
        order = names if trial % 2 == 0 else names[::-1]
        workers = start_workers({name: paths[name] for name in order}, batch, seq)
        per_round = max(2, round(round_seconds * 1000 / workers[baseline][1]))
        medians = {name: [] for name in names}
        for r in range(rounds):
            for name in (order if r % 2 == 0 else order[::-1]):
                w = workers[name][0]
                time.sleep(0.05)
                w.stdin.write(f"{per_round}\n")
                w.stdin.flush()
                this_round = [float(x) for x in w.stdout.readline().split()]
                if not this_round:
                    raise SystemExit(f"{name}: its worker process ended (exit status {w.wait()})")
                latencies[name] += this_round
                medians[name].append(statistics.median(this_round))
        for w, _ in workers.values():
            w.stdin.close()
            w.wait()
        for name in names:
            ratios[name].append(statistics.median(v / b for v, b in zip(medians[name], medians[baseline])))
    return {name: (statistics.median(latencies[name]), ratios[name]) for name in names}


def spread(ratios):
    """Median and quartiles of per-trial ratios (smallest and largest under four trials)."""
    ratios = sorted(ratios)
    if len(ratios) < 4:
        return statistics.median(ratios), ratios[0], ratios[-1]
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
    ap.add_argument("--trials", type=int, default=6, help="fresh worker processes per variant (placements sampled)")
    ap.add_argument("--rounds", type=int, default=5, help="interleaved rounds per trial")
    ap.add_argument("--round-seconds", type=float, default=0.6, help="timed runs per round: about this long (at least 2)")
    ap.add_argument("--opset", type=int, default=17)
    ap.add_argument("--work", default=os.path.join(tempfile.gettempdir(), "onnx-export-bench"))
    ap.add_argument("--bin", default=os.path.join(ROOT, ".build", "release", "onnx-export"))
    args = ap.parse_args()
    if args.trials < 1 or args.rounds < 1:
        raise SystemExit("--trials and --rounds must be at least 1")

    if args.compare:
        jobs = [("models", {n: model_file(d) for n, d in (c.split("=", 1) for c in args.compare)})]
    else:
        jobs = [(m, export_all(m, args.work, args)) for m in args.models]
    rows = []
    for model, paths in jobs:
        counts = {name: node_count(p) for name, p in paths.items()}
        baseline = next(iter(paths))
        for batch in args.batch:
            timed = time_variants(paths, batch, args.seq, args.trials, args.rounds, args.round_seconds)
            for name in paths:
                median, trial_ratios = timed[name]
                ratio, q1, q3 = spread(trial_ratios)
                rows.append({"model": model, "task": TASKS.get(model, ""), "variant": name, "batch": batch, "seq": args.seq,
                             "median_ms": round(median, 2), "vs_ours": round(ratio, 3),
                             "vs_ours_q1": round(q1, 3), "vs_ours_q3": round(q3, 3), "nodes": counts[name]})
                r = rows[-1]
                print(f"{model:10s} {name:11s} batch {batch:2d} seq {args.seq}: {r['median_ms']:9.2f} ms "
                      f"({ratio:.3f}x {baseline}, {'quartiles' if args.trials >= 4 else 'range'} {q1:.3f}-{q3:.3f} over {args.trials} trials), "
                      f"{r['nodes']} nodes", flush=True)
    os.makedirs(os.path.join(HERE, "results"), exist_ok=True)
    with open(os.path.join(HERE, "results", "inference.json"), "w") as fh:
        json.dump({"onnxruntime": ort.__version__, "threads": 2, "trials": args.trials, "rounds": args.rounds,
                   "rows": rows}, fh, indent=2)


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "--worker":
        worker(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
    else:
        main()
