"""Shared machinery for the parity tests: fixtures on disk, the exporter CLI, parallel exports, checks on an
exported model, results.

Encoder fixtures live under ``Tests/Fixtures/encoders/<variant>/<task>/`` (plus ``example-bert``), one task each;
decoder fixtures under ``Tests/Fixtures/decoders/<variant>/<folder>/``, where a ``causal-lm`` folder serves several
tasks (``fixture.json`` ``"tasks"``, with the ONNX inputs/outputs/axes of each under ``"io"``).

Needs only onnx, onnxruntime and numpy (and pytest). Environment:

* ``ONNX_EXPORT_BIN``: the exporter binary (default ``<repo>/.build/release/onnx-export``, falling back to
  ``.build/debug/onnx-export`` when only a debug build exists).
* ``ONNX_EXPORT_NEWEST_OPSET``: the newest opset to test (default: ``onnx-export --print-newest-opset``,
  else 24).
* ``ONNX_EXPORT_JOBS``: parallel exports (default: number of CPUs, at most 8).
"""


from __future__ import annotations

import functools
import json
import os
import re
import subprocess

# Exports run from a thread pool. With CPython's vfork fast path, an exec racing another thread
# now and then failed with "OSError: [Errno 14] Bad address" here; plain fork does not.
subprocess._USE_VFORK = False
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "Tests" / "Fixtures"
RESULTS_DIR = Path(__file__).resolve().parent / ".results"

BASE_OPSETS = [11, 13, 14, 17, 18, 20, 21, 23]
DEFAULT_NEWEST_OPSET = 24
EXPORT_TIMEOUT_S = 300

# ir_version that goes with each default-domain opset (onnx's helper.VERSION_TABLE, and the table in
# onnx/onnx docs/Versioning.md). Opsets past the table are not checked.
IR_FOR_OPSET = {
    11: 6, 12: 7, 13: 7, 14: 7, 15: 8, 16: 8, 17: 8, 18: 8, 19: 9, 20: 9, 21: 10, 22: 10, 23: 11, 24: 12,
    25: 13, 26: 13, 27: 13, 28: 13,
}

TASK_ORDER = [
    "feature-extraction", "fill-mask", "text-classification", "token-classification",
    "question-answering", "multiple-choice", "text-generation",
]
ARCH_ORDER = ["bert", "roberta", "xlm-roberta", "distilbert", "electra", "albert", "xlm", "deberta-v2", "mpnet", "xlnet"]
DECODER_TASK_ORDER = [
    "text-generation", "text-generation-with-past", "feature-extraction", "text-classification",
    "token-classification",
]
DECODER_ARCH_ORDER = ["gpt2", "openai-gpt", "llama", "mistral", "qwen2", "qwen3", "phi3", "gemma"]
SEQ2SEQ_TASK_ORDER = ["text2text-generation-with-past", "text2text-generation", "feature-extraction"]
SEQ2SEQ_ARCH_ORDER = ["t5", "mt5", "umt5"]
TRANSFO_XL_TASK_ORDER = ["text-generation-with-past", "text-generation", "feature-extraction"]
TRANSFO_XL_ARCH_ORDER = ["transfo-xl"]


# ------------------------------------------------------------------------------------------------
# exporter binary and opsets


def exporter_bin() -> Path:
    env = os.environ.get("ONNX_EXPORT_BIN")
    if env:
        return Path(env)
    release = REPO / ".build" / "release" / "onnx-export"
    debug = REPO / ".build" / "debug" / "onnx-export"
    if not release.exists() and debug.exists():
        return debug
    return release


def run_cli(args: list[str], timeout: float = EXPORT_TIMEOUT_S) -> subprocess.CompletedProcess:
    """Run the exporter with args; a missing binary fails the calling test with a clear message."""
    binary = exporter_bin()
    if not binary.exists():
        pytest.fail(
            f"exporter binary not found at {binary}: build it with `swift build -c release` "
            f"or point ONNX_EXPORT_BIN at it",
            pytrace=False,
        )
    return subprocess.run(
        [str(binary), *args], capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL
    )


