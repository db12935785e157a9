"""Decoder parity: every decoder fixture x task x opset is exported by the CLI, checked by onnx, run by
onnxruntime, and compared with what PyTorch computed (Tests/Fixtures/decoders/*/*/reference.npz, made by
Tests/Fixtures/make_decoder_fixtures.py).

Ids read ``<variant>/<task>/op<N>``, e.g. ``pytest Tests/parity -k "llama/text-generation-with-past/op17"``.

The ONNX contract (names as the optimum exporter writes them):

* ``text-generation``: inputs ``input_ids``, ``attention_mask``, ``position_ids`` (int64 [batch_size,
  sequence_length]); output ``logits`` [batch_size, sequence_length, vocab].
* ``text-generation-with-past``: the same inputs, but ``attention_mask`` is [batch_size, past_sequence_length +
  sequence_length], plus per layer i ``past_key_values.i.key|value`` float32 [batch_size, kv_heads,
  past_sequence_length, head_dim]; outputs ``logits`` and ``present.i.key|value`` [batch_size, kv_heads,
  past_sequence_length + sequence_length, head_dim]. The first step feeds pasts of length 0.
* ``feature-extraction``: inputs as text-generation; output ``last_hidden_state``.
* ``text-classification`` / ``token-classification``: inputs ``input_ids``, ``attention_mask``; output ``logits``
  [batch_size, labels] / [batch_size, sequence_length, labels].

Checks, after onnx.checker and the declared names, types and axes:

1. text-generation: ``full.*`` inputs; logits at every position where the mask is 1.
2. text-generation-with-past: step 0 feeds the left-padded prompt with empty pasts (its last position's logits vs
   generate's first step, every real prompt position vs the full forward pass); step K feeds the token generate
   picked at step K-1 with position_ids last + 1, the mask grown by a column of ones and the previous presents
   (logits vs generate's step K, argmax vs the generated token); then a free greedy loop on onnxruntime's own
   argmax must produce exactly the generated tokens.
3. feature-extraction: last_hidden_state at every position where the mask is 1.
4. classification: as the encoder tests, on sets a and b (token-classification at mask-1 positions).

Positions the mask hides are not compared: with left padding a padded query sees no key at all, and what a model
computes there is arbitrary (transformers: a uniform average over every key).
"""

from __future__ import annotations

import numpy as np
import onnx
import pytest

from bounds import max_abs, max_abs_diff, tolerance_for
from harness import (
    Fixture,
    check_exported_model,
    discover_decoder_fixtures,
    export_or_fail,
    opsets,
    ort_session,
)

CAUSAL_TASKS = ("text-generation", "text-generation-with-past", "feature-extraction")


def _matrix():
    for fx in discover_decoder_fixtures():
        for task in fx.tasks:
            for op in opsets():
                yield pytest.param(fx, task, op, id=f"{fx.variant}/{task}/op{op}")


class Checker:
    """Collects max |diff| per output into the results and a problem per tolerance breach.

    With ``relative_bound`` (reduced-precision exports) the recorded and checked figure is the max |diff| relative
    to the largest |reference| value compared, and argmax checks are made only where the reference's top two
    logits are further apart than twice the measured error (elsewhere the rounding of the type may rightly flip
    them)."""

    def __init__(self, fx: Fixture, task: str, opset: int, results, problems: list[str],
                 relative_bound: float | None = None):
        self.fx, self.task, self.opset, self.results, self.problems = fx, task, opset, results, problems
        self.relative_bound = relative_bound

    def compare(self, label: str, record_as: str, got: np.ndarray, want: np.ndarray,
                where: np.ndarray | None = None) -> float:
        """Returns the max |diff| (absolute, whatever is recorded)."""
        if got.shape != want.shape:
            self.problems.append(f"{label}: shape {got.shape}, expected {want.shape}")
            return float("inf")
        d = max_abs_diff(got, want, where)
        if self.relative_bound is None:
            self.results.diff(self.fx, self.opset, record_as, d, self.task)
            bound = tolerance_for(want, where)
            if not d <= bound:
                self.problems.append(f"{label}: max |diff| {d:.3g} > {bound:.3g}")
        else:
            r = d / max(max_abs(want, where), 1e-30)
            self.results.diff(self.fx, self.opset, record_as, r, self.task)
            if not r <= self.relative_bound:
                self.problems.append(f"{label}: max |diff| / max |reference| {r:.3g} > {self.relative_bound:g}")
        return d

    def check_argmax(self, label: str, logits: np.ndarray, want_tokens: np.ndarray, reference_logits: np.ndarray,
                     error: float) -> None:
        got = logits.argmax(-1)
        decided = np.ones(got.shape, bool)
        if self.relative_bound is not None:
            top2 = np.sort(reference_logits, axis=-1)[..., -2:]
            decided = (top2[..., 1] - top2[..., 0]) > 2 * error
        if not np.array_equal(got[decided], want_tokens[decided]):
            self.problems.append(f"{label}: argmax {got.tolist()} != generated {want_tokens.tolist()}")


# ------------------------------------------------------------------------------------------------
# per-task comparisons


def run_full(sess, fx: Fixture, output: str, check: Checker) -> None:
    ref = fx.reference
    feeds = {n: ref[f"full.{n}"] for n in ("input_ids", "attention_mask", "position_ids")}
    (got,) = sess.run([output], feeds)
    check.compare(f"full sequence: {output}", output, got, ref[f"full.{output}"], where=feeds["attention_mask"])


def empty_pasts(fx: Fixture, batch: int, dtype=np.float32) -> dict[str, np.ndarray]:
    d = fx.meta["dims"]
    shape = (batch, d["num_key_value_heads"], 0, d["head_dim"])
    return {f"past_key_values.{i}.{kind}": np.zeros(shape, dtype)
            for i in range(d["num_layers"]) for kind in ("key", "value")}


