"""``onnx-export convert --model-type t5|mt5``: original T5 checkpoints (Mesh TensorFlow's ``model.ckpt-N``) with a
transformers T5 config, rewritten as transformers 4's ``convert_t5_original_tf_checkpoint_to_pytorch.py`` writes them
(``T5Config.from_json_file`` -> ``T5ForConditionalGeneration`` -> ``load_tf_weights_in_t5`` -> ``save_pretrained``).

Fixtures: ``Tests/Fixtures/t5-mesh/`` (made by ``Tests/Fixtures/make_t5_fixtures.py``; see its docstring): a T5 v1.0
checkpoint (relu, tied head, legacy ``layer_norm`` names) and a v1.1 one (gated-gelu, untied ``decoder/logits/kernel``,
3 decoder layers for 2 encoder layers, ``rms_norm`` names), both with Adafactor slots and ``global_step``; what
transformers 4.57's script wrote from them (``reference/``, and ``reference-mt5/`` with MT5's classes); ``bad/``
checkpoints with a weight missing and one misshapen.

1. ``test_convert_matches_transformers``: every tensor bit for bit (names, dtypes, shapes, bytes; nothing more: the
   tied ``embed_tokens`` and, for v1.0, ``lm_head`` are left out as save_pretrained leaves them out), ``config.json``
   and ``generation_config.json`` equal to transformers' once parsed, but for ``transformers_version`` (not
   written: transformers did not write these files); the slots and ``global_step`` reported as left out.
2. ``test_refused``: a missing weight (which transformers 4 leaves at its random init without a word), a misshapen
   one, a config that does not fit the checkpoint, a wrong ``--model-type``, ``umt5``: exit 1, one line naming the
   tensor or the problem, nothing left in the output folder.
3. ``test_converted_folder_exports``: the converted folders export with ``--task text2text-generation-with-past``.
   It needs the T5 architecture and skips, saying so, while ``t5`` is not among the model types ``onnx-export
   --help`` lists.

Needs only numpy (and onnx for 3).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from harness import FIXTURES, assert_convert_refused, changed_config, run_cli
from test_formats import WEIGHT_FORMATS, exact_folder_problems, without_version

T5 = FIXTURES / "t5-mesh"
META = json.loads((T5 / "t5-mesh.json").read_text()) if (T5 / "t5-mesh.json").is_file() else None

pytestmark = pytest.mark.skipif(META is None, reason=f"no T5 fixtures in {T5}")

CONVERSIONS = [(name, model_type) for name, entry in (META or {"checkpoints": {}})["checkpoints"].items()
               for model_type in entry["conversions"]]


def convert(model_type: str, checkpoint: Path, config: Path | None, out: Path, weights: str = "safetensors"):
    return run_cli(["convert", "--model-type", model_type, "--tf-checkpoint", str(checkpoint),
                    *(["--config", str(config)] if config else []), "--output", str(out), "--format", weights])


@pytest.fixture(scope="module")
def converted(tmp_path_factory) -> dict[tuple[str, str, str], tuple]:
    """Each checkpoint, model type and weights format converted once: (output folder, completed process)."""
    root = tmp_path_factory.mktemp("t5")
    runs = {}
    for name, model_type in CONVERSIONS:
        entry = META["checkpoints"][name]
        for weights in WEIGHT_FORMATS:
            out = root / f"{name}-{model_type}-{weights}"
            runs[name, model_type, weights] = (out, convert(model_type, T5 / entry["tf_checkpoint"],
                                                            T5 / entry["conversions"][model_type]["config"], out, weights))
    return runs


@pytest.mark.parametrize("name,model_type", CONVERSIONS, ids=[f"{n}-{t}" for n, t in CONVERSIONS])
@pytest.mark.parametrize("weights", list(WEIGHT_FORMATS))
def test_convert_matches_transformers(name: str, model_type: str, weights: str, converted):
    out, p = converted[name, model_type, weights]
    assert p.returncode == 0, p.stderr
    ref = T5 / META["checkpoints"][name]["conversions"][model_type]["reference"]
    problems = exact_folder_problems(out, ref, ["config.json", "generation_config.json", WEIGHT_FORMATS[weights]])
    for file in ("config.json", "generation_config.json"):
        mine, theirs = without_version(out / file), without_version(ref / file)
        if mine != theirs:
            problems.append(f"{file} differs from transformers' (transformers_version aside):\n  ours   {mine}\n  theirs {theirs}")
        if "transformers_version" in json.loads((out / file).read_text()):
            problems.append(f"{file} claims a transformers_version")
    for note in ("optimizer slot variables (Adafactor's", "left out training state: global_step"):
        if note not in p.stdout:
            problems.append(f"the report does not say {note!r}:\n{p.stdout}")
    assert not problems, "\n".join(problems)


def test_a_later_checkpoint_beside_the_prefix_is_not_read(tmp_path: Path):
    """--tf-checkpoint model.ckpt-N reads that step even when the folder's ``checkpoint`` file names another."""
    entry = META["checkpoints"]["v1_0"]
    folder = tmp_path / "ckpts"
    shutil.copytree((T5 / entry["tf_checkpoint"]).parent, folder)
    for f in (T5 / "bad" / "missing").glob("model.ckpt-1000.*"):  # a broken "later" step, named by `checkpoint`
        shutil.copy(f, folder / f.name.replace("model.ckpt-1000", "model.ckpt-1001"))
    (folder / "checkpoint").write_text('model_checkpoint_path: "model.ckpt-1001"\n')
    config = T5 / entry["conversions"]["t5"]["config"]
    p = convert("t5", folder / "model.ckpt-1000", config, tmp_path / "out")
    assert p.returncode == 0, p.stderr
    p = convert("t5", folder, config, tmp_path / "latest")  # the folder: the `checkpoint` file's choice
    assert p.returncode == 1 and "model.ckpt-1001" in p.stderr and "is missing" in p.stderr, p.stderr


