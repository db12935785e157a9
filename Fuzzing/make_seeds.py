#!/usr/bin/env python3
"""Seed corpora for the reader fuzz targets, made from the committed fixtures at run time.

    make_seeds.py TARGET OUT_FOLDER

Only small fixtures are taken (8 KiB, safetensors cut down to their small tensors), so seeds stay
short: libFuzzer runs several times faster on short inputs. Targets that
read several files get them packed the way `FuzzInputParts` splits them: each part but the last
is a little-endian uint32 length and that many bytes; the last part is the rest. Standard
library only.
"""
import hashlib
import json
import os
import struct
import sys
import zipfile

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Tests", "Fixtures")
SMALL = 8 << 10


def files(*suffixes, limit=SMALL):
    """Committed fixture files ending in one of `suffixes`, smallest first (ties by path)."""
    found = []
    for folder, _, names in os.walk(ROOT):
        if "fuzz-regressions" in folder:
            continue
        for name in names:
            path = os.path.join(folder, name)
            if name.endswith(suffixes) and os.path.getsize(path) <= limit:
                found.append((os.path.getsize(path), path))
    return [p for _, p in sorted(found)]


def read(path):
    with open(path, "rb") as f:
        return f.read()


def pack(*parts):
    """`FuzzInputParts` layout: length-prefixed parts, the last one bare."""
    out = b""
    for part in parts[:-1]:
        out += struct.pack("<I", len(part)) + part
    return out + parts[-1]


def safetensors_bytes(entries, metadata=None):
    """A safetensors file of (name, dtype, shape, bytes) entries, header padded to 8 as the writer does."""
    header, data = ({"__metadata__": metadata} if metadata else {}), b""
    for name, dtype, shape, raw in entries:
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [len(data), len(data) + len(raw)]}
        data += raw
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    return struct.pack("<Q", len(text)) + text + data


def safetensors_entries(raw):
    (length,) = struct.unpack_from("<Q", raw)
    header = json.loads(raw[8:8 + length])
    header.pop("__metadata__", None)
    base = 8 + length
    return [(name, e["dtype"], e["shape"], raw[base + e["data_offsets"][0]:base + e["data_offsets"][1]])
            for name, e in header.items()]


def small_safetensors(count):
    """Fixture safetensors files cut down to their small tensors (a few per file, every dtype the
    fixtures use), so seeds stay under `SMALL` however big the fixture is."""
    seeds = []
    for path in files(".safetensors", limit=1 << 20):
        raw = read(path)
        (length,) = struct.unpack_from("<Q", raw)
        metadata = json.loads(raw[8:8 + length]).get("__metadata__")
        entries = [e for e in safetensors_entries(raw) if len(e[3]) <= 256][:6]
        if entries:
            seeds.append((entries, metadata))
    return seeds[:count]


def seeds_safetensors():
    return [safetensors_bytes(entries, metadata) for entries, metadata in small_safetensors(32)]


def seeds_safetensors_index():
    """Small fixtures split into two shards with the index transformers writes."""
    seeds = []
    names = ["model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors"]
    for entries, _ in small_safetensors(12):
        half = max(1, len(entries) // 2)
        shards = [entries[:half], entries[half:]]
        weight_map = {e[0]: names[i] for i, shard in enumerate(shards) for e in shard}
        index = {"metadata": {"total_size": sum(len(e[3]) for e in entries)}, "weight_map": weight_map}
        seeds.append(pack(json.dumps(index, indent=2).encode(), safetensors_bytes(shards[0]), safetensors_bytes(shards[1])))
    return seeds


def seeds_config():
    return [read(p) for p in files("config.json") if os.path.basename(p) == "config.json"]


# The original configs, by the selector byte `OriginalConfigFuzzEntry.readers` gives each reader.
ORIGINAL_CONFIGS = {"bert_config.json": [0], "albert_config.json": [1], "hparams.json": [2],
                    "xlnet_config.json": [3, 4, 5], "t5_config.json": [6], "mt5_config.json": [7]}


def seeds_original_config():
    seeds = []
    for path in files(".json"):
        name = os.path.basename(path)
        selectors = ORIGINAL_CONFIGS.get(name, [8] if name == "config.json" and "transfo-xl" in path else [])
        seeds += [bytes([selector]) + read(path) for selector in selectors]
    return seeds


def seeds_pytorch():
    return [read(p) for p in files(".bin")]


def seeds_tensor_bundle():
    seeds = []
    for index in files(".index"):
        data = index[:-len(".index")] + ".data-00000-of-00001"
        if os.path.exists(data) and os.path.getsize(data) <= SMALL:
            seeds.append(pack(read(index), read(data)))
    return seeds


def seeds_npy():
    seeds = [read(p) for p in files(".npy")]
    for path in files(".npz", limit=SMALL)[:16]:
        try:
            with zipfile.ZipFile(path) as archive:
                seeds += [archive.read(n) for n in archive.namelist()[:2]]
        except zipfile.BadZipFile:
            pass  # a deliberately broken fixture: the npz seeds carry it
    return seeds


def seeds_npz():
    return [read(p) for p in files(".npz", limit=SMALL)[:32]]


def seeds_openai_params():
    seeds = []
    for shapes in files("params_shapes.json"):
        folder = os.path.dirname(shapes)
        parts = [os.path.join(folder, f"params_{i}.npy") for i in range(2)]
        seed = pack(read(shapes), *[read(p) if os.path.exists(p) else b"" for p in parts])
        if len(seed) <= SMALL:
            seeds.append(seed)
    return seeds


SEEDS = {
    "safetensors": seeds_safetensors,
    "safetensors-index": seeds_safetensors_index,
    "config": seeds_config,
    "original-config": seeds_original_config,
    "pytorch": seeds_pytorch,
    "tensor-bundle": seeds_tensor_bundle,
    "npy": seeds_npy,
    "npz": seeds_npz,
    "openai-params": seeds_openai_params,
}


def main():
    if len(sys.argv) != 3 or sys.argv[1] not in SEEDS:
        sys.exit(f"usage: make_seeds.py {{{','.join(SEEDS)}}} OUT_FOLDER")
    target, out = sys.argv[1:]
    os.makedirs(out, exist_ok=True)
    seeds = SEEDS[target]()
    for seed in seeds:
        with open(os.path.join(out, "seed-" + hashlib.sha1(seed).hexdigest()), "wb") as f:
            f.write(seed)
    print(f"{target}: {len(seeds)} seeds in {out}")


if __name__ == "__main__":
    main()
