"""``--task auto`` (the default) on every committed checkpoint fixture, and what the CLI prints.

The expected task of a fixture comes from how it was made, not from the exporter: a fixture made
for one task says so in ``fixture.json`` (``"task"``); a decoder's ``causal-lm`` folder holds a
``*ForCausalLM`` / ``*LMHeadModel`` checkpoint, which optimum exports as ``text-generation-with-past``
when it infers the task (its ``main_export`` adds ``-with-past`` whenever the architecture has the
cache form); the other folders are listed in ``OTHERS`` with the model class they hold and what
optimum's ``TasksManager`` (2.1.0, transformers 4.57) infers for that class.

Also: an export without --task writes the graph of the inferred task (a causal LM's KV cache and
logits, a classifier's logits over its labels); piped stderr carries no progress; --quiet prints
nothing on success and only the error on failure.
"""

from __future__ import annotations

import json
import re
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import onnx
import pytest

from harness import FIXTURES, run_cli

CONFIG_NAMES = ("config.json", "bert_config.json", "albert_config.json", "hparams.json")

# Folders with a config that are inputs of `onnx-export convert`, not checkpoints an export reads.
CONVERTER_INPUTS = {
    "transfo-xl-tf/tied": "a TensorFlow Transformer-XL checkpoint (converted first)",
    "transfo-xl-tf/untied": "a TensorFlow Transformer-XL checkpoint (converted first)",
    "xlm-original/reference": "transformers' config for XLM's original .pth (no weights beside it)",
}

NO_ARCHITECTURES = "names no architectures"

# Fixtures without a "task" of their own: (path pattern, expected task, why).
OTHERS = [
    (r"seq2seq(-fp16)?/.*", "text2text-generation-with-past",
     "*ForConditionalGeneration: optimum's text2text-generation, with past"),
    (r"t5-mesh/v1_[01]/reference(-mt5)?", "text2text-generation-with-past", "T5/MT5ForConditionalGeneration"),
    (r"transfo-xl/txl-bare", "feature-extraction", "TransfoXLModel"),
    (r"transfo-xl/txl-no-memory", "text-generation", "TransfoXLLMHeadModel with mem_len 0: no memory to carry"),
    (r"transfo-xl/txl-.*", "text-generation-with-past", "TransfoXLLMHeadModel: its memory is the with-past form"),
    (r"transfo-xl-tf/(un)?tied/reference", "text-generation-with-past", "TransfoXLLMHeadModel"),
    (r"formats/(bert/(bin|bin-sharded|legacy-bin|reference)|albert/reference)", "feature-extraction",
     "*ForPreTraining: optimum's synonym 'pretraining' is feature-extraction"),
    (r"formats/(gpt2/(bin|legacy-bin-sharded|reference)|openai-gpt/reference)", "text-generation-with-past",
     "GPT2LMHeadModel / OpenAIGPTLMHeadModel"),
    (r"pytorch/views-gpt2", "text-generation-with-past", "GPT2LMHeadModel (tensors viewing one storage)"),
    (r"(formats/(bert|albert|gpt2)/(tf|tf-hub)|tf/(bert|gpt2))", "feature-extraction",
     "original configs (bert_config.json, albert_config.json, hparams.json) name no architectures"),
    (r"xlnet-tf/base/reference", "text-generation", "XLNetLMHeadModel (no cache form)"),
    (r"xlnet-tf/(mnli|sts-b)/reference", "text-classification", "XLNetForSequenceClassification"),
    (r"xlnet-tf/squad/reference", "feature-extraction",
     "XLNetForQuestionAnswering, the beam-search head no auto-class lists"),
]


def checkpoint_folders() -> list[Path]:
    folders = sorted({p.parent for name in CONFIG_NAMES for p in FIXTURES.rglob(name)})
    return [f for f in folders if rel(f) not in CONVERTER_INPUTS]


def rel(folder: Path) -> str:
    return folder.relative_to(FIXTURES).as_posix()


def config_of(folder: Path) -> dict:
    name = next(n for n in CONFIG_NAMES if (folder / n).exists())
    return json.loads((folder / name).read_text())


def expected_task(folder: Path) -> str:
    meta = folder / "fixture.json"
    if meta.exists() and "task" in json.loads(meta.read_text()):
        return json.loads(meta.read_text())["task"]
    if folder.name == "causal-lm":
        return "text-generation-with-past"
    for pattern, task, _ in OTHERS:
        if re.fullmatch(pattern, rel(folder)):
            return task
    raise AssertionError(f"{rel(folder)}: no expected task; add the fixture to OTHERS")


@pytest.fixture(scope="module")
def auto_exports(tmp_path_factory):
    """Every checkpoint fixture exported without --task: folder -> (CompletedProcess, output dir)."""
    root = tmp_path_factory.mktemp("auto")
    folders = checkpoint_folders()

    def export(i_folder):
        i, folder = i_folder
        out = root / str(i)
        return folder, (run_cli(["--model", str(folder), str(out)]), out)

    with ThreadPoolExecutor(4) as pool:
        return dict(pool.map(export, enumerate(folders)))


