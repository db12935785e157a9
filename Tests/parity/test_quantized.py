"""Quantized exports (``--quantize int4|int8``): every decoder fixture's causal-lm folder, exported for
text-generation with its matrix products as ``com.microsoft.MatMulNBits``, checked three ways.

1. The file: ``onnx.checker`` (full check) passes, ``com.microsoft`` (version 1) is imported beside the default
   domain, and every MatMulNBits node's attributes describe its tensors.
2. The weights: each node's packed values, scales and zero points are read back from the file and traced to the
   source weight in ``model.safetensors`` (by the initializer's name, ``<weight>_Q4`` / ``_Q8``; in MatMulNBits'
   ``[N, K]`` layout, or transposed for GPT-2's ``Conv1D`` ``[in, out]`` weights). They must equal, byte for byte,
   ``reference_quantization`` below: onnxruntime's own round-to-nearest arithmetic (``MlasQuantizeBlockwise``)
   written again in numpy. Dequantized, every weight must lie within half a quantization step of its source; the
   one exception is symmetric quantization's clamped top code (the block's extreme of the other sign maps to
   2^(bits-1), one past the largest code), which is within one step; and float16 scales, rounded after the zero
   point was computed from the float32 one, add up to 2^bits steps times that rounding (2^-11).
3. The graph: onnxruntime runs the export, and its logits must equal, within ``QUANTIZED_BOUND`` (1e-4) of their
   scale (max(1, max |reference|)), a reference forward pass that uses exactly those dequantized weights. The
   reference is our own float32 export of the same checkpoint after each quantized weight, in a copy of
   ``model.safetensors``, is replaced by its dequantized values; embedding lookups (``Gather``) in that reference are
   pointed back at the original values, since the quantized export keeps them float (a tied embedding is stored
   once in float for the lookup and once quantized for the head), and a weight quantized as two matrices (read as
   stored by one product and transposed by another: Transformer-XL's shared projections) gives each product of the
   reference its own dequantized values. The float32 export's parity with PyTorch is
   established by test_decoder_parity.py, so this isolates the quantized graph: only the weights' rounding differs
   between the two, and that is taken out. These exports use ``--accuracy-level 1`` (float32 arithmetic), since at
   the default level 4 onnxruntime's CPU kernel also quantizes the activations to int8 per block; one test runs
   the default level against the same reference with a looser bound.

Cases: int4 and int8 with blocks of 32, asymmetric, on every fixture (and the with-past export's first step); symmetric int4, int4 with blocks of 16 and
int8 with blocks of 128 on a few; every architecture's ``*-base`` encoder fixture and every Transformer-XL fixture
in int4; a float16 export, whose scales must be float16; T5's four files. Needs onnx, onnxruntime, numpy.
"""

from __future__ import annotations

import functools
import re
import shutil
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import numpy_helper

import st_util
from bounds import FP16_BOUND, QUANTIZED_BOUND, max_abs, max_abs_diff
from harness import (Fixture, discover_decoder_fixtures, discover_fixtures, discover_seq2seq_fixtures,
                     discover_transfo_xl_fixtures, ort_session, run_cli)
from test_decoder_parity import empty_pasts

CAUSAL = [fx for fx in discover_decoder_fixtures() if fx.name.endswith("/causal-lm")]
OPSET = 17
# Default accuracy level 4 (int8 activations in onnxruntime's CPU kernel): logits vs the same reference.
INT8_ACTIVATIONS_BOUND = 1e-1


# ------------------------------------------------------------------------------------------------
# the reference arithmetic, in numpy


def round_half_away(x: np.ndarray) -> np.ndarray:
    """C's roundf (half away from zero) for x >= 0, exactly: truncation plus the exact fraction left."""
    t = np.trunc(x)
    return t + ((x - t) >= np.float32(0.5))


