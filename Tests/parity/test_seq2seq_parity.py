"""Encoder-decoder parity: every seq2seq fixture x task x opset is exported by the CLI, every file checked by
onnx, run by onnxruntime, and compared with what PyTorch computed (Tests/Fixtures/seq2seq/*/reference.npz, made
by Tests/Fixtures/make_seq2seq_fixtures.py).

Ids read ``<variant>/<task>/op<N>``, e.g. ``pytest Tests/parity -k "t5-v1_1/text2text-generation-with-past/op17"``.

The files and their contract (optimum's names; see Sources/Frontends/Tasks/Seq2SeqTaskGraph.swift):

* ``feature-extraction``: ``model.onnx``, the encoder.
* ``text2text-generation``: ``encoder_model.onnx`` and ``decoder_model.onnx``.
* ``text2text-generation-with-past``: those, ``decoder_with_past_model.onnx`` and ``decoder_model_merged.onnx``.

Checks, after onnx.checker (full) and the declared names, types and axes of every file:

1. the encoder's ``last_hidden_state`` at every position (the padded row's padded positions too);
2. ``decoder_model`` on the whole teacher-forced decoder sequence: logits at every position;
3. the step loop under teacher forcing: ``decoder_model`` on the start token, then ``decoder_with_past_model`` on
   one token at a time with the previous presents (and the first step's cross-attention cache), each step's
   logits against the full forward pass; then the same loop on ``decoder_model_merged`` (``use_cache_branch``
   false with empty pasts, then true);
4. a greedy loop on onnxruntime's own argmax (with the cache, and on the merged file; without a cache the whole
   sequence is re-run each step) must produce transformers' ``generate()`` tokens, and each step's logits must
   match generate's;
5. every weight is stored once: the decoder files name their tensors in one shared ``model.onnx_data``, and the
   distinct tensors there add up to no more than the checkpoint's weights.
"""

from __future__ import annotations

import json
import struct

import numpy as np
import onnx
import pytest

from bounds import max_abs_diff, tolerance_for
from harness import (FIXTURES, Fixture, check_exported_model, discover_seq2seq_fixtures, export_or_fail, newest_opset, opsets,
                     ort_session, run_cli)

TASKS = ("text2text-generation-with-past", "text2text-generation", "feature-extraction")
FILES = {
    "feature-extraction": ["model.onnx"],
    "text2text-generation": ["encoder_model.onnx", "decoder_model.onnx"],
    "text2text-generation-with-past": ["encoder_model.onnx", "decoder_model.onnx", "decoder_with_past_model.onnx",
                                       "decoder_model_merged.onnx"],
}
B, ENC, DEC, PAST = "batch_size", "encoder_sequence_length", "decoder_sequence_length", "past_decoder_sequence_length"


def _matrix():
    for fx in discover_seq2seq_fixtures():
        for task in TASKS:
            for op in opsets():
                yield pytest.param(fx, task, op, id=f"{fx.variant}/{task}/op{op}")


def contract(fx: Fixture, file: str) -> tuple[dict, dict[str, int]]:
    """The io dict check_exported_model takes for one file, and the element types of its float/bool inputs."""
    d = fx.meta["dims"]
    heads, size, layers = d["num_heads"], d["d_kv"], d["num_decoder_layers"]
    if file in ("model.onnx", "encoder_model.onnx"):
        io = {"inputs": ["input_ids", "attention_mask"], "outputs": ["last_hidden_state"],
              "input_axes": {"input_ids": [B, ENC], "attention_mask": [B, ENC]},
              "output_axes": {"last_hidden_state": [B, ENC, d["d_model"]]}}
        return io, {}
    with_past = file == "decoder_with_past_model.onnx"
    merged = file == "decoder_model_merged.onnx"
    inputs = ["encoder_attention_mask", "input_ids"]
    axes = {"encoder_attention_mask": [B, ENC], "input_ids": [B, DEC]}
    types: dict[str, int] = {}
    if not with_past:
        inputs.append("encoder_hidden_states")
        axes["encoder_hidden_states"] = [B, ENC, d["d_model"]]
        types["encoder_hidden_states"] = onnx.TensorProto.FLOAT
    outputs = ["logits"]
    out_axes = {"logits": [B, DEC, d["vocab_size"]]}
    present_len = f"{DEC} + {PAST}" if (with_past or merged) else DEC
    for i in range(layers):
        for kind in ("decoder", "encoder"):
            for part in ("key", "value"):
                past = f"past_key_values.{i}.{kind}.{part}"
                if with_past or merged:
                    inputs.append(past)
                    axes[past] = [B, heads, PAST if kind == "decoder" else ENC, size]
                    types[past] = onnx.TensorProto.FLOAT
                if kind == "encoder" and with_past:
                    continue
                present = f"present.{i}.{kind}.{part}"
                outputs.append(present)
                out_axes[present] = [B, heads, present_len if kind == "decoder" else ENC, size]
    if merged:
        inputs.append("use_cache_branch")
        axes["use_cache_branch"] = [1]
        types["use_cache_branch"] = onnx.TensorProto.BOOL
    return {"inputs": inputs, "outputs": outputs, "input_axes": axes, "output_axes": out_axes}, types