def test_every_fixture_family_is_covered():
    kinds = {rel(f).split("/")[0] for f in checkpoint_folders()}
    assert {"encoders", "decoders", "seq2seq", "transfo-xl", "formats", "example-bert", "tf"} <= kinds
    assert len(checkpoint_folders()) > 150


def test_auto_infers_each_fixtures_task(auto_exports):
    wrong = []
    for folder, (p, _) in auto_exports.items():
        assert p.returncode == 0, f"{rel(folder)}: {p.stderr}"
        first = p.stdout.splitlines()[0]
        task = expected_task(folder)
        architectures = config_of(folder).get("architectures")
        if not first.startswith(f"task: {task} ("):
            wrong.append(f"{rel(folder)}: expected {task}, printed {first!r}")
        elif architectures is None:
            assert NO_ARCHITECTURES in first, first
        else:
            assert architectures[0] in first, first
        assert f" for {task} to " in p.stdout.splitlines()[1], p.stdout
    assert not wrong, "\n".join(wrong)


def test_readme_example_is_text_classification(auto_exports):
    p, _ = auto_exports[FIXTURES / "example-bert"]
    assert p.stdout.splitlines()[0] == "task: text-classification (from architectures: BertForSequenceClassification)"


def outputs(model: Path) -> dict[str, list]:
    graph = onnx.load(str(model), load_external_data=False).graph
    return {o.name: [d.dim_param or d.dim_value for d in o.type.tensor_type.shape.dim] for o in graph.output}


def test_causal_lm_exports_with_past_by_default(auto_exports):
    folder = FIXTURES / "decoders" / "llama" / "causal-lm"
    _, out = auto_exports[folder]
    model = onnx.load(str(out / "model.onnx"), load_external_data=False)
    inputs = [i.name for i in model.graph.input]
    layers = config_of(folder)["num_hidden_layers"]
    assert [i for i in inputs if i.startswith("past_key_values.")] == \
        [f"past_key_values.{n}.{kv}" for n in range(layers) for kv in ("key", "value")]
    outs = outputs(out / "model.onnx")
    assert outs["logits"] == ["batch_size", "sequence_length", config_of(folder)["vocab_size"]]
    assert [o for o in outs if o.startswith("present.")] == [f"present.{n}.{kv}" for n in range(layers) for kv in ("key", "value")]


@pytest.mark.parametrize("folder", ["encoders/bert-base/text-classification", "decoders/llama/text-classification"])
def test_sequence_classifier_exports_logits_over_its_labels(auto_exports, folder):
    folder = FIXTURES / folder
    _, out = auto_exports[folder]
    assert outputs(out / "model.onnx") == {"logits": ["batch_size", len(config_of(folder)["id2label"])]}


def test_a_named_task_wins(tmp_path):
    p = run_cli(["--model", str(FIXTURES / "decoders" / "llama" / "causal-lm"), "--task", "feature-extraction", str(tmp_path / "o")])
    assert p.returncode == 0, p.stderr
    assert not p.stdout.startswith("task:")
    assert list(outputs(tmp_path / "o" / "model.onnx")) == ["last_hidden_state"]


def test_inferred_task_the_model_lacks_is_refused(tmp_path):
    src = FIXTURES / "encoders" / "bert-base" / "feature-extraction"
    model = tmp_path / "bert-lm"
    model.mkdir()
    config = config_of(src) | {"architectures": ["BertLMHeadModel"]}
    (model / "config.json").write_text(json.dumps(config))
    (model / "model.safetensors").symlink_to(src / "model.safetensors")
    p = run_cli(["--model", str(model), str(tmp_path / "o")])
    assert p.returncode == 1 and p.stdout == ""
    assert "BertLMHeadModel, a text-generation model, but model_type bert exports only" in p.stderr
    assert not (tmp_path / "o").exists()


def test_piped_stderr_gets_no_progress(tmp_path):
    p = run_cli(["--model", str(FIXTURES / "decoders" / "gpt2" / "causal-lm"), str(tmp_path / "o")])
    assert p.returncode == 0 and p.stderr == ""
    assert "Exported gpt2 for text-generation-with-past" in p.stdout


def test_quiet_prints_nothing_but_errors(tmp_path):
    model = FIXTURES / "encoders" / "bert-base" / "fill-mask"
    p = run_cli(["--model", str(model), "--quiet", str(tmp_path / "o")])
    assert (p.returncode, p.stdout, p.stderr) == (0, "", "")
    assert (tmp_path / "o" / "model.onnx").exists()
    p = run_cli(["--model", str(model), "--quiet", str(tmp_path / "o")])
    assert p.returncode == 1 and p.stdout == ""
    assert p.stderr.startswith("error: ") and "not empty" in p.stderr


def test_convert_quiet_and_piped(tmp_path):
    tf = FIXTURES / "tf" / "bert"
    args = ["convert", "--model-type", "bert", "--tf-checkpoint", str(tf / "bert_model.ckpt")]
    p = run_cli(args + ["--output", str(tmp_path / "a")])
    assert p.returncode == 0 and p.stderr == "" and p.stdout.startswith("Converted ")
    p = run_cli(args + ["--quiet", "--output", str(tmp_path / "b")])
    assert (p.returncode, p.stdout, p.stderr) == (0, "", "")
    assert (tmp_path / "b" / "model.safetensors").exists()
