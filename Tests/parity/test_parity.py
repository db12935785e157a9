"""Parity: every fixture x opset is exported by the CLI, checked by onnx, run by onnxruntime, and compared
with the outputs PyTorch computed (Tests/Fixtures/*/reference.npz).

Ids read ``<variant>/<task>/op<N>``, e.g. ``pytest Tests/parity -k "bert-base/fill-mask/op17"``.
"""

from __future__ import annotations

import onnxruntime as ort
import pytest

from bounds import max_abs_diff, tolerance_for
from harness import Fixture, check_exported_model, discover_fixtures, export_or_fail, opsets


def _matrix():
    for fx in discover_fixtures():
        for op in opsets():
            yield pytest.param(fx, op, id=f"{fx.name}/op{op}")


def compare_outputs(fx: Fixture, opset: int, path, results, problems: list[str]) -> None:
    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    so.inter_op_num_threads = 1
    sess = ort.InferenceSession(str(path), so, providers=["CPUExecutionProvider"])
    for s in ("a", "b"):
        got = sess.run(fx.outputs, fx.feeds(s))
        for name, g, want in zip(fx.outputs, got, fx.expected(s).values()):
            if g.shape != want.shape:
                problems.append(f"set {s}: {name} has shape {g.shape}, expected {want.shape}")
                continue
            diff = max_abs_diff(g, want)
            results.diff(fx, opset, name, diff)
            bound = tolerance_for(want)
            if not diff <= bound:
                problems.append(f"set {s}: {name} max |diff| {diff:.3g} > {bound:.3g}")


@pytest.mark.parametrize("fx,opset", list(_matrix()))
def test_parity(fx: Fixture, opset: int, exporter, results):
    res = export_or_fail(exporter, results, fx, opset)
    entry = results.entry(fx, opset)
    path = res.model_path
    if not path.is_file():
        held = sorted(p.name for p in res.out_dir.iterdir()) if res.out_dir.exists() else "nothing"
        pytest.fail(f"export exited 0 but {path} is missing; the folder holds {held}", pytrace=False)

    problems: list[str] = []
    ref = fx.reference
    shapes = {name: [ref[f"{s}.input.{name}"].shape for s in ("a", "b")] for name in fx.inputs}
    shapes.update({name: [ref[f"{s}.output.{name}"].shape for s in ("a", "b")] for name in fx.outputs})
    _, runnable = check_exported_model(path, opset, fx.io(fx.task), problems, ref_shapes=shapes)
    if runnable:
        try:
            compare_outputs(fx, opset, path, results, problems)
        except Exception as e:  # onnxruntime refusing the model or the inputs is one more problem to report
            problems.append(f"onnxruntime: {type(e).__name__}: {e}")

    entry["problems"] = problems
    if problems:
        pytest.fail(f"{fx.name} at opset {opset}:\n  " + "\n  ".join(problems), pytrace=False)
