"""Parity: every fixture x opset is exported by the CLI, checked by onnx, run by onnxruntime, and compared
with the outputs PyTorch computed (Tests/Fixtures/*/reference.npz).

Ids read ``<variant>/<task>/op<N>``, e.g. ``pytest Tests/parity -k "bert-base/fill-mask/op17"``.
"""

from __future__ import annotations

import numpy as np
import onnx
import onnxruntime as ort
import pytest

from harness import IR_FOR_OPSET, TOLERANCE, Fixture, discover_fixtures, opsets

ONNX_INT64 = onnx.TensorProto.INT64
ONNX_FLOAT = onnx.TensorProto.FLOAT


def _matrix():
    for fx in discover_fixtures():
        for op in opsets():
            yield pytest.param(fx, op, id=f"{fx.name}/op{op}")


def default_domain_opset(model: onnx.ModelProto) -> int | None:
    for imp in model.opset_import:
        if imp.domain in ("", "ai.onnx"):
            return imp.version
    return None


def describe_dims(vi: onnx.ValueInfoProto) -> list | None:
    t = vi.type.tensor_type
    if not t.HasField("shape"):
        return None
    dims = []
    for d in t.shape.dim:
        if d.HasField("dim_param"):
            dims.append(d.dim_param)
        elif d.HasField("dim_value"):
            dims.append(d.dim_value)
        else:
            dims.append("?")
    return dims


def check_port(kind: str, vi: onnx.ValueInfoProto, axes: list, ref_shapes: list[tuple], elem_type: int,
               problems: list[str]) -> None:
    """axes: symbolic name per axis, or None for a fixed axis whose size must match the reference."""
    t = vi.type.tensor_type
    if t.elem_type != elem_type:
        problems.append(f"{kind} {vi.name}: element type {onnx.TensorProto.DataType.Name(t.elem_type)}, "
                        f"expected {onnx.TensorProto.DataType.Name(elem_type)}")
    dims = describe_dims(vi)
    if dims is None:
        problems.append(f"{kind} {vi.name}: no shape declared, expected {axes}")
        return
    if len(dims) != len(axes):
        problems.append(f"{kind} {vi.name}: rank {len(dims)} {dims}, expected {axes}")
        return
    for i, (got, want) in enumerate(zip(dims, axes)):
        if want is None:
            sizes = {s[i] for s in ref_shapes}
            if got not in sizes:
                problems.append(f"{kind} {vi.name}: axis {i} is {got!r}, expected fixed size {sizes.pop()}")
        elif got != want:
            problems.append(f"{kind} {vi.name}: axis {i} is {got!r}, expected symbolic {want!r} ({dims})")


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
            diff = float(np.abs(g.astype(np.float64) - want.astype(np.float64)).max())
            if not np.isfinite(diff):
                diff = float("inf")
            results.diff(fx, opset, name, diff)
            if not diff <= TOLERANCE:
                problems.append(f"set {s}: {name} max |diff| {diff:.3g} > {TOLERANCE:g}")


@pytest.mark.parametrize("fx,opset", list(_matrix()))
def test_parity(fx: Fixture, opset: int, exporter, results):
    res = exporter.get(fx, opset)
    entry = results.entry(fx, opset)
    entry["export_seconds"] = round(res.seconds, 3)
    if res.returncode != 0:
        entry["problems"] = [f"export failed (exit {res.returncode}): {res.stderr.strip()}"]
        pytest.fail(f"export failed (exit {res.returncode}):\n{res.stderr.strip()}", pytrace=False)
    path = res.model_path
    if not path.is_file():
        held = sorted(p.name for p in res.out_dir.iterdir()) if res.out_dir.exists() else "nothing"
        pytest.fail(f"export exited 0 but {path} is missing; the folder holds {held}", pytrace=False)

    problems: list[str] = []
    try:
        onnx.checker.check_model(str(path), full_check=True)
    except Exception as e:
        problems.append(f"onnx.checker (full_check): {type(e).__name__}: {e}")
    model = onnx.load(str(path), load_external_data=False)

    got_opset = default_domain_opset(model)
    if got_opset != opset:
        problems.append(f"default-domain opset_import is {got_opset}, requested {opset}")
    if opset in IR_FOR_OPSET and model.ir_version != IR_FOR_OPSET[opset]:
        problems.append(f"ir_version {model.ir_version}, expected {IR_FOR_OPSET[opset]} for opset {opset}")

    initializers = {i.name for i in model.graph.initializer}
    graph_inputs = {vi.name: vi for vi in model.graph.input if vi.name not in initializers}
    graph_outputs = {vi.name: vi for vi in model.graph.output}
    if set(graph_inputs) != set(fx.inputs):
        problems.append(f"graph inputs {sorted(graph_inputs)}, expected {sorted(fx.inputs)} (any order)")
    if [vi.name for vi in model.graph.output] != fx.outputs:
        problems.append(f"graph outputs {[vi.name for vi in model.graph.output]}, expected {fx.outputs}")

    ref = fx.reference
    for name in fx.inputs:
        if name in graph_inputs:
            shapes = [ref[f"{s}.input.{name}"].shape for s in ("a", "b")]
            check_port("input", graph_inputs[name], fx.meta["input_axes"][name], shapes, ONNX_INT64, problems)
    for name in fx.outputs:
        if name in graph_outputs:
            shapes = [ref[f"{s}.output.{name}"].shape for s in ("a", "b")]
            check_port("output", graph_outputs[name], fx.meta["output_axes"][name], shapes, ONNX_FLOAT, problems)

    runnable = set(graph_inputs) == set(fx.inputs) and set(graph_outputs) >= set(fx.outputs)
    if runnable:
        try:
            compare_outputs(fx, opset, path, results, problems)
        except Exception as e:  # onnxruntime refusing the model or the inputs is one more problem to report
            problems.append(f"onnxruntime: {type(e).__name__}: {e}")

    entry["problems"] = problems
    if problems:
        pytest.fail(f"{fx.name} at opset {opset}:\n  " + "\n  ".join(problems), pytrace=False)
