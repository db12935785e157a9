"""CRC-32 of the stored records of a ``pytorch_model.bin``: a byte flipped inside any tensor's bytes, inside the bytes of
a storage no tensor uses, or inside a storage several tensors view is refused (exit 1, one line naming the archive and
the record, no model left behind), whichever way the weight is written (as stored, quantized, float16); a byte flipped
where it does not matter (the padding torch puts before each record's data, a record no exported tensor reads) exports
as before, byte for byte; a recorded CRC of 0 means "not computed" and still exports.

Fixtures: ``formats/gpt2/bin`` (torch.save of GPT2LMHeadModel: wte and lm_head share one storage),
``formats/bert/bin`` (BertForPreTraining: fill-mask reads neither its pooler nor its next-sentence head) and ``pytorch/views-gpt2`` (the same GPT-2
with every 1-D tensor a view of one storage, 3 unused elements after each; made by make_pytorch_fixtures.py). Which
bytes each tensor covers comes from the pickle, read symbolically (test_formats.parse_torch_pickle: nothing executed).
"""

from __future__ import annotations

import json
import os
import shutil
import struct
import zipfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from harness import FIXTURES, run_cli
from test_formats import parse_torch_pickle, reference_problems

GPT2 = FIXTURES / "formats" / "gpt2"
CASES = {  # fixture folder, and a task whose graph reads every tensor (bert: all but BERT_UNUSED)
    "gpt2": (GPT2 / "bin", "text-generation"),
    "views-gpt2": (FIXTURES / "pytorch" / "views-gpt2", "text-generation"),
    "bert": (FIXTURES / "formats" / "bert" / "bin", "fill-mask"),
}
BERT_UNUSED = {"bert.pooler.dense.weight", "bert.pooler.dense.bias", "cls.seq_relationship.weight", "cls.seq_relationship.bias"}


@dataclass(frozen=True)
class Record:
    """One stored zip record: its name, where its data starts in the file, its size, and the byte ranges of it that
    tensors view, by tensor name."""
    name: str
    data_offset: int
    size: int
    views: dict[str, tuple[int, int]]


def records(path: Path) -> dict[str, Record]:
    """The storage records of a torch.save zip, by record name, with the spans their tensors view."""
    raw = path.read_bytes()
    with zipfile.ZipFile(path) as zf:
        infos = {i.filename: i for i in zf.infolist()}
        pickle = next(n for n in infos if n.endswith("/data.pkl"))
        prefix = pickle[: -len("data.pkl")]
        state = parse_torch_pickle(zf.read(pickle))
    out: dict[str, Record] = {}
    for tensor, ref in state.items():
        info = infos[f"{prefix}data/{ref.storage.key}"]
        assert info.compress_type == zipfile.ZIP_STORED, info
        itemsize = info.file_size // ref.storage.numel
        start = ref.offset * itemsize
        span = (start, start + int(np.prod(ref.size, dtype=np.int64)) * itemsize)
        if info.filename not in out:
            name_len, extra_len = struct.unpack_from("<HH", raw, info.header_offset + 26)
            out[info.filename] = Record(info.filename, info.header_offset + 30 + name_len + extra_len, info.file_size, {})
        out[info.filename].views[tensor] = span
    return out


def flipped(tmp_path: Path, folder: Path, offsets: list[int], label: str = "ckpt") -> Path:
    """A copy of the model folder with one bit flipped at each file offset of its pytorch_model.bin."""
    target = tmp_path / label
    shutil.copytree(folder, target)
    weights = target / "pytorch_model.bin"
    raw = bytearray(weights.read_bytes())
    for offset in offsets:
        raw[offset] ^= 0x10
    weights.write_bytes(bytes(raw))
    return target


def export(folder: Path, task: str, out: Path, *extra: str):
    return run_cli(["--model", str(folder), "--task", task, *extra, str(out)])


def assert_refused(p, folder: Path, record: str, out: Path, what: str) -> None:
    assert p.returncode == 1, f"{what}: exit {p.returncode}\n{p.stderr}"
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1, f"{what}: {p.stderr}"
    assert str(folder / "pytorch_model.bin") in lines[0] and f"'{record}'" in lines[0] and "CRC-32" in lines[0], f"{what}: {lines[0]}"
    assert not out.exists() or not any(out.iterdir()), f"{what}: left {sorted(out.iterdir())}"


def model_bytes(out: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(out.iterdir()) if ".onnx" in p.name}


