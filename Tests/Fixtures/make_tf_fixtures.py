#!/usr/bin/env python3
"""Generate the TensorFlow-checkpoint and NumPy fixtures under ``Tests/Fixtures/tf``.

The Swift readers (``TensorBundleReader``, ``NumpyReader``) read these files without TensorFlow or
NumPy; this script is the only place those libraries touch them. It needs ``tensorflow`` (or
``tensorflow-cpu``) and ``numpy``, best in a venv of its own outside the repository::

    python3 -m venv /path/to/venv-tf && /path/to/venv-tf/bin/pip install tensorflow-cpu numpy
    /path/to/venv-tf/bin/python Tests/Fixtures/make_tf_fixtures.py

What it writes (all tiny; a few KB in total):

* ``bert/``: a TF1 ``tf.compat.v1.train.Saver`` checkpoint ``bert_model.ckpt.{index,data-00000-of-00001}``
  with the variable names of Google's BERT release (``bert/embeddings/word_embeddings``,
  ``bert/encoder/layer_0/attention/self/query/kernel``, ``cls/predictions/output_bias``, ...) plus an
  int64 ``global_step``, and no ``checkpoint`` state file, as Google ships it.
* ``gpt2/``: ``model.ckpt.*`` with OpenAI GPT-2's names (``model/wte``, ``model/h0/attn/c_attn/w``, ...),
  a ``checkpoint`` state file and ``hparams.json``, as ``download_model.py`` fetches them.
* ``dtypes/``: one variable per supported dtype, a scalar, an empty tensor, and a ``tf.string`` variable
  (which readers skip); its ``checkpoint`` file holds an absolute path from "another machine".
* ``sharded/``: a checkpoint whose variables live on two devices, so the bundle has two data files.
* ``refused/``: real checkpoints a reader must refuse (a partitioned variable, a complex64 variable).
* ``broken/``: copies of one small checkpoint corrupted on purpose (tensor CRC, block CRC, truncated
  index, bad magic, snappy flag, data file too short for an offset).
* ``npy/``: ``.npy`` files of many dtypes and header versions, and hostile ones (huge header length,
  data shorter than the shape, object dtype, big-endian, Fortran-order 3-D, structured dtype).
* ``npz/``: the same arrays saved with ``np.savez`` (stored members) and ``np.savez_compressed``
  (deflated); ``npz-bad/`` with an object member and a damaged deflate stream.
* ``openai/``: the finetune-transformer-lm layout (``params_shapes.json`` + ``params_0.npy``,
  ``params_1.npy``) with a tensor spanning the two files; ``openai-mismatch/`` whose shapes do not add up.

Every good checkpoint or folder gets an ``expected.json``: ``{name: {"dtype", "shape", "data"}}`` where
``data`` is the base64 of the little-endian C-order bytes TensorFlow / NumPy read back, so the Swift
tests compare bytes exactly. The output is deterministic for fixed library versions.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import struct
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

HERE = Path(__file__).resolve().parent
OUT = HERE / "tf"

DTYPE_NAMES = {
    np.dtype("float32"): "float32", np.dtype("float64"): "float64", np.dtype("float16"): "float16",
    np.dtype("int64"): "int64", np.dtype("int32"): "int32", np.dtype("int16"): "int16",
    np.dtype("int8"): "int8", np.dtype("uint8"): "uint8", np.dtype("uint16"): "uint16",
    np.dtype("uint32"): "uint32", np.dtype("uint64"): "uint64", np.dtype("bool"): "bool",
    np.dtype(tf.bfloat16.as_numpy_dtype): "bfloat16",
}


def rng(seed: int) -> np.random.RandomState:
    return np.random.RandomState(seed)


def expected_entry(array: np.ndarray) -> dict:
    array = np.array(array, order="C", copy=True)  # (ascontiguousarray would make a scalar 1-D)
    return {
        "dtype": DTYPE_NAMES[array.dtype],
        "shape": list(array.shape),
        "data": base64.b64encode(array.astype(array.dtype.newbyteorder("<")).tobytes()).decode("ascii"),
    }


def write_json(path: Path, value) -> None:
    path.write_text(json.dumps(value, indent=1, sort_keys=True) + "\n")


# --------------------------------------------------------------------------------------------
# TensorFlow checkpoints


def save_tf1(prefix: Path, variables: dict[str, np.ndarray], *, global_step: int | None = None,
             write_state: bool = False, build=None, devices: int = 1, sharded: bool = False) -> None:
    """Saves `variables` with a TF1 graph-mode Saver, as the original BERT and GPT-2 code did."""
    tf.compat.v1.disable_eager_execution()
    graph = tf.Graph()
    with graph.as_default():
        for index, (name, value) in enumerate(variables.items()):
            with tf.device(f"/cpu:{index % devices}"):
                tf.compat.v1.get_variable(name, initializer=tf.constant(value), use_resource=False)
        if global_step is not None:
            step = tf.compat.v1.train.get_or_create_global_step()
        if build is not None:
            build()
        saver = tf.compat.v1.train.Saver(sharded=sharded)
        config = tf.compat.v1.ConfigProto(device_count={"CPU": devices})
        with tf.compat.v1.Session(graph=graph, config=config) as session:
            session.run(tf.compat.v1.global_variables_initializer())
            if global_step is not None:
                session.run(step.assign(global_step))
            saver.save(session, str(prefix), write_meta_graph=False, write_state=write_state)


def expected_from_checkpoint(prefix: Path) -> dict:
    """What TensorFlow itself reads back, for every numeric tensor (strings are left out)."""
    reader = tf.train.load_checkpoint(str(prefix))
    result = {}
    for name, dtype in sorted(reader.get_variable_to_dtype_map().items()):
        if dtype == tf.string:
            continue
        result[name] = expected_entry(np.asarray(reader.get_tensor(name)))
    return result


def f32(seed: int, *shape: int) -> np.ndarray:
    return rng(seed).standard_normal(shape).astype(np.float32)


def bert_variables() -> dict[str, np.ndarray]:
    """Google BERT's names (modeling.py / run_pretraining.py), hidden 4, vocab 16, one layer."""
    hidden, vocab, positions, intermediate = 4, 16, 8, 8
    names: list[tuple[str, tuple[int, ...]]] = [
        ("bert/embeddings/word_embeddings", (vocab, hidden)),
        ("bert/embeddings/token_type_embeddings", (2, hidden)),
        ("bert/embeddings/position_embeddings", (positions, hidden)),
        ("bert/embeddings/LayerNorm/gamma", (hidden,)),
        ("bert/embeddings/LayerNorm/beta", (hidden,)),
    ]
    layer = "bert/encoder/layer_0"
    for part in ("query", "key", "value"):
        names += [(f"{layer}/attention/self/{part}/kernel", (hidden, hidden)), (f"{layer}/attention/self/{part}/bias", (hidden,))]
    names += [
        (f"{layer}/attention/output/dense/kernel", (hidden, hidden)),
        (f"{layer}/attention/output/dense/bias", (hidden,)),
        (f"{layer}/attention/output/LayerNorm/gamma", (hidden,)),
        (f"{layer}/attention/output/LayerNorm/beta", (hidden,)),
        (f"{layer}/intermediate/dense/kernel", (hidden, intermediate)),
        (f"{layer}/intermediate/dense/bias", (intermediate,)),
        (f"{layer}/output/dense/kernel", (intermediate, hidden)),
        (f"{layer}/output/dense/bias", (hidden,)),
        (f"{layer}/output/LayerNorm/gamma", (hidden,)),
        (f"{layer}/output/LayerNorm/beta", (hidden,)),
        ("bert/pooler/dense/kernel", (hidden, hidden)),
        ("bert/pooler/dense/bias", (hidden,)),
        ("cls/predictions/transform/dense/kernel", (hidden, hidden)),
        ("cls/predictions/transform/dense/bias", (hidden,)),
        ("cls/predictions/transform/LayerNorm/gamma", (hidden,)),
        ("cls/predictions/transform/LayerNorm/beta", (hidden,)),
        ("cls/predictions/output_bias", (vocab,)),
        ("cls/seq_relationship/output_weights", (2, hidden)),
        ("cls/seq_relationship/output_bias", (2,)),
    ]
    return {name: f32(index, *shape) for index, (name, shape) in enumerate(names)}


