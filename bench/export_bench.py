#!/usr/bin/env python3
"""Export time and peak memory against `cp` of the same weights, timed alternately in the same
run (this machine is shared and noisy, so only same-moment ratios mean anything).

    python bench/export_bench.py [--model bert-base] [--runs 5] [--task feature-extraction] [--dtype fp32]
                                 [--weights pytorch_model.bin]
                                 [--quantize int4|int8 [--block-size 32]]
                                 [--optimum-cli PATH [--optimum-runs 1]]

Makes the checkpoint with make_checkpoint.py if it is missing, warms the page cache, runs one
untimed round, then alternates `cp` and `onnx-export` under /usr/bin/time, flushing dirty pages
before each; the optimum exporter, when given, runs --optimum-runs times after them. Then loads the last export in onnxruntime and runs it once
(ort_smoke.py; an encoder-decoder's files: encoder, first and cached decoder steps). Prints medians and writes bench/results/export-<model>[-<dtype>].json.
"""
import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
from ort_smoke import smoke  # noqa: E402


def timed(cmd, quiet=False):
    """Runs cmd under /usr/bin/time; returns (wall seconds, peak RSS in MB). Dirty pages left by the
    previous command are flushed first, so every command starts from the same page-cache state
    (otherwise whichever runs next pays for the last one's writeback through dirty throttling)."""
    os.sync()
    with tempfile.NamedTemporaryFile("r") as report:
        subprocess.run(["/usr/bin/time", "-f", "%e %M", "-o", report.name] + cmd, check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL if quiet else None)
        wall, rss_kb = report.read().split()[-2:]
    return float(wall), int(rss_kb) / 1024


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default="bert-base")
    ap.add_argument("--task", default="feature-extraction")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--work", default=os.path.join(tempfile.gettempdir(), "onnx-export-bench"))
    ap.add_argument("--bin", default=os.path.join(ROOT, ".build", "release", "onnx-export"))
    ap.add_argument("--optimum-cli", help="path of optimum-cli (in its own venv) to time the optimum exporter too")
    ap.add_argument("--optimum-runs", type=int, default=1, help="rounds that also time the optimum exporter")
    ap.add_argument("--opset", type=int, default=17)
    ap.add_argument("--dtype", default="fp32", help="onnx-export --dtype (fp32, fp16, bf16)")
    ap.add_argument("--quantize", help="onnx-export --quantize (int4, int8)")
    ap.add_argument("--block-size", type=int, default=32, help="onnx-export --block-size, with --quantize")
    ap.add_argument("--weights", default="model.safetensors",
                    help="the weights file of <work>/<model> that cp copies: model.safetensors (made by make_checkpoint.py"
                         " when missing) or a pytorch_model.bin made beforehand, e.g. torch.save(safetensors.torch."
                         "load_file(<safetensors checkpoint>), <work>/<model>/pytorch_model.bin) beside a copy of its config.json")
    args = ap.parse_args()

    ckpt = os.path.join(args.work, args.model)
    weights = os.path.join(ckpt, args.weights)
    if not os.path.exists(weights) and args.weights == "model.safetensors":
        subprocess.run([sys.executable, os.path.join(HERE, "make_checkpoint.py"), args.model, ckpt], check=True)
    out = os.path.join(args.work, "out")
    copy = os.path.join(args.work, "copy-" + args.weights)
    subprocess.run(["cat", weights], stdout=subprocess.DEVNULL, check=True)  # warm the page cache

    def copy_once():
        if os.path.exists(copy):
            os.remove(copy)
        return timed(["cp", weights, copy])

    def export_once():
        shutil.rmtree(out, ignore_errors=True)
        quantize = ["--quantize", args.quantize, "--block-size", str(args.block_size)] if args.quantize else []
        return timed([args.bin, "--model", ckpt, "--task", args.task, "--opset", str(args.opset), "--dtype", args.dtype, *quantize, out])

    # One untimed round of each first (a fresh output file system state, the binary in the cache),
    # then timed rounds that alternate the two.
    copy_once(), export_once()
    cp_runs, export_runs, optimum_runs = [], [], []
    for _ in range(args.runs):
        cp_runs.append(copy_once())
        export_runs.append(export_once())
    # The optimum exporter last: its gigabytes of RSS would evict the page cache between our rounds.
    for _ in range(args.optimum_runs if args.optimum_cli else 0):
        optimum_out = os.path.join(args.work, "optimum-out")
        shutil.rmtree(optimum_out, ignore_errors=True)
        optimum_runs.append(timed([args.optimum_cli, "export", "onnx", "-m", ckpt, "--task", args.task,
                                   "--opset", str(args.opset), optimum_out]))
        shutil.rmtree(optimum_out, ignore_errors=True)
    os.remove(copy)

    weights_mb = os.path.getsize(weights) / 1e6
    # Every graph and its external data: model.onnx[_data], or an encoder-decoder's encoder_model.onnx,
    # decoder_model.onnx, decoder_with_past_model.onnx, decoder_model_merged.onnx (and their _data).
    model_mb = sum(os.path.getsize(os.path.join(out, f)) for f in os.listdir(out) if ".onnx" in f) / 1e6
    cp_t = statistics.median(r[0] for r in cp_runs)
    ex_t = statistics.median(r[0] for r in export_runs)
    ex_rss = max(r[1] for r in export_runs)
    check = smoke(out)
    result = {
        "model": args.model, "task": args.task, "dtype": args.dtype, "quantize": args.quantize, "onnxruntime": check, "weights_mb": round(weights_mb, 1), "output_mb": round(model_mb, 1),
        "output_over_weights": round(model_mb / weights_mb, 4),
        "cp_seconds": cp_t, "export_seconds": ex_t, "export_over_cp": round(ex_t / cp_t, 2) if cp_t else None,
        "budget_seconds": round(1.5 * cp_t + 1, 2), "export_peak_rss_mb": round(ex_rss, 1),
        "cp_runs": cp_runs, "export_runs": export_runs,
    }
    if optimum_runs:
        result["optimum_seconds"] = statistics.median(r[0] for r in optimum_runs)
        result["optimum_peak_rss_mb"] = round(max(r[1] for r in optimum_runs), 1)
        result["optimum_over_ours"] = round(result["optimum_seconds"] / ex_t, 1)
        result["optimum_runs"] = optimum_runs
    print(f"{args.model}: weights {weights_mb:.0f} MB, output {model_mb:.0f} MB")
    print(f"  cp      median {cp_t:.2f} s")
    print(f"  export  median {ex_t:.2f} s  (budget 1.5 x cp + 1 s = {1.5 * cp_t + 1:.2f} s), peak RSS {ex_rss:.0f} MB")
    if "checked_by" in check:
        print(f"  checked by {check['checked_by']}")
    else:
        print(f"  onnxruntime loaded it in {check['load_seconds']:.2f} s and ran it: {check['first_output']} {check['shape']}, "
              f"finite={check['finite']}")
    if optimum_runs:
        print(f"  optimum median {result['optimum_seconds']:.2f} s, peak RSS {result['optimum_peak_rss_mb']:.0f} MB "
              f"({result['optimum_over_ours']}x our time)")
    os.makedirs(os.path.join(HERE, "results"), exist_ok=True)
    suffix = ("" if args.dtype == "fp32" else f"-{args.dtype}") + (f"-{args.quantize}" if args.quantize else "")
    with open(os.path.join(HERE, "results", f"export-{args.model}{suffix}.json"), "w") as f:
        json.dump(result, f, indent=2)


if __name__ == "__main__":
    main()