def supported_model_types() -> list[str]:
    """The architectures ``onnx-export --help`` lists (an original checkpoint converts before its architecture
    exports)."""
    p = run_cli(["--help"])
    found = re.search(r"Architectures \(model_type\):\s*([^.]+)\.", p.stdout)  # the list wraps over lines
    return [t.strip() for t in found.group(1).split(",")] if found else []


@functools.lru_cache(maxsize=None)
def assert_refused(p: subprocess.CompletedProcess, out: Path, *needles: str) -> None:
    """Non-zero exit, every needle in stderr (case-insensitive), no model file left behind."""
    assert p.returncode != 0, f"expected a failure, got exit 0\nstdout: {p.stdout}\nstderr: {p.stderr}"
    err = p.stderr.lower()
    assert p.stderr.strip(), "no message on stderr"
    for n in needles:
        assert n.lower() in err, f"stderr does not mention {n!r}:\n{p.stderr}"
    assert "Traceback" not in p.stderr and "Fatal error" not in p.stderr, p.stderr
    if out.exists():
        left = [f.name for f in out.rglob("*") if f.suffix in (".onnx", ".onnx_data") or f.name.startswith("model.onnx")]
        assert not left, f"failed export left {left} in {out}"


def assert_convert_refused(p: subprocess.CompletedProcess, out: Path, fragments: list[str]) -> None:
    """``onnx-export convert`` refused: exit 1, one line on stderr holding every fragment, nothing in ``out``."""
    assert p.returncode == 1, p.stderr
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1, p.stderr
    for fragment in fragments:
        assert fragment in p.stderr, p.stderr
    assert not out.exists() or not any(out.iterdir()), sorted(out.iterdir())


def changed_config(path: Path, change: dict | None, folder: Path) -> Path:
    """``path``, or a copy of that JSON config in ``folder`` with ``change``'s keys set."""
    if not change:
        return path
    fields = json.loads(path.read_text())
    fields.update(change)
    (folder / path.name).write_text(json.dumps(fields))
    return folder / path.name


def newest_opset() -> int:
    env = os.environ.get("ONNX_EXPORT_NEWEST_OPSET")
    if env:
        return int(env)
    binary = exporter_bin()
    if binary.exists():
        try:
            p = subprocess.run(
                [str(binary), "--print-newest-opset"], capture_output=True, text=True, timeout=30,
                stdin=subprocess.DEVNULL,
            )
            if p.returncode == 0 and p.stdout.strip().isdigit():
                return int(p.stdout.strip())
        except (OSError, subprocess.SubprocessError):
            pass
    return DEFAULT_NEWEST_OPSET


def opsets() -> list[int]:
    return sorted(set(BASE_OPSETS + [newest_opset()]))


# ------------------------------------------------------------------------------------------------
# fixtures on disk


DECODERS = FIXTURES / "decoders"
SEQ2SEQ = FIXTURES / "seq2seq"
TRANSFO_XL = FIXTURES / "transfo-xl"


@dataclass(frozen=True)
class Fixture:
    name: str  # e.g. "bert-base/fill-mask", "example-bert", "llama/causal-lm"
    dir: Path

    @functools.cached_property
    def meta(self) -> dict:
        return json.loads((self.dir / "fixture.json").read_text())

    @property
    def kind(self) -> str:
        """"decoder" for fixtures under Tests/Fixtures/decoders, "seq2seq" under seq2seq, "transfo-xl" under
        transfo-xl, else "encoder"."""
        if self.dir.is_relative_to(DECODERS):
            return "decoder"
        if self.dir.is_relative_to(TRANSFO_XL):
            return "transfo-xl"
        return "seq2seq" if self.dir.is_relative_to(SEQ2SEQ) else "encoder"

    @property
    def task(self) -> str:
        """The single task of an encoder or classification fixture (a causal-lm folder has several: ``tasks``)."""
        return self.meta["task"]

    @property
    def tasks(self) -> list[str]:
        return self.meta.get("tasks") or [self.meta["task"]]

    @property
    def variant(self) -> str:
        return self.name.split("/")[0]

    def io(self, task: str) -> dict:
        """ONNX inputs, outputs, input_axes, output_axes for one task (decoder fixture.json ``io``)."""
        if "io" in self.meta:
            return self.meta["io"][task]
        return {k: self.meta[k] for k in ("inputs", "outputs", "input_axes", "output_axes")}

    @property
    def model_type(self) -> str:
        return self.meta["model_type"]

    @property
    def inputs(self) -> list[str]:
        return self.meta["inputs"]

    @property
    def outputs(self) -> list[str]:
        return self.meta["outputs"]

    @functools.cached_property
    def reference(self) -> dict[str, np.ndarray]:
        with np.load(self.dir / "reference.npz") as z:
            return {k: z[k] for k in z.files}

    def feeds(self, set_name: str) -> dict[str, np.ndarray]:
        return {n: self.reference[f"{set_name}.input.{n}"] for n in self.inputs}

    def expected(self, set_name: str) -> dict[str, np.ndarray]:
        return {n: self.reference[f"{set_name}.output.{n}"] for n in self.outputs}


