"""``onnx-export convert --model-type xlnet|transfo-xl``: zihangdai/xlnet's and kimiyoung/transformer-xl's TensorFlow
checkpoints rewritten as transformers 4's ``convert_xlnet_original_tf_checkpoint_to_pytorch.py`` (``--finetuning_task``
picking XLNetLMHeadModel, XLNetForSequenceClassification or XLNetForQuestionAnswering) and
``convert_transfo_xl_original_tf_checkpoint_to_pytorch.py`` (TransfoXLLMHeadModel) build them, as ``save_pretrained``
writes them.

Fixtures: ``Tests/Fixtures/xlnet-tf/`` and ``Tests/Fixtures/transfo-xl-tf/`` (made by ``make_xl_fixtures.py``; see its
docstring): XLNet pretrained (LM head), fine-tuned on MNLI (``model/classification_mnli``), STS-B (regression) and
SQuAD; Transformer-XL with per-layer biases and tied output projections, and with shared biases, d_embed != d_model and
untied projections (div_val 2, two cutoffs, both); every one with Adam's slots, beta powers and ``global_step``; what
transformers 4.57 built and saved from each (``reference/``; where its loader leaves a weight random or fails, the
fixture script completes the reference as the exporter does and ``meta.json`` records what the loader alone did);
``bad/`` checkpoints with a weight missing and one misshapen.

1. ``test_convert_matches_transformers``: every tensor bit for bit (names, dtypes, shapes, bytes, nothing more; the
   tied-bias Transformer-XL's reference is 4.57's torch file, whose tied ``crit.out_layers.N.weight`` are not written),
   ``config.json`` (and XLNetLMHeadModel's ``generation_config.json``) equal to transformers' once parsed, but for
   ``transformers_version`` (not written); the optimizer state reported as left out.
2. ``test_refused``: missing, misshapen and unplaceable weights, a task or config that does not fit the checkpoint:
   exit 1, one line naming the variable or the problem, nothing left in the output folder.
3. ``test_converted_folder_exports_and_matches_pytorch``: the converted folders export and reproduce what PyTorch
   computed with the converted model (``reference.outputs.npz``).

Needs only numpy (and onnx, onnxruntime for 3).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness import FIXTURES, assert_convert_refused, changed_config, run_cli, supported_model_types
from test_formats import WEIGHT_FORMATS, exact_folder_problems, without_version

ROOTS = {"xlnet": FIXTURES / "xlnet-tf", "transfo-xl": FIXTURES / "transfo-xl-tf"}
# Committed fixtures: a missing one is an error, not a reason to skip.
META = {kind: json.loads((root / "meta.json").read_text()) for kind, root in ROOTS.items()}

CONVERSIONS = [(kind, name) for kind, meta in META.items() for name in meta["checkpoints"]]


def convert(model_type: str, checkpoint: Path, config: Path | None, out: Path, weights: str = "safetensors",
            task: str | None = None):
    return run_cli(["convert", "--model-type", model_type, "--tf-checkpoint", str(checkpoint),
                    *(["--config", str(config)] if config else []), *(["--finetuning-task", task] if task else []),
                    "--output", str(out), "--format", weights])


def convert_fixture(kind: str, name: str, out: Path, weights: str = "safetensors"):
    entry = META[kind]["checkpoints"][name]
    return convert(kind, ROOTS[kind] / entry["tf_checkpoint"], ROOTS[kind] / entry["config"], out, weights,
                   entry.get("finetuning_task"))


@pytest.fixture(scope="module")
def converted(tmp_path_factory) -> dict[tuple[str, str, str], tuple]:
    """Each checkpoint converted once per weights format: (output folder, completed process)."""
    root = tmp_path_factory.mktemp("xl")
    return {(kind, name, weights): (root / f"{kind}-{name}-{weights}",
                                    convert_fixture(kind, name, root / f"{kind}-{name}-{weights}", weights))
            for kind, name in CONVERSIONS for weights in WEIGHT_FORMATS}


@pytest.mark.parametrize("kind,name", CONVERSIONS, ids=[f"{k}-{n}" for k, n in CONVERSIONS])
@pytest.mark.parametrize("weights", list(WEIGHT_FORMATS))
def test_convert_matches_transformers(kind: str, name: str, weights: str, converted):
    out, p = converted[kind, name, weights]
    assert p.returncode == 0, p.stderr
    entry = META[kind]["checkpoints"][name]
    ref = ROOTS[kind] / entry["reference"]
    texts = sorted(f.name for f in ref.iterdir() if f.suffix == ".json")
    # the tied-bias Transformer-XL reference is 4.57's torch file (it cannot write that model as safetensors),
    # which keeps the tied aliases its safetensors path drops
    problems = exact_folder_problems(out, ref, texts + [WEIGHT_FORMATS[weights]], entry["tied_not_written"])
    for file in texts:
        mine, theirs = without_version(out / file), without_version(ref / file)
        if mine != theirs:
            problems.append(f"{file} differs from transformers' (transformers_version aside):\n  ours   {mine}\n  theirs {theirs}")
        if "transformers_version" in json.loads((out / file).read_text()):
            problems.append(f"{file} claims a transformers_version")
    notes = ["optimizer slot variables (Adam's moments", "left out training state: beta1_power, beta2_power, global_step"]
    if any("mask_emb" in line for line in entry["completed_here"]):
        notes.append("transformer.mask_emb written as zeros")
    for note in notes:
        if note not in p.stdout:
            problems.append(f"the report does not say {note!r}:\n{p.stdout}")
    assert not problems, "\n".join(problems)


def test_release_folder_defaults(tmp_path: Path):
    """A release folder as downloaded: --tf-checkpoint the folder (its one bundle), xlnet_config.json beside it read
    without --config, spiece.model beside it copied."""
    import shutil

    folder = tmp_path / "xlnet_cased_L-2_H-8_A-2"
    shutil.copytree(ROOTS["xlnet"] / "base", folder, ignore=shutil.ignore_patterns("reference*"))
    (folder / "spiece.model").write_bytes(b"\x0a\x05piece")
    out = tmp_path / "out"
    p = convert("xlnet", folder, None, out)
    assert p.returncode == 0, p.stderr
    assert sorted(f.name for f in out.iterdir()) == ["config.json", "generation_config.json", "model.safetensors", "spiece.model"]
    assert (out / "spiece.model").read_bytes() == b"\x0a\x05piece"
    assert without_version(out / "config.json") == without_version(ROOTS["xlnet"] / "base" / "reference" / "config.json")


@pytest.mark.parametrize("damage,fragment", [("flip", "fails its CRC32C check"), ("truncate", "runs past the end of the file")])
def test_damaged_data_file_leaves_nothing(damage: str, fragment: str, tmp_path: Path):
    """The weights stream while the file is written: a flipped byte or a cut data file stops the conversion then,
    and the half-written folder goes."""
    import shutil

    folder = tmp_path / "ckpt"
    shutil.copytree(ROOTS["transfo-xl"] / "untied", folder, ignore=shutil.ignore_patterns("reference*"))
    data = next(folder.glob("model.ckpt-500.data-*"))
    raw = bytearray(data.read_bytes())
    if damage == "flip":
        raw[len(raw) // 2] ^= 0xFF
    else:
        del raw[len(raw) // 2:]
    data.write_bytes(bytes(raw))
    out = tmp_path / "out"
    assert_convert_refused(convert("transfo-xl", folder / "model.ckpt-500", folder / "config.json", out), out, [fragment])
    assert not out.exists()


def test_the_loaders_own_outcomes_are_recorded():
    """What the fixtures' completed references stand for: 4.57's loaders alone leave these weights random or fail."""
    x, t = META["xlnet"]["checkpoints"], META["transfo-xl"]["checkpoints"]
    assert x["base"]["transformers_4"] == "loads every weight"
    assert "'logits_proj.weight'" in x["mnli"]["transformers_4"] and "'transformer.mask_emb'" in x["mnli"]["transformers_4"]
    assert x["sts-b"]["transformers_4"] == "loads; left at their random init: ['transformer.mask_emb']"
    assert "'start_logits.dense.weight'" in x["squad"]["transformers_4"]
    assert t["untied"]["transformers_4"] == "loads every weight" and not t["untied"]["completed_here"]
    assert t["tied"]["transformers_4"].startswith("raises AttributeError")


def refused_cases() -> list:
    xm, tm = META["xlnet"], META["transfo-xl"]
    base, mnli, squad = (xm["checkpoints"][n] for n in ("base", "mnli", "squad"))
    untied, tied = tm["checkpoints"]["untied"], tm["checkpoints"]["tied"]
    missing, misshapen = xm["refused"]["missing"], xm["refused"]["misshapen"]
    tmissing, tmisshapen = tm["refused"]["missing"], tm["refused"]["misshapen"]

    def x(relative: str) -> Path:
        return ROOTS["xlnet"] / relative

    def t(relative: str) -> Path:
        return ROOTS["transfo-xl"] / relative

    return [
        pytest.param("xlnet", x(missing["tf_checkpoint"]), x(missing["config"]), None, None,
                     [f"'{missing['tensor']}' is missing", "XLNetLMHeadModel needs it as transformer.layer.1.ff.layer_2.bias"],
                     id="xlnet-missing"),
        pytest.param("xlnet", x(misshapen["tf_checkpoint"]), x(misshapen["config"]), None, None,
                     [f"'{misshapen['tensor']}' has shape [8, 2, 3]", "gives [8, 2, 4]", "d_head 4"], id="xlnet-misshapen"),
        pytest.param("xlnet", x(base["tf_checkpoint"]), x(base["config"]), None, "mnli",
                     ["'model/lm_loss/bias'", "not a weight of XLNetForSequenceClassification", "pretraining LM head"],
                     id="xlnet-pretrained-as-mnli"),
        pytest.param("xlnet", x(mnli["tf_checkpoint"]), x(mnli["config"]), None, None,
                     ["'model/classification_mnli/logit/bias'", "pass --finetuning-task mnli"], id="xlnet-mnli-without-task"),
        pytest.param("xlnet", x(mnli["tf_checkpoint"]), x(mnli["config"]), None, "sst-2",
                     ["classification head of task 'mnli', but --finetuning-task is sst-2"], id="xlnet-mnli-as-sst-2"),
        pytest.param("xlnet", x(mnli["tf_checkpoint"]), x(mnli["config"]), None, "imdb",
                     ["--finetuning-task imdb is neither a GLUE task", "sts-b"], id="xlnet-unknown-task"),
        pytest.param("xlnet", x(mnli["tf_checkpoint"]), x(mnli["config"]), {"summary_use_proj": False}, "mnli",
                     ["'model/sequnece_summary/summary/bias'", "summary_use_proj false"], id="xlnet-no-summary-projection"),
        pytest.param("xlnet", x(squad["tf_checkpoint"]), x(squad["config"]), None, None,
                     ["'answer_class/dense_0/bias'", "pass --finetuning-task squad"], id="xlnet-squad-without-task"),
        pytest.param("xlnet", x(base["tf_checkpoint"]), x(base["config"]), {"n_layer": 1}, None,
                     ["'model/transformer/layer_1/", "the config's n_layer is 1"], id="xlnet-fewer-layers"),
        pytest.param("xlnet", x(base["tf_checkpoint"]), x(base["config"]), {"d_head": 5}, None,
                     ["d_head 5 is not d_model / n_head = 4"], id="xlnet-d-head"),
        pytest.param("xlnet", x(base["tf_checkpoint"]), x(base["config"]), {"untie_r": False}, None,
                     ["'model/transformer/r_w_bias' has shape [2, 2, 4]", "untie_r false", "gives [2, 4]"], id="xlnet-tied-config"),
        pytest.param("t5", x(base["tf_checkpoint"]), x(base["config"]), None, "mnli",
                     ["--finetuning-task is used with --model-type xlnet only"], id="task-for-t5"),
        pytest.param("transfo-xl", t(tmissing["tf_checkpoint"]), t(tmissing["config"]), None, None,
                     [f"'{tmissing['tensor']}' is missing", "TransfoXLLMHeadModel needs it as crit.out_layers.1.bias"],
                     id="transfo-xl-missing"),
        pytest.param("transfo-xl", t(tmisshapen["tf_checkpoint"]), t(tmisshapen["config"]), None, None,
                     [f"'{tmisshapen['tensor']}' has shape [8, 17]", "gives [8, 18]", "n_head 2, d_head 3"],
                     id="transfo-xl-misshapen"),
        pytest.param("transfo_xl", t(untied["tf_checkpoint"]), t(untied["config"]), {"untie_r": False}, None,
                     ["'transformer/r_w_bias' has shape [2, 2, 3]", "untie_r false", "gives [2, 3]"], id="transfo-xl-tied-config"),
        pytest.param("transfo-xl", t(untied["tf_checkpoint"]), t(untied["config"]), {"proj_share_all_but_first": False}, None,
                     ["'transformer/adaptive_softmax/cutoff_1/proj' is missing", "\"proj_share_all_but_first\": true"],
                     id="transfo-xl-untied-projections-config"),
        pytest.param("transfo-xl", t(tied["tf_checkpoint"]), t(tied["config"]), {"proj_share_all_but_first": True}, None,
                     ["'transformer/adaptive_softmax/cutoff_1/proj'", "ties cluster 1's"], id="transfo-xl-tied-projections-config"),
        pytest.param("transfo-xl", t(untied["tf_checkpoint"]), t(untied["config"]), {"div_val": 1}, None,
                     ["div_val is 1", "only div_val > 1 checkpoints"], id="transfo-xl-div-val-1"),
        pytest.param("transfo-xl", t(untied["tf_checkpoint"]), t(untied["config"]), {"cutoffs": []}, None,
                     ["cutoffs is empty"], id="transfo-xl-no-cutoffs"),
        pytest.param("transfo-xl", t(untied["tf_checkpoint"]), None, None, None,
                     ["'transformer/r_w_bias' has shape [2, 2, 3]", "n_layer 18"], id="transfo-xl-wt103-defaults"),
        pytest.param("transfo-xl", x(base["tf_checkpoint"]), t(untied["config"]), None, None,
                     ["'model/lm_loss/bias'", "not a variable of kimiyoung/transformer-xl's layout"], id="transfo-xl-on-xlnet"),
        pytest.param("xlnet", x("base/no-such.ckpt"), x(base["config"]), None, None, ["no TensorFlow checkpoint here"], id="no-such-prefix"),
    ]


@pytest.mark.parametrize("model_type,checkpoint,config,change,task,fragments", refused_cases())
def test_refused(model_type: str, checkpoint: Path, config: Path | None, change: dict | None, task: str | None,
                 fragments: list[str], tmp_path: Path):
    out = tmp_path / "out"
    assert_convert_refused(convert(model_type, checkpoint, changed_config(config, change, tmp_path), out, task=task),
                           out, fragments)


# (kind, checkpoint, task, outputs compared); XLNetForQuestionAnswering's beam heads have no export task (onnx-export's
# question-answering is XLNetForQuestionAnsweringSimple's), so the SQuAD folder exports its encoder
EXPORTS = [("xlnet", "base", "feature-extraction", ["last_hidden_state"]),
           ("xlnet", "base", "text-generation", ["logits"]),
           ("xlnet", "mnli", "text-classification", ["logits"]),
           ("xlnet", "sts-b", "text-classification", ["logits"]),
           ("xlnet", "squad", "feature-extraction", ["last_hidden_state"]),
           ("transfo-xl", "untied", "text-generation", ["logits"]),
           ("transfo-xl", "tied", "text-generation", ["logits"]),
           ("transfo-xl", "untied", "feature-extraction", ["last_hidden_state"])]


@pytest.mark.parametrize("kind,name,task,outputs", EXPORTS, ids=[f"{k}-{n}-{t}" for k, n, t, _ in EXPORTS])
def test_converted_folder_exports_and_matches_pytorch(kind: str, name: str, task: str, outputs: list[str], converted,
                                                      tmp_path: Path):
    """The converted folder exports (onnx.checker passes) and onnxruntime reproduces what PyTorch computed with
    transformers 4.57's model of the same checkpoint (``reference.outputs.npz``, made by make_xl_fixtures.py)."""
    assert kind in supported_model_types(), f"onnx-export --help does not list model_type {kind}"
    import numpy as np
    import onnx

    from bounds import max_abs_diff, tolerance_for
    from harness import ort_session

    folder, p = converted[kind, name, "safetensors"]
    assert p.returncode == 0, p.stderr
    out = tmp_path / "onnx"
    e = run_cli(["--model", str(folder), "--task", task, str(out)])
    assert e.returncode == 0, e.stderr
    onnx.checker.check_model(str(out / "model.onnx"), full_check=True)
    with np.load(ROOTS[kind] / (META[kind]["checkpoints"][name]["reference"] + ".outputs.npz")) as z:
        ref = {k: z[k] for k in z.files}
    session = ort_session(out / "model.onnx")
    feeds = {i.name: ref[i.name] for i in session.get_inputs()}
    got = dict(zip([o.name for o in session.get_outputs()], session.run(None, feeds)))
    problems = []
    for output in outputs:
        d = max_abs_diff(got[output], ref[output])
        if not d <= tolerance_for(ref[output]):
            problems.append(f"{kind} {name} {task}: {output} max |diff| {d:.3g} > {tolerance_for(ref[output]):.3g}")
    assert not problems, "; ".join(problems)
