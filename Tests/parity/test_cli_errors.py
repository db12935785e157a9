"""CLI behaviour on bad input: a non-zero exit, a message on stderr that names the problem, and nothing in the
output folder that looks like a model."""

from __future__ import annotations

import json
import shutil
import struct
from pathlib import Path

import pytest

import st_util
from harness import assert_refused, fixture_by_name, run_cli

FIXTURE = "bert-base/feature-extraction"  # BertModel: weight names carry no "bert." prefix
DROPPED_WEIGHT = "encoder.layer.1.output.dense.weight"


@pytest.fixture
def model_dir(tmp_path) -> Path:
    """A private copy of a good fixture, to break."""
    dst = tmp_path / "model"
    shutil.copytree(fixture_by_name(FIXTURE).dir, dst)
    return dst


def export(model: Path, out: Path, *extra: str, task: str = "feature-extraction", opset: int = 17, force=True):
    args = ["--model", str(model), "--task", task, "--opset", str(opset)]
    if force:
        args.append("--force")
    return run_cli([*args, *extra, str(out)], timeout=120)


def test_help_lists_options():
    p = run_cli(["--help"], timeout=60)
    assert p.returncode == 0, p.stderr
    text = p.stdout + p.stderr
    for opt in ("--model", "--task", "--opset", "--external-data"):
        assert opt in text, f"--help does not mention {opt}:\n{text}"


def test_missing_config(model_dir, tmp_path):
    (model_dir / "config.json").unlink()
    out = tmp_path / "out"
    assert_refused(export(model_dir, out), out, "config.json")


def test_config_not_json(model_dir, tmp_path):
    (model_dir / "config.json").write_text('{"model_type": "bert", "hidden_size": 24,,,')
    out = tmp_path / "out"
    assert_refused(export(model_dir, out), out, "config.json")


def test_unknown_model_type(model_dir, tmp_path):
    cfg = json.loads((model_dir / "config.json").read_text())
    cfg["model_type"] = "flux-capacitor"
    (model_dir / "config.json").write_text(json.dumps(cfg))
    out = tmp_path / "out"
    # the message names the unknown type and lists the supported ones
    assert_refused(export(model_dir, out), out, "flux-capacitor", "bert", "roberta", "distilbert", "electra")


def test_missing_weight(model_dir, tmp_path):
    path = model_dir / "model.safetensors"
    tensors, meta = st_util.read(path)
    assert DROPPED_WEIGHT in tensors, sorted(tensors)
    del tensors[DROPPED_WEIGHT]
    st_util.write(path, tensors, meta)
    out = tmp_path / "out"
    assert_refused(export(model_dir, out), out, "layer.1.output.dense.weight")


def test_truncated_safetensors(model_dir, tmp_path):
    path = model_dir / "model.safetensors"
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    out = tmp_path / "out"
    assert_refused(export(model_dir, out), out, "model.safetensors")


def test_header_longer_than_file(model_dir, tmp_path):
    path = model_dir / "model.safetensors"
    data = bytearray(path.read_bytes())
    data[:8] = struct.pack("<Q", len(data) * 4)
    path.write_bytes(bytes(data))
    out = tmp_path / "out"
    assert_refused(export(model_dir, out), out, "model.safetensors")


def test_non_empty_output_needs_force(model_dir, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "notes.txt").write_text("keep me")
    p = export(model_dir, out, force=False)
    assert_refused(p, out, "--force")
    assert (out / "notes.txt").read_text() == "keep me", "a refused export touched the output folder"

    p = export(model_dir, out, force=True)
    assert p.returncode == 0, p.stderr
    assert (out / "model.onnx").is_file()


def test_unknown_task(model_dir, tmp_path):
    out = tmp_path / "out"
    assert_refused(export(model_dir, out, task="time-travel"), out, "time-travel")


def test_opset_10_refused(model_dir, tmp_path):
    out = tmp_path / "out"
    assert_refused(export(model_dir, out, opset=10), out, "opset", "10", "11")