@functools.lru_cache(maxsize=None)
def discover_fixtures() -> tuple[Fixture, ...]:
    """Every encoder fixture: folders under Tests/Fixtures with a fixture.json, except those under decoders/,
    seq2seq/ and transfo-xl/; named relative to encoders/ (or Fixtures/)."""
    found = []
    encoders = FIXTURES / "encoders"
    for meta in sorted(FIXTURES.rglob("fixture.json")):
        d = meta.parent
        if d.is_relative_to(DECODERS) or d.is_relative_to(SEQ2SEQ) or d.is_relative_to(TRANSFO_XL):
            continue
        base = encoders if d.is_relative_to(encoders) else FIXTURES
        found.append(Fixture(d.relative_to(base).as_posix(), d))
    return tuple(found)


def _fixtures_under(root: Path) -> tuple[Fixture, ...]:
    """Every folder under ``root`` with a fixture.json, named relative to ``root``."""
    if not root.is_dir():
        return ()
    return tuple(Fixture(m.parent.relative_to(root).as_posix(), m.parent) for m in sorted(root.rglob("fixture.json")))


@functools.lru_cache(maxsize=None)
def discover_decoder_fixtures() -> tuple[Fixture, ...]:
    """Every folder under Tests/Fixtures/decoders with a fixture.json, named relative to decoders/."""
    return _fixtures_under(DECODERS)


@functools.lru_cache(maxsize=None)
def discover_seq2seq_fixtures() -> tuple[Fixture, ...]:
    """Every folder under Tests/Fixtures/seq2seq with a fixture.json, named relative to seq2seq/."""
    return _fixtures_under(SEQ2SEQ)


@functools.lru_cache(maxsize=None)
def discover_transfo_xl_fixtures() -> tuple[Fixture, ...]:
    """Every folder under Tests/Fixtures/transfo-xl with a fixture.json, named by its folder."""
    return _fixtures_under(TRANSFO_XL)


def fixture_by_name(name: str) -> Fixture:
    for f in discover_fixtures():
        if f.name == name:
            return f
    raise KeyError(name)


def decoder_fixture_by_name(name: str) -> Fixture:
    for f in discover_decoder_fixtures():
        if f.name == name:
            return f
    raise KeyError(name)


# ------------------------------------------------------------------------------------------------
# exports, run in parallel ahead of the tests that need them


@dataclass
class ExportResult:
    out_dir: Path
    returncode: int
    stdout: str
    stderr: str
    seconds: float

    @property
    def model_path(self) -> Path:
        return self.out_dir / "model.onnx"


def export_or_fail(exporter: "Exporter", results: "Results", fx: "Fixture", opset: int, task: str | None = None) -> ExportResult:
    """The fixture's export (started ahead by the session), recorded in the results; a failed export fails the
    calling test with the exporter's message."""
    res = exporter.get(fx, opset, task)
    entry = results.entry(fx, opset, task)
    entry["export_seconds"] = round(res.seconds, 3)
    if res.returncode != 0:
        entry["problems"] = [f"export failed (exit {res.returncode}): {res.stderr.strip()}"]
        pytest.fail(f"export of {fx.name} for {task or fx.task} at opset {opset} failed (exit {res.returncode}):\n"
                    f"{res.stderr.strip()}", pytrace=False)
    return res