def gpt2_variables() -> dict[str, np.ndarray]:
    """OpenAI GPT-2's names (src/model.py), n_embd 4, n_vocab 16, n_ctx 8, two layers."""
    e, vocab, ctx = 4, 16, 8
    names: list[tuple[str, tuple[int, ...]]] = [("model/wte", (vocab, e)), ("model/wpe", (ctx, e))]
    for i in range(2):
        h = f"model/h{i}"
        names += [
            (f"{h}/ln_1/g", (e,)), (f"{h}/ln_1/b", (e,)),
            (f"{h}/attn/c_attn/w", (1, e, 3 * e)), (f"{h}/attn/c_attn/b", (3 * e,)),
            (f"{h}/attn/c_proj/w", (1, e, e)), (f"{h}/attn/c_proj/b", (e,)),
            (f"{h}/ln_2/g", (e,)), (f"{h}/ln_2/b", (e,)),
            (f"{h}/mlp/c_fc/w", (1, e, 4 * e)), (f"{h}/mlp/c_fc/b", (4 * e,)),
            (f"{h}/mlp/c_proj/w", (1, 4 * e, e)), (f"{h}/mlp/c_proj/b", (e,)),
        ]
    names += [("model/ln_f/g", (e,)), ("model/ln_f/b", (e,))]
    return {name: f32(100 + index, *shape) for index, (name, shape) in enumerate(names)}


