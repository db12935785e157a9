"""Exports are deterministic: the same fixture exported twice with the same options writes the same files, byte for
byte, whichever folder they go to. Covered: an encoder (bert-base fill-mask), a decoder with past (gpt2
text-generation-with-past, read from safetensors, and the torch.save GPT-2 of formats/gpt2/bin), and a seq2seq model
(t5 text2text-generation-with-past: encoder, decoder, decoder with past and merged decoder, sharing one data file),
each inline (``--external-data never``), with every weight in external data (``--external-data always``), quantized
(``--quantize int4``, with and without external data) and in float16 (``--dtype fp16``).

The exporter has no thread-count option: its quantization and transpose kernels split work over every core
(CoreShares) and the writer computes transformed tensors on a second thread ahead of the copy, so each run below
already exercises the threaded paths; their results must not depend on which thread got there first.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from harness import FIXTURES, run_cli

MODELS = {
    "bert-fill-mask": (FIXTURES / "encoders" / "bert-base" / "fill-mask", "fill-mask"),
    "gpt2-with-past": (FIXTURES / "decoders" / "gpt2" / "causal-lm", "text-generation-with-past"),
    "gpt2-bin-with-past": (FIXTURES / "formats" / "gpt2" / "bin", "text-generation-with-past"),
    "t5-with-past": (FIXTURES / "seq2seq" / "t5", "text2text-generation-with-past"),
}
OPTIONS = {
    "inline": ["--external-data", "never"],
    "external": ["--external-data", "always"],
    "int4": ["--quantize", "int4", "--external-data", "never"],
    "int4-external": ["--quantize", "int4", "--external-data", "always"],
    "fp16": ["--dtype", "fp16"],
}


def files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}


@pytest.mark.parametrize("options", list(OPTIONS))
@pytest.mark.parametrize("model", list(MODELS))
def test_two_exports_write_the_same_bytes(model: str, options: str, tmp_path: Path):
    folder, task = MODELS[model]
    outs = [tmp_path / "first", tmp_path / "elsewhere" / "second"]
    with ThreadPoolExecutor(max_workers=2) as pool:  # side by side: contention must not change a byte either
        runs = list(pool.map(lambda out: run_cli(["--model", str(folder), "--task", task, *OPTIONS[options], str(out)]), outs))
    for p in runs:
        assert p.returncode == 0, p.stderr
    first, second = files(outs[0]), files(outs[1])
    assert any(name.endswith(".onnx") for name in first), sorted(first)
    placement = dict(zip(OPTIONS[options][::2], OPTIONS[options][1::2])).get("--external-data")
    if placement:  # the option did what it says, so both ways of writing weights are covered
        assert any(name.endswith(".onnx_data") for name in first) == (placement == "always"), sorted(first)
    assert sorted(first) == sorted(second)
    differ = [name for name in first if first[name] != second[name]]
    assert not differ, f"{model} {options}: {differ} differ between two exports"
