"""pytest wiring for the parity tests (see harness.py for the machinery).

At the end of a session that ran parity tests, ``Tests/parity/.results/parity.json`` holds every max |diff|
and the terminal summary shows architecture x task -> worst diff over variants and opsets.
"""

from __future__ import annotations

import json
import os

import pytest

from harness import (
    ARCH_ORDER,
    RESULTS,
    RESULTS_DIR,
    TASK_ORDER,
    TOLERANCE,
    Exporter,
    Results,
    exporter_bin,
    opsets,
)


@pytest.fixture(scope="session")
def exporter(request, tmp_path_factory) -> Exporter:
    jobs = int(os.environ.get("ONNX_EXPORT_JOBS", min(8, os.cpu_count() or 2)))
    ex = Exporter(tmp_path_factory.mktemp("exports"), jobs)
    if exporter_bin().exists():
        for fx, opset in getattr(request.config, "_parity_jobs", []):  # prefetch in test order
            ex.submit(fx, opset)
    yield ex
    ex.close()


@pytest.fixture(scope="session")
def results() -> Results:
    return RESULTS


def pytest_collection_finish(session):
    """Note the (fixture, opset) exports the selected parity tests need, in order, for prefetching."""
    jobs = []
    for item in session.items:
        cs = getattr(item, "callspec", None)
        if cs is not None and item.originalname == "test_parity":
            jobs.append((cs.params["fx"], cs.params["opset"]))
            item._parity_key = (cs.params["fx"], cs.params["opset"])
    session.config._parity_jobs = jobs


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    key = getattr(item, "_parity_key", None)
    if key is not None and (report.when == "call" or report.failed):
        e = RESULTS.entry(*key)
        if report.failed:
            e["status"] = "fail"
        elif report.skipped:
            e["status"] = "skip"
        elif e["status"] == "not run":
            e["status"] = "pass"
    return report


def pytest_report_header(config):
    b = exporter_bin()
    return [f"onnx-export: {b} ({'present' if b.exists() else 'MISSING'}); parity opsets {opsets()}"]


def _table() -> tuple[list[str], dict]:
    """architecture x task -> worst diff over variants and opsets (or FAIL n/m)."""
    cells: dict[tuple[str, str], dict] = {}
    for e in RESULTS.records.values():
        if e["status"] == "not run":
            continue
        c = cells.setdefault((e["model_type"], e["task"]), {"worst": 0.0, "fail": 0, "n": 0})
        c["n"] += 1
        if e["status"] == "fail":
            c["fail"] += 1
        if e["max_abs_diff"]:
            c["worst"] = max(c["worst"], max(e["max_abs_diff"].values()))
    archs = [a for a in ARCH_ORDER if any(k[0] == a for k in cells)] + sorted(
        {k[0] for k in cells} - set(ARCH_ORDER))
    tasks = [t for t in TASK_ORDER if any(k[1] == t for k in cells)]
    short = {"feature-extraction": "feature-extr", "text-classification": "text-class",
             "token-classification": "token-class", "question-answering": "question-ans",
             "multiple-choice": "multi-choice", "fill-mask": "fill-mask"}
    lines = [f"{'':12}" + "".join(f"{short.get(t, t):>14}" for t in tasks)]
    for a in archs:
        row = f"{a:12}"
        for t in tasks:
            c = cells.get((a, t))
            if c is None:
                s = "-"
            elif c["fail"]:
                s = f"FAIL {c['fail']}/{c['n']}"
            else:
                s = f"{c['worst']:.1e}"
            row += f"{s:>14}"
        lines.append(row)
    return lines, {f"{a}/{t}": v for (a, t), v in cells.items()}


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    if not any(e["status"] != "not run" for e in RESULTS.records.values()):
        return
    lines, cells = _table()
    RESULTS_DIR.mkdir(exist_ok=True)
    payload = {
        "exporter": str(exporter_bin()),
        "opsets": opsets(),
        "tolerance": TOLERANCE,
        "summary": cells,
        "results": sorted(RESULTS.records.values(), key=lambda e: (e["fixture"], e["opset"])),
    }
    (RESULTS_DIR / "parity.json").write_text(json.dumps(payload, indent=1) + "\n")
    tr = terminalreporter
    tr.section("parity: worst max|onnxruntime - pytorch| over variants and opsets")
    for line in lines:
        tr.write_line(line)
    tr.write_line(f"(tolerance {TOLERANCE:g}; details in {RESULTS_DIR / 'parity.json'})")