def refused_cases() -> list:
    if META is None:
        return []
    v10, v11 = META["checkpoints"]["v1_0"], META["checkpoints"]["v1_1"]
    missing, misshapen = META["refused"]["missing"], META["refused"]["misshapen"]
    return [
        pytest.param("t5", missing["tf_checkpoint"], missing["config"], None,
                     [f"'{missing['tensor']}'", "is missing", "decoder.block.1.layer.2.DenseReluDense.wo.weight"], id="missing"),
        pytest.param("t5", misshapen["tf_checkpoint"], misshapen["config"], None,
                     [f"'{misshapen['tensor']}' has shape [8, 5]", "gives [8, 6]", "num_heads × d_kv 6"], id="misshapen"),
        pytest.param("t5", v11["tf_checkpoint"], v11["conversions"]["t5"]["config"], {"tie_word_embeddings": True},
                     ["'decoder/logits/kernel' would be lm_head.weight", "tie_word_embeddings"], id="untied-head-tied-config"),
        pytest.param("t5", v10["tf_checkpoint"], v10["conversions"]["t5"]["config"], {"tie_word_embeddings": False},
                     ["'decoder/logits/kernel' is missing", "lm_head.weight"], id="tied-head-untied-config"),
        pytest.param("t5", v10["tf_checkpoint"], v10["conversions"]["t5"]["config"], {"num_layers": 1, "num_decoder_layers": 2},
                     ["'encoder/block_001/layer_000/SelfAttention/k' would be encoder.block.1.layer.0.SelfAttention.k.weight",
                      "num_layers is 1"], id="more-blocks-than-config"),
        pytest.param("t5", v10["tf_checkpoint"], v10["conversions"]["t5"]["config"], {"feed_forward_proj": "gated-gelu"},
                     ["DenseReluDense/wi/kernel", "is gated"], id="gated-config-relu-checkpoint"),
        pytest.param("mt5", v10["tf_checkpoint"], v10["conversions"]["t5"]["config"], None,
                     ["model_type is \"t5\" but \"mt5\" was asked for"], id="model-type-mt5-for-t5-config"),
        pytest.param("bert", v10["tf_checkpoint"], v10["conversions"]["t5"]["config"], None,
                     ["model_type is \"t5\" but \"bert\" was asked for"], id="model-type-bert"),
        pytest.param("umt5", v11["tf_checkpoint"], v11["conversions"]["t5"]["config"], None,
                     ["umt5 cannot be converted from a TensorFlow checkpoint", "T5X"], id="umt5"),
        pytest.param("t5", v10["tf_checkpoint"], None, None, ["--config is required"], id="no-config"),
        pytest.param("t5", "v1_0/model.ckpt-999", v10["conversions"]["t5"]["config"], None,
                     ["no TensorFlow checkpoint here"], id="no-such-prefix"),
    ]


@pytest.mark.parametrize("model_type,checkpoint,config,change,fragments", refused_cases())
def test_refused(model_type: str, checkpoint: str, config: str | None, change: dict | None, fragments: list[str],
                 tmp_path: Path):
    config_path = changed_config(T5 / config, change, tmp_path) if config else None
    out = tmp_path / "out"
    assert_convert_refused(convert(model_type, T5 / checkpoint, config_path, out), out, fragments)


def test_converted_folder_exports_and_matches_pytorch(converted, tmp_path: Path):
    """The converted folders export for text2text-generation-with-past (every file passes onnx.checker), and the
    encoder and first-step decoder reproduce what PyTorch computed with transformers 4.57's conversion of the same
    checkpoint (reference*.outputs.npz, made by make_t5_fixtures.py)."""
    import numpy as np
    import onnx

    from bounds import max_abs_diff, tolerance_for
    from harness import ort_session

    problems = []
    for name, model_type in CONVERSIONS:
        folder, p = converted[name, model_type, "safetensors"]
        assert p.returncode == 0, p.stderr
        out = tmp_path / f"{name}-{model_type}"
        e = run_cli(["--model", str(folder), "--task", "text2text-generation-with-past", str(out)])
        assert e.returncode == 0, e.stderr
        files = sorted(f.name for f in out.glob("*.onnx"))
        assert files == ["decoder_model.onnx", "decoder_model_merged.onnx", "decoder_with_past_model.onnx", "encoder_model.onnx"], files
        for f in files:
            onnx.checker.check_model(str(out / f), full_check=True)
        reference = T5 / (META["checkpoints"][name]["conversions"][model_type]["reference"] + ".outputs.npz")
        with np.load(reference) as z:
            ref = {k: z[k] for k in z.files}
        (encoded,) = ort_session(out / "encoder_model.onnx").run(None, {"input_ids": ref["input_ids"], "attention_mask": ref["attention_mask"]})
        (logits,) = ort_session(out / "decoder_model.onnx").run(["logits"], {
            "encoder_attention_mask": ref["attention_mask"], "input_ids": ref["decoder_input_ids"], "encoder_hidden_states": encoded})
        for output, got, want in (("last_hidden_state", encoded, ref["last_hidden_state"]), ("logits", logits, ref["logits"])):
            d = max_abs_diff(got, want)
            if not d <= tolerance_for(want):
                problems.append(f"{name} as {model_type}: {output} max |diff| {d:.3g} > {tolerance_for(want):.3g}")
    assert not problems, "; ".join(problems)
