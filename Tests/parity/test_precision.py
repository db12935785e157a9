"""Reduced-precision exports: ``--dtype fp16`` and ``--dtype bf16``, compared with PyTorch's float32 outputs.

Ids read ``<dtype>/<fixture>/<task>/op<N>``, e.g. ``pytest Tests/parity -k "fp16/llama"``.

float16 exports run in onnxruntime as they are. Each compared output must be within ``FP16_BOUND`` of the float32
reference, measured as max |onnxruntime - pytorch| / max |pytorch| over the compared positions (a per-element
ratio is meaningless where the reference is near 0). Checked besides: onnx.checker, every checkpoint weight
stored as float16, outputs float32 except the KV cache (``present.*``, float16 like ``past_key_values.*``), and,
through the with-past loop fed its own float16 cache, every step's logits; greedy tokens must match wherever the
reference's top two logits are further apart than twice the measured error.

onnxruntime's CPU provider has no bfloat16 kernels (MatMul and the rest), so a bfloat16 export cannot run here.
It is checked by onnx.checker and for its types, then run *widened*: every bfloat16 initializer is expanded to
float32 exactly (bfloat16 is float32's upper half) and the graph's bfloat16 types and casts become float32. That
measures the rounding of the weights to bfloat16 and the graph's structure, not bfloat16 arithmetic. bfloat16
keeps 8 significant bits to float16's 11, so its rounding error is 8 times as large: the bound is ``BF16_BOUND``,
5e-2, below the 8e-2 that scaling float16's would give.

The worst relative errors go to ``Tests/parity/.results/precision.json``.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import onnx
import pytest

import st_util
from bounds import BF16_BOUND, FP16_BOUND, WEIGHT_ROUNDING_MARGIN
from harness import (
    RESULTS_DIR,
    Fixture,
    Results,
    check_exported_model,
    discover_decoder_fixtures,
    discover_fixtures,
    discover_seq2seq_fixtures,
    discover_transfo_xl_fixtures,
    newest_opset,
    ort_session,
    run_cli,
)
from test_decoder_parity import Checker, run_full, with_past_loop
from test_seq2seq_parity import FILES, Check, step_loop
import test_transfo_xl_parity as txl

PRECISION_RESULTS = {"fp16": Results(), "bf16": Results()}
DTYPES = {"fp16": onnx.TensorProto.FLOAT16, "bf16": onnx.TensorProto.BFLOAT16}


def precision_opsets(dtype: str) -> list[int]:
    """Below 17 LayerNorm is decomposed, from 23 attention, rotary and RMSNorm are native; bf16 needs 13."""
    base = [11, 17, 23] if dtype == "fp16" else [17, 23]
    return sorted(set(base + [newest_opset()]))


def _cases():
    """Every encoder fixture of a ``*-base`` variant (each architecture, every task) and every decoder variant's
    causal-lm folder (text-generation, and with-past for fp16, whose cache stays in the narrow type)."""
    for fx in discover_fixtures():
        if fx.variant.endswith("-base"):
            for dtype in DTYPES:
                for op in precision_opsets(dtype):
                    yield pytest.param(fx, fx.task, op, dtype, id=f"{dtype}/{fx.name}/op{op}")
    for fx in discover_decoder_fixtures():
        if fx.name.endswith("/causal-lm"):
            for dtype in DTYPES:
                tasks = ["text-generation", "text-generation-with-past"] if dtype == "fp16" else ["text-generation"]
                for task in tasks:
                    for op in precision_opsets(dtype):
                        yield pytest.param(fx, task, op, dtype, id=f"{dtype}/{fx.variant}/{task}/op{op}")


def bf16_bound(fx: Fixture, output: str) -> float:
    """``BF16_BOUND``, or ``WEIGHT_ROUNDING_MARGIN`` times PyTorch's own error with the same bfloat16-rounded weights
    where the fixture records it (``bf16_weight_rounding_error``, made by make_fixtures.py): the widened run
    measures exactly that rounding, so a head whose small logits come from large activations (albert-base's
    question answering: 8.9% in PyTorch itself) is held to what the rounding does, not to a fixed figure."""
    floor = fx.meta.get("bf16_weight_rounding_error", {}).get(output, 0.0)
    return max(BF16_BOUND, WEIGHT_ROUNDING_MARGIN * floor)


def check_weight_types(model, dtype: str, problems: list[str]) -> None:
    """Checkpoint weights (initializers named after them, not the ``/...`` constants lowering makes) must all be
    stored in the narrow type."""
    wide = [i.name for i in model.graph.initializer
            if not i.name.startswith("/") and i.data_type != DTYPES[dtype]]
    if wide:
        problems.append(f"{len(wide)} weights not stored as {dtype}: {wide[:5]}")


def widened(path: Path, out: Path) -> Path:
    """The bfloat16 model with every bfloat16 tensor, type and cast turned into float32 (exactly: a bfloat16 is
    the upper 16 bits of a float32)."""
    model = onnx.load(str(path))
    bf16, f32 = onnx.TensorProto.BFLOAT16, onnx.TensorProto.FLOAT
    for init in model.graph.initializer:
        if init.data_type == bf16:
            raw = np.frombuffer(init.raw_data, np.uint16) if init.raw_data else np.array(init.int32_data, np.uint16)
            init.raw_data = (raw.astype(np.uint32) << 16).tobytes()
            del init.int32_data[:]
            init.data_type = f32
    for vi in [*model.graph.input, *model.graph.output, *model.graph.value_info]:
        if vi.type.tensor_type.elem_type == bf16:
            vi.type.tensor_type.elem_type = f32
    for node in model.graph.node:
        for a in node.attribute:
            if node.op_type == "Cast" and a.name == "to" and a.i == bf16:
                a.i = f32
    onnx.save(model, str(out))
    return out


@pytest.mark.parametrize("fx,task,opset,dtype", list(_cases()))
def test_precision_parity(fx: Fixture, task: str, opset: int, dtype: str, exporter, tmp_path: Path):
    res = exporter.get(fx, opset, task, dtype)
    if res.returncode != 0:
        pytest.fail(f"{dtype} export of {fx.name} for {task} failed (exit {res.returncode}):\n{res.stderr.strip()}",
                    pytrace=False)
    problems: list[str] = []
    io = fx.io(task)
    narrow = DTYPES[dtype]
    inputs = {n: narrow for n in io["inputs"] if n.startswith("past_key_values.")}
    outputs = {n: narrow for n in io["outputs"] if n.startswith("present.")}
    shapes = None
    if fx.kind == "encoder":
        ref = fx.reference
        shapes = {name: [ref[f"{s}.input.{name}"].shape for s in ("a", "b")] for name in fx.inputs}
        shapes.update({name: [ref[f"{s}.output.{name}"].shape for s in ("a", "b")] for name in fx.outputs})
    model, runnable = check_exported_model(res.model_path, opset, io, problems, input_types=inputs,
                                           output_types=outputs, ref_shapes=shapes)
    check_weight_types(model, dtype, problems)
    results = PRECISION_RESULTS[dtype]
    entry = results.entry(fx, opset, task)

    if runnable:
        path = res.model_path if dtype == "fp16" else widened(res.model_path, tmp_path / "widened.onnx")
        check = Checker(fx, task, opset, results, problems,
                        relative_bound=FP16_BOUND if dtype == "fp16" else BF16_BOUND)
        sess = ort_session(path)
        if fx.kind == "encoder":
            for s in ("a", "b"):
                got = dict(zip(fx.outputs, sess.run(fx.outputs, fx.feeds(s))))
                for name, want in fx.expected(s).items():
                    if dtype == "bf16":
                        check.relative_bound = bf16_bound(fx, name)
                    check.compare(f"set {s}: {name}", name, got[name], want)
        elif task == "text-generation":
            run_full(sess, fx, "logits", check)
        else:
            with_past_loop(sess, fx, check, teacher_forcing=True, cache_dtype=np.float16)

    entry["problems"] = problems
    entry["status"] = "fail" if problems else "pass"
    if problems:
        pytest.fail(f"{dtype} {fx.name} {task} at opset {opset}:\n  " + "\n  ".join(problems), pytrace=False)


@pytest.mark.parametrize("opset", precision_opsets("fp16"))
@pytest.mark.parametrize("fx", list(discover_seq2seq_fixtures()), ids=lambda f: f.name)
def test_seq2seq_fp16(fx: Fixture, opset: int, exporter):
    """Encoder-decoders in float16: every file's checkpoint weights stored as float16, the encoder output (kept
    float16 for the decoders) and the teacher-forced step loop through the separate and the merged decoders, fed
    float16 caches, against PyTorch's float32 outputs within ``FP16_BOUND``. (bf16 is left to the architectures
    above: widening four files and a merged graph's branches is not worth what it would measure.)"""
    task = "text2text-generation-with-past"
    res = exporter.get(fx, opset, task, "fp16")
    if res.returncode != 0:
        pytest.fail(f"fp16 export of {fx.name} failed (exit {res.returncode}):\n{res.stderr.strip()}", pytrace=False)
    problems: list[str] = []
    for name in FILES[task]:
        onnx.checker.check_model(str(res.out_dir / name), full_check=True)
        check_weight_types(onnx.load(str(res.out_dir / name), load_external_data=False), "fp16", problems)
    results = PRECISION_RESULTS["fp16"]
    entry = results.entry(fx, opset, task)
    check = Check(fx, task, opset, results, problems, relative_bound=FP16_BOUND)
    ref = fx.reference
    sessions = {name: ort_session(res.out_dir / name) for name in FILES[task]}
    (encoded,) = sessions["encoder_model.onnx"].run(None, {"input_ids": ref["encoder.input_ids"],
                                                          "attention_mask": ref["encoder.attention_mask"]})
    if encoded.dtype != np.float16:
        problems.append(f"last_hidden_state is {encoded.dtype}, expected float16 (the decoders read it)")
    check.compare("encoder last_hidden_state", "last_hidden_state", encoded, ref["encoder.last_hidden_state"])
    for merged in (False, True):
        step_loop(sessions, fx, check, encoded, teacher_forcing=True, merged=merged, cache_dtype=np.float16)
    entry["problems"] = problems
    entry["status"] = "fail" if problems else "pass"
    if problems:
        pytest.fail(f"fp16 {fx.name} at opset {opset}:\n  " + "\n  ".join(problems), pytrace=False)


