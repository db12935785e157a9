"""Hostile and broken checkpoints of every format, through the CLI: exit status 1, one error line
naming the file and the problem, no model.onnx left behind, and nothing the file asked for executed."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from harness import REPO, run_cli

FIXTURES = REPO / "Tests" / "Fixtures"
BERT_CONFIG = FIXTURES / "formats" / "bert" / "bin" / "config.json"
MARKERS = ["/tmp/onnx-export-pytorch-fixture-os-system-ran", "/tmp/onnx-export-pytorch-fixture-eval-ran"]


def bin_folder(tmp_path: Path, bad_file: str) -> Path:
    folder = tmp_path / "ckpt"
    folder.mkdir()
    shutil.copy(FIXTURES / "pytorch" / "bad" / bad_file, folder / "pytorch_model.bin")
    shutil.copy(BERT_CONFIG, folder / "config.json")
    return folder


@pytest.mark.parametrize("bad_file,fragment", [
    ("global_os_system.bin", "os"),
    ("global_builtins_eval.bin", "eval"),
    ("truncated.bin", "pytorch_model.bin"),
    ("cd_offset_past_end.bin", "pytorch_model.bin"),
    ("inflates_past_size.bin", "pytorch_model.bin"),
    ("wrong_crc.bin", "pytorch_model.bin"),
    # the legacy (pre-1.6) format: a stream of pickles, then the storages
    ("legacy_os_system.bin", "names os.system"),
    ("legacy_truncated.bin", "is it truncated"),
    ("legacy_count_lies.bin", "the section says 7 elements, but the object's persistent id says 6"),
    ("legacy_missing_key.bin", "the storage key list (pickle 5) does not list it"),
    ("legacy_unlisted_key.bin", "which the object never uses"),
    ("legacy_big_endian.bin", "big-endian"),
    ("legacy_protocol_version.bin", "protocol version is 1002"),
])
def test_hostile_pytorch_checkpoint_is_refused(tmp_path: Path, bad_file: str, fragment: str):
    for marker in MARKERS:
        if os.path.exists(marker):
            os.remove(marker)
    out = tmp_path / "out"
    p = run_cli(["--model", str(bin_folder(tmp_path, bad_file)), "--task", "fill-mask", str(out)])
    assert p.returncode == 1, p.stderr
    assert fragment in p.stderr, p.stderr
    assert len(p.stderr.strip().splitlines()) == 1, p.stderr
    assert "pytorch_model.bin" in p.stderr, p.stderr
    assert not out.exists() or not any(out.iterdir()), sorted(out.iterdir())
    assert not any(os.path.exists(m) for m in MARKERS), "a pickle's command ran"


def test_tensorflow_tensor_with_a_flipped_byte_fails_its_crc(tmp_path: Path):
    folder = tmp_path / "tf"
    shutil.copytree(FIXTURES / "formats" / "bert" / "tf", folder)
    data = next(folder.glob("*.data-*"))
    raw = bytearray(data.read_bytes())
    raw[len(raw) // 2] ^= 0x40
    data.write_bytes(bytes(raw))
    out = tmp_path / "out"
    p = run_cli(["--model", str(folder), "--task", "fill-mask", str(out)])
    assert p.returncode == 1, p.stderr
    assert "CRC" in p.stderr and "bert_model.ckpt" in p.stderr, p.stderr
    assert not out.exists() or not any(out.iterdir()), sorted(out.iterdir())


@pytest.mark.parametrize("broken", ["block-crc", "truncated-index", "bad-magic", "offset-past-end", "snappy"])
def test_broken_tensorflow_checkpoint_is_refused(tmp_path: Path, broken: str):
    out = tmp_path / "out"
    p = run_cli(["--model", str(FIXTURES / "tf" / "broken" / broken), "--config", str(FIXTURES / "tf" / "bert" / "bert_config.json"),
                 "--task", "fill-mask", str(out)])
    assert p.returncode == 1, p.stderr
    assert "model.ckpt" in p.stderr, p.stderr
    assert not (out / "model.onnx").exists()
    assert not out.exists() or not any(out.iterdir()), sorted(out.iterdir())