def with_past_loop(sess, fx: Fixture, check: Checker, teacher_forcing: bool, cache_dtype=np.float32) -> np.ndarray:
    """Run the prompt step and the decoding steps; returns the tokens onnxruntime's argmax picked."""
    ref, gen = fx.reference, fx.meta["generation"]
    d = fx.meta["dims"]
    P, N = gen["prompt_length"], gen["new_tokens"]
    generated = ref["generated"]
    io = fx.io("text-generation-with-past")
    present_names = [n for n in io["outputs"] if n.startswith("present.")]
    past_names = [n.replace("present.", "past_key_values.") for n in present_names]
    label = "teacher-forced" if teacher_forcing else "greedy"

    ids, mask, pos = ref["prompt.input_ids"], ref["prompt.attention_mask"], ref["prompt.position_ids"]
    pasts = empty_pasts(fx, ids.shape[0], cache_dtype)
    # Steps where generate ran the whole sequence without the cache (Phi-3's longrope, when the length
    # crosses the original one): replayed the same way, the sequence so far with empty pasts.
    recomputed = set(gen.get("recomputed_steps", []))
    sequence, positions = ids, pos
    picked = []
    for k in range(N):
        if k in recomputed:
            ids, pos, pasts = sequence, positions, empty_pasts(fx, ids.shape[0], cache_dtype)
        outs = sess.run(io["outputs"], {"input_ids": ids, "attention_mask": mask, "position_ids": pos, **pasts})
        logits, presents = outs[0], outs[1:]
        want_len = P + k
        for name, t in zip(present_names, presents):
            want_shape = (ids.shape[0], d["num_key_value_heads"], want_len, d["head_dim"])
            if t.shape != want_shape:
                check.problems.append(f"{label} step {k}: {name} has shape {t.shape}, expected {want_shape}")
                return np.array(picked, dtype=np.int64).T
        last = logits[:, -1]
        if teacher_forcing:
            # With a length-dependent rope table (dynamic, longrope) the full forward rotates the prompt
            # with other frequencies than the prompt step does; only the steps' own logits compare.
            if k == 0 and not gen.get("length_dependent_rope"):
                check.compare("prompt step: logits at real prompt positions vs the full forward pass",
                              "prompt.logits", logits, ref["full.logits"][:, :P], where=mask)
            error = check.compare(f"step {k}: last-position logits vs generate", "steps.logits", last,
                                  ref[f"steps.logits.{k}"])
            check.check_argmax(f"step {k}", last, generated[:, P + k], ref[f"steps.logits.{k}"], error)
        nxt = last.argmax(-1).astype(np.int64)
        picked.append(nxt)
        if k == N - 1:
            break
        feed_tok = generated[:, P + k] if teacher_forcing else nxt
        ids = feed_tok[:, None].astype(np.int64)
        pos = pos[:, -1:] + 1
        mask = np.concatenate([mask, np.ones((mask.shape[0], 1), np.int64)], axis=1)
        pasts = dict(zip(past_names, presents))
        sequence, positions = np.concatenate([sequence, ids], axis=1), np.concatenate([positions, pos], axis=1)
    return np.stack(picked, axis=1)


def run_with_past(sess, fx: Fixture, check: Checker) -> None:
    with_past_loop(sess, fx, check, teacher_forcing=True)
    P = fx.meta["generation"]["prompt_length"]
    want = fx.reference["generated"][:, P:]
    got = with_past_loop(sess, fx, check, teacher_forcing=False)
    if got.shape != want.shape or not np.array_equal(got, want):
        check.problems.append(f"greedy loop on onnxruntime's argmax produced {got.tolist()}, "
                              f"transformers generated {want.tolist()}")


def run_classification(sess, fx: Fixture, task: str, check: Checker) -> None:
    ref = fx.reference
    for s in ("a", "b"):
        feeds = {n: ref[f"{s}.input.{n}"] for n in fx.io(task)["inputs"]}
        (got,) = sess.run(["logits"], feeds)
        where = feeds["attention_mask"] if task == "token-classification" else None
        check.compare(f"set {s}: logits", "logits", got, ref[f"{s}.output.logits"], where=where)


# ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("fx,task,opset", list(_matrix()))
def test_decoder_parity(fx: Fixture, task: str, opset: int, exporter, results):
    res = export_or_fail(exporter, results, fx, opset, task)
    entry = results.entry(fx, opset, task)
    path = res.model_path
    if not path.is_file():
        held = sorted(p.name for p in res.out_dir.iterdir()) if res.out_dir.exists() else "nothing"
        pytest.fail(f"export exited 0 but {path} is missing; the folder holds {held}", pytrace=False)

    problems: list[str] = []
    io = fx.io(task)
    types = {n: onnx.TensorProto.FLOAT for n in io["inputs"] if n.startswith("past_key_values.")}
    _, runnable = check_exported_model(path, opset, io, problems, input_types=types)

    if runnable:
        check = Checker(fx, task, opset, results, problems)
        try:
            sess = ort_session(path)
            if task == "text-generation":
                run_full(sess, fx, "logits", check)
            elif task == "feature-extraction":
                run_full(sess, fx, "last_hidden_state", check)
            elif task == "text-generation-with-past":
                run_with_past(sess, fx, check)
            else:
                run_classification(sess, fx, task, check)
        except Exception as e:  # onnxruntime refusing the model or the inputs is one more problem to report
            problems.append(f"onnxruntime: {type(e).__name__}: {e}")

    entry["problems"] = problems
    if problems:
        pytest.fail(f"{fx.name} {task} at opset {opset}:\n  " + "\n  ".join(problems), pytrace=False)