def _transfo_xl_cases():
    for fx in discover_transfo_xl_fixtures():
        if "text-generation-with-past" in fx.tasks:
            for dtype in DTYPES:
                for op in precision_opsets(dtype):
                    yield pytest.param(fx, op, dtype, id=f"{dtype}/{fx.name}/op{op}")


@pytest.mark.parametrize("fx,opset,dtype", list(_transfo_xl_cases()))
def test_transfo_xl_reduced_precision(fx: Fixture, opset: int, dtype: str, exporter, tmp_path: Path):
    """Transformer-XL in float16 and bfloat16 (widened, as above): weights stored narrow, the scores of sets a and
    b (text-generation), and the with-past export fed two segments and then teacher-forced steps with its own
    memories (``new_mems`` narrow like ``mems``), scores and memories against PyTorch's float32 within the
    dtype's bound. (txl-no-memory, without memory, is left out: its rows that hide every key average uniformly
    only in float32, where the mask's lowest value swallows the scores; float16's lowest, -65504, does not.)"""
    problems: list[str] = []
    results = PRECISION_RESULTS[dtype]
    memory_type = np.float16 if dtype == "fp16" else np.float32  # a widened bfloat16 graph takes float32
    for task in ("text-generation", "text-generation-with-past"):
        res = exporter.get(fx, opset, task, dtype)
        if res.returncode != 0:
            pytest.fail(f"{dtype} export of {fx.name} for {task} failed:\n{res.stderr.strip()}", pytrace=False)
        io = fx.io(task)
        narrow = {n: DTYPES[dtype] for n in io["inputs"] if n.startswith("mems.")}
        model, runnable = check_exported_model(res.model_path, opset, io, problems, input_types=narrow,
                                               output_types={"new_" + n: t for n, t in narrow.items()})
        check_weight_types(model, dtype, problems)
        entry = results.entry(fx, opset, task)
        check = Check(fx, task, opset, results, problems, relative_bound=FP16_BOUND if dtype == "fp16" else BF16_BOUND)
        if runnable:
            path = res.model_path if dtype == "fp16" else widened(res.model_path, tmp_path / f"{task}.onnx")
            sess = ort_session(path)
            if task == "text-generation":
                txl.run_sets(sess, fx, "logits", check)
            else:
                txl.segments(sess, fx, check, memory_type)
                txl.step_loop(sess, fx, check, teacher_forcing=True, dtype=memory_type)
        entry["problems"] = problems
        entry["status"] = "fail" if problems else "pass"
    if problems:
        pytest.fail(f"{dtype} {fx.name} at opset {opset}:\n  " + "\n  ".join(problems), pytrace=False)