class Exporter:
    def __init__(self, root: Path, jobs: int):
        self.root = root
        self.pool = ThreadPoolExecutor(max_workers=jobs, thread_name_prefix="onnx-export")
        self.futures: dict[tuple[str, str, int], Future] = {}
        self.lock = threading.Lock()

    def _export(self, fx: Fixture, opset: int, task: str, dtype: str) -> ExportResult:
        out = self.root / f"{fx.kind}__{fx.name.replace('/', '__')}__{task}" / f"op{opset}-{dtype}"
        t0 = time.perf_counter()
        p = run_cli(["--model", str(fx.dir), "--task", task, "--opset", str(opset), "--dtype", dtype, "--force", str(out)])
        return ExportResult(out, p.returncode, p.stdout, p.stderr, time.perf_counter() - t0)

    def submit(self, fx: Fixture, opset: int, task: str | None = None, dtype: str = "fp32") -> Future:
        """Start (once) the export of fx for task (default: the fixture's only task) at opset, in dtype."""
        task = task or fx.task
        with self.lock:
            key = (fx.kind + ":" + fx.name, task, opset, dtype)
            if key not in self.futures:
                self.futures[key] = self.pool.submit(self._export, fx, opset, task, dtype)
            return self.futures[key]

    def get(self, fx: Fixture, opset: int, task: str | None = None, dtype: str = "fp32") -> ExportResult:
        try:
            return self.submit(fx, opset, task, dtype).result()
        except pytest.fail.Exception:
            raise
        except subprocess.TimeoutExpired as e:
            pytest.fail(f"export timed out after {e.timeout}s", pytrace=False)

    def close(self) -> None:
        self.pool.shutdown(wait=True, cancel_futures=True)


# ------------------------------------------------------------------------------------------------
# results: max |diff| per (fixture, opset, output)


class Results:
    """One record per (fixture, task, opset); task defaults to the fixture's only task (encoders)."""

    def __init__(self) -> None:
        self.records: dict[tuple[str, str, int], dict] = {}

    def entry(self, fx: Fixture, opset: int, task: str | None = None) -> dict:
        task = task or fx.task
        return self.records.setdefault(
            (fx.kind + ":" + fx.name, task, opset),
            {"fixture": fx.name, "kind": fx.kind, "model_type": fx.model_type, "task": task, "opset": opset,
             "status": "not run", "max_abs_diff": {}, "problems": []},
        )

    def diff(self, fx: Fixture, opset: int, output: str, value: float, task: str | None = None) -> None:
        d = self.entry(fx, opset, task)["max_abs_diff"]
        d[output] = max(d.get(output, 0.0), value)


RESULTS = Results()


# ------------------------------------------------------------------------------------------------
# checks on an exported model, shared by the parity tests (onnx / onnxruntime are imported lazily so that
# the harness itself needs only numpy and pytest)


def ort_session(path: Path):
    """An onnxruntime CPU session with one intra-op and one inter-op thread (exports run in parallel)."""
    import onnxruntime as ort

    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    so.inter_op_num_threads = 1
    return ort.InferenceSession(str(path), so, providers=["CPUExecutionProvider"])


def default_domain_opset(model) -> int | None:
    for imp in model.opset_import:
        if imp.domain in ("", "ai.onnx"):
            return imp.version
    return None


def describe_dims(vi) -> list | None:
    """The declared shape of a ValueInfoProto: dim_param strings, dim_value ints, "?" for neither."""
    t = vi.type.tensor_type
    if not t.HasField("shape"):
        return None
    dims = []
    for d in t.shape.dim:
        if d.HasField("dim_param"):
            dims.append(d.dim_param)
        elif d.HasField("dim_value"):
            dims.append(d.dim_value)
        else:
            dims.append("?")
    return dims