class Check:
    """Records max |diff| per output and a problem per breach; with ``relative_bound`` (reduced-precision exports,
    test_precision.py) the measure is max |diff| / max |reference| against that bound."""

    def __init__(self, fx: Fixture, task: str, opset: int, results, problems: list[str], relative_bound: float | None = None):
        self.fx, self.task, self.opset, self.results, self.problems = fx, task, opset, results, problems
        self.relative_bound = relative_bound

    def compare(self, label: str, record_as: str, got: np.ndarray, want: np.ndarray, where=None) -> None:
        if got.shape != want.shape:
            self.problems.append(f"{label}: shape {got.shape}, expected {want.shape}")
            return
        d = max_abs_diff(got.astype(np.float32), want, where)
        if self.relative_bound is not None:
            d, bound = d / max(float(np.abs(want).max()), 1e-30), self.relative_bound
        else:
            bound = tolerance_for(want, where)
        self.results.diff(self.fx, self.opset, record_as, d, self.task)
        if not d <= bound:
            self.problems.append(f"{label}: max |diff|{' / max |reference|' if self.relative_bound else ''} {d:.3g} > {bound:.3g}")

    def tokens(self, label: str, got: np.ndarray, want: np.ndarray) -> None:
        if got.shape != want.shape or not np.array_equal(got, want):
            self.problems.append(f"{label}: onnxruntime's greedy tokens {got.tolist()} != transformers' {want.tolist()}")


def empty_pasts(fx: Fixture, batch: int, dtype=np.float32) -> dict[str, np.ndarray]:
    d = fx.meta["dims"]
    shape = (batch, d["num_heads"], 0, d["d_kv"])
    return {f"past_key_values.{i}.{kind}.{part}": np.zeros(shape, dtype)
            for i in range(d["num_decoder_layers"]) for kind in ("decoder", "encoder") for part in ("key", "value")}


def step_loop(sessions: dict, fx: Fixture, check: Check, encoded: np.ndarray, teacher_forcing: bool, merged: bool,
              cache_dtype=np.float32) -> np.ndarray:
    """Decode with the cache: the first step on the start token, later steps one token each. Returns the tokens
    onnxruntime's argmax picked."""
    ref = fx.reference
    mask = ref["encoder.attention_mask"]
    forced = ref["decoder.input_ids"]
    steps = forced.shape[1] if teacher_forcing else fx.meta["generation"]["new_tokens"]
    first = sessions["decoder_model_merged.onnx" if merged else "decoder_model.onnx"]
    later = sessions["decoder_model_merged.onnx" if merged else "decoder_with_past_model.onnx"]
    label = ("merged " if merged else "") + ("teacher-forced" if teacher_forcing else "greedy")
    ids = forced[:, :1]
    picked, pasts = [], {}
    for k in range(steps):
        session = first if k == 0 else later
        feeds = {"encoder_attention_mask": mask, "input_ids": ids}
        if k == 0 or merged:
            feeds["encoder_hidden_states"] = encoded
        if merged:
            feeds.update(empty_pasts(fx, ids.shape[0], cache_dtype) if k == 0 else pasts)
            feeds["use_cache_branch"] = np.array([k > 0])
        elif k > 0:
            feeds.update(pasts)
        names = [o.name for o in session.get_outputs()]
        outs = dict(zip(names, session.run(None, feeds)))
        logits = outs["logits"][:, -1]
        if teacher_forcing:
            check.compare(f"{label} step {k}: logits vs the full forward pass", "steps.logits", logits, ref["decoder.logits"][:, k])
        else:
            check.compare(f"{label} step {k}: logits vs generate's", "steps.logits", logits, ref[f"steps.logits.{k}"])
        for name, value in outs.items():
            if name.startswith("present.") and ".decoder." in name:
                want = (ids.shape[0], fx.meta["dims"]["num_heads"], k + 1, fx.meta["dims"]["d_kv"])
                if value.shape != want:
                    check.problems.append(f"{label} step {k}: {name} has shape {value.shape}, expected {want}")
                    return np.array(picked, np.int64).T
        nxt = logits.argmax(-1).astype(np.int64)
        picked.append(nxt)
        # Keep the first step's cross-attention cache; take every step's self-attention presents.
        for name, value in outs.items():
            if name.startswith("present.") and (".decoder." in name or k == 0):
                pasts[name.replace("present.", "past_key_values.")] = value
        ids = (forced[:, k + 1:k + 2] if teacher_forcing and k + 1 < forced.shape[1] else nxt[:, None])
    return np.stack(picked, axis=1)