def _write_precision_results() -> None:
    records = [dict(e, dtype=dtype) for dtype, results in PRECISION_RESULTS.items()
               for e in results.records.values() if e["status"] != "not run"]
    if not records:
        return
    worst: dict[str, float] = {}
    for e in records:
        key = f"{e['dtype']}/{e['model_type']}/{e['task']}"
        worst[key] = max([worst.get(key, 0.0), *e["max_abs_diff"].values()])
    RESULTS_DIR.mkdir(exist_ok=True)
    (RESULTS_DIR / "precision.json").write_text(json.dumps(
        {"measure": "max |onnxruntime - pytorch| / max |pytorch|", "fp16_bound": FP16_BOUND, "bf16_bound": BF16_BOUND,
         "worst": dict(sorted(worst.items())), "results": records}, indent=1) + "\n")


@pytest.fixture(scope="module", autouse=True)
def precision_report():
    yield
    _write_precision_results()


# ------------------------------------------------------------------------------------------------
# half-precision checkpoints: float32 by default, their own type on request


def half_checkpoint(src: Path, dst: Path, st_dtype: str) -> Path:
    """A copy of a fixture whose float32 weights are stored as F16 or BF16 (bf16 by truncation of the float32
    bits after rounding to nearest even, as torch does)."""
    shutil.copytree(src, dst)
    tensors, meta = st_util.read(src / "model.safetensors")
    for name, t in tensors.items():
        if t.dtype != "F32":
            continue
        x = np.frombuffer(t.data, np.float32)
        if st_dtype == "F16":
            data = x.astype(np.float16).tobytes()
        else:
            bits = x.view(np.uint32).astype(np.uint64)
            data = ((bits + 0x7FFF + ((bits >> 16) & 1)) >> 16).astype(np.uint16).tobytes()
        tensors[name] = st_util.Tensor(st_dtype, t.shape, data)
    st_util.write(dst / "model.safetensors", tensors, meta)
    return dst


