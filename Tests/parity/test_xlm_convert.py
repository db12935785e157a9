"""``onnx-export convert --model-type xlm``: facebookresearch/XLM's pretrained ``.pth`` files (``torch.save`` of a dict:
``model``, ``params``, ``dico_word2id`` ...; legacy pre-1.6 format for the 2019 releases, zip for newer saves)
rewritten as transformers' ``convert_xlm_original_pytorch_checkpoint_to_pytorch.py`` writes them.

Fixtures: ``Tests/Fixtures/xlm-original/`` (made by ``Tests/Fixtures/make_pytorch_fixtures.py --xlm-only``; see its
docstring): ``legacy/`` and ``zip/mlm_tiny.pth``, ``reference/`` (what transformers 4.57's own script wrote from them),
``reference.npz`` (PyTorch's outputs of that folder), ``xlm.json``, and ``bad/`` files to refuse.

1. ``test_convert_matches_transformers``: every tensor bit for bit (read back without torch), ``vocab.json`` byte for
   byte, ``config.json`` byte for byte with one member added, ``"model_type": "xlm"`` (the script left it out, so
   ``from_pretrained`` could not load the folder); the tensor and NumPy array of ``params`` are reported as left out.
2. ``test_converted_folder_exports_and_matches_pytorch``: the converted folder exports (fill-mask,
   feature-extraction) and onnxruntime gives PyTorch's outputs. It needs the XLM architecture and skips, saying so,
   while ``xlm`` is not among the model types ``onnx-export --help`` lists.
3. ``test_refused``: checkpoints that are not XLM's dict, ``--config``, hostile pickles: exit 1, one line naming
   the file and the problem, nothing executed, nothing left in the output folder.

Needs only numpy (and onnx + onnxruntime for 2).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest

from harness import FIXTURES, run_cli, supported_model_types
from test_formats import WEIGHT_FORMATS, exact_folder_problems, reference_problems

XLM = FIXTURES / "xlm-original"
META = json.loads((XLM / "xlm.json").read_text()) if (XLM / "xlm.json").is_file() else None
OS_SYSTEM_MARKER = "/tmp/onnx-export-pytorch-fixture-os-system-ran"

pytestmark = pytest.mark.skipif(META is None, reason=f"no XLM fixtures in {XLM}")


def convert(checkpoint: Path, out: Path, weights: str = "safetensors", *extra: str):
    return run_cli(["convert", "--model-type", "xlm", "--tf-checkpoint", str(checkpoint), "--output", str(out),
                    "--format", weights, *extra])


@pytest.fixture(scope="module")
def converted(tmp_path_factory) -> dict[tuple[str, str], tuple]:
    """Each checkpoint (legacy, zip) converted to each weights format, once: (output folder, completed process)."""
    root = tmp_path_factory.mktemp("xlm")
    runs = {}
    for kind, checkpoint in META["checkpoints"].items():
        for weights in WEIGHT_FORMATS:
            out = root / f"{kind}-{weights}"
            p = convert(XLM / checkpoint, out, weights)
            runs[kind, weights] = (out, p)
    return runs


@pytest.mark.parametrize("kind", ["legacy", "zip"])
@pytest.mark.parametrize("weights", list(WEIGHT_FORMATS))
def test_convert_matches_transformers(kind: str, weights: str, converted):
    out, p = converted[kind, weights]
    assert p.returncode == 0, p.stderr
    ref = XLM / META["reference"]
    problems = exact_folder_problems(out, ref, ["config.json", "vocab.json", WEIGHT_FORMATS[weights]])
    # config.json: the script's bytes with "model_type" appended as json.dumps(indent=2) would write it
    script_config = (ref / "config.json").read_text()
    assert script_config.endswith("\n}\n") and "model_type" not in json.loads(script_config)
    expected_config = script_config[:-3] + ',\n  "model_type": "xlm"\n}\n'
    if (out / "config.json").read_text() != expected_config:
        problems.append("config.json is not transformers' config.json plus \"model_type\": \"xlm\":\n"
                        + (out / "config.json").read_text()[:2000])
    if (out / "vocab.json").read_bytes() != (ref / "vocab.json").read_bytes():
        problems.append("vocab.json differs from transformers' vocab.json")
    for left_out in ("params['pred_probs'] is a tensor", "params['mask_scores'] holds a numpy.ndarray"):
        if left_out not in p.stdout:
            problems.append(f"the report does not say {left_out!r}:\n{p.stdout}")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("task", ["fill-mask", "feature-extraction"])
def test_converted_folder_exports_and_matches_pytorch(task: str, converted, tmp_path: Path):
    if "xlm" not in supported_model_types():
        pytest.skip("model_type xlm is not supported by this onnx-export yet (onnx-export --help does not list it); "
                    "the converted folder cannot be exported")
    folder, p = converted["legacy", "safetensors"]
    assert p.returncode == 0, p.stderr
    out = tmp_path / "onnx"
    opset = 17
    e = run_cli(["--model", str(folder), "--task", task, "--opset", str(opset), str(out)])
    assert e.returncode == 0, e.stderr
    with np.load(XLM / "reference.npz") as z:
        ref = {k: z[k] for k in z.files}
    problems = reference_problems(out / "model.onnx", opset, META["tasks"][task], ref, task, META["sets"], None)
    assert not problems, "\n".join(problems)


REFUSED = [
    ("bad/no_model.pth", [], ["has no 'model' (the state dict)", "'params'"]),
    ("bad/no_params.pth", [], ["has no 'params' (the training arguments)"]),
    ("bad/non_tensor_weight.pth", [], ["the state dict 'model' holds an int under 'n_steps', expected a tensor"]),
    ("bad/bare_state_dict.pth", [], ["has no 'model'", "'embeddings.weight'"]),
    ("legacy/mlm_tiny.pth", ["--config", "config.json"], ["--config is not used with --model-type xlm"]),
    ("legacy", [], ["is a folder", ".pth file"]),
    ("../pytorch/bad/legacy_os_system.bin", [], ["names os.system", "Nothing was executed"]),
    ("../pytorch/bad/legacy_truncated.bin", [], ["is it truncated"]),
    ("../pytorch/bad/global_os_system.bin", [], ["names os.system", "Nothing was executed"]),
]


@pytest.mark.parametrize("checkpoint,extra,fragments", REFUSED, ids=[r[0].rsplit("/", 1)[-1] for r in REFUSED])
def test_refused(checkpoint: str, extra: list[str], fragments: list[str], tmp_path: Path):
    if os.path.exists(OS_SYSTEM_MARKER):
        os.remove(OS_SYSTEM_MARKER)
    out = tmp_path / "out"
    path = (XLM / checkpoint).resolve()
    p = convert(path, out, "safetensors", *extra)
    assert p.returncode == 1, p.stderr
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1, p.stderr
    for fragment in fragments:
        assert fragment in p.stderr, p.stderr
    assert str(path) in p.stderr or "config.json" in p.stderr, p.stderr
    assert not out.exists() or not any(out.iterdir()), sorted(out.iterdir())
    assert not os.path.exists(OS_SYSTEM_MARKER), "a pickle's command ran"