def reference_quantization(w: np.ndarray, bits: int, block: int, symmetric: bool, scale_dtype=np.float32):
    """onnxruntime's block-wise RTN quantization (MlasQuantizeBlockwise) of ``w`` [N, K] float32, float32 arithmetic:
    blocks of ``block`` along K, the last padded with zeros; asymmetric: lo = min(block, 0), hi = max(block, 0),
    scale = (hi - lo) / (2^bits - 1), zero = round(-lo / scale) clamped; symmetric: scale = -m / 2^(bits-1) with m the
    element of largest magnitude, zero = 2^(bits-1); q = clamp(round(x * (1 / s) + zero)) with s the scale as stored.
    Returns packed uint8 [N, blocks, block * bits / 8], scales [N * blocks] and zero points (None when symmetric), as
    MatMulNBits stores them (4 bits: low nibble first; an odd block count's last zero-point nibble is 8)."""
    n, k = w.shape
    blocks = -(-k // block)
    padded = np.zeros((n, blocks * block), np.float32)
    padded[:, :k] = w
    x = padded.reshape(n, blocks, block)
    real = (np.arange(blocks * block) < k).reshape(blocks, block)
    big = np.float32(np.finfo(np.float32).max)
    lo = np.where(real, x, big).min(-1)
    hi = np.where(real, x, -big).max(-1)
    top = np.float32((1 << bits) - 1)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        if symmetric:
            extreme = np.where(np.abs(hi) > np.abs(lo), hi, lo)
            scale = (-extreme / np.float32(1 << (bits - 1))).astype(np.float32)
            zero = np.full((n, blocks), 1 << (bits - 1), np.float32)
        else:
            lo, hi = np.minimum(lo, np.float32(0)), np.maximum(hi, np.float32(0))
            scale = ((hi - lo) / top).astype(np.float32)
            zero_real = np.where(scale != 0, np.float32(0) - lo / scale, lo).astype(np.float32)
            zero = np.where(zero_real < 0, 0, np.where(zero_real > top, top, round_half_away(zero_real))).astype(np.float32)
        stored = scale.astype(scale_dtype)
        s = stored.astype(np.float32)
        reciprocal = np.where(s != 0, np.float32(1) / s, np.float32(0)).astype(np.float32)
        y = (x * reciprocal[..., None]).astype(np.float32) + zero[..., None]
    y = np.where(y > 0, y, np.float32(0))
    y = np.where(y < top, y, top)
    q = round_half_away(y).astype(np.uint8)
    packed = (q[..., 0::2] | (q[..., 1::2] << 4)).astype(np.uint8) if bits == 4 else q
    zero_points = None
    if not symmetric:
        z = zero.astype(np.uint8)
        if bits == 4:
            if blocks % 2:
                z = np.concatenate([z, np.full((n, 1), 8, np.uint8)], axis=1)
            z = (z[:, 0::2] | (z[:, 1::2] << 4)).astype(np.uint8)
        zero_points = z.reshape(-1)
    return packed, stored.reshape(-1), zero_points


def unpack(packed: np.ndarray, scales: np.ndarray, zero_points: np.ndarray | None, n: int, k: int, bits: int,
           block: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The codes [N, K], zero points and scales [N, K] (per element, float64) MatMulNBits reads from its tensors."""
    blocks = -(-k // block)
    p = packed.reshape(n, -1)
    codes = np.stack([p & 15, p >> 4], -1).reshape(n, -1) if bits == 4 else p
    if zero_points is None:
        zero = np.full((n, blocks), 1 << (bits - 1))
    elif bits == 4:
        z = zero_points.reshape(n, -1)
        zero = np.stack([z & 15, z >> 4], -1).reshape(n, -1)[:, :blocks]
    else:
        zero = zero_points.reshape(n, blocks)
    per_element = lambda a: np.repeat(a, block, axis=1)[:, :k]  # noqa: E731
    return codes[:, :k].astype(np.int64), per_element(zero), per_element(scales.astype(np.float64).reshape(n, blocks))


# ------------------------------------------------------------------------------------------------
# exports


@functools.lru_cache(maxsize=None)
def export(folder: str, out: str, task: str, *flags: str) -> Path:
    """The export of a checkpoint folder for ``task`` (once per arguments); a failure fails the test."""
    p = run_cli(["--model", folder, "--task", task, "--opset", str(OPSET), *flags, "--force", out])
    if p.returncode != 0:
        pytest.fail(f"export of {folder} with {' '.join(flags)} failed (exit {p.returncode}):\n{p.stderr}", pytrace=False)
    return Path(out) / "model.onnx"


@pytest.fixture(scope="module")
def workdir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("quantized")


def attributes(node) -> dict:
    return {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}


def source_weights(fx: Fixture) -> dict[str, np.ndarray]:
    """The float tensors of the fixture's model.safetensors, as float32 (half precision widened exactly)."""
    tensors, _ = st_util.read(fx.dir / "model.safetensors")
    widen = {"F32": lambda b: np.frombuffer(b, "<f4"), "F16": lambda b: np.frombuffer(b, "<f2").astype(np.float32),
             "BF16": lambda b: (np.frombuffer(b, "<u2").astype(np.uint32) << 16).view(np.float32)}
    return {name: widen[t.dtype](t.data).reshape(t.shape) for name, t in tensors.items() if t.dtype in widen}


class QuantizedWeight:
    """One MatMulNBits node's weight: the file's tensors, its source, and its dequantized values in the source's
    layout."""

    def __init__(self, node, initializers: dict[str, np.ndarray], sources: dict[str, np.ndarray], problems: list[str]):
        a = attributes(node)
        self.node = node.name
        self.n, self.k, self.bits, self.block = a["N"], a["K"], a["bits"], a["block_size"]
        self.packed, self.scales = initializers[node.input[1]], initializers[node.input[2]]
        self.zero_points = initializers[node.input[3]] if len(node.input) > 3 and node.input[3] else None
        self.symmetric = self.zero_points is None
        # <weight>_Q4, or <weight>_Q4_1 for a second matrix of one weight (read as stored and transposed).
        named = re.fullmatch(rf"(.*)_Q{self.bits}(_\d+)?", node.input[1])
        assert named, f"packed weight {node.input[1]} is not named <weight>_Q{self.bits}"
        self.name = named.group(1)
        source = sources.get(self.name)
        self.row_start = None
        if source is None:  # a part of a fused matrix (Transformer-XL's qkv_net rows, named <weight>.query)
            self.name = max((n for n in sources if self.name.startswith(n + ".")), key=len, default=self.name)
            source = sources.get(self.name, np.zeros((0, 0), np.float32))
        self.source_shape = source.shape
        # MatMulNBits' [N, K] is nn.Linear's layout; GPT-2's Conv1D stores [K, N], XLNet [K, heads, head size], and a
        # fused matrix holds it as a band of rows. The layout whose reference quantization the file holds is the one
        # (a wrong one cannot match).
        layouts = []
        if source.size == self.n * self.k:
            layouts = [(source.reshape(self.n, self.k), False, None), (source.reshape(self.k, self.n).T, True, None)]
        elif source.ndim == 2 and source.shape[1] == self.k:
            layouts = [(source[r:r + self.n], False, r) for r in range(source.shape[0] - self.n + 1)]
        self.transposed = None
        for rows, transposed, start in layouts:
            want = reference_quantization(np.ascontiguousarray(rows), self.bits, self.block, self.symmetric,
                                          self.scales.dtype.type)
            if self.matches(want):
                self.source, self.transposed, self.row_start = np.ascontiguousarray(rows), transposed, start
                break
        if self.transposed is None:
            problems.append(f"{self.name}: the file's tensors are not the reference quantization of the source "
                            f"{list(source.shape)} (N={self.n}, K={self.k})")
            return
        codes, zero, scale = unpack(self.packed, self.scales, self.zero_points, self.n, self.k, self.bits, self.block)
        self.dequantized = ((codes - zero) * scale).astype(np.float32)
        error = np.abs(self.source.astype(np.float64) - (codes - zero) * scale)
        step = np.abs(scale)
        allowed = step / 2
        if self.symmetric:  # the clamped top code: x * (1/s) + 2^(bits-1) past 2^bits - 1 + 1/2
            clamped = codes == (1 << self.bits) - 1
            allowed = np.where(clamped, step, allowed)
        if self.scales.dtype == np.float16:
            # The zero point comes from the float32 scale, the codes from the float16 one (as in onnxruntime): the
            # range the codes cover moves by up to 2^bits steps times the scale's rounding, 2^-11.
            allowed = allowed + step * (1 << self.bits) * 2.0 ** -11
        excess = error - allowed * (1 + 1e-6) - 1e-12
        if (excess > 0).any():
            i = np.unravel_index(np.argmax(excess), excess.shape)
            problems.append(f"{self.name}: dequantized {self.dequantized[i]} is {error[i]:.3g} from its source "
                            f"{self.source[i]}, more than {allowed[i]:.3g} (step {step[i]:.3g}) at {i}")

    def matches(self, want) -> bool:
        packed, scales, zero_points = want
        if not np.array_equal(self.packed.reshape(-1), packed.reshape(-1)):
            return False
        if self.scales.shape != scales.shape or not np.array_equal(self.scales.view(np.uint8), scales.view(np.uint8)):
            return False
        return (zero_points is None) == (self.zero_points is None) and (
            zero_points is None or np.array_equal(self.zero_points, zero_points))

    def write_into(self, tensors: dict[str, np.ndarray]) -> None:
        """Puts the dequantized values where the source was, in the checkpoint's layout."""
        if self.row_start is not None:
            tensors[self.name][self.row_start:self.row_start + self.n] = self.dequantized
        else:
            tensors[self.name][...] = (self.dequantized.T if self.transposed else self.dequantized).reshape(self.source_shape)


def check_file(path: Path, fx: Fixture, bits: int, block: int, symmetric: bool, accuracy: int,
               problems: list[str]) -> list[QuantizedWeight]:
    """Checks 1 and 2 of the module docstring; returns the quantized weights."""
    try:
        onnx.checker.check_model(str(path), full_check=True)
    except Exception as e:  # noqa: BLE001
        problems.append(f"onnx.checker (full_check): {type(e).__name__}: {e}")
    model = onnx.load(str(path))
    imports = {i.domain: i.version for i in model.opset_import}
    if imports != {"": OPSET, "com.microsoft": 1}:
        problems.append(f"opset_import {imports}, expected the default domain at {OPSET} and com.microsoft 1")
    initializers = {t.name: numpy_helper.to_array(t) for t in model.graph.initializer}
    nodes = [n for n in model.graph.node if n.op_type == "MatMulNBits"]
    if not nodes:
        problems.append("no MatMulNBits node")
    sources = source_weights(fx)
    weights = []
    for node in nodes:
        a = attributes(node)
        if node.domain != "com.microsoft":
            problems.append(f"{node.name}: domain {node.domain!r}")
        if (a["bits"], a["block_size"], a["accuracy_level"]) != (bits, block, accuracy):
            problems.append(f"{node.name}: bits, block_size, accuracy_level {a['bits'], a['block_size'], a['accuracy_level']}")
        if (len(node.input) == 3) != symmetric:
            problems.append(f"{node.name}: inputs {list(node.input)} for {'symmetric' if symmetric else 'asymmetric'}")
        w = QuantizedWeight(node, initializers, sources, problems)
        if w.transposed is not None:
            weights.append(w)
    return weights


def dequantized_reference(fx: Fixture, task: str, weights: list[QuantizedWeight], folder: Path) -> Path:
    """The float32 export of ``fx`` for ``task`` with every quantized weight replaced by its dequantized values, and
    every other use of those weights (embedding lookups) pointed back at the original values (see the module
    docstring)."""
    if folder.exists():
        shutil.rmtree(folder)
    shutil.copytree(fx.dir, folder)
    tensors, metadata = st_util.read(fx.dir / "model.safetensors")
    replaced_values = {w.name: source_weights(fx)[w.name].copy() for w in weights}
    for w in weights:
        w.write_into(replaced_values)
    for name, values in replaced_values.items():
        tensors[name] = st_util.Tensor("F32", tensors[name].shape, values.astype("<f4").tobytes())
    st_util.write(folder / "model.safetensors", tensors, metadata)
    path = export(str(folder), str(folder / "onnx"), task)
    model = onnx.load(str(path))
    replaced = {w.name for w in weights}
    originals = source_weights(fx)
    # A weight quantized as two matrices (read as stored by one product and transposed by another) has two sets of
    # dequantized values: each product of the reference gets its own, by node name (MatMul reads [K, N], Gemm with
    # transB [N, K]).
    layouts = {}
    for w in weights:
        layouts.setdefault(w.name, set()).add((w.transposed, w.row_start))
    per_product = {w.node: w for w in weights if len(layouts[w.name]) > 1}
    for node in model.graph.node:
        w = per_product.get(node.name) or per_product.get(node.name.removesuffix("/Gemm"))
        if w is not None and node.op_type in ("MatMul", "Gemm"):
            values = w.dequantized.T if node.op_type == "MatMul" else w.dequantized
            node.input[1] = f"{w.name}/{w.node}"
            model.graph.initializer.append(numpy_helper.from_array(np.ascontiguousarray(values), node.input[1]))
            continue
        if node.op_type in ("MatMul", "Gemm"):
            continue
        for i, name in enumerate(node.input):
            if name in replaced:
                original = name + "/original"
                if not any(t.name == original for t in model.graph.initializer):
                    model.graph.initializer.append(numpy_helper.from_array(originals[name], original))
                node.input[i] = original
    onnx.save(model, str(folder / "reference.onnx"))
    return folder / "reference.onnx"


def compare(got: Path, reference: Path, feeds: dict[str, np.ndarray], outputs: list[str], bound: float,
            problems: list[str], where: str | None = "attention_mask") -> float:
    """Every output of the quantized export against the reference's, as max |diff| / max(1, max |reference|) over
    the positions ``feeds[where]`` marks (all when None); returns the worst."""
    have = ort_session(got).run(outputs, feeds)
    want = ort_session(reference).run(outputs, feeds)
    mask = feeds.get(where) if where else None
    worst = 0.0
    for name, h, w in zip(outputs, have, want):
        m = mask if mask is not None and mask.shape == h.shape[: mask.ndim] else None
        error = max_abs_diff(h, w, m) / max(1.0, max_abs(w, m))
        worst = max(worst, error)
        if not error <= bound:
            problems.append(f"{name}: max |quantized - dequantized reference| / max(1, max |reference|) = {error:.3g} > {bound:g}")
    return worst


def decoder_feeds(fx: Fixture) -> dict[str, np.ndarray]:
    return {n: fx.reference[f"full.{n}"] for n in ("input_ids", "attention_mask", "position_ids")}


# ------------------------------------------------------------------------------------------------


def _cases():
    for fx in CAUSAL:
        for bits in (4, 8):
            yield pytest.param(fx, bits, 32, False, id=f"{fx.variant}/int{bits}")
    extra = {"llama": [(4, 32, True)], "gpt2": [(4, 16, False), (4, 16, True)], "qwen3": [(8, 128, False)],
             "phi3": [(8, 64, True)]}
    for fx in CAUSAL:
        for bits, block, symmetric in extra.get(fx.variant, []):
            yield pytest.param(fx, bits, block, symmetric,
                               id=f"{fx.variant}/int{bits}-block{block}{'-symmetric' if symmetric else ''}")


def flags(bits: int, block: int, symmetric: bool, accuracy: int = 1) -> tuple[str, ...]:
    return (f"--quantize=int{bits}", f"--block-size={block}", f"--accuracy-level={accuracy}") + (
        ("--symmetric",) if symmetric else ())


def check_against_reference(fx: Fixture, task: str, out: Path, quantize: tuple[str, ...], bits: int, block: int,
                            symmetric: bool, accuracy: int, feeds: dict[str, np.ndarray], outputs: list[str],
                            bound: float) -> list[QuantizedWeight]:
    """Export, checks 1 to 3 of the module docstring; fails the test on any problem."""
    path = export(str(fx.dir), str(out), task, *quantize)
    problems: list[str] = []
    weights = check_file(path, fx, bits, block, symmetric, accuracy, problems)
    assert not problems, "\n".join(problems)
    reference = dequantized_reference(fx, task, weights, out.with_name(out.name + "-reference"))
    compare(path, reference, feeds, outputs, bound, problems)
    assert not problems, "\n".join(problems)
    return weights


@pytest.mark.parametrize("fx,bits,block,symmetric", list(_cases()))
def test_quantized_decoder(fx: Fixture, bits: int, block: int, symmetric: bool, workdir: Path):
    out = workdir / f"{fx.variant}-int{bits}-{block}{'-sym' if symmetric else ''}"
    check_against_reference(fx, "text-generation", out, flags(bits, block, symmetric), bits, block, symmetric, 1,
                            decoder_feeds(fx), ["logits"], QUANTIZED_BOUND)


@pytest.mark.parametrize("fx", [fx for fx in discover_fixtures() if fx.variant.endswith("-base")], ids=lambda fx: fx.name)
def test_quantized_encoder(fx: Fixture, workdir: Path):
    """Every architecture's encoder, every task: the same checks, int4 (the pass is the same for every graph)."""
    out = workdir / f"{fx.name.replace('/', '-')}-int4"
    check_against_reference(fx, fx.task, out, flags(4, 32, False), 4, 32, False, 1, fx.feeds("a"), fx.outputs,
                            QUANTIZED_BOUND)


@pytest.mark.parametrize("fx", [fx for fx in discover_transfo_xl_fixtures() if (fx.dir / "model.safetensors").exists()],
                         ids=lambda fx: fx.variant)
def test_quantized_transformer_xl(fx: Fixture, workdir: Path):
    """Transformer-XL, int4: the fused qkv_net read as two bands of rows, and the adaptive softmax and input
    projections (one weight read as stored by the lookup's projection and transposed by the softmax's: two matrices,
    each quantized once). The fixtures saved as pytorch_model.bin are left to the parity test (the source weights are
    read from model.safetensors here)."""
    task = "text-generation" if "text-generation" in fx.tasks else "feature-extraction"
    output = "logits" if task == "text-generation" else "last_hidden_state"
    check_against_reference(fx, task, workdir / f"{fx.variant}-int4", flags(4, 32, False), 4, 32, False, 1,
                            {"input_ids": fx.reference["a.input_ids"]}, [output], QUANTIZED_BOUND)


@pytest.mark.parametrize("fx", CAUSAL, ids=lambda fx: fx.variant)
def test_quantized_with_past_runs_the_same_products(fx: Fixture, workdir: Path):
    """text-generation-with-past, int4: its first step (empty pasts) gives the logits of the text-generation export
    checked above, so the cached graph carries the same quantized products."""
    whole = export(str(fx.dir), str(workdir / f"{fx.variant}-int4-32"), "text-generation", *flags(4, 32, False))
    cached = export(str(fx.dir), str(workdir / f"{fx.variant}-int4-past"), "text-generation-with-past", *flags(4, 32, False))
    feeds = decoder_feeds(fx)
    (want,) = ort_session(whole).run(["logits"], feeds)
    got = ort_session(cached).run(["logits"], {**feeds, **empty_pasts(fx, feeds["input_ids"].shape[0])})[0]
    mask = feeds["attention_mask"]
    assert max_abs_diff(got, want, mask) <= QUANTIZED_BOUND * max(1.0, max_abs(want, mask))


@pytest.mark.parametrize("bits", [4, 8])
def test_default_accuracy_level_runs_with_int8_activations(bits: int, workdir: Path):
    """The default ``--accuracy-level 4`` lets onnxruntime quantize activations too: same weights, looser logits
    (measured over every fixture: at most 5.4e-2 of the logits' scale)."""
    for fx in CAUSAL:
        check_against_reference(fx, "text-generation", workdir / f"default-{fx.variant}-{bits}", (f"--quantize=int{bits}",),
                                bits, 32, False, 4, decoder_feeds(fx), ["logits"], INT8_ACTIVATIONS_BOUND)


@pytest.mark.parametrize("bits", [4, 8])
def test_float16_export_has_float16_scales(bits: int, workdir: Path):
    """``--dtype fp16``: the scales are float16 (MatMulNBits wants them in the activations' type), rounded before the
    values are quantized with them, and the logits match the float32 reference with those weights to float16's
    bound."""
    fx = next(f for f in CAUSAL if f.variant == "llama")
    weights = check_against_reference(fx, "text-generation", workdir / f"fp16-{bits}", ("--dtype=fp16", *flags(bits, 32, False)),
                                      bits, 32, False, 1, decoder_feeds(fx), ["logits"], FP16_BOUND)
    assert all(w.scales.dtype == np.float16 for w in weights), [w.scales.dtype for w in weights]


def test_bfloat16_checkpoint_is_quantized_from_its_stored_values(workdir: Path):
    """A bfloat16 checkpoint (as LLaMA-family weights ship): the kernel widens the stored values as it reads them,
    and the file holds the reference quantization of those values."""
    fx = next(f for f in CAUSAL if f.variant == "llama")
    folder = workdir / "llama-bf16"
    if folder.exists():
        shutil.rmtree(folder)
    shutil.copytree(fx.dir, folder)
    tensors, metadata = st_util.read(fx.dir / "model.safetensors")
    for name, t in tensors.items():
        if t.dtype == "F32":
            bits = np.frombuffer(t.data, "<u4")
            rounded = ((bits + 0x7FFF + ((bits >> 16) & 1)) >> 16).astype("<u2")  # round to nearest even
            tensors[name] = st_util.Tensor("BF16", t.shape, rounded.tobytes())
    st_util.write(folder / "model.safetensors", tensors, metadata)
    check_against_reference(Fixture(fx.name, folder), "text-generation", workdir / "llama-bf16-int4", flags(4, 32, False), 4,
                            32, False, 1, decoder_feeds(fx), ["logits"], QUANTIZED_BOUND)


def test_quantized_encoder_decoder_shares_its_weights(workdir: Path):
    """T5's four files: each is valid and loads in onnxruntime, and the quantized weights are stored once for the
    folder, as the float ones are (the merged decoder's branches read one set)."""
    fx = next(f for f in discover_seq2seq_fixtures() if f.name == "t5")
    out = workdir / "t5-int4"
    p = run_cli(["--model", str(fx.dir), "--task", "text2text-generation-with-past", "--quantize=int4",
                 "--external-data=always", "--force", str(out)])
    assert p.returncode == 0, p.stderr
    placed: dict[str, tuple] = {}
    for name in ("encoder_model.onnx", "decoder_model.onnx", "decoder_with_past_model.onnx", "decoder_model_merged.onnx"):
        onnx.checker.check_model(str(out / name), full_check=True)
        ort_session(out / name)
        model = onnx.load(str(out / name), load_external_data=False)
        assert ("com.microsoft", 1) in [(i.domain, i.version) for i in model.opset_import]
        for t in model.graph.initializer:
            location = {e.key: e.value for e in t.external_data}
            if t.name.endswith("_Q4") and location:
                assert placed.setdefault(t.name, (location["offset"], location["length"])) == (location["offset"], location["length"])
    assert placed


def test_unquantized_export_imports_no_contrib_domain(workdir: Path):
    fx = CAUSAL[0]
    model = onnx.load(str(export(str(fx.dir), str(workdir / "plain"), "text-generation")), load_external_data=False)
    assert [(i.domain, i.version) for i in model.opset_import] == [("", OPSET)]
    assert not any(n.domain for n in model.graph.node)


@pytest.mark.parametrize("args,needle", [
    (["--quantize", "int3"], "int4 or int8"),
    (["--quantize", "int4", "--block-size", "24"], "power of two"),
    (["--quantize", "int4", "--block-size", "512"], "power of two"),
    (["--quantize", "int8", "--accuracy-level", "7"], "accuracy level"),
    (["--block-size", "64"], "--quantize"),
    (["--symmetric"], "--quantize"),
])
def test_bad_quantization_options_are_refused(args: list[str], needle: str, tmp_path: Path):
    out = tmp_path / "out"
    p = run_cli(["--model", str(CAUSAL[0].dir), "--task", "text-generation", *args, str(out)])
    assert p.returncode != 0 and needle.lower() in p.stderr.lower(), p.stderr
    assert not (out / "model.onnx").exists()