@pytest.mark.parametrize("case", ["gpt2", "views-gpt2"])
def test_a_flipped_byte_in_any_tensor_is_refused(case: str, tmp_path: Path):
    """One byte in the middle of each tensor's bytes in turn (a shared storage: once per tensor viewing it); the
    exports run side by side."""
    folder, task = CASES[case]
    flips = [(record, tensor, record.data_offset + (start + end) // 2)
             for record in records(folder / "pytorch_model.bin").values() for tensor, (start, end) in record.views.items()]
    assert len(flips) == 29, [t for _, t, _ in flips]

    def one(i: int) -> None:
        record, tensor, offset = flips[i]
        ckpt = flipped(tmp_path, folder, [offset], f"{i}")
        out = tmp_path / f"{i}-out"
        assert_refused(export(ckpt, task, out), ckpt, record.name, out, f"{case}: byte of {tensor}")

    with ThreadPoolExecutor(max_workers=min(8, os.cpu_count() or 1)) as pool:
        list(pool.map(one, range(len(flips))))


def test_shared_storage_bytes_no_tensor_uses_are_checked(tmp_path: Path):
    """views-gpt2's 1-D tensors share one storage with 3 unused elements after each: a flip in a gap (every fourth
    gap and the last, at the end of the storage) is refused."""
    folder, task = CASES["views-gpt2"]
    shared = [r for r in records(folder / "pytorch_model.bin").values() if len(r.views) > 2]
    assert len(shared) == 1, [r.name for r in shared]
    record = shared[0]
    used = sorted(record.views.values())
    gaps = [(end, start) for (_, end), (start, _) in zip(used, used[1:]) if start > end] + [(used[-1][1], record.size)]
    assert len(gaps) == len(used), gaps
    for i, (start, end) in enumerate(gaps[:: max(1, len(gaps) // 4)] + [gaps[-1]]):
        ckpt = flipped(tmp_path, folder, [record.data_offset + start + (end - start) // 2], f"gap{i}")
        out = tmp_path / f"gap{i}-out"
        assert_refused(export(ckpt, task, out), ckpt, record.name, out, f"unused bytes {start}..<{end}")


@pytest.mark.parametrize("options", [["--quantize", "int4"], ["--dtype", "fp16"], ["--external-data", "always"]],
                         ids=["int4", "fp16", "external-data"])
def test_transformed_weights_are_checked_too(options: list[str], tmp_path: Path):
    """Weights quantized, narrowed or written to a data file read their records by other paths than the plain copy."""
    folder, task = CASES["gpt2"]
    (record, start), = [(r, s) for r in records(folder / "pytorch_model.bin").values()
                        for t, (s, _) in r.views.items() if t.endswith("h.0.mlp.c_fc.weight")]
    ckpt = flipped(tmp_path, folder, [record.data_offset + start + 5])
    out = tmp_path / "out"
    assert_refused(export(ckpt, task, out, *options), ckpt, record.name, out, f"h.0.mlp.c_fc.weight with {options}")


def test_bytes_that_do_not_matter_export_as_before(tmp_path: Path):
    """The padding in front of each record's data and a record no exported tensor reads are not checked: the export
    succeeds and writes the same bytes as the untouched checkpoint's."""
    folder, task = CASES["bert"]
    path = folder / "pytorch_model.bin"
    raw = path.read_bytes()
    offsets = []
    for record in records(path).values():
        if record.data_offset - 1 > 0 and raw[record.data_offset - 1] == ord("Z"):  # torch pads with 'Z' bytes
            offsets.append(record.data_offset - 1)
        if record.views.keys() <= BERT_UNUSED:
            offsets.append(record.data_offset + record.size // 2)
    assert len(offsets) > len(BERT_UNUSED), offsets
    clean, dirty = tmp_path / "clean-out", tmp_path / "dirty-out"
    p = export(folder, task, clean)
    assert p.returncode == 0, p.stderr
    p = export(flipped(tmp_path, folder, offsets), task, dirty)
    assert p.returncode == 0, p.stderr
    assert model_bytes(dirty) == model_bytes(clean)


def zero_recorded_crcs(path: Path) -> None:
    """Sets every central directory CRC-32 of a zip to 0 (torch.save after set_crc32_options(False))."""
    raw = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as zf:
        position, count = zf.start_dir, len(zf.infolist())
    for _ in range(count):
        assert raw[position:position + 4] == b"PK\x01\x02", position
        struct.pack_into("<I", raw, position + 16, 0)
        name_len, extra_len, comment_len = struct.unpack_from("<HHH", raw, position + 28)
        position += 46 + name_len + extra_len + comment_len
    path.write_bytes(bytes(raw))


def test_recorded_crc_of_zero_still_exports(tmp_path: Path):
    """CRC 0 means "not computed": the views checkpoint with every CRC zeroed exports and gives PyTorch's outputs;
    a flipped byte then goes unnoticed, as it does for torch.load."""
    folder, task = CASES["views-gpt2"]
    ckpt = flipped(tmp_path, folder, [])
    zero_recorded_crcs(ckpt / "pytorch_model.bin")
    out = tmp_path / "out"
    p = export(ckpt, task, out, "--opset", "17")
    assert p.returncode == 0, p.stderr
    assert_matches_reference(out, task)
    record = next(iter(records(folder / "pytorch_model.bin").values()))  # the same offsets (zipfile refuses CRC 0)
    raw = bytearray((ckpt / "pytorch_model.bin").read_bytes())
    raw[record.data_offset] ^= 0x10
    (ckpt / "pytorch_model.bin").write_bytes(bytes(raw))
    p = export(ckpt, task, tmp_path / "out-flipped")
    assert p.returncode == 0, p.stderr


def assert_matches_reference(out: Path, task: str) -> None:
    meta = json.loads((GPT2 / "formats.json").read_text())
    with np.load(GPT2 / "reference.npz") as z:
        ref = {k: z[k] for k in z.files}
    problems = reference_problems(out / "model.onnx", 17, meta["tasks"][task], ref, task, meta["sets"], meta["compare_where"])
    assert not problems, problems


@pytest.mark.parametrize("task", ["text-generation", "feature-extraction"])
def test_views_checkpoint_gives_pytorch_outputs(task: str, tmp_path: Path):
    """The views fixture holds formats/gpt2's values: its export must give that model's PyTorch outputs."""
    out = tmp_path / "out"
    p = export(CASES["views-gpt2"][0], task, out, "--opset", "17")
    assert p.returncode == 0, p.stderr
    assert_matches_reference(out, task)