@pytest.mark.parametrize("st_dtype,onnx_type", [("F16", onnx.TensorProto.FLOAT16), ("BF16", onnx.TensorProto.BFLOAT16)])
def test_half_checkpoint_exports_float32_by_default_and_its_own_type_on_request(st_dtype, onnx_type, tmp_path):
    fx = next(f for f in discover_decoder_fixtures() if f.name == "gpt2/causal-lm")
    folder = half_checkpoint(fx.dir, tmp_path / "half", st_dtype)
    stored, _ = st_util.read(folder / "model.safetensors")

    p = run_cli(["--model", str(folder), "--task", "text-generation", "--opset", "17", str(tmp_path / "default")])
    assert p.returncode == 0, p.stderr
    model = onnx.load(str(tmp_path / "default" / "model.onnx"))
    weights = [i for i in model.graph.initializer if not i.name.startswith("/")]
    assert weights and all(i.data_type == onnx.TensorProto.FLOAT for i in weights)

    p = run_cli(["--model", str(folder), "--task", "text-generation", "--opset", "17", "--dtype", "auto",
                 str(tmp_path / "auto")])
    assert p.returncode == 0, p.stderr
    model = onnx.load(str(tmp_path / "auto" / "model.onnx"))
    weights = {i.name: i for i in model.graph.initializer if not i.name.startswith("/")}
    assert all(i.data_type == onnx_type for i in weights.values())
    # Untransformed weights (GPT-2's Conv1D, embeddings) are the checkpoint's bytes, not a round trip.
    for name in ("transformer.wte.weight", "transformer.h.0.attn.c_attn.weight"):
        assert weights[name].raw_data == stored[name].data, name


def test_bf16_below_opset_13_is_refused(tmp_path):
    fx = next(f for f in discover_decoder_fixtures() if f.name == "gpt2/causal-lm")
    p = run_cli(["--model", str(fx.dir), "--task", "text-generation", "--opset", "11", "--dtype", "bf16", str(tmp_path / "o")])
    assert p.returncode != 0 and "opset 13" in p.stderr, p.stderr
    assert not (tmp_path / "o" / "model.onnx").exists()


def test_unknown_dtype_is_refused(tmp_path):
    fx = next(f for f in discover_decoder_fixtures() if f.name == "gpt2/causal-lm")
    p = run_cli(["--model", str(fx.dir), "--dtype", "fp8", str(tmp_path / "o")])
    assert p.returncode != 0 and "--dtype" in p.stderr, p.stderr
