#!/usr/bin/env python3
"""Generate the PyTorch-checkpoint fixtures under ``Tests/Fixtures/pytorch``.

The Swift ``PyTorchReader`` reads ``torch.save`` zip archives without PyTorch; this script is the only
place torch touches them. It needs ``torch`` and ``safetensors`` (the tests need neither)::

    /path/to/venv-torch/bin/python Tests/Fixtures/make_pytorch_fixtures.py

What it writes (each file a few KB; torch pads every record to 64 bytes):

* ``state_dict/pytorch_model.bin``: ``torch.save`` of a module's state_dict (an ``OrderedDict`` with
  ``_metadata``, so the pickle ends with BUILD) extended with one tensor per storage class
  (float32/16/64, bfloat16, int64/32/16/8, uint8, bool), a uint16 tensor (``UntypedStorage`` +
  ``_rebuild_tensor_v3``), two slices of one shared storage (``storage_offset`` 2 and 5), a 0-d
  tensor, an empty tensor, a ``Parameter`` (``_rebuild_parameter``), a ``Parameter`` with a Python
  attribute (``_rebuild_parameter_with_state``), the transpose of a 2-D tensor (strides ``[1, 3]``)
  and a ``[1, 4]`` row whose size-1 dimension has an arbitrary stride.
* ``custom/weights.custom.pt``: the same dict saved with ``_use_new_zipfile_serialization=True`` to a
  custom name, so the record prefix is ``weights.custom``, not ``archive`` or ``pytorch_model``.
* ``protocol4/pytorch_model.bin``: the same dict saved with ``pickle_protocol=4`` (FRAME, MEMOIZE,
  SHORT_BINUNICODE, STACK_GLOBAL), and ``protocol1/pytorch_model.bin`` with ``pickle_protocol=1``
  (INT for booleans, no PROTO opcode).
* ``nocrc/pytorch_model.bin``: saved after ``torch.serialization.set_crc32_options(False)``, so every
  record's CRC-32 is 0 ("not computed"), which torch loads and so must the reader.
* ``deflated/pytorch_model.bin``: ``state_dict/pytorch_model.bin`` re-zipped by Python's ``zipfile``
  with ZIP_DEFLATED, every record compressed (torch itself loads it).
* ``sharded/``: ``pytorch_model-0000{1,2}-of-00002.bin`` and ``pytorch_model.bin.index.json`` as
  transformers writes them; ``loose/``: two ``.bin`` files and no index.
* ``expected/state_dict.safetensors``: every tensor of the dict, made contiguous, written by the
  safetensors package; the Swift tests compare dtype, shape and bytes of every tensor the PyTorch
  reader finds with this file as the SafetensorsReader reads it.
* ``bad/``: files the reader must refuse with a clear message: a pickle calling ``os.system``
  (GLOBAL) and one calling ``builtins.eval`` (STACK_GLOBAL) whose command would create a marker
  file, a truncated archive, a central directory offset past the end, a deflated ``data.pkl`` that
  inflates to more than its declared size, a wrong CRC-32 on ``data.pkl``, a deflated storage with
  a wrong CRC-32, a non-contiguous tensor, a big-endian byte order, and a zip that is not a
  PyTorch checkpoint.
* ``legacy/``: the legacy (pre-1.6) format, ``torch.save(..., _use_new_zipfile_serialization=False)``:
  a stream of pickles (magic number, protocol version 1001, sys_info, the object, the storage keys)
  followed by each storage as an 8-byte little-endian element count and its bytes. ``state_dict/``,
  ``protocol1/`` (LONG magic, INT booleans) and ``protocol4/`` (FRAME) hold the fixture dict;
  ``sharded/`` its two halves with an index; ``numpy/`` the dict plus a NumPy array and a NumPy dtype
  (objects the reader keeps as placeholders and skips); ``view/`` a hand-written file whose persistent
  ids carry ``view_metadata`` (storage views, which torch before 1.0 wrote), loaded by torch here.
* ``bad/legacy_*.bin``: legacy files to refuse: ``os.system`` via REDUCE as the object pickle, a storage
  section cut short, an element count that disagrees with the persistent id, a key the object names but
  the key list lacks, a key list naming a storage the object never uses, a big-endian sys_info, and
  protocol version 1002. torch refuses the os.system one (``weights_only``) and the damaged ones (checked
  here); it ignores sys_info, and loads a missing key's storage as uninitialised memory.

* ``views-gpt2/``: a GPT-2 model folder (``formats/gpt2/bin`` re-saved) whose 1-D tensors are views of one storage
  with unused elements between them, for the CRC-32 tests of stored records (``write_views_model``);
  ``--views-only`` rewrites just it.

``--legacy-only`` rewrites only ``legacy/`` and ``bad/legacy_*.bin`` (the zip files carry a random
``.data/serialization_id``, so the bytes of everything else change on each run; the tensors do not).

``--xlm-only`` rewrites only ``Tests/Fixtures/xlm-original/`` (also part of a full run): a facebookresearch/XLM
pretrained file as XLM's trainer saves it, tiny, and what transformers' own converter makes of it. It needs
``transformers`` beside torch, and ``$T4_PYTHON`` (a Python with torch + transformers 4.57; default python3)
to run ``convert_xlm_original_pytorch_checkpoint_to_pytorch.py``, which PyPI's wheel and sdist do not ship:
``$XLM_CONVERT_SCRIPT`` names its file from transformers' GitHub repository (tag v4.57.x,
``src/transformers/models/xlm/``). What it writes (< 300 KB):

* ``legacy/mlm_tiny.pth`` (``_use_new_zipfile_serialization=False``, as the 2019 releases) and ``zip/mlm_tiny.pth``:
  ``{"model": state_dict, "params": {...}, "dico_id2word", "dico_word2id", "dico_counts"}``; the model is
  transformers' XLMWithLMHeadModel (n_words 99, emb_dim 16, 2 layers, 2 heads, 2 languages with lang_embeddings,
  gelu, 512 learned positions as XLM has) re-initialised, under XLM's own names (no ``transformer.`` prefix,
  ``pred_layer.proj.weight`` sharing the embeddings' storage); ``params`` the training arguments as XLM's train.py
  leaves them (plain values, lists of tuples, nested dicts, lang2id / id2lang, the model's sizes and special
  indices; four ``repr_check_*`` floats that Python writes in exponent notation are the fixture's own) plus ``pred_probs`` (a FloatTensor) and ``mask_scores`` (a float64 NumPy array, pickled with NumPy 1's
  module name ``numpy.core.multiarray`` in the legacy file, as the 2019 files have it); ``dico_word2id`` XLM's 14
  special symbols then words, some ``@@`` BPE pieces, some non-ASCII (one astral).
* ``reference/``: ``pytorch_model.bin``, ``config.json``, ``vocab.json`` as transformers 4.57's script writes them
  from ``legacy/mlm_tiny.pth`` (its ``torch.load(weights_only=True)`` needs NumPy's ``_reconstruct``, ``ndarray``
  and dtype allowed with ``torch.serialization.safe_globals``, as a user converting a real file must do). The
  script run on ``zip/mlm_tiny.pth`` must write the same files (checked here).
* ``reference.npz``: inputs (``<set>.input.<name>``) and PyTorch outputs (``<set>.fill-mask.logits`` from
  XLMWithLMHeadModel, ``<set>.feature-extraction.last_hidden_state`` from XLMModel, both loaded from
  ``reference/``) for sets a and b; ``xlm.json`` what the tests need (tasks, inputs, outputs, axes, sets, notes).
* ``bad/``: legacy files ``convert`` must refuse: no ``model``, no ``params``, a ``model`` entry that is not a
  tensor, a checkpoint that is a bare state dict.
"""