def dtype_variables() -> dict[str, np.ndarray]:
    r = rng(7)
    return {
        "dtypes/float32": r.standard_normal((2, 3)).astype(np.float32),
        "dtypes/float64": r.standard_normal((3,)).astype(np.float64),
        "dtypes/float16": r.standard_normal((2, 2)).astype(np.float16),
        "dtypes/bfloat16": r.standard_normal((3,)).astype(tf.bfloat16.as_numpy_dtype),
        "dtypes/int64": np.array([-(2**40), 5, 2**62], dtype=np.int64),
        "dtypes/int32": np.array([[-7, 8], [2**30, -1]], dtype=np.int32),
        "dtypes/int16": np.array([-300, 300], dtype=np.int16),
        "dtypes/int8": np.array([-128, 0, 127], dtype=np.int8),
        "dtypes/uint8": np.array([0, 200, 255], dtype=np.uint8),
        "dtypes/bool": np.array([True, False, True, True]),
        "dtypes/scalar": np.array(2.5, dtype=np.float32),
        "dtypes/empty": np.zeros((0, 3), dtype=np.float32),
    }


def make_bert() -> None:
    folder = OUT / "bert"
    folder.mkdir(parents=True)
    save_tf1(folder / "bert_model.ckpt", bert_variables(), global_step=12345)
    write_json(folder / "expected.json", expected_from_checkpoint(folder / "bert_model.ckpt"))
    write_json(folder / "bert_config.json", {
        "attention_probs_dropout_prob": 0.1, "hidden_act": "gelu", "hidden_dropout_prob": 0.1,
        "hidden_size": 4, "initializer_range": 0.02, "intermediate_size": 8, "max_position_embeddings": 8,
        "num_attention_heads": 2, "num_hidden_layers": 1, "type_vocab_size": 2, "vocab_size": 16,
    })


def make_gpt2() -> None:
    folder = OUT / "gpt2"
    folder.mkdir(parents=True)
    save_tf1(folder / "model.ckpt", gpt2_variables(), write_state=True)
    # The state file as the Saver wrote it names the absolute path of this machine; OpenAI's has
    # the relative name, which is what the release ships.
    (folder / "checkpoint").write_text('model_checkpoint_path: "model.ckpt"\nall_model_checkpoint_paths: "model.ckpt"\n')
    write_json(folder / "hparams.json", {"n_vocab": 16, "n_ctx": 8, "n_embd": 4, "n_head": 2, "n_layer": 2})
    write_json(folder / "expected.json", expected_from_checkpoint(folder / "model.ckpt"))


