"""--external-data always: weights go to model.onnx_data at page-aligned offsets, the model still checks and
still matches PyTorch."""

from __future__ import annotations

import onnx
import onnxruntime as ort
import pytest

import st_util
from bounds import max_abs_diff, tolerance_for
from harness import fixture_by_name, newest_opset, run_cli

ALIGN = 4096


def all_tensors(graph: onnx.GraphProto):
    """Initializers and tensor attributes, subgraphs included."""
    yield from graph.initializer
    for node in graph.node:
        for attr in node.attribute:
            if attr.HasField("t"):
                yield attr.t
            yield from attr.tensors
            if attr.HasField("g"):
                yield from all_tensors(attr.g)
            for g in attr.graphs:
                yield from all_tensors(g)


@pytest.mark.parametrize("name", ["bert-base/fill-mask", "electra-base/multiple-choice"])
@pytest.mark.parametrize("opset", sorted({17, newest_opset()}), ids=lambda o: f"op{o}")
def test_external_data_always(name, opset, tmp_path):
    fx = fixture_by_name(name)
    out = tmp_path / "out"
    p = run_cli(["--model", str(fx.dir), "--task", fx.task, "--opset", str(opset), "--external-data", "always",
                 "--force", str(out)])
    assert p.returncode == 0, p.stderr
    model_path, data_path = out / "model.onnx", out / "model.onnx_data"
    assert model_path.is_file()
    assert data_path.is_file(), f"no model.onnx_data; folder holds {sorted(f.name for f in out.iterdir())}"
    data_size = data_path.stat().st_size

    model = onnx.load(str(model_path), load_external_data=False)
    external: dict[str, int] = {}
    for t in all_tensors(model.graph):
        if t.data_location != onnx.TensorProto.EXTERNAL:
            continue
        info = {e.key: e.value for e in t.external_data}
        assert info.get("location") == "model.onnx_data", (t.name, info)
        offset, length = int(info.get("offset", 0)), int(info["length"])
        assert offset % ALIGN == 0, f"{t.name}: offset {offset} is not a multiple of {ALIGN}"
        assert offset + length <= data_size, f"{t.name}: [{offset}, {offset + length}) past the end ({data_size})"
        assert not t.HasField("raw_data"), f"{t.name}: external and raw_data at once"
        external[t.name] = length
    assert external, "no tensor is stored externally"
    # most weight bytes sit in matrices of 1 KiB or more, so most of the checkpoint should now be external
    weight_bytes = sum(len(t.data) for t in st_util.read(fx.dir / "model.safetensors")[0].values())
    assert sum(external.values()) >= weight_bytes // 2, (
        f"only {sum(external.values())} of ~{weight_bytes} weight bytes are external: {external}")

    onnx.checker.check_model(str(model_path), full_check=True)

    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    sess = ort.InferenceSession(str(model_path), so, providers=["CPUExecutionProvider"])
    for s in ("a", "b"):
        got = sess.run(fx.outputs, fx.feeds(s))
        for n, g, want in zip(fx.outputs, got, fx.expected(s).values()):
            assert g.shape == want.shape, (s, n, g.shape, want.shape)
            diff = max_abs_diff(g, want)
            assert diff <= tolerance_for(want), f"set {s}: {n} max |diff| {diff:.3g}"
