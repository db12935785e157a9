"""pytest wiring for the parity tests (see harness.py for the machinery).

At the end of a session that ran parity tests, ``Tests/parity/.results/parity.json`` holds every max |diff|
and the terminal summary shows architecture x task -> worst diff over variants and opsets, one table for the
encoders (test_parity.py) and one for the decoders (test_decoder_parity.py).
"""

from __future__ import annotations

import json
import os

import pytest

from bounds import RELATIVE_TOLERANCE, TOLERANCE
from harness import (
    ARCH_ORDER,
    DECODER_ARCH_ORDER,
    DECODER_TASK_ORDER,
    RESULTS,
    RESULTS_DIR,
    SEQ2SEQ_ARCH_ORDER,
    SEQ2SEQ_TASK_ORDER,
    TASK_ORDER,
    TRANSFO_XL_ARCH_ORDER,
    TRANSFO_XL_TASK_ORDER,
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
        for fx, opset, task in getattr(request.config, "_parity_jobs", []):  # prefetch in test order
            ex.submit(fx, opset, task)
    yield ex
    ex.close()


@pytest.fixture(scope="session")
def results() -> Results:
    return RESULTS


PARITY_TESTS = ("test_parity", "test_decoder_parity", "test_seq2seq_parity", "test_transfo_xl_parity")


def pytest_collection_finish(session):
    """Note the (fixture, opset, task) exports the selected parity tests need, in order, for prefetching."""
    jobs = []
    for item in session.items:
        cs = getattr(item, "callspec", None)
        if cs is not None and item.originalname in PARITY_TESTS:
            fx, opset = cs.params["fx"], cs.params["opset"]
            key = (fx, opset, cs.params.get("task") or fx.task)
            jobs.append(key)
            item._parity_key = key
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


def _table(kind: str = "encoder") -> tuple[list[str], dict]:
    """architecture x task -> worst diff over variants and opsets (or FAIL n/m), for one kind of fixture."""
    arch_order, task_order = {"encoder": (ARCH_ORDER, TASK_ORDER), "decoder": (DECODER_ARCH_ORDER, DECODER_TASK_ORDER),
                              "seq2seq": (SEQ2SEQ_ARCH_ORDER, SEQ2SEQ_TASK_ORDER),
                  "transfo-xl": (TRANSFO_XL_ARCH_ORDER, TRANSFO_XL_TASK_ORDER)}[kind]
    cells: dict[tuple[str, str], dict] = {}
    for e in RESULTS.records.values():
        if e["status"] == "not run" or e.get("kind", "encoder") != kind:
            continue
        c = cells.setdefault((e["model_type"], e["task"]), {"worst": 0.0, "fail": 0, "n": 0})
        c["n"] += 1
        if e["status"] == "fail":
            c["fail"] += 1
        if e["max_abs_diff"]:
            c["worst"] = max(c["worst"], max(e["max_abs_diff"].values()))
    archs = [a for a in arch_order if any(k[0] == a for k in cells)] + sorted(
        {k[0] for k in cells} - set(arch_order))
    tasks = [t for t in task_order if any(k[1] == t for k in cells)] + sorted(
        {k[1] for k in cells} - set(task_order))
    short = {"feature-extraction": "feature-extr", "text-classification": "text-class",
             "token-classification": "token-class", "question-answering": "question-ans",
             "multiple-choice": "multi-choice", "fill-mask": "fill-mask", "text-generation": "text-gen",
             "text-generation-with-past": "text-gen-past", "text2text-generation": "text2text",
             "text2text-generation-with-past": "text2text-past"}
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
    ran = {e.get("kind", "encoder") for e in RESULTS.records.values() if e["status"] != "not run"}
    tables = {kind: _table(kind) for kind in ("encoder", "decoder", "seq2seq", "transfo-xl") if kind in ran}
    RESULTS_DIR.mkdir(exist_ok=True)
    summary = dict(tables["encoder"][1]) if "encoder" in tables else {}
    payload = {
        "exporter": str(exporter_bin()),
        "opsets": opsets(),
        "tolerance": {"absolute": TOLERANCE, "relative_to_max_1_and_max_abs_reference": RELATIVE_TOLERANCE},
        "summary": summary,
        "results": sorted(RESULTS.records.values(),
                          key=lambda e: (e.get("kind", "encoder"), e["fixture"], e["task"], e["opset"])),
    }
    if "decoder" in tables:
        payload["decoder_summary"] = tables["decoder"][1]
    if "seq2seq" in tables:
        payload["seq2seq_summary"] = tables["seq2seq"][1]
    if "transfo-xl" in tables:
        payload["transfo_xl_summary"] = tables["transfo-xl"][1]
    (RESULTS_DIR / "parity.json").write_text(json.dumps(payload, indent=1) + "\n")
    tr = terminalreporter
    for kind, (lines, _) in tables.items():
        label = "Transformer-XL" if kind == "transfo-xl" else f"{kind}s"
        tr.section(f"parity ({label}): worst max|onnxruntime - pytorch| over variants and opsets")
        for line in lines:
            tr.write_line(line)
    tr.write_line(f"(tolerance: max |diff| <= {RELATIVE_TOLERANCE:g} x max(1, max |pytorch|) and <= {TOLERANCE:g}; "
                  f"details in {RESULTS_DIR / 'parity.json'})")