def make_dtypes() -> None:
    folder = OUT / "dtypes"
    folder.mkdir(parents=True)

    def add_string():
        tf.compat.v1.get_variable("dtypes/string", initializer=tf.constant(["hello", "checkpoint"]), use_resource=False)

    save_tf1(folder / "model.ckpt-7", dtype_variables(), build=add_string)
    save_tf1(folder / "model.ckpt-3", {"dtypes/float32": f32(8, 2, 3)})
    # A decoy bundle and a state file naming the real one by a path from another machine: the
    # reader must pick `model.ckpt-7` by its base name.
    (folder / "checkpoint").write_text('model_checkpoint_path: "/home/trainer/run3/model.ckpt-7"\n'
                                       'all_model_checkpoint_paths: "/home/trainer/run3/model.ckpt-7"\n')
    write_json(folder / "expected.json", expected_from_checkpoint(folder / "model.ckpt-7"))


def make_sharded() -> None:
    folder = OUT / "sharded"
    folder.mkdir(parents=True)
    variables = {f"layer_{i}/kernel": f32(300 + i, 3, 2) for i in range(4)}
    save_tf1(folder / "model.ckpt", variables, devices=2, sharded=True)
    write_json(folder / "expected.json", expected_from_checkpoint(folder / "model.ckpt"))


def make_refused() -> None:
    partitioned = OUT / "refused" / "partitioned"
    partitioned.mkdir(parents=True)

    def add_partitioned():
        tf.compat.v1.get_variable("encoder/partitioned", shape=[8, 2], initializer=tf.compat.v1.ones_initializer(),
                                  partitioner=tf.compat.v1.fixed_size_partitioner(2), use_resource=False)

    save_tf1(partitioned / "model.ckpt", {"encoder/plain": f32(400, 2)}, build=add_partitioned)

    complex_ = OUT / "refused" / "complex"
    complex_.mkdir(parents=True)
    save_tf1(complex_ / "model.ckpt", {"encoder/plain": f32(401, 2),
                                       "encoder/phase": np.array([1 + 2j, 3 - 4j], dtype=np.complex64)})


# --------------------------------------------------------------------------------------------
# Corrupted copies. The table layout is parsed here only far enough to find what to corrupt.

def _crc_table() -> list[int]:
    table = []
    for n in range(256):
        c = n
        for _ in range(8):
            c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
        table.append(c)
    return table


CRC_TABLE = _crc_table()


def crc32c(data: bytes) -> int:
    c = 0xFFFFFFFF
    for byte in data:
        c = CRC_TABLE[(c ^ byte) & 0xFF] ^ (c >> 8)
    return c ^ 0xFFFFFFFF


def masked(crc: int) -> int:
    return ((((crc >> 15) | (crc << 17)) & 0xFFFFFFFF) + 0xA282EAD8) & 0xFFFFFFFF


