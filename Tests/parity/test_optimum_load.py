"""optimum's ORTModel classes load our exports as they are (the deployment contract behind optimum's input and
output names): every encoder fixture is exported at the default opset and loaded with the ORTModelFor... class
of its task, which runs it on the fixture's inputs and must reproduce PyTorch's outputs (those the class returns:
ORTModelForFeatureExtraction gives last_hidden_state, not pooler_output).

Skipped when optimum's onnxruntime integration is not installed (CI installs only onnx, onnxruntime and numpy):

    python3 -m venv /work/venv-optimum && /work/venv-optimum/bin/pip install torch==2.13.0+cpu \\
        "optimum-onnx[onnxruntime]" pytest
    ONNX_EXPORT_BIN=$PWD/.build/release/onnx-export /work/venv-optimum/bin/python -m pytest \\
        Tests/parity/test_optimum_load.py -p no:cacheprovider

XLM models with several languages take a ``langs`` input that optimum's classes do not pass: those are loaded
and their input set checked, but run through the session the class holds.
"""

from __future__ import annotations

import numpy as np
import pytest

optimum_onnxruntime = pytest.importorskip("optimum.onnxruntime", reason="optimum's onnxruntime integration is not installed")

from bounds import max_abs_diff, tolerance_for  # noqa: E402
from harness import Fixture, discover_fixtures, run_cli  # noqa: E402

CLASSES = {
    "feature-extraction": "ORTModelForFeatureExtraction",
    "fill-mask": "ORTModelForMaskedLM",
    "text-classification": "ORTModelForSequenceClassification",
    "token-classification": "ORTModelForTokenClassification",
    "question-answering": "ORTModelForQuestionAnswering",
    "multiple-choice": "ORTModelForMultipleChoice",
}
# The inputs the classes pass (the rest of their forward's arguments are for other modalities).
PASSED = {"input_ids", "attention_mask", "token_type_ids"}


@pytest.mark.parametrize("fx", list(discover_fixtures()), ids=lambda f: f.name)
def test_ortmodel_loads_and_runs_the_export(fx: Fixture, tmp_path):
    out = tmp_path / "onnx"
    p = run_cli(["--model", str(fx.dir), "--task", fx.task, str(out)])
    assert p.returncode == 0, p.stderr
    model = getattr(optimum_onnxruntime, CLASSES[fx.task]).from_pretrained(out)
    assert set(model.input_names) == set(fx.inputs)
    problems = []
    for s in ("a", "b"):
        feeds = fx.feeds(s)
        if set(feeds) <= PASSED:
            got = model(**feeds)
            # ORTModelForFeatureExtraction returns last_hidden_state alone (pooler_output stays in the session).
            results = {name: np.asarray(got[name]) for name in fx.outputs if name in got.keys()}
            assert results, f"{CLASSES[fx.task]} returned none of {fx.outputs}"
        else:
            results = dict(zip(fx.outputs, model.session.run(fx.outputs, feeds)))
        for name, want in fx.expected(s).items():
            if name not in results:
                continue
            diff = max_abs_diff(results[name], want)
            if not diff <= tolerance_for(want):
                problems.append(f"set {s}: {name} max |diff| {diff:.3g}")
    assert not problems, f"{fx.name} through {CLASSES[fx.task]}: " + "; ".join(problems)