def greedy_without_cache(session, fx: Fixture, check: Check, encoded: np.ndarray) -> np.ndarray:
    ref = fx.reference
    sequence = ref["generated"][:, :1]
    for k in range(fx.meta["generation"]["new_tokens"]):
        (logits,) = session.run(["logits"], {"encoder_attention_mask": ref["encoder.attention_mask"], "input_ids": sequence,
                                             "encoder_hidden_states": encoded})
        check.compare(f"no-cache step {k}: logits vs generate's", "steps.logits", logits[:, -1], ref[f"steps.logits.{k}"])
        sequence = np.concatenate([sequence, logits[:, -1].argmax(-1)[:, None].astype(np.int64)], axis=1)
    return sequence[:, 1:]


def check_weights_stored_once(out_dir, files: list[str], fx: Fixture, check: Check) -> None:
    """Every external tensor of every file lies in model.onnx_data; each checkpoint tensor the files name is at one
    place there, and those places add up to no more than the checkpoint's tensor bytes (a weight written twice
    would pass them)."""
    raw = (fx.dir / "model.safetensors").read_bytes()
    header = json.loads(raw[8:8 + struct.unpack("<Q", raw[:8])[0]])
    checkpoint = {k: v["data_offsets"][1] - v["data_offsets"][0] for k, v in header.items() if k != "__metadata__"}
    places: dict[str, set] = {}
    locations = set()
    for name in files:
        model = onnx.load(str(out_dir / name), load_external_data=False)
        for t in model.graph.initializer:
            if t.data_location == onnx.TensorProto.EXTERNAL:
                info = {e.key: e.value for e in t.external_data}
                locations.add(info["location"])
                if t.name in checkpoint:
                    places.setdefault(t.name, set()).add((int(info.get("offset", 0)), int(info["length"])))
    if locations - {"model.onnx_data"}:
        check.problems.append(f"external data in {sorted(locations)}, expected only model.onnx_data")
    twice = sorted(n for n, p in places.items() if len(p) > 1)
    if twice:
        check.problems.append(f"weights stored more than once: {twice}")
    stored = sum(length for p in places.values() for _, length in p)
    if stored > sum(checkpoint.values()):
        check.problems.append(f"the files store {stored} bytes of checkpoint tensors, more than the checkpoint's {sum(checkpoint.values())}")


