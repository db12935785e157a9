"""A tiny pure-Python safetensors reader/writer (no safetensors or torch needed), for the error tests.

File layout: an 8-byte little-endian u64 N, N bytes of JSON header, then the data buffer. The header maps
tensor names to {"dtype", "shape", "data_offsets": [begin, end]} (offsets relative to the data buffer)
plus an optional "__metadata__" map of strings.
"""

from __future__ import annotations

import json
import struct
from pathlib import Path

DTYPE_SIZES = {
    "F64": 8, "F32": 4, "F16": 2, "BF16": 2, "I64": 8, "I32": 4, "I16": 2, "I8": 1, "U8": 1, "BOOL": 1,
    "U16": 2, "U32": 4, "U64": 8, "F8_E4M3": 1, "F8_E5M2": 1,
}


class Tensor:
    def __init__(self, dtype: str, shape: list[int], data: bytes):
        self.dtype, self.shape, self.data = dtype, list(shape), bytes(data)

    def __repr__(self) -> str:
        return f"Tensor({self.dtype}, {self.shape}, {len(self.data)} bytes)"


def read(path: str | Path) -> tuple[dict[str, Tensor], dict[str, str] | None]:
    raw = Path(path).read_bytes()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8 : 8 + n])
    meta = header.pop("__metadata__", None)
    base = 8 + n
    tensors = {}
    for name, info in header.items():
        b, e = info["data_offsets"]
        tensors[name] = Tensor(info["dtype"], info["shape"], raw[base + b : base + e])
    return tensors, meta


def write(path: str | Path, tensors: dict[str, Tensor], metadata: dict[str, str] | None = None) -> None:
    header: dict = {}
    if metadata is not None:
        header["__metadata__"] = metadata
    offset = 0
    names = sorted(tensors)
    for name in names:
        t = tensors[name]
        header[name] = {"dtype": t.dtype, "shape": t.shape, "data_offsets": [offset, offset + len(t.data)]}
        offset += len(t.data)
    hbytes = json.dumps(header, separators=(",", ":")).encode()
    hbytes += b" " * (-len(hbytes) % 8)  # the format pads the header to a multiple of 8 with spaces
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(hbytes)))
        f.write(hbytes)
        for name in names:
            f.write(tensors[name].data)
