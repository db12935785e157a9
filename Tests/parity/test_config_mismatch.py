"""A config.json that disagrees with the weights is refused, as transformers refuses it ("size mismatch for ...")
instead of exporting the weights' sizes under the config's: every family, every size field the config states,
and the label count of a classifier.
A layer count beyond the checkpoint is refused before anything is sized by it (a with-past export used to try
to allocate cache inputs for 2^40 layers and abort), and sizes whose products overflow are refused rather than
trapping."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from harness import assert_refused, decoder_fixture_by_name, fixture_by_name, run_cli

# (fixture, task, config changes, words the message must contain: the weight it caught and the config field)
ENCODER_CASES = [
    ("bert-base/feature-extraction", "feature-extraction", {"vocab_size": 7}, ["word_embeddings", "vocab_size 7"]),
    ("bert-base/feature-extraction", "feature-extraction", {"hidden_size": 64, "num_attention_heads": 4},
     ["attention.self.query.weight", "hidden_size 64"]),
    ("bert-base/feature-extraction", "feature-extraction", {"intermediate_size": 38},
     ["intermediate.dense.weight", "intermediate_size 38"]),
    ("bert-base/feature-extraction", "feature-extraction", {"max_position_embeddings": 2 ** 40},
     ["position_embeddings", "max_position_embeddings"]),
    ("bert-base/feature-extraction", "feature-extraction", {"type_vocab_size": 5},
     ["token_type_embeddings", "type_vocab_size 5"]),
    ("roberta-base/fill-mask", "fill-mask", {"hidden_size": 2 ** 62, "num_attention_heads": 1},
     ["attention.self.query.weight", "hidden_size"]),
    ("electra-base/feature-extraction", "feature-extraction", {"intermediate_size": 1},
     ["intermediate.dense.weight", "intermediate_size 1"]),
    ("distilbert-base/feature-extraction", "feature-extraction", {"hidden_dim": 1}, ["ffn.lin1.weight", "hidden_dim 1"]),
    ("distilbert-base/feature-extraction", "feature-extraction", {"vocab_size": 3}, ["word_embeddings", "vocab_size 3"]),
]

DECODER_CASES = [
    ("gpt2/causal-lm", {"n_inner": 5}, ["mlp.c_fc.weight", "MLP width 5"]),
    ("gpt2/causal-lm", {"vocab_size": 5}, ["wte.weight", "vocab_size 5"]),
    ("gpt2/causal-lm", {"n_positions": 5}, ["wpe.weight", "n_positions 5"]),
    ("gpt2/causal-lm", {"n_layer": 2 ** 40}, ["n_layer", "h.2.attn.c_attn.weight"]),
    ("openai-gpt/causal-lm", {"n_layer": 2 ** 62}, ["n_layer", "is missing"]),
    ("openai-gpt/causal-lm", {"vocab_size": 5}, ["tokens_embed.weight", "vocab_size 5"]),
    ("llama/causal-lm", {"num_key_value_heads": 4}, ["k_proj.weight", "4 key/value heads"]),
    ("llama/causal-lm", {"intermediate_size": 5}, ["gate_proj.weight", "intermediate_size 5"]),
    ("llama/causal-lm", {"vocab_size": 5}, ["embed_tokens.weight", "vocab_size 5"]),
    ("llama/causal-lm", {"num_hidden_layers": 2 ** 40}, ["num_hidden_layers", "is missing"]),
    ("mistral-window/causal-lm", {"num_hidden_layers": 2 ** 62}, ["num_hidden_layers", "is missing"]),
    ("phi3/causal-lm", {"num_key_value_heads": 1}, ["qkv_proj.weight", "1 key/value heads"]),
    ("phi3/causal-lm", {"intermediate_size": 7}, ["gate_up_proj.weight", "intermediate_size 7"]),
    ("gemma/causal-lm", {"hidden_size": 64}, ["hidden_size 64"]),
    ("qwen3/causal-lm", {"head_dim": 4}, ["q_proj.weight", "heads of 4"]),
    # layer_types as transformers validates it: one entry per layer, known kinds, a window for sliding ones
    ("qwen3-layer-types/causal-lm", {"layer_types": ["full_attention"]}, ["layer_types has 1 entries", "num_hidden_layers is 2"]),
    ("qwen3-layer-types/causal-lm", {"layer_types": ["sliding_attention", "chunked_attention"]},
     ["layer_types[1]", "chunked_attention"]),
    ("qwen3-layer-types/causal-lm", {"use_sliding_window": False}, ["sliding_attention", "no window"]),
    ("qwen2-window-layers/causal-lm", {"layer_types": "sliding_attention"}, ["layer_types", "a list of strings"]),
    # sizes whose products overflow: refused, not a trap (and not a rotary table sized by head_dim: it hung)
    ("llama/causal-lm", {"head_dim": 2 ** 62}, ["num_attention_heads × head_dim overflows"]),
    ("qwen3/causal-lm", {"head_dim": 2 ** 40}, ["q_proj.weight", "heads of 1099511627776"]),
    ("phi3/causal-lm", {"intermediate_size": 2 ** 62}, ["gate_up_proj width overflows"]),
    ("gpt2/causal-lm", {"n_embd": 2 ** 62, "n_head": 1, "n_inner": None}, ["4 × n_embd", "overflows"]),
]


def patched_copy(src: Path, dst: Path, changes: dict) -> Path:
    shutil.copytree(src, dst, ignore=shutil.ignore_patterns("reference.npz"))
    config = json.loads((dst / "config.json").read_text())
    config.update(changes)
    (dst / "config.json").write_text(json.dumps(config))
    return dst


def export(model: Path, out: Path, task: str):
    return run_cli(["--model", str(model), "--task", task, str(out)], timeout=60)


@pytest.mark.parametrize("fixture,task,changes,needles", ENCODER_CASES,
                         ids=[f"{c[0].split('/')[0]}-{'-'.join(c[2])}" for c in ENCODER_CASES])
def test_encoder_config_disagreeing_with_weights_is_refused(tmp_path, fixture, task, changes, needles):
    model = patched_copy(fixture_by_name(fixture).dir, tmp_path / "model", changes)
    out = tmp_path / "out"
    assert_refused(export(model, out, task), out, *needles)


@pytest.mark.parametrize("fixture,changes,needles", DECODER_CASES,
                         ids=[f"{c[0].split('/')[0]}-{'-'.join(c[1])}" for c in DECODER_CASES])
@pytest.mark.parametrize("task", ["text-generation", "text-generation-with-past"])
def test_decoder_config_disagreeing_with_weights_is_refused(tmp_path, fixture, changes, needles, task):
    model = patched_copy(decoder_fixture_by_name(fixture).dir, tmp_path / "model", changes)
    out = tmp_path / "out"
    assert_refused(export(model, out, task), out, *needles)


LABEL_CASES = [
    ("bert-base/text-classification", fixture_by_name, "text-classification",
     {"id2label": {str(i): f"L{i}" for i in range(7)}}, "declares 7 labels"),
    ("distilbert-base/token-classification", fixture_by_name, "token-classification", {"id2label": None}, "declares 2 labels"),
    ("gpt2/text-classification", decoder_fixture_by_name, "text-classification",
     {"id2label": {"0": "NO", "1": "YES"}}, "declares 2 labels"),
    ("llama/token-classification", decoder_fixture_by_name, "token-classification",
     {"id2label": None, "num_labels": 9}, "declares 9 labels"),
]


@pytest.mark.parametrize("fixture,find,task,changes,needle", LABEL_CASES, ids=[c[0] for c in LABEL_CASES])
def test_label_count_disagreeing_with_the_classifier_is_refused(tmp_path, fixture, find, task, changes, needle):
    model = patched_copy(find(fixture).dir, tmp_path / "model", changes)
    out = tmp_path / "out"
    assert_refused(export(model, out, task), out, needle, "classifier gives")


def test_num_labels_alone_is_enough_when_it_matches(tmp_path):
    """A config with num_labels and no id2label (transformers derives default names): exported."""
    model = patched_copy(fixture_by_name("bert-base/text-classification").dir, tmp_path / "model",
                         {"id2label": None, "label2id": None, "num_labels": 3})
    out = tmp_path / "out"
    p = export(model, out, "text-classification")
    assert p.returncode == 0, p.stderr


def test_fewer_layers_in_the_config_than_the_checkpoint_still_export(tmp_path):
    """transformers loads a checkpoint with extra layers (it warns about unused weights): so do we."""
    model = patched_copy(fixture_by_name("bert-base/feature-extraction").dir, tmp_path / "model", {"num_hidden_layers": 1})
    out = tmp_path / "out"
    p = export(model, out, "feature-extraction")
    assert p.returncode == 0, p.stderr
    assert (out / "model.onnx").exists()
