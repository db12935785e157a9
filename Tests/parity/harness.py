"""Shared machinery for the parity tests: fixtures on disk, the exporter CLI, parallel exports, results.

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
TOLERANCE = 1e-4
EXPORT_TIMEOUT_S = 300

# ir_version that goes with each default-domain opset (onnx helper.VERSION_TABLE; see
# /work/shared/reference/formats.md). Opsets past the table are not checked.
IR_FOR_OPSET = {
    11: 6, 12: 7, 13: 7, 14: 7, 15: 8, 16: 8, 17: 8, 18: 8, 19: 9, 20: 9, 21: 10, 22: 10, 23: 11, 24: 12,
    25: 13, 26: 13, 27: 13, 28: 13,
}

TASK_ORDER = [
    "feature-extraction", "fill-mask", "text-classification", "token-classification",
    "question-answering", "multiple-choice",
]
ARCH_ORDER = ["bert", "roberta", "xlm-roberta", "distilbert", "electra"]


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


@functools.lru_cache(maxsize=None)
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


@dataclass(frozen=True)
class Fixture:
    name: str  # e.g. "bert-base/fill-mask", "example-bert"
    dir: Path

    @functools.cached_property
    def meta(self) -> dict:
        return json.loads((self.dir / "fixture.json").read_text())

    @property
    def task(self) -> str:
        return self.meta["task"]

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
    """Every folder under Tests/Fixtures with a fixture.json; named relative to encoders/ (or Fixtures/)."""
    found = []
    encoders = FIXTURES / "encoders"
    for meta in sorted(FIXTURES.rglob("fixture.json")):
        d = meta.parent
        base = encoders if d.is_relative_to(encoders) else FIXTURES
        found.append(Fixture(d.relative_to(base).as_posix(), d))
    return tuple(found)


def fixture_by_name(name: str) -> Fixture:
    for f in discover_fixtures():
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


class Exporter:
    def __init__(self, root: Path, jobs: int):
        self.root = root
        self.pool = ThreadPoolExecutor(max_workers=jobs, thread_name_prefix="onnx-export")
        self.futures: dict[tuple[str, int], Future] = {}
        self.lock = threading.Lock()

    def _export(self, fx: Fixture, opset: int) -> ExportResult:
        out = self.root / fx.name.replace("/", "__") / f"op{opset}"
        t0 = time.perf_counter()
        p = run_cli(["--model", str(fx.dir), "--task", fx.task, "--opset", str(opset), "--force", str(out)])
        return ExportResult(out, p.returncode, p.stdout, p.stderr, time.perf_counter() - t0)

    def submit(self, fx: Fixture, opset: int) -> Future:
        with self.lock:
            key = (fx.name, opset)
            if key not in self.futures:
                self.futures[key] = self.pool.submit(self._export, fx, opset)
            return self.futures[key]

    def get(self, fx: Fixture, opset: int) -> ExportResult:
        try:
            return self.submit(fx, opset).result()
        except pytest.fail.Exception:
            raise
        except subprocess.TimeoutExpired as e:
            pytest.fail(f"export timed out after {e.timeout}s", pytrace=False)

    def close(self) -> None:
        self.pool.shutdown(wait=True, cancel_futures=True)


# ------------------------------------------------------------------------------------------------
# results: max |diff| per (fixture, opset, output)


class Results:
    def __init__(self) -> None:
        self.records: dict[tuple[str, int], dict] = {}

    def entry(self, fx: Fixture, opset: int) -> dict:
        return self.records.setdefault(
            (fx.name, opset),
            {"fixture": fx.name, "model_type": fx.model_type, "task": fx.task, "opset": opset,
             "status": "not run", "max_abs_diff": {}, "problems": []},
        )

    def diff(self, fx: Fixture, opset: int, output: str, value: float) -> None:
        d = self.entry(fx, opset)["max_abs_diff"]
        d[output] = max(d.get(output, 0.0), value)


RESULTS = Results()