def check_port(kind: str, vi, axes: list, elem_type: int, problems: list[str],
               ref_shapes: list[tuple] | None = None) -> None:
    """Check one graph input/output against its expected axes: a str is a symbolic dim_param that must match
    exactly, an int a fixed size, None a fixed size that must be one of the reference shapes' sizes."""
    import onnx

    t = vi.type.tensor_type
    if t.elem_type != elem_type:
        problems.append(f"{kind} {vi.name}: element type {onnx.TensorProto.DataType.Name(t.elem_type)}, "
                        f"expected {onnx.TensorProto.DataType.Name(elem_type)}")
    dims = describe_dims(vi)
    if dims is None:
        problems.append(f"{kind} {vi.name}: no shape declared, expected {axes}")
        return
    if len(dims) != len(axes):
        problems.append(f"{kind} {vi.name}: rank {len(dims)} {dims}, expected {axes}")
        return
    for i, (got, want) in enumerate(zip(dims, axes)):
        if want is None:
            sizes = {s[i] for s in (ref_shapes or [])}
            if got not in sizes:
                problems.append(f"{kind} {vi.name}: axis {i} is {got!r}, expected a fixed size in {sorted(sizes)}")
        elif isinstance(want, int):
            if got != want:
                problems.append(f"{kind} {vi.name}: axis {i} is {got!r}, expected fixed size {want} ({dims})")
        elif got != want:
            problems.append(f"{kind} {vi.name}: axis {i} is {got!r}, expected symbolic {want!r} ({dims})")


def check_exported_model(path: Path, opset: int, io: dict, problems: list[str],
                         input_types: dict[str, int] | None = None,
                         ref_shapes: dict[str, list[tuple]] | None = None,
                         output_types: dict[str, int] | None = None) -> tuple[object, bool]:
    """onnx.checker (full check, on the path so external data works), opset_import, ir_version, graph input
    names (any order) and output names (in order), declared types and axes. ``io``: {"inputs", "outputs",
    "input_axes", "output_axes"}; inputs are int64 unless ``input_types`` says otherwise, outputs float32
    unless ``output_types`` does;
    ``ref_shapes`` gives, per port, the reference shapes that fixed (None) axes must match.
    Returns the model (without external data) and whether its ports allow running it."""
    import onnx

    try:
        onnx.checker.check_model(str(path), full_check=True)
    except Exception as e:
        problems.append(f"onnx.checker (full_check): {type(e).__name__}: {e}")
    model = onnx.load(str(path), load_external_data=False)

    got_opset = default_domain_opset(model)
    if got_opset != opset:
        problems.append(f"default-domain opset_import is {got_opset}, requested {opset}")
    if opset in IR_FOR_OPSET and model.ir_version != IR_FOR_OPSET[opset]:
        problems.append(f"ir_version {model.ir_version}, expected {IR_FOR_OPSET[opset]} for opset {opset}")

    initializers = {i.name for i in model.graph.initializer}
    graph_inputs = {vi.name: vi for vi in model.graph.input if vi.name not in initializers}
    graph_outputs = {vi.name: vi for vi in model.graph.output}
    if set(graph_inputs) != set(io["inputs"]):
        problems.append(f"graph inputs {sorted(graph_inputs)}, expected {sorted(io['inputs'])} (any order)")
    if [vi.name for vi in model.graph.output] != io["outputs"]:
        problems.append(f"graph outputs {[vi.name for vi in model.graph.output]}, expected {io['outputs']}")

    types = input_types or {}
    for name in io["inputs"]:
        if name in graph_inputs:
            check_port("input", graph_inputs[name], io["input_axes"][name],
                       types.get(name, onnx.TensorProto.INT64), problems, (ref_shapes or {}).get(name))
    for name in io["outputs"]:
        if name in graph_outputs:
            check_port("output", graph_outputs[name], io["output_axes"][name],
                       (output_types or {}).get(name, onnx.TensorProto.FLOAT), problems,
                       (ref_shapes or {}).get(name))
    runnable = set(graph_inputs) == set(io["inputs"]) and set(graph_outputs) >= set(io["outputs"])
    return model, runnable