def varint(data: bytes, pos: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        byte = data[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return result, pos
        shift += 7


def first_data_block(index: bytes) -> tuple[int, int]:
    """(offset, size) of the first data block: footer → index block → its first handle."""
    footer = index[-48:]
    _, pos = varint(footer, 0)
    _, pos = varint(footer, pos)
    index_offset, pos = varint(footer, pos)
    block = index[index_offset:]
    _, p = varint(block, 0)           # shared
    key_length, p = varint(block, p)  # non-shared
    _, p = varint(block, p)           # value length
    p += key_length
    offset, p = varint(block, p)
    size, _ = varint(block, p)
    return offset, size


def make_broken() -> None:
    base = OUT / "broken" / "base"
    base.mkdir(parents=True)
    # Stored in key order: "a" at offset 0 (24 bytes), then "b" (16 bytes).
    save_tf1(base / "model.ckpt", {"a": f32(500, 2, 3), "b": f32(501, 4)})
    index = (base / "model.ckpt.index").read_bytes()
    data = (base / "model.ckpt.data-00000-of-00001").read_bytes()
    shutil.rmtree(base)

    def write(case: str, index_bytes: bytes, data_bytes: bytes) -> None:
        folder = OUT / "broken" / case
        folder.mkdir(parents=True)
        (folder / "model.ckpt.index").write_bytes(index_bytes)
        (folder / "model.ckpt.data-00000-of-00001").write_bytes(data_bytes)

    write("good", index, data)

    bad_data = bytearray(data)
    bad_data[1] ^= 0x40  # inside tensor "a"
    write("tensor-crc", index, bytes(bad_data))

    offset, size = first_data_block(index)
    bad_block = bytearray(index)
    bad_block[offset + size // 2] ^= 0x01
    write("block-crc", bytes(bad_block), data)

    write("truncated-index", index[:30], data)

    bad_magic = bytearray(index)
    bad_magic[-1] ^= 0xFF
    write("bad-magic", bytes(bad_magic), data)

    snappy = bytearray(index)
    snappy[offset + size] = 1
    snappy[offset + size + 1: offset + size + 5] = struct.pack("<I", masked(crc32c(bytes(snappy[offset: offset + size + 1]))))
    write("snappy", bytes(snappy), data)

    write("offset-past-end", index, data[:30])  # "b" at [24, 40) now ends past the file


# --------------------------------------------------------------------------------------------
# NumPy


def npy_bytes(array: np.ndarray, version: tuple[int, int] | None = None) -> bytes:
    import io
    buffer = io.BytesIO()
    np.lib.format.write_array(buffer, array, version=version, allow_pickle=False)
    return buffer.getvalue()


def make_npy() -> None:
    folder = OUT / "npy"
    folder.mkdir(parents=True)
    r = rng(11)
    good = {
        "f4": r.standard_normal((2, 3)).astype("<f4"),
        "f2": r.standard_normal((5,)).astype("<f2"),
        "f8": r.standard_normal((2, 2)).astype("<f8"),
        "i8": np.array([[-(2**40), 1], [2, 2**62]], dtype="<i8"),
        "i4": np.array([-1, 0, 7], dtype="<i4"),
        "i2": np.array([-300, 300], dtype="<i2"),
        "i1": np.array([-128, 127], dtype="i1"),
        "u1": np.array([0, 128, 255], dtype="u1"),
        "u2": np.array([65535, 1], dtype="<u2"),
        "u4": np.array([4000000000], dtype="<u4"),
        "u8": np.array([2**63 + 5], dtype="<u8"),
        "b1": np.array([[True, False], [False, True]]),
        "scalar": np.array(1.5, dtype="<f4"),
        "empty": np.zeros((0, 4), dtype="<f4"),
        "rank4": r.standard_normal((1, 2, 1, 3)).astype("<f4"),
    }
    expected = {}
    for name, array in good.items():
        (folder / f"{name}.npy").write_bytes(npy_bytes(array, version=(1, 0)))
        expected[f"{name}.npy"] = expected_entry(array)

    v2 = r.standard_normal((3, 2)).astype("<f4")
    (folder / "v2.npy").write_bytes(npy_bytes(v2, version=(2, 0)))
    expected["v2.npy"] = expected_entry(v2)
    v3 = np.arange(6, dtype="<i4").reshape(2, 3)
    (folder / "v3.npy").write_bytes(npy_bytes(v3, version=(3, 0)))
    expected["v3.npy"] = expected_entry(v3)

    fortran = np.asfortranarray(r.standard_normal((3, 4)).astype("<f4"))
    (folder / "fortran2d.npy").write_bytes(npy_bytes(fortran, version=(1, 0)))
    expected["fortran2d.npy"] = expected_entry(fortran)
    fortran_row = np.asfortranarray(r.standard_normal((1, 5)).astype("<f4"))
    (folder / "fortran_row.npy").write_bytes(npy_bytes(fortran_row, version=(1, 0)))
    expected["fortran_row.npy"] = expected_entry(fortran_row)
    write_json(folder / "expected.json", expected)

    bad = OUT / "npy-bad"
    bad.mkdir(parents=True)
    header = b"{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }"
    (bad / "huge-header.npy").write_bytes(b"\x93NUMPY\x02\x00" + struct.pack("<I", 0xF0000000) + header + b"\n")
    short = npy_bytes(np.ones((4, 4), dtype="<f4"), version=(1, 0))
    (bad / "short-data.npy").write_bytes(short[:-8])
    import io
    buffer = io.BytesIO()
    np.lib.format.write_array(buffer, np.array([{"a": 1}, None], dtype=object), version=(1, 0), allow_pickle=True)
    (bad / "object.npy").write_bytes(buffer.getvalue())
    (bad / "big-endian.npy").write_bytes(npy_bytes(np.arange(3, dtype=">f4"), version=(1, 0)))
    (bad / "fortran3d.npy").write_bytes(npy_bytes(np.asfortranarray(np.zeros((2, 3, 4), dtype="<f4")), version=(1, 0)))
    (bad / "structured.npy").write_bytes(npy_bytes(np.zeros(2, dtype=[("x", "<f4"), ("y", "<i4")]), version=(1, 0)))
    (bad / "bad-magic.npy").write_bytes(b"PK\x03\x04" + short[4:64])
    (bad / "truncated-header.npy").write_bytes(short[:40])


def make_openai() -> None:
    folder = OUT / "openai"
    folder.mkdir(parents=True)
    shapes = [[3, 4], [5], [2, 3, 2], [7], []]
    total = sum(int(np.prod(s)) for s in shapes)  # 12 + 5 + 12 + 7 + 1 = 37
    flat = rng(21).standard_normal(total).astype(np.float32)
    # params_0 ends after 20 elements: params.2 ([2,3,2], elements 17..<29) spans both files.
    (folder / "params_shapes.json").write_text(json.dumps(shapes))
    (folder / "params_0.npy").write_bytes(npy_bytes(flat[:20], version=(1, 0)))
    (folder / "params_1.npy").write_bytes(npy_bytes(flat[20:], version=(1, 0)))
    offsets = np.cumsum([int(np.prod(s)) for s in shapes])
    pieces = np.split(flat, offsets)[:-1]
    write_json(folder / "expected.json",
               {f"params.{i}": expected_entry(piece.reshape(shape)) for i, (piece, shape) in enumerate(zip(pieces, shapes))})

    mismatch = OUT / "openai-mismatch"
    mismatch.mkdir(parents=True)
    (mismatch / "params_shapes.json").write_text(json.dumps([[3, 4], [5], [2, 3, 2], [7], [2]]))
    shutil.copy(folder / "params_0.npy", mismatch / "params_0.npy")
    shutil.copy(folder / "params_1.npy", mismatch / "params_1.npy")


def make_npz() -> None:
    folder = OUT / "npz"
    folder.mkdir(parents=True)
    r = rng(31)
    arrays = {
        "wte": r.standard_normal((5, 4)).astype("<f4"),
        "bias": r.standard_normal((4,)).astype("<f2"),
        "ids": np.array([3, -1, 2**40], dtype="<i8"),
        "mask": np.array([[True, False, True]]),
        "fortran": np.asfortranarray(r.standard_normal((2, 3)).astype("<f4")),
    }
    np.savez(folder / "stored.npz", **arrays)
    np.savez_compressed(folder / "deflated.npz", **arrays)
    write_json(folder / "expected.json", {name: expected_entry(array) for name, array in arrays.items()})

    bad = OUT / "npz-bad"
    bad.mkdir(parents=True)
    np.savez(bad / "object-member.npz", good=np.zeros(2, dtype="<f4"), bad=np.array([None, {"a": 1}], dtype=object))
    # A deflated member whose compressed bytes are damaged: inflating it fails or its CRC-32 does not match.
    data = bytearray((folder / "deflated.npz").read_bytes())
    marker = data.find(b"wte.npy")
    data[marker + 7 + 20 + 40] ^= 0x55
    (bad / "corrupt-deflate.npz").write_bytes(bytes(data))


def main() -> None:
    if OUT.exists():
        shutil.rmtree(OUT)
    OUT.mkdir(parents=True)
    make_bert()
    make_gpt2()
    make_dtypes()
    make_sharded()
    make_refused()
    make_broken()
    make_npy()
    make_openai()
    make_npz()
    total = sum(p.stat().st_size for p in OUT.rglob("*") if p.is_file())
    print(f"wrote {OUT} ({total} bytes)")


if __name__ == "__main__":
    main()
