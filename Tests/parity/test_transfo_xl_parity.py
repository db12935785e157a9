"""Transformer-XL parity: every fixture x task x opset is exported by the CLI, checked by onnx (full check), run by
onnxruntime, and compared with what transformers 4 computed (Tests/Fixtures/transfo-xl/*/reference.npz, made by
Tests/Fixtures/make_transfo_xl_fixtures.py).

Ids read ``<variant>/<task>/op<N>``, e.g. ``pytest Tests/parity -k "txl-adaptive/text-generation-with-past/op17"``.

The ONNX contract (Sources/Frontends/Tasks/MemoryTaskGraph.swift): the only input is ``input_ids`` [batch_size,
sequence_length], as in transformers (no attention mask, no positions). ``logits`` [batch_size, sequence_length,
vocab] holds transformers' ``prediction_scores``: log-probabilities. ``text-generation-with-past`` adds per layer
N the memory: ``mems.N`` [memory_length, batch_size, d_model] in, ``new_mems.N`` [new_memory_length, batch_size,
d_model] out (the layer's input over memory and new tokens, the last ``mem_len`` positions); the first call feeds
zeros of [mem_len, batch, d_model], what transformers starts from.

Checks, after onnx.checker and the declared names, types and axes:

1. feature-extraction / text-generation: ``last_hidden_state`` / ``logits`` at every position of sets a [2, 5] and
   b [3, 9] through one export (transformers ran them without ``mems``: over ``mem_len`` zero memories);
2. text-generation-with-past: two segments (4 then 7 tokens, the second longer than the memory) fed one after the
   other, logits and every ``new_mems`` against transformers'; then the prompt and five single-token steps under
   teacher forcing, each step's last-position scores and memories against transformers' and their argmax against
   the greedy token; then a free greedy loop on onnxruntime's own argmax and memories must give transformers'
   greedy tokens.
"""

from __future__ import annotations

import numpy as np
import onnx
import pytest

from bounds import max_abs_diff
from harness import (Fixture, assert_refused, check_exported_model, discover_transfo_xl_fixtures, export_or_fail,
                     opsets, ort_session, run_cli)
from test_seq2seq_parity import Check


def _matrix():
    for fx in discover_transfo_xl_fixtures():
        for task in fx.tasks:
            for op in opsets():
                yield pytest.param(fx, task, op, id=f"{fx.variant}/{task}/op{op}")


def zero_mems(fx: Fixture, batch: int, dtype=np.float32) -> dict[str, np.ndarray]:
    d = fx.meta["dims"]
    return {f"mems.{i}": np.zeros((d["mem_len"], batch, d["d_model"]), dtype) for i in range(d["n_layer"])}


def run_sets(sess, fx: Fixture, output: str, check: Check) -> None:
    for s in ("a", "b"):
        (got,) = sess.run([output], {"input_ids": fx.reference[f"{s}.input_ids"]})
        check.compare(f"set {s}: {output}", output, got, fx.reference[f"{s}.{output}"])


def run_memory(sess, fx: Fixture, feeds: dict, label: str, want_prefix: str, check: Check) -> list[np.ndarray]:
    """One call; its memories compared with ``<want_prefix>.L``. Returns [logits, new_mems...]."""
    d = fx.meta["dims"]
    outs = sess.run(None, feeds)
    batch = feeds["input_ids"].shape[0]
    for layer, got in enumerate(outs[1:]):
        want = fx.reference[f"{want_prefix}.{layer}"]
        if got.shape != (d["mem_len"], batch, d["d_model"]):
            check.problems.append(f"{label}: new_mems.{layer} has shape {got.shape}, expected {want.shape}")
        check.compare(f"{label}: new_mems.{layer}", "new_mems", got, want)
    return outs


def segments(sess, fx: Fixture, check: Check, dtype=np.float32) -> None:
    ref = fx.reference
    mems = zero_mems(fx, 2, dtype)
    for k in range(len(fx.meta["generation"]["segment_lengths"])):
        outs = run_memory(sess, fx, {"input_ids": ref[f"segment.{k}.input_ids"], **mems}, f"segment {k}",
                          f"segments.new_mems.{k}", check)
        check.compare(f"segment {k}: logits", "logits", outs[0], ref[f"segments.logits.{k}"])
        mems = {f"mems.{i}": m for i, m in enumerate(outs[1:])}