from __future__ import annotations

import collections
import io
import json
import os
import pickle
import pickletools
import shutil
import struct
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import save_file

HERE = Path(__file__).resolve().parent
OUT = HERE / "pytorch"
XLM_OUT = HERE / "xlm-original"
T4_PYTHON = os.environ.get("T4_PYTHON", "python3")
XLM_CONVERT_SCRIPT = os.environ.get("XLM_CONVERT_SCRIPT", "")

# The commands the hostile pickles would run; the Swift tests check these files never appear.
OS_SYSTEM_MARKER = "/tmp/onnx-export-pytorch-fixture-os-system-ran"
EVAL_MARKER = "/tmp/onnx-export-pytorch-fixture-eval-ran"


def state_dict() -> collections.OrderedDict:
    torch.manual_seed(0)
    module = torch.nn.Sequential(torch.nn.Linear(3, 2), torch.nn.LayerNorm(2))
    sd = module.state_dict()  # an OrderedDict with `_metadata`: GLOBAL, REDUCE, SETITEMS, BUILD
    shared = torch.arange(10, dtype=torch.float32) * 0.5
    sd["f16"] = torch.randn(3).half()
    sd["bf16"] = torch.randn(2, 2).bfloat16()
    sd["f64"] = torch.tensor([1.25, -2.5], dtype=torch.float64)
    sd["i64"] = torch.tensor([1, -2, 3])
    sd["i32"] = torch.tensor([[7, -8]], dtype=torch.int32)
    sd["i16"] = torch.tensor([300, -300], dtype=torch.int16)
    sd["i8"] = torch.tensor([-5, 6], dtype=torch.int8)
    sd["u8"] = torch.tensor([250, 1], dtype=torch.uint8)
    sd["bool"] = torch.tensor([True, False, True])
    sd["u16"] = torch.tensor([65535, 2], dtype=torch.uint16)
    sd["shared.a"] = shared[2:5]
    sd["shared.b"] = shared.view(2, 5)[1]
    sd["scalar"] = torch.tensor(3.5)
    sd["empty"] = torch.zeros(0, 4)
    sd["param"] = torch.nn.Parameter(torch.tensor([1.0, 2.0]))
    with_state = torch.nn.Parameter(torch.tensor([4.0]))
    with_state.note = "kept"
    sd["param_with_state"] = with_state
    sd["transposed"] = torch.arange(6, dtype=torch.float32).view(2, 3).t()
    sd["row"] = torch.arange(8, dtype=torch.float32).view(2, 4)[1:2]
    assert sd["row"].stride() == (4, 1) and sd["transposed"].stride() == (1, 3)
    return sd


def rezip(source: Path, target: Path, compression: int, override: dict[str, bytes] | None = None) -> None:
    """Copies every record of `source` into a fresh zip at `target` (no FB padding, no Zip64)."""
    override = override or {}
    with zipfile.ZipFile(source) as zin, zipfile.ZipFile(target, "w", compression) as zout:
        for info in zin.infolist():
            data = override.get(info.filename, zin.read(info.filename))
            zout.writestr(zipfile.ZipInfo(info.filename, date_time=(2024, 1, 1, 0, 0, 0)), data, compress_type=compression)