@pytest.mark.parametrize("fx,task,opset", list(_matrix()))
def test_seq2seq_parity(fx: Fixture, task: str, opset: int, exporter, results):
    res = export_or_fail(exporter, results, fx, opset, task)
    entry = results.entry(fx, opset, task)
    files = FILES[task]
    missing = [f for f in files if not (res.out_dir / f).is_file()]
    if missing:
        pytest.fail(f"export exited 0 but {missing} are missing; the folder holds {sorted(p.name for p in res.out_dir.iterdir())}",
                    pytrace=False)

    problems: list[str] = []
    check = Check(fx, task, opset, results, problems)
    runnable = True
    for name in files:
        io, types = contract(fx, name)
        file_problems: list[str] = []
        _, ok = check_exported_model(res.out_dir / name, opset, io, file_problems, input_types=types)
        problems += [f"{name}: {p}" for p in file_problems]
        runnable &= ok
    if runnable:
        ref = fx.reference
        try:
            sessions = {name: ort_session(res.out_dir / name) for name in files}
            encoder = sessions[files[0]]
            (encoded,) = encoder.run(["last_hidden_state"], {"input_ids": ref["encoder.input_ids"],
                                                            "attention_mask": ref["encoder.attention_mask"]})
            check.compare("encoder last_hidden_state", "last_hidden_state", encoded, ref["encoder.last_hidden_state"])
            generated = ref["generated"][:, 1:]
            if task != "feature-extraction":
                (logits,) = sessions["decoder_model.onnx"].run(["logits"], {
                    "encoder_attention_mask": ref["encoder.attention_mask"], "input_ids": ref["decoder.input_ids"],
                    "encoder_hidden_states": ref["encoder.last_hidden_state"]})
                check.compare("decoder_model: logits of the whole teacher-forced sequence", "logits", logits, ref["decoder.logits"])
                check.tokens("greedy without a cache", greedy_without_cache(sessions["decoder_model.onnx"], fx, check, encoded), generated)
            if task == "text2text-generation-with-past":
                for merged in (False, True):
                    step_loop(sessions, fx, check, encoded, teacher_forcing=True, merged=merged)
                    got = step_loop(sessions, fx, check, encoded, teacher_forcing=False, merged=merged)
                    check.tokens(f"greedy loop{' (merged)' if merged else ''}", got, generated)
                check_weights_stored_once(res.out_dir, files, fx, check)
        except Exception as e:  # onnxruntime refusing a model or its inputs is one more problem to report
            problems.append(f"onnxruntime: {type(e).__name__}: {e}")

    entry["problems"] = problems
    if problems:
        pytest.fail(f"{fx.name} {task} at opset {opset}:\n  " + "\n  ".join(problems), pytrace=False)


OVERFLOW = FIXTURES / "seq2seq-fp16" / "t5-overflow"
# float16 arithmetic where the guard has clamped activations to ±64512 (float16's spacing there is 32): onnxruntime
# and PyTorch round differently along the way, so their float16 outputs agree to a few 1e-2 (measured 1.8e-2 on
# the logits), against PyTorch's float16 outputs, not float32's.
OVERFLOW_BOUND = 5e-2


@pytest.mark.parametrize("opset", sorted({11, 17, 23, newest_opset()}))
def test_float16_guard(opset: int, tmp_path):
    """An fp16 export of a T5 whose feed-forward overflows float16 (PyTorch's float16 forward meets infinities
    there, recorded by the fixture) must clamp them as transformers does: finite outputs close to PyTorch's
    float16 ones. Without the guard the infinities reach the next RMS norm and every output is NaN."""
    out = tmp_path / "fp16"
    p = run_cli(["--model", str(OVERFLOW), "--task", "text2text-generation", "--dtype", "fp16", "--opset", str(opset), str(out)])
    assert p.returncode == 0, p.stderr
    with np.load(OVERFLOW / "reference.npz") as z:
        ref = {k: z[k] for k in z.files}
    (encoded,) = ort_session(out / "encoder_model.onnx").run(None, {"input_ids": ref["encoder.input_ids"],
                                                                   "attention_mask": ref["encoder.attention_mask"]})
    (logits,) = ort_session(out / "decoder_model.onnx").run(["logits"], {
        "encoder_attention_mask": ref["encoder.attention_mask"], "input_ids": ref["decoder.input_ids"], "encoder_hidden_states": encoded})
    for name, got, want in (("last_hidden_state", encoded, ref["encoder.last_hidden_state"]), ("logits", logits, ref["decoder.logits"])):
        assert np.isfinite(got).all(), f"{name}: not finite"
        relative = max_abs_diff(got.astype(np.float32), want) / np.abs(want).max()
        assert relative <= OVERFLOW_BOUND, f"{name}: max |diff| / max |PyTorch float16| {relative:.3g} > {OVERFLOW_BOUND}"