def step_loop(sess, fx: Fixture, check: Check, teacher_forcing: bool, dtype=np.float32) -> np.ndarray:
    """The prompt, then one token a step fed with the previous step's memories (of ``dtype``). Returns the tokens
    onnxruntime's argmax picked. Under a relative bound (float16) a step's argmax is checked only in the rows whose
    reference top two differ by more than twice the step's error."""
    ref, gen = fx.reference, fx.meta["generation"]
    generated = ref["generated"]
    ids, mems, picked = ref["prompt.input_ids"], zero_mems(fx, 2, dtype), []
    for k in range(gen["new_tokens"]):
        label = f"{'teacher-forced' if teacher_forcing else 'greedy'} step {k}"
        outs = run_memory(sess, fx, {"input_ids": ids, **mems}, label, f"steps.new_mems.{k}", check) if teacher_forcing \
            else sess.run(None, {"input_ids": ids, **mems})
        last = outs[0][:, -1]
        if teacher_forcing:
            if k == 0:
                check.compare("prompt: logits at every position", "logits", outs[0], ref["prompt.logits"])
            want = ref[f"steps.logits.{k}"]
            check.compare(f"{label}: last-position logits", "logits", last, want)
            decided = np.ones(len(last), bool)
            if check.relative_bound is not None:
                top2 = np.sort(want, axis=-1)[:, -2:]
                decided = top2[:, 1] - top2[:, 0] > 2 * max_abs_diff(last, want)
            if not np.array_equal(last.argmax(-1)[decided], generated[decided, k]):
                check.problems.append(f"{label}: argmax {last.argmax(-1).tolist()} != greedy {generated[:, k].tolist()}")
        nxt = last.argmax(-1).astype(np.int64)
        picked.append(nxt)
        ids = (generated[:, k] if teacher_forcing else nxt)[:, None].astype(np.int64)
        mems = {f"mems.{i}": m for i, m in enumerate(outs[1:])}
    return np.stack(picked, axis=1)


@pytest.mark.parametrize("fx,task,opset", list(_matrix()))
def test_transfo_xl_parity(fx: Fixture, task: str, opset: int, exporter, results):
    res = export_or_fail(exporter, results, fx, opset, task)
    entry = results.entry(fx, opset, task)
    problems: list[str] = []
    io = fx.io(task)
    types = {n: onnx.TensorProto.FLOAT for n in io["inputs"] if n.startswith("mems.")}
    _, runnable = check_exported_model(res.model_path, opset, io, problems, input_types=types)
    if runnable:
        check = Check(fx, task, opset, results, problems)
        try:
            sess = ort_session(res.model_path)
            if task == "feature-extraction":
                run_sets(sess, fx, "last_hidden_state", check)
            elif task == "text-generation":
                run_sets(sess, fx, "logits", check)
            else:
                segments(sess, fx, check)
                step_loop(sess, fx, check, teacher_forcing=True)
                check.tokens("greedy loop", step_loop(sess, fx, check, teacher_forcing=False), fx.reference["generated"])
        except Exception as e:  # onnxruntime refusing the model or the inputs is one more problem to report
            problems.append(f"onnxruntime: {type(e).__name__}: {e}")
    entry["problems"] = problems
    if problems:
        pytest.fail(f"{fx.name} {task} at opset {opset}:\n  " + "\n  ".join(problems), pytrace=False)


def fixture(name: str) -> Fixture:
    return next(f for f in discover_transfo_xl_fixtures() if f.name == name)


@pytest.mark.parametrize("name,task,needles", [
    ("txl-no-memory", "text-generation-with-past", ["mem_len is 0", "text-generation"]),
    ("txl-bare", "text-generation", ["crit.out_layers.0.bias", "missing"]),
    ("txl-adaptive", "text-classification", ["does not support task text-classification"]),
], ids=["no-memory-with-past", "bare-model-head", "classification"])
def test_refusals(tmp_path, name, task, needles):
    """What Transformer-XL cannot export ends in one line naming why, and no model file."""
    out = tmp_path / "out"
    assert_refused(run_cli(["--model", str(fixture(name).dir), "--task", task, str(out)]), out, *needles)
