#!/usr/bin/env python3
"""Decode speed, export cost and quantization error of onnx-export's LLM folders against
onnxruntime-genai's model builder, on the same checkpoint, measured in one run.

    python bench/decode_bench.py [--model llama-155m] [--builder-python PATH] [--pasts 128 1024]
                                 [--tokens 32] [--rounds 3] [--targets portable onnxruntime]

Makes the checkpoint (make_checkpoint.py) with a word-level tokenizer of its vocabulary size
(the builder insists on one), exports it with onnx-export (float32, int8, int4; `--genai`; once
per `--targets` value) and, when --builder-python names a Python with onnxruntime-genai, torch
and transformers, with the builder (fp32, int8, int4 at the same block size), timing each
export and its peak RSS. Then:
- decode: every folder in onnxruntime-genai's generator (greedy), after a prompt of each past
  length, ms per token over --tokens tokens; our folders also in a plain onnxruntime loop
  (IOBinding: presents stay onnxruntime values and feed the next step, as genai does). Each
  measurement runs in a fresh worker process, and the variants alternate within every round.
- accuracy: logits of one 128-token teacher-forced sequence (no cache) from every other
  folder against our float32 export: worst absolute error over the logits' scale, mean absolute
  error, and how often the arg-max agrees.
Writes bench/results/decode-<model>.json and prints the tables.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
from export_bench import timed  # noqa: E402

PRECISIONS = ("fp32", "int8", "int4")


def write_tokenizer(checkpoint):
    """A word-level tokenizer.json covering the vocabulary (ids only matter here) and a
    generation_config.json, unless the checkpoint has its own."""
    config = json.load(open(os.path.join(checkpoint, "config.json")))
    if not os.path.exists(os.path.join(checkpoint, "tokenizer.json")):
        specials = {0: "<unk>", 1: "<s>", 2: "</s>"}
        vocab = {specials.get(i, f"w{i}"): i for i in range(config["vocab_size"])}
        tokenizer = {"version": "1.0", "truncation": None, "padding": None, "normalizer": None,
                     "pre_tokenizer": {"type": "WhitespaceSplit"}, "post_processor": None, "decoder": None,
                     "added_tokens": [{"id": i, "content": c, "single_word": False, "lstrip": False, "rstrip": False,
                                       "normalized": False, "special": True} for i, c in specials.items()],
                     "model": {"type": "WordLevel", "vocab": vocab, "unk_token": "<unk>"}}
        json.dump(tokenizer, open(os.path.join(checkpoint, "tokenizer.json"), "w"))
        json.dump({"tokenizer_class": "PreTrainedTokenizerFast", "bos_token": "<s>", "eos_token": "</s>",
                   "unk_token": "<unk>", "model_max_length": config.get("max_position_embeddings", 2048)},
                  open(os.path.join(checkpoint, "tokenizer_config.json"), "w"))
    if not os.path.exists(os.path.join(checkpoint, "generation_config.json")):
        json.dump({"bos_token_id": config.get("bos_token_id", 1), "eos_token_id": config.get("eos_token_id", 2),
                   "do_sample": False}, open(os.path.join(checkpoint, "generation_config.json"), "w"))


def export_commands(args, checkpoint, work):
    """(label, output folder, command) of every export to time."""
    jobs = []
    for target in args.targets:
        for precision in PRECISIONS:
            label = f"ours {target} {precision}"
            out = os.path.join(work, f"ours-{target}-{precision}")
            cmd = [args.bin, "--model", checkpoint, "--task", "text-generation-with-past", "--genai", "--force",
                   "--target", target, out]
            if precision != "fp32":
                cmd[1:1] = ["--quantize", precision, "--block-size", str(args.block_size)]
            jobs.append((label, out, cmd))
    if args.builder_python:
        for precision in PRECISIONS:
            out = os.path.join(work, f"builder-{precision}")
            cmd = [args.builder_python, "-m", "onnxruntime_genai.models.builder", "-i", checkpoint, "-o", out,
                   "-p", precision, "-e", "cpu", "-c", os.path.join(work, "builder-cache"),
                   "--extra_options", f"int4_block_size={args.block_size}"]
            jobs.append((f"builder {precision}", out, cmd))
    return jobs


def worker(mode, folder, past, tokens):
    """Runs in a fresh process: ms per generated token after a `past`-token prompt."""
    import numpy as np
    prompt = (np.arange(past) * 7919 % 30000 + 3).astype(np.int32)
    times = []
    if mode == "genai":
        import onnxruntime_genai as og
        model = og.Model(folder)
        params = og.GeneratorParams(model)
        params.set_search_options(max_length=past + tokens + 1, do_sample=False)
        generator = og.Generator(model, params)
        generator.append_tokens(prompt)
        for _ in range(tokens):
            start = time.perf_counter()
            generator.generate_next_token()
            times.append(time.perf_counter() - start)
    else:
        import onnxruntime as ort
        session = ort.InferenceSession(os.path.join(folder, "model.onnx"), providers=["CPUExecutionProvider"])
        names = [i.name for i in session.get_inputs()]
        pasts = [n for n in names if n.startswith("past_key_values.")]
        config = json.load(open(os.path.join(folder, "genai_config.json")))["model"]["decoder"]
        kv, head = config["num_key_value_heads"], config["head_size"]
        state = {n: ort.OrtValue.ortvalue_from_numpy(np.zeros((1, kv, 0, head), np.float32)) for n in pasts}
        ids = prompt.astype(np.int64)[None]
        outputs = [o.name for o in session.get_outputs()]
        for step in range(tokens + 1):
            start = time.perf_counter()
            binding = session.io_binding()
            length = state[pasts[0]].shape()[2] + ids.shape[1]
            feeds = {"input_ids": ids, "attention_mask": np.ones((1, length), np.int64),
                     "position_ids": np.arange(length - ids.shape[1], length, dtype=np.int64)[None]}
            for name, value in feeds.items():
                if name in names:
                    binding.bind_cpu_input(name, value)
            for name in pasts:
                binding.bind_ortvalue_input(name, state[name])
            for name in outputs:
                binding.bind_output(name, "cpu")
            session.run_with_iobinding(binding)
            values = dict(zip(outputs, binding.get_outputs()))
            state = {n: values[n.replace("past_key_values.", "present.")] for n in pasts}
            ids = np.array([[int(np.argmax(values["logits"].numpy()[0, -1]))]], np.int64)
            if step:  # step 0 is the prompt
                times.append(time.perf_counter() - start)
    return [t * 1000 for t in times]


def teacher_forced_logits(folder, ids):
    """Logits of the whole sequence in one run with empty pasts, through onnxruntime."""
    import numpy as np
    import onnxruntime as ort
    session = ort.InferenceSession(os.path.join(folder, "model.onnx"), providers=["CPUExecutionProvider"])
    config = json.load(open(os.path.join(folder, "genai_config.json")))["model"]["decoder"]
    empty = np.zeros((1, config["num_key_value_heads"], 0, config["head_size"]), np.float32)
    given = {"input_ids": ids, "attention_mask": np.ones_like(ids), "position_ids": np.arange(ids.shape[1], dtype=np.int64)[None]}
    feeds = {value.name: given.get(value.name, empty) for value in session.get_inputs()}
    return session.run(["logits"], feeds)[0][0]


def accuracy(folders, reference):
    import numpy as np
    ids = (np.arange(128) * 104729 % 30000 + 3).astype(np.int64)[None]
    base = teacher_forced_logits(reference, ids)
    scale = float(np.abs(base).max())
    rows = {}
    for label, folder in folders.items():
        logits = teacher_forced_logits(folder, ids)
        error = np.abs(logits - base)
        rows[label] = {"max_error_of_scale": float(error.max()) / scale, "mean_abs_error": float(error.mean()),
                       "argmax_agreement": float((logits.argmax(-1) == base.argmax(-1)).mean())}
    return {"logit_scale": scale, "rows": rows}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default="llama-155m")
    ap.add_argument("--work", default="/tmp/onnx-export-bench")
    ap.add_argument("--bin", default=os.path.join(ROOT, ".build", "release", "onnx-export"))
    ap.add_argument("--builder-python", help="Python with onnxruntime-genai, torch and transformers (the builder)")
    ap.add_argument("--targets", nargs="+", default=["portable", "onnxruntime"])
    ap.add_argument("--block-size", type=int, default=32)
    ap.add_argument("--pasts", type=int, nargs="+", default=[128, 1024])
    ap.add_argument("--tokens", type=int, default=32)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--worker", nargs=4, metavar=("MODE", "FOLDER", "PAST", "TOKENS"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        mode, folder, past, tokens = args.worker
        print(json.dumps(worker(mode, folder, int(past), int(tokens))))
        return

    checkpoint = os.path.join(args.work, args.model)
    if not os.path.exists(os.path.join(checkpoint, "config.json")):
        subprocess.run([sys.executable, os.path.join(HERE, "make_checkpoint.py"), args.model, checkpoint], check=True)
    write_tokenizer(checkpoint)
    work = os.path.join(args.work, f"decode-{args.model}")
    os.makedirs(work, exist_ok=True)

    exports, folders = {}, {}
    for label, out, cmd in export_commands(args, checkpoint, work):
        seconds, rss = timed(cmd, quiet=label.startswith("builder"))  # the builder logs every tensor
        exports[label] = {"seconds": seconds, "peak_rss_mb": rss}
        folders[label] = out
        print(f"export {label}: {seconds:.2f} s, {rss:.0f} MB", flush=True)

    variants = [(label, "genai") for label in folders] + [(label, "ort") for label in folders if label.startswith("ours")]
    samples = {(label, mode, past): [] for label, mode in variants for past in args.pasts}
    for round_ in range(args.rounds):
        for past in args.pasts:
            for label, mode in variants:
                out = subprocess.run([sys.executable, __file__, "--worker", mode, folders[label], str(past), str(args.tokens)],
                                     check=True, capture_output=True, text=True).stdout
                samples[(label, mode, past)] += json.loads(out.strip().splitlines()[-1])
        print(f"round {round_ + 1} of {args.rounds} done", flush=True)

    def quartiles(values):
        q = statistics.quantiles(values, n=4)
        return {"median": statistics.median(values), "q1": q[0], "q3": q[2]}

    decode = {f"{label} | {mode} | past {past}": quartiles(values) for (label, mode, past), values in samples.items()}
    reference = folders[f"ours {args.targets[0]} fp32"]
    others = {label: folder for label, folder in folders.items() if folder != reference}
    result = {"model": args.model, "block_size": args.block_size, "tokens": args.tokens, "rounds": args.rounds,
              "exports": exports, "decode_ms_per_token": decode, "accuracy": accuracy(others, reference)}
    os.makedirs(os.path.join(HERE, "results"), exist_ok=True)
    with open(os.path.join(HERE, "results", f"decode-{args.model}.json"), "w") as f:
        json.dump(result, f, indent=2)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
