"""optimum's ORTModel classes load our exports as they are (the deployment contract behind optimum's input and
output names): every encoder fixture is exported at the default opset and loaded with the ORTModelFor... class
of its task, which runs it on the fixture's inputs and must reproduce PyTorch's outputs (those the class returns:
ORTModelForFeatureExtraction gives last_hidden_state, not pooler_output).

Skipped when optimum's onnxruntime integration is not installed (CI installs only onnx, onnxruntime and numpy):

    python3 -m venv /path/to/venv-optimum && /path/to/venv-optimum/bin/pip install torch==2.13.0+cpu \\
        "optimum-onnx[onnxruntime]" pytest
    ONNX_EXPORT_BIN=$PWD/.build/release/onnx-export /path/to/venv-optimum/bin/python -m pytest \\
        Tests/parity/test_optimum_load.py -p no:cacheprovider

Every encoder-decoder fixture is exported for text2text-generation-with-past and loaded with
ORTModelForSeq2SeqLM, merged decoder and separate decoders alike; its greedy ``generate()`` must return the tokens
transformers generated.

XLM models with several languages take a ``langs`` input that optimum's classes do not pass: those are loaded
and their input set checked, but run through the session the class holds.
"""

from __future__ import annotations

import numpy as np
import pytest

optimum_onnxruntime = pytest.importorskip("optimum.onnxruntime", reason="optimum's onnxruntime integration is not installed")

from bounds import max_abs_diff, tolerance_for  # noqa: E402
from harness import Fixture, discover_fixtures, discover_seq2seq_fixtures, run_cli  # noqa: E402

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


# Architectures optimum has no ONNX config for (its exporter refuses them), so no ORTModel contract to meet.
NOT_IN_OPTIMUM = {"xlnet"}


@pytest.mark.parametrize("fx", [f for f in discover_fixtures() if f.model_type not in NOT_IN_OPTIMUM], ids=lambda f: f.name)
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


@pytest.mark.parametrize("use_merged", [True, False], ids=["merged", "separate"])
@pytest.mark.parametrize("fx", list(discover_seq2seq_fixtures()), ids=lambda f: f.name)
def test_seq2seq_generate_through_ortmodel(fx: Fixture, use_merged: bool, tmp_path):
    import torch
    from transformers import GenerationConfig

    d = fx.meta["dims"]
    if use_merged and d["num_heads"] * d["d_kv"] != d["d_model"]:
        # optimum feeds the merged file's first step empty pasts of head size d_model / heads, which onnxruntime
        # refuses against the declared d_kv (optimum's own export of such a model declares the same d_kv).
        pytest.skip("optimum's first-step dummy pasts assume d_kv x heads == d_model")
    out = tmp_path / "onnx"
    p = run_cli(["--model", str(fx.dir), "--task", "text2text-generation-with-past", str(out)])
    assert p.returncode == 0, p.stderr
    model = optimum_onnxruntime.ORTModelForSeq2SeqLM.from_pretrained(out, use_merged=use_merged)
    ref, gen = fx.reference, fx.meta["generation"]
    settings = GenerationConfig(decoder_start_token_id=gen["decoder_start_token_id"], pad_token_id=0, eos_token_id=None,
                                bos_token_id=None, max_new_tokens=gen["new_tokens"], do_sample=False, num_beams=1)
    tokens = model.generate(input_ids=torch.from_numpy(ref["encoder.input_ids"]),
                            attention_mask=torch.from_numpy(ref["encoder.attention_mask"]), generation_config=settings)
    assert np.array_equal(tokens.numpy(), ref["generated"]), f"ORTModelForSeq2SeqLM generated {tokens.tolist()}, transformers {ref['generated'].tolist()}"