def central_entry(data: bytes, name: str) -> int:
    """Offset of the central directory header for `name`."""
    position = data.find(b"PK\x01\x02")
    while position >= 0:
        name_length, extra_length, comment_length = struct.unpack("<HHH", data[position + 28:position + 34])
        if data[position + 46:position + 46 + name_length] == name.encode():
            return position
        position = data.find(b"PK\x01\x02", position + 46 + name_length + extra_length + comment_length)
    raise KeyError(name)


def patch(path: Path, offset: int, fmt: str, value: int) -> None:
    data = bytearray(path.read_bytes())
    struct.pack_into(fmt, data, offset, value)
    path.write_bytes(bytes(data))


def fake_archive(target: Path, pickle_bytes: bytes, prefix: str = "archive") -> None:
    """A zip shaped like torch.save's, holding a hand-written data.pkl."""
    with zipfile.ZipFile(target, "w", zipfile.ZIP_STORED) as z:
        z.writestr(f"{prefix}/data.pkl", pickle_bytes)
        z.writestr(f"{prefix}/byteorder", b"little")
        z.writestr(f"{prefix}/version", b"3\n")


def write_good(sd: collections.OrderedDict) -> None:
    (OUT / "state_dict").mkdir(parents=True)
    main = OUT / "state_dict" / "pytorch_model.bin"
    torch.save(sd, main)

    (OUT / "custom").mkdir()
    torch.save(sd, OUT / "custom" / "weights.custom.pt", _use_new_zipfile_serialization=True)
    for protocol in (1, 4):
        (OUT / f"protocol{protocol}").mkdir()
        torch.save(sd, OUT / f"protocol{protocol}" / "pytorch_model.bin", pickle_protocol=protocol)

    (OUT / "nocrc").mkdir()
    torch.serialization.set_crc32_options(False)
    try:
        torch.save(sd, OUT / "nocrc" / "pytorch_model.bin")
    finally:
        torch.serialization.set_crc32_options(True)
    with zipfile.ZipFile(OUT / "nocrc" / "pytorch_model.bin") as z:
        assert all(info.CRC == 0 for info in z.infolist())

    (OUT / "deflated").mkdir()
    rezip(main, OUT / "deflated" / "pytorch_model.bin", zipfile.ZIP_DEFLATED)

    names = list(sd.keys())
    halves = [names[: len(names) // 2], names[len(names) // 2:]]
    (OUT / "sharded").mkdir()
    (OUT / "loose").mkdir()
    weight_map = {}
    for number, keys in enumerate(halves, start=1):
        shard_name = f"pytorch_model-{number:05d}-of-00002.bin"
        shard = collections.OrderedDict((k, sd[k]) for k in keys)
        torch.save(shard, OUT / "sharded" / shard_name)
        torch.save(shard, OUT / "loose" / ("first.bin" if number == 1 else "second.bin"))
        weight_map.update({k: shard_name for k in keys})
    total = sum(t.numel() * t.element_size() for t in sd.values())
    index = {"metadata": {"total_size": total}, "weight_map": weight_map}
    (OUT / "sharded" / "pytorch_model.bin.index.json").write_text(json.dumps(index, indent=2) + "\n")

    (OUT / "expected").mkdir()
    save_file({k: v.detach().contiguous().clone() for k, v in sd.items()}, OUT / "expected" / "state_dict.safetensors")

    # Every good file must load in torch with the same values.
    for path in [main, OUT / "custom" / "weights.custom.pt", OUT / "nocrc" / "pytorch_model.bin", OUT / "protocol1" / "pytorch_model.bin",
                 OUT / "protocol4" / "pytorch_model.bin", OUT / "deflated" / "pytorch_model.bin"]:
        # torch's weights-only unpickler lacks protocol 1's INT and protocol 4's FRAME; these files
        # were just written here, so the full unpickler is safe.
        loaded = torch.load(path, weights_only=False)
        assert list(loaded) == names, path
        for k in names:
            assert torch.equal(loaded[k], sd[k]), (path, k)


def write_bad(sd: collections.OrderedDict) -> None:
    bad = OUT / "bad"
    bad.mkdir()
    main = OUT / "state_dict" / "pytorch_model.bin"

    # GLOBAL os system, then REDUCE: what a malicious checkpoint looks like to pickle.load.
    command = f"touch {OS_SYSTEM_MARKER}".encode()
    os_system = (b"\x80\x02cos\nsystem\nq\x00X" + struct.pack("<I", len(command)) + command + b"\x85R.")
    fake_archive(bad / "global_os_system.bin", os_system)
    # The same through STACK_GLOBAL (protocol 4): builtins.eval of an expression that writes a file.
    expression = f"open({EVAL_MARKER!r}, 'w').write('ran')".encode()
    module, name = b"builtins", b"eval"
    eval_pickle = (b"\x80\x04\x8c" + bytes([len(module)]) + module + b"\x8c" + bytes([len(name)]) + name
                   + b"\x93X" + struct.pack("<I", len(expression)) + expression + b"\x85R.")
    fake_archive(bad / "global_builtins_eval.bin", eval_pickle, prefix="evil")

    data = main.read_bytes()
    (bad / "truncated.bin").write_bytes(data[: len(data) // 2])

    # A plain (non-Zip64) archive whose end record points the central directory past the end.
    rezip(main, bad / "cd_offset_past_end.bin", zipfile.ZIP_STORED)
    end = bad.joinpath("cd_offset_past_end.bin").read_bytes().rfind(b"PK\x05\x06")
    patch(bad / "cd_offset_past_end.bin", end + 16, "<I", 0x7FFF0000)

    # data.pkl deflated, its declared size (central directory) 16 bytes smaller than it inflates to.
    rezip(main, bad / "inflates_past_size.bin", zipfile.ZIP_DEFLATED)
    target = bad.joinpath("inflates_past_size.bin").read_bytes()
    entry = central_entry(target, "pytorch_model/data.pkl")
    declared = struct.unpack("<I", target[entry + 24:entry + 28])[0]
    patch(bad / "inflates_past_size.bin", entry + 24, "<I", declared - 16)

    # A stored archive whose data.pkl CRC-32 is wrong in the central directory.
    rezip(main, bad / "wrong_crc.bin", zipfile.ZIP_STORED)
    target = bad.joinpath("wrong_crc.bin").read_bytes()
    entry = central_entry(target, "pytorch_model/data.pkl")
    crc = struct.unpack("<I", target[entry + 16:entry + 20])[0]
    patch(bad / "wrong_crc.bin", entry + 16, "<I", crc ^ 0xFFFFFFFF)

    # A deflated archive whose first storage (0.weight) has a wrong CRC-32: found while streaming.
    rezip(main, bad / "wrong_crc_deflated_storage.bin", zipfile.ZIP_DEFLATED)
    target = bad.joinpath("wrong_crc_deflated_storage.bin").read_bytes()
    entry = central_entry(target, "pytorch_model/data/0")
    crc = struct.unpack("<I", target[entry + 16:entry + 20])[0]
    patch(bad / "wrong_crc_deflated_storage.bin", entry + 16, "<I", crc ^ 0x1)

    torch.save({"strided": torch.arange(12, dtype=torch.float32).view(3, 4)[:, ::2]}, bad / "non_contiguous.bin")

    rezip(main, bad / "big_endian.bin", zipfile.ZIP_STORED, override={"pytorch_model/byteorder": b"big"})

    with zipfile.ZipFile(bad / "not_pytorch.zip", "w") as z:
        z.writestr("readme.txt", b"just a zip")


# ------------------------------------------------------------------------------------------------
# the legacy (pre-1.6) format


def save_legacy(obj, path: Path, protocol: int = 2) -> None:
    torch.save(obj, path, _use_new_zipfile_serialization=False, pickle_protocol=protocol)


def legacy_parts(data: bytes) -> tuple[list[bytes], bytes]:
    """The five pickles of a legacy torch.save file (magic, version, sys_info, object, keys) and the storage
    sections after them, split where each pickle's STOP ends it (pickletools: nothing is run)."""
    stream = io.BytesIO(data)
    parts = []
    for _ in range(5):
        start = stream.tell()
        for _ in pickletools.genops(stream):
            pass
        parts.append(data[start:stream.tell()])
    return parts, data[stream.tell():]


def legacy_stream(object_pickle: bytes, keys: list[str], sections: bytes, version: int = 1001,
                  little_endian: bool = True) -> bytes:
    """A legacy file around a hand-written object pickle, as _legacy_save lays it out."""
    sys_info = {"protocol_version": version, "little_endian": little_endian,
                "type_sizes": {"short": 2, "int": 4, "long": 8}}
    return b"".join(pickle.dumps(x, protocol=2) for x in (0x1950A86A20F9469CFC6C, version, sys_info)) \
        + object_pickle + pickle.dumps(keys, protocol=2) + sections


class _ViewStorage:
    """A storage view in a persistent id: ('storage', torch.FloatStorage, key, 'cpu', numel, view_metadata)."""

    def __init__(self, key: str, numel: int, view: tuple | None) -> None:
        self.pid = ("storage", torch.FloatStorage, key, "cpu", numel, view)


class _ViewTensor:
    """Pickles as torch._utils._rebuild_tensor_v2(storage, offset, size, stride, False, OrderedDict())."""

    def __init__(self, storage: _ViewStorage, offset: int, size: tuple, stride: tuple) -> None:
        self.args = (storage, offset, size, stride, False, collections.OrderedDict())

    def __reduce__(self):
        return torch._utils._rebuild_tensor_v2, self.args


class _ViewPickler(pickle.Pickler):
    def persistent_id(self, obj):
        return obj.pid if isinstance(obj, _ViewStorage) else None


def view_file() -> tuple[bytes, dict[str, torch.Tensor]]:
    """Storage '0' holds 0.5 * arange(6); 'whole' is all of it, 'view' is a view of elements 2..4 (view key 'v')
    read from its element 1 (so root elements 3 and 4), 'again' names the same view a second time."""
    root = torch.arange(6, dtype=torch.float32) * 0.5
    whole = _ViewStorage("0", 6, None)
    view = _ViewStorage("0", 6, ("v", 2, 3))
    obj = collections.OrderedDict(whole=_ViewTensor(whole, 0, (2, 3), (3, 1)), view=_ViewTensor(view, 1, (2,), (1,)),
                                  again=_ViewTensor(view, 0, (3,), (1,)))
    buffer = io.BytesIO()
    _ViewPickler(buffer, protocol=2).dump(obj)
    data = legacy_stream(buffer.getvalue(), ["0"], struct.pack("<q", 6) + root.numpy().tobytes())
    expected = {"whole": root.view(2, 3), "view": root[3:5], "again": root[2:5]}
    return data, expected


def legacy_state_dict(sd: collections.OrderedDict) -> collections.OrderedDict:
    """The fixture dict without its uint16 tensor: the legacy format names its storage torch.UntypedStorage,
    which torch's own _legacy_load cannot read back (UntypedStorage has no dtype)."""
    return collections.OrderedDict((k, v) for k, v in sd.items() if v.dtype != torch.uint16)


def write_legacy(sd: collections.OrderedDict) -> None:
    sd = legacy_state_dict(sd)
    legacy = OUT / "legacy"
    if legacy.exists():
        shutil.rmtree(legacy)
    for folder in ("state_dict", "protocol1", "protocol4", "sharded", "numpy", "view"):
        (legacy / folder).mkdir(parents=True)
    main = legacy / "state_dict" / "pytorch_model.bin"
    save_legacy(sd, main)
    save_legacy(sd, legacy / "protocol1" / "pytorch_model.bin", protocol=1)
    save_legacy(sd, legacy / "protocol4" / "pytorch_model.bin", protocol=4)
    names = list(sd.keys())
    halves = [names[: len(names) // 2], names[len(names) // 2:]]
    weight_map = {}
    for number, keys in enumerate(halves, start=1):
        shard_name = f"pytorch_model-{number:05d}-of-00002.bin"
        save_legacy(collections.OrderedDict((k, sd[k]) for k in keys), legacy / "sharded" / shard_name)
        weight_map.update({k: shard_name for k in keys})
    total = sum(t.numel() * t.element_size() for t in sd.values())
    index = {"metadata": {"total_size": total}, "weight_map": weight_map}
    (legacy / "sharded" / "pytorch_model.bin.index.json").write_text(json.dumps(index, indent=2) + "\n")
    with_numpy = collections.OrderedDict(sd)
    with_numpy["mask_scores"] = np.array([1.0, 0.5, 0.25])
    with_numpy["score_dtype"] = np.dtype("float32")
    save_legacy(with_numpy, legacy / "numpy" / "pytorch_model.bin")
    data, expected_views = view_file()
    (legacy / "view" / "pytorch_model.bin").write_bytes(data)

    # Every good file loads in torch with the same values (the numpy one only with the full unpickler:
    # weights_only refuses NumPy globals; these files were just written here, so that is safe).
    for path in [main, legacy / "protocol1" / "pytorch_model.bin", legacy / "protocol4" / "pytorch_model.bin",
                 legacy / "numpy" / "pytorch_model.bin"]:
        loaded = torch.load(path, weights_only=False)
        for k in names:
            assert torch.equal(loaded[k], sd[k]), (path, k)
    loaded = torch.load(legacy / "view" / "pytorch_model.bin", weights_only=True)
    for k, want in expected_views.items():
        assert torch.equal(loaded[k], want), k


def write_legacy_bad(sd: collections.OrderedDict) -> None:
    bad = OUT / "bad"
    bad.mkdir(exist_ok=True)
    for old in bad.glob("legacy_*.bin"):
        old.unlink()
    buffer = io.BytesIO()
    save_legacy(collections.OrderedDict((k, sd[k]) for k in ("0.weight", "0.bias", "i64")), buffer)
    parts, sections = legacy_parts(buffer.getvalue())
    magic, version, sys_info, obj, key_list = parts
    keys = pickle.loads(key_list)
    first = struct.unpack("<q", sections[:8])[0]
    first_bytes = 8 + first * 4  # the first key's storage: float32 (keys sort as decimal strings of addresses)
    assert pickle.loads(magic) == 0x1950A86A20F9469CFC6C and pickle.loads(version) == 1001 and len(keys) == 3

    command = f"touch {OS_SYSTEM_MARKER}".encode()
    os_system = b"\x80\x02cos\nsystem\nq\x00X" + struct.pack("<I", len(command)) + command + b"\x85R."
    files = {
        "legacy_os_system.bin": legacy_stream(os_system, [], b""),
        "legacy_truncated.bin": buffer.getvalue()[:-5],
        "legacy_count_lies.bin": magic + version + sys_info + obj + key_list + struct.pack("<q", first + 1) + sections[8:],
        "legacy_missing_key.bin": magic + version + sys_info + obj + pickle.dumps(keys[1:], protocol=2) + sections[first_bytes:],
        "legacy_unlisted_key.bin": magic + version + sys_info + obj + pickle.dumps(keys + ["999"], protocol=2) + sections
                                   + struct.pack("<q", 0),
        "legacy_big_endian.bin": legacy_stream(obj, keys, sections, little_endian=False),
        "legacy_protocol_version.bin": magic + pickle.dumps(1002, protocol=2) + sys_info + obj + key_list + sections,
    }
    for name, data in files.items():
        (bad / name).write_bytes(data)
        if name in ("legacy_os_system.bin", "legacy_big_endian.bin", "legacy_missing_key.bin"):
            # weights_only refuses the first; torch ignores sys_info, so it loads the second, and it loads the
            # third with the unlisted storage left as uninitialised memory
            continue
        try:
            torch.load(bad / name, weights_only=True)
        except Exception:
            continue
        raise SystemExit(f"torch loads bad/{name}")


# ------------------------------------------------------------------------------------------------
# facebookresearch/XLM's pretrained files, and transformers' conversion of them


XLM_SPECIALS = ["<s>", "</s>", "<pad>", "<unk>"] + [f"<special{i}>" for i in range(10)]  # ids 0-13
XLM_WORDS = ["the", "of", "and", "in", "to", "was", "he", "is", "for", "on", "as", "with", "by", "at", "his", "from",
             "play@@", "ing", "un@@", "believ@@", "able", "na\u00efve", "caf\u00e9", "\u65e5\u672c@@", "\u8a9e", "\U0001f600",
             "ab@@", "c", "quote\"d", "back\\slash"]


def xlm_vocab(n_words: int) -> list[str]:
    words = XLM_SPECIALS + XLM_WORDS
    words += [f"w{i}" + ("@@" if i % 5 == 0 else "") for i in range(n_words - len(words))]
    assert len(words) == n_words and len(set(words)) == n_words
    return words


def xlm_params(n_words: int, n_langs: int, emb_dim: int, n_layers: int, n_heads: int) -> dict:
    """The training arguments as XLM's train.py leaves them in ``params`` (a representative subset, in its
    order), plus what check_data_params / build_model add: langs, id2lang, lang2id, word_mask..., pred_probs
    (a FloatTensor), n_words and the special indices; mask_scores (a NumPy array) is set by the trainer."""
    langs = ["de", "en"][:n_langs]
    return {
        "dump_path": "./dumped/mlm_tiny/1", "exp_name": "mlm_tiny", "save_periodic": 0, "exp_id": "1",
        "fp16": False, "amp": -1, "encoder_only": True, "emb_dim": emb_dim, "n_layers": n_layers, "n_heads": n_heads,
        "dropout": 0.1, "attention_dropout": 0.1, "gelu_activation": True, "share_inout_emb": True,
        "sinusoidal_embeddings": False, "use_lang_emb": True, "use_memory": False, "mem_enc_positions": [],
        "mem_dec_positions": [], "asm": False, "asm_cutoffs": "8000,20000", "asm_div_value": 4, "context_size": 0,
        "word_pred": 0.15, "sample_alpha": 0.0, "word_mask_keep_rand": "0.8,0.1,0.1", "word_shuffle": 0,
        "word_dropout": 0, "word_blank": 0, "data_path": "./data/processed/de-en", "lgs": "-".join(langs),
        "max_vocab": -1, "min_count": 0, "lg_sampling_factor": -1, "bptt": 256, "max_len": 100,
        "group_by_size": True, "batch_size": 32, "max_batch_size": 0, "tokens_per_batch": -1, "split_data": False,
        "optimizer": "adam_inverse_sqrt,beta1=0.9,beta2=0.98,lr=0.0001", "clip_grad_norm": 5, "epoch_size": 300000,
        "max_epoch": 100000, "stopping_criterion": "_valid_mlm_ppl,25", "validation_metrics": "_valid_mlm_ppl",
        "accumulate_gradients": 1, "lambda_mlm": "1", "lambda_clm": "1", "lambda_pc": "1", "lambda_ae": "1",
        "lambda_mt": "1", "lambda_bt": "1", "clm_steps": [], "mlm_steps": [(lang, None) for lang in langs],
        "mt_steps": [], "ae_steps": [], "bt_steps": [], "pc_steps": [], "reload_emb": "", "reload_model": "",
        "reload_checkpoint": "", "beam_size": 1, "length_penalty": 1, "early_stopping": False, "eval_bleu": False,
        "eval_only": False, "debug_train": False, "debug_slurm": False, "debug": False, "local_rank": -1,
        "master_port": -1, "is_slurm_job": False, "global_rank": 0, "world_size": 1, "n_gpu_per_node": 1,
        "n_nodes": 1, "node_id": 0, "is_master": True, "multi_node": False, "multi_gpu": False,
        "command": "python train.py --exp_name mlm_tiny --emb_dim 16 --exp_id \"1\"", "langs": langs,
        "id2lang": dict(enumerate(langs)), "lang2id": {lang: i for i, lang in enumerate(langs)}, "n_langs": n_langs,
        "mono_dataset": {lang: {s: f"./data/processed/de-en/{s}.{lang}.pth" for s in ("train", "valid", "test")}
                         for lang in langs},
        "para_dataset": {}, "word_mask": 0.8, "word_keep": 0.1, "word_rand": 0.1,
        "pred_probs": torch.FloatTensor([0.8, 0.1, 0.1]), "n_words": n_words, "bos_index": 0, "eos_index": 1,
        "pad_index": 2, "unk_index": 3, "mask_index": 5, "hyp_path": "./dumped/mlm_tiny/1/hypotheses",
        "ref_paths": {},
        # not XLM's: floats Python writes in exponent notation, so config.json pins its repr
        "repr_check_small": 5e-05, "repr_check_tiny": 1e-12, "repr_check_large": 1e16, "repr_check_negative": -2.5e-7,
    }


def t4_convert_xlm(job_path: str) -> None:
    """Runs in $T4_PYTHON: transformers 4.57's convert_xlm_checkpoint_to_pytorch on each (checkpoint, folder) of
    the job, with NumPy's array globals allowed for its torch.load(weights_only=True)."""
    job = json.loads(Path(job_path).read_text())
    sys.path.insert(0, str(Path(job["script"]).parent))
    import transformers
    from convert_xlm_original_pytorch_checkpoint_to_pytorch import convert_xlm_checkpoint_to_pytorch

    assert transformers.__version__.startswith("4.57"), transformers.__version__
    reconstruct = np._core.multiarray._reconstruct
    allowed = [reconstruct, (reconstruct, "numpy.core.multiarray._reconstruct"), np.ndarray, np.dtype,
               type(np.dtype("float64"))]
    for checkpoint, folder in job["runs"]:
        with torch.serialization.safe_globals(allowed):
            convert_xlm_checkpoint_to_pytorch(checkpoint, folder)
    Path(job["versions"]).write_text(json.dumps({"torch": torch.__version__.split("+")[0],
                                                 "transformers": transformers.__version__}))


def write_xlm() -> None:
    import transformers
    from transformers import XLMConfig, XLMModel, XLMWithLMHeadModel

    sys.path.insert(0, str(HERE))
    from make_fixtures import Variant, axes_for, make_input_set, reinit, seed_of, write_npz

    if not XLM_CONVERT_SCRIPT or not Path(XLM_CONVERT_SCRIPT).is_file():
        raise SystemExit("set XLM_CONVERT_SCRIPT to transformers' convert_xlm_original_pytorch_checkpoint_to_pytorch.py "
                         "(v4.57.x, from its GitHub repository: PyPI's packages do not ship it)")
    if XLM_OUT.exists():
        shutil.rmtree(XLM_OUT)
    for folder in ("legacy", "zip", "reference", "bad"):
        (XLM_OUT / folder).mkdir(parents=True)
    transformers.utils.logging.set_verbosity_error()
    torch.set_num_threads(1)
    name = "xlm-original/mlm_tiny"
    n_words, n_langs, emb_dim, n_layers, n_heads = 99, 2, 16, 2, 2
    config = XLMConfig(vocab_size=n_words, emb_dim=emb_dim, n_layers=n_layers, n_heads=n_heads, n_langs=n_langs,
                       use_lang_emb=True, gelu_activation=True, sinusoidal_embeddings=False, causal=False, asm=False,
                       max_position_embeddings=512, pad_index=2, pad_token_id=2, bos_index=0, eos_index=1)
    seed = seed_of(name)
    torch.manual_seed(seed)
    model = XLMWithLMHeadModel._from_config(config, attn_implementation="eager")
    reinit(model, (), torch.Generator().manual_seed(seed))
    model.eval()
    state = collections.OrderedDict((k.removeprefix("transformer."), v) for k, v in model.state_dict().items())
    assert state["pred_layer.proj.weight"].data_ptr() == state["embeddings.weight"].data_ptr()

    words = xlm_vocab(n_words)
    params = xlm_params(n_words, n_langs, emb_dim, n_layers, n_heads)
    params["mask_scores"] = np.maximum(np.arange(n_words, dtype=np.float64), 1) ** -0.5
    checkpoint = {"model": state, "params": params, "dico_id2word": dict(enumerate(words)),
                  "dico_word2id": {w: i for i, w in enumerate(words)},
                  "dico_counts": {w: 1000 - i for i, w in enumerate(words)}}
    legacy = XLM_OUT / "legacy" / "mlm_tiny.pth"
    save_legacy(checkpoint, legacy)
    # NumPy 1 (the 2019 releases) names the array rebuild numpy.core.multiarray; NumPy 2 writes numpy._core.
    data = legacy.read_bytes()
    assert data.count(b"cnumpy._core.multiarray\n_reconstruct\n") == 1
    legacy.write_bytes(data.replace(b"cnumpy._core.multiarray\n_reconstruct\n", b"cnumpy.core.multiarray\n_reconstruct\n"))
    torch.save(checkpoint, XLM_OUT / "zip" / "mlm_tiny.pth")

    with tempfile.TemporaryDirectory() as tmp:
        from_zip = Path(tmp) / "from-zip"
        from_zip.mkdir()
        job = {"script": XLM_CONVERT_SCRIPT, "versions": str(Path(tmp) / "versions.json"),
               "runs": [[str(legacy), str(XLM_OUT / "reference")], [str(XLM_OUT / "zip" / "mlm_tiny.pth"), str(from_zip)]]}
        (Path(tmp) / "job.json").write_text(json.dumps(job))
        p = subprocess.run([T4_PYTHON, str(Path(__file__).resolve()), "--t4-convert-xlm", str(Path(tmp) / "job.json")],
                           capture_output=True, text=True)
        if p.returncode != 0:
            raise SystemExit(f"{T4_PYTHON} --t4-convert-xlm failed:\n{p.stderr[-4000:]}")
        t4_versions = json.loads((Path(tmp) / "versions.json").read_text())
        for file in ("config.json", "vocab.json"):
            assert (from_zip / file).read_bytes() == (XLM_OUT / "reference" / file).read_bytes(), file
        a = torch.load(from_zip / "pytorch_model.bin", weights_only=True)
        b = torch.load(XLM_OUT / "reference" / "pytorch_model.bin", weights_only=True)
        assert list(a) == list(b) and all(torch.equal(a[k], b[k]) for k in a)

    # The reference folder loads into transformers (its config.json lacks model_type: load by class).
    arrays: dict[str, np.ndarray] = {}
    variant = Variant(name, "xlm", {"pad_token_id": 2, "n_langs": n_langs, "use_lang_emb": True},
                      ["fill-mask", "feature-extraction"], "")
    rng = np.random.default_rng(seed)
    tasks = {}
    loaded = {}
    for task, cls, output in (("fill-mask", XLMWithLMHeadModel, "logits"), ("feature-extraction", XLMModel, "last_hidden_state")):
        m, info = cls.from_pretrained(XLM_OUT / "reference", attn_implementation="eager", output_loading_info=True)
        unexpected = [k for k in info["unexpected_keys"] if not (cls is XLMModel and k.startswith("pred_layer."))]
        if info["missing_keys"] or unexpected or info["mismatched_keys"]:
            raise SystemExit(f"{name}: {cls.__name__}.from_pretrained(reference) reported {info}")
        loaded[task] = (m.eval(), output)
    for s in ("a", "b"):
        inputs = make_input_set(s, variant, "fill-mask", rng)
        for k, a in inputs.items():
            arrays[f"{s}.input.{k}"] = a
        for task, (m, output) in loaded.items():
            with torch.no_grad():
                out = m(**{k: torch.from_numpy(v) for k, v in inputs.items()}, return_dict=True)
            arrays[f"{s}.{task}.{output}"] = out[output].numpy().astype(np.float32)
    for task, (_, output) in loaded.items():
        in_axes, out_axes = axes_for(task, sorted(inputs, key=list(inputs).index), [output])
        tasks[task] = {"inputs": list(inputs), "outputs": [output], "input_axes": in_axes, "output_axes": out_axes}
    write_npz(XLM_OUT / "reference.npz", arrays)
    meta = {
        "name": name, "model_type": "xlm", "seed": seed, "sets": ["a", "b"], "tasks": tasks,
        "checkpoints": {"legacy": "legacy/mlm_tiny.pth", "zip": "zip/mlm_tiny.pth"},
        "reference": "reference",
        "notes": "reference/ is transformers 4.57's convert_xlm_original_pytorch_checkpoint_to_pytorch.py run on "
                 "legacy/mlm_tiny.pth (the zip file converts to the same files): weights with transformers' names, "
                 "config.json = params without pred_probs (a FloatTensor) and mask_scores (an ndarray) and without "
                 "model_type, vocab.json by the script's </w> / @@ rule. reference.npz holds PyTorch's outputs "
                 "(transformers " + transformers.__version__ + ") of that folder: fill-mask = XLMWithLMHeadModel "
                 "logits, feature-extraction = XLMModel last_hidden_state; langs per segment (2 languages), "
                 "token_type_ids 0/1, right-padded rows.",
        "generated_with": {"torch": torch.__version__.split("+")[0], "transformers": transformers.__version__},
        "converted_with": t4_versions,
    }
    (XLM_OUT / "xlm.json").write_text(json.dumps(meta, indent=2) + "\n")

    bad = XLM_OUT / "bad"
    tiny_model = collections.OrderedDict([("embeddings.weight", torch.ones(2, 2))])
    tiny = {"model": tiny_model, "params": {"n_words": 2, "mask_scores": np.ones(2)}, "dico_word2id": {"a": 0, "b": 1}}
    save_legacy({k: v for k, v in tiny.items() if k != "model"}, bad / "no_model.pth")
    save_legacy({k: v for k, v in tiny.items() if k != "params"}, bad / "no_params.pth")
    save_legacy(dict(tiny, model=collections.OrderedDict([*tiny_model.items(), ("n_steps", 7)])), bad / "non_tensor_weight.pth")
    save_legacy(tiny_model, bad / "bare_state_dict.pth")
    total = sum(p.stat().st_size for p in XLM_OUT.rglob("*") if p.is_file())
    print(f"xlm-original: {total / 1e3:.0f} KB")
    if total >= 300_000:
        raise SystemExit("the XLM fixtures passed 300 KB")


def write_views_model() -> None:
    """``views-gpt2/``: the GPT-2 of ``formats/gpt2/bin`` (config.json copied) re-saved so that every 1-D tensor
    (biases, LayerNorm weights and biases) is a view of one shared storage, each followed by 3 float32 elements no
    tensor uses (-7.0), while wte and lm_head still share theirs whole. The same values, so its exports must give
    ``formats/gpt2``'s reference outputs; test_zip_crc.py flips bytes in used, unused and shared storage bytes."""
    source = HERE / "formats" / "gpt2" / "bin"
    sd = torch.load(source / "pytorch_model.bin", weights_only=True)
    gap = 3
    vectors = [k for k, v in sd.items() if v.dim() == 1]
    flat = torch.full((sum(sd[k].numel() + gap for k in vectors),), -7.0)
    views, start = collections.OrderedDict(), 0
    for k, v in sd.items():
        if v.dim() != 1:
            views[k] = v
            continue
        flat[start:start + v.numel()] = v
        views[k] = flat[start:start + v.numel()]
        start += v.numel() + gap
    folder = OUT / "views-gpt2"
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    shutil.copy(source / "config.json", folder / "config.json")
    torch.save(views, folder / "pytorch_model.bin")
    loaded = torch.load(folder / "pytorch_model.bin", weights_only=True)
    assert all(torch.equal(loaded[k], sd[k]) for k in sd), "the views changed a value"
    assert len({loaded[k].untyped_storage().data_ptr() for k in vectors}) == 1, "the views were saved apart"


def main() -> None:
    if sys.argv[1:2] == ["--t4-convert-xlm"]:
        t4_convert_xlm(sys.argv[2])
        return
    if sys.argv[1:] == ["--xlm-only"]:
        write_xlm()
        return
    if sys.argv[1:] == ["--views-only"]:
        write_views_model()
        return
    sd = state_dict()
    if sys.argv[1:] == ["--legacy-only"]:
        write_legacy(sd)
        write_legacy_bad(sd)
        return
    if OUT.exists():
        shutil.rmtree(OUT)
    OUT.mkdir(parents=True)
    write_good(sd)
    write_bad(sd)
    write_legacy(sd)
    write_legacy_bad(sd)
    write_views_model()
    for path in sorted(OUT.rglob("*")):
        if path.is_file():
            print(f"{path.stat().st_size:7d}  {path.relative_to(OUT)}")
    write_xlm()


if __name__ == "__main__":
    main()
