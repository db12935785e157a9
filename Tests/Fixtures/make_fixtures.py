#!/usr/bin/env python3
"""Generate the parity fixtures: tiny random-init encoders and the outputs PyTorch computes for them.

This script is the only way the fixtures under ``Tests/Fixtures`` are made. It needs torch, transformers
and numpy; the parity tests that consume the fixtures need only onnx, onnxruntime and numpy.

For every (config variant, task) pair it writes ``Tests/Fixtures/encoders/<variant>/<task>/``:

* ``config.json`` + ``model.safetensors`` exactly as ``model.save_pretrained(dir)`` writes them;
* ``reference.npz`` with two input sets ``a`` and ``b`` (different batch sizes and sequence lengths, padded
  rows) as ``<set>.input.<name>`` (int64) and the eager-mode outputs as ``<set>.output.<name>`` (float32);
* ``fixture.json``: model_type, task, the ONNX input/output names of the optimum exporter, their axes, and
  notes on what the variant exercises.

It also writes ``Tests/Fixtures/example-bert/``: a tiny BERT text classifier with a WordPiece tokenizer,
used by the README example (and by the parity tests like any other fixture).

Run from anywhere:  ``/path/to/venv/bin/python Tests/Fixtures/make_fixtures.py``
The output is deterministic: the same library versions give the same bytes.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import sys
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
import transformers
from torch import nn
from transformers import (
    AutoModel,
    AutoModelForMaskedLM,
    AutoModelForMultipleChoice,
    AutoModelForQuestionAnswering,
    AutoModelForSequenceClassification,
    AutoModelForTokenClassification,
    BertConfig,
    DistilBertConfig,
    ElectraConfig,
    RobertaConfig,
    XLMRobertaConfig,
)

HERE = Path(__file__).resolve().parent
ENCODERS = HERE / "encoders"
EXAMPLE = HERE / "example-bert"

VOCAB = 99
LAYERS = 2
INTERMEDIATE = 37
MAX_POS = 64  # sequence limit; RoBERTa-style models add pad_token_id + 1 to this

# Scale of the re-initialisation (transformers' default initializer_range 0.02 gives near-zero outputs
# that hide bugs such as a wrong activation or a missing LayerNorm).
WEIGHT_STD = 0.2
BIAS_STD = 0.1
NORM_STD = 0.1

TASKS = [
    "feature-extraction",
    "fill-mask",
    "text-classification",
    "token-classification",
    "question-answering",
    "multiple-choice",
]
AUTO_CLASS = {
    "feature-extraction": AutoModel,
    "fill-mask": AutoModelForMaskedLM,
    "text-classification": AutoModelForSequenceClassification,
    "token-classification": AutoModelForTokenClassification,
    "question-answering": AutoModelForQuestionAnswering,
    "multiple-choice": AutoModelForMultipleChoice,
}
TASK_NUM_LABELS = {"text-classification": 3, "token-classification": 5}

CONFIG_CLASS = {
    "bert": BertConfig,
    "roberta": RobertaConfig,
    "xlm-roberta": XLMRobertaConfig,
    "distilbert": DistilBertConfig,
    "electra": ElectraConfig,
}
# optimum includes token_type_ids only for these (BERT-like ONNX configs); RoBERTa, XLM-R, DistilBERT omit it.
HAS_TOKEN_TYPE_INPUT = {"bert", "electra"}
# base models (AutoModel) with a pooler -> feature-extraction also returns pooler_output
HAS_POOLER = {"bert", "roberta", "xlm-roberta"}


@dataclass
class Variant:
    name: str
    model_type: str
    config: dict
    tasks: list[str]
    notes: str
    # parameters whose initial values are kept (e.g. sinusoidal position embeddings)
    keep_init: tuple[str, ...] = ()
    extra: dict = field(default_factory=dict)


def common(**kw) -> dict:
    base = dict(
        vocab_size=VOCAB,
        num_hidden_layers=LAYERS,
        intermediate_size=INTERMEDIATE,
        max_position_embeddings=MAX_POS,
    )
    base.update(kw)
    return base


def roberta_like(pad: int, **kw) -> dict:
    # RoBERTa position ids run from pad_token_id + 1, so the table needs MAX_POS + pad + 1 rows.
    return common(
        pad_token_id=pad,
        bos_token_id=0,
        eos_token_id=2,
        max_position_embeddings=MAX_POS + pad + 1,
        **kw,
    )


def distil(**kw) -> dict:
    base = dict(vocab_size=VOCAB, n_layers=LAYERS, hidden_dim=INTERMEDIATE, max_position_embeddings=MAX_POS)
    base.update(kw)
    return base


VARIANTS: list[Variant] = [
    # ---- main variants: every task -------------------------------------------------------------------
    Variant(
        "bert-base", "bert",
        common(hidden_size=24, num_attention_heads=2, hidden_act="gelu", type_vocab_size=2),
        TASKS,
        "BERT, hidden 24 / 2 heads (head size 12, not a power of two), exact erf gelu, type_vocab_size 2 "
        "(token_type_ids contain 1s), layer_norm_eps default 1e-12, tied MLM decoder (decoder weight/bias "
        "absent from the file: word_embeddings + cls.predictions.bias), pooler (tanh) for "
        "feature-extraction/text-classification/multiple-choice.",
    ),
    Variant(
        "roberta-base", "roberta",
        roberta_like(1, hidden_size=30, num_attention_heads=5, hidden_act="gelu_new", type_vocab_size=1,
                     layer_norm_eps=1e-5),
        TASKS,
        "RoBERTa, hidden 30 / 5 heads (head size 6), gelu_new (tanh approximation, written out), "
        "type_vocab_size 1, layer_norm_eps 1e-5, pad_token_id 1 with padding-aware position ids "
        "(cumsum(input_ids != pad) * mask + pad), max_position_embeddings 66, tied LM head "
        "(lm_head.decoder.* absent: word_embeddings + lm_head.bias; head activation exact gelu), "
        "RobertaClassificationHead (dense+tanh on <s>), multiple-choice uses the pooler.",
    ),
    Variant(
        "xlm-roberta-base", "xlm-roberta",
        roberta_like(1, hidden_size=20, num_attention_heads=2, hidden_act="gelu_pytorch_tanh",
                     type_vocab_size=1, layer_norm_eps=1e-6),
        TASKS,
        "XLM-RoBERTa (model_type xlm-roberta, same graph as RoBERTa), hidden 20 / 2 heads (head size 10), "
        "gelu_pytorch_tanh (torch gelu approximate='tanh'), type_vocab_size 1, layer_norm_eps 1e-6, "
        "pad_token_id 1, max_position_embeddings 66.",
    ),
    Variant(
        "distilbert-base", "distilbert",
        distil(dim=27, n_heads=3, activation="gelu"),
        TASKS,
        "DistilBERT, dim 27 / 3 heads (head size 9, odd), activation gelu, hidden_dim 37, LayerNorm eps fixed "
        "1e-12 (not in config), no token_type_ids, no pooler; text-classification and multiple-choice use "
        "pre_classifier + ReLU on token 0; fill-mask vocab_transform uses config.activation; tied "
        "vocab_projector (weight absent: word_embeddings; vocab_projector.bias present).",
    ),
    Variant(
        "electra-base", "electra",
        common(embedding_size=16, hidden_size=24, num_attention_heads=4, hidden_act="gelu", type_vocab_size=2),
        TASKS,
        "ELECTRA, embedding_size 16 != hidden_size 24 (embeddings_project Linear 16->24 after the embedding "
        "LayerNorm), 4 heads (head size 6), gelu, type_vocab_size 2 (token_type_ids contain 1s); fill-mask "
        "is the generator head (dense 24->16, exact gelu, LayerNorm(16), tied generator_lm_head 16->99); "
        "text-classification ElectraClassificationHead (dense, exact gelu, out_proj on token 0); "
        "multiple-choice ElectraSequenceSummary (summary_type first, Linear 24->24, summary_activation gelu).",
    ),
    # ---- extra variants: feature-extraction and one head ---------------------------------------------
    Variant(
        "bert-type-vocab-1", "bert",
        common(hidden_size=16, num_attention_heads=2, hidden_act="relu", type_vocab_size=1, layer_norm_eps=1e-5),
        ["feature-extraction", "text-classification"],
        "BERT with type_vocab_size 1 (token_type_ids input present but all zeros), relu, layer_norm_eps 1e-5.",
    ),
    Variant(
        "bert-quick-gelu", "bert",
        common(hidden_size=18, num_attention_heads=3, hidden_act="quick_gelu", type_vocab_size=2,
               layer_norm_eps=1e-3),
        ["feature-extraction", "token-classification"],
        "BERT with quick_gelu (x * sigmoid(1.702 x)), hidden 18 / 3 heads (head size 6), layer_norm_eps 1e-3 "
        "(large enough that using the default 1e-12 shows up above the tolerance).",
    ),
    Variant(
        "bert-untied", "bert",
        common(hidden_size=20, num_attention_heads=4, hidden_act="gelu", type_vocab_size=2,
               tie_word_embeddings=False),
        ["fill-mask"],
        "BERT MLM (hidden 20 / 4 heads, head size 5) with tie_word_embeddings false: cls.predictions.decoder.weight and .decoder.bias are stored "
        "and must be used; cls.predictions.bias is also stored but unused (different values).",
    ),
    Variant(
        "roberta-silu-untied", "roberta",
        roberta_like(1, hidden_size=18, num_attention_heads=2, hidden_act="silu", type_vocab_size=2,
                     tie_word_embeddings=False),
        ["feature-extraction", "fill-mask"],
        "RoBERTa with silu, hidden 18 / 2 heads (head size 9), type_vocab_size 2 while no token_type_ids input "
        "(row 0 of token_type_embeddings is added), layer_norm_eps default 1e-12, untied LM head "
        "(lm_head.decoder.weight/.bias stored and used; lm_head.bias stored but unused) whose activation is "
        "exact gelu regardless of hidden_act.",
    ),
    Variant(
        "xlm-roberta-pad5", "xlm-roberta",
        roberta_like(5, hidden_size=24, num_attention_heads=3, hidden_act="gelu", type_vocab_size=1),
        ["feature-extraction", "question-answering"],
        "XLM-RoBERTa with pad_token_id 5 (position ids start at 6, padded positions get 5), "
        "max_position_embeddings 70, hidden 24 / 3 heads (head size 8).",
    ),
    Variant(
        "distilbert-relu-sinusoidal", "distilbert",
        distil(dim=24, n_heads=2, activation="relu", sinusoidal_pos_embds=True),
        ["feature-extraction", "fill-mask"],
        "DistilBERT with activation relu (also used by the MLM vocab_transform), dim 24 / 2 heads "
        "(head size 12), sinusoidal_pos_embds true (the sinusoidal table is stored in the checkpoint as "
        "embeddings.position_embeddings.weight).",
        keep_init=("embeddings.position_embeddings.weight",),
    ),
    Variant(
        "electra-equal-emb", "electra",
        common(embedding_size=18, hidden_size=18, num_attention_heads=2, hidden_act="gelu_new", type_vocab_size=2,
               layer_norm_eps=1e-6),
        ["feature-extraction", "fill-mask"],
        "ELECTRA with embedding_size == hidden_size 18 (no embeddings_project in the checkpoint), 2 heads "
        "(head size 9), gelu_new, layer_norm_eps 1e-6; generator head dense 18->18.",
    ),
    Variant(
        "electra-summary-mean", "electra",
        common(embedding_size=12, hidden_size=20, num_attention_heads=4, hidden_act="relu", type_vocab_size=2,
               summary_type="mean", summary_activation="tanh"),
        ["feature-extraction", "multiple-choice"],
        "ELECTRA multiple-choice with summary_type mean (plain mean over all positions, padding included) "
        "and summary_activation tanh; embedding 12 -> hidden 20, 4 heads (head size 5), relu.",
    ),
]


# --------------------------------------------------------------------------------------------------
# helpers


def seed_of(name: str) -> int:
    return zlib.crc32(name.encode()) & 0x7FFFFFFF


def reinit(model: nn.Module, keep: tuple[str, ...], gen: torch.Generator) -> None:
    """Re-initialise every parameter with a larger scale (tied parameters are visited once)."""
    norm_params = set()
    for mod_name, mod in model.named_modules():
        if isinstance(mod, nn.LayerNorm):
            for pn in ("weight", "bias"):
                norm_params.add(f"{mod_name}.{pn}" if mod_name else pn)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if any(name.endswith(k) for k in keep):
                continue
            if name in norm_params and name.endswith("weight"):
                p.copy_(1.0 + NORM_STD * torch.randn(p.shape, generator=gen))
            elif name in norm_params or name.endswith("bias") or p.ndim == 1:
                p.copy_(BIAS_STD * torch.randn(p.shape, generator=gen))
            else:
                p.copy_(WEIGHT_STD * torch.randn(p.shape, generator=gen))


def lengths_for(set_name: str, rows: int, seq: int) -> list[int]:
    """Real (unpadded) lengths per row: at least one padded row, at least one full row."""
    if set_name == "a":
        pattern = [seq, seq - 3, seq - 1]
    else:
        pattern = [seq - 1, seq, seq - 5, seq - 2]
    return [pattern[i % len(pattern)] for i in range(rows)]


def make_input_set(
    set_name: str, v: Variant, task: str, rng: np.random.Generator
) -> dict[str, np.ndarray]:
    cfg = v.config
    batch, seq = (2, 7) if set_name == "a" else (3, 11)
    choices = (3 if set_name == "a" else 2) if task == "multiple-choice" else None
    rows = batch * (choices or 1)
    pad = cfg.get("pad_token_id", 0)
    type_vocab = cfg.get("type_vocab_size", 2)
    roberta = v.model_type in ("roberta", "xlm-roberta")
    first, last = (0, 2) if roberta else (2, 3)  # <s> ... </s>  or  [CLS] ... [SEP]
    lo = 6  # content ids avoid all special ids, including pad_token_id 5 of xlm-roberta-pad5
    assert pad < lo

    ids = np.full((rows, seq), pad, dtype=np.int64)
    mask = np.zeros((rows, seq), dtype=np.int64)
    types = np.zeros((rows, seq), dtype=np.int64)
    for r, n in enumerate(lengths_for(set_name, rows, seq)):
        ids[r, :n] = rng.integers(lo, VOCAB, size=n)
        ids[r, 0] = first
        ids[r, n - 1] = last
        mask[r, :n] = 1
        if type_vocab >= 2:
            types[r, n // 2 : n] = 1  # second segment
    shape = (batch, choices, seq) if choices else (batch, seq)
    out = {"input_ids": ids.reshape(shape), "attention_mask": mask.reshape(shape)}
    if v.model_type in HAS_TOKEN_TYPE_INPUT:
        out["token_type_ids"] = types.reshape(shape)
    return out


def output_names(model_type: str, task: str) -> list[str]:
    if task == "feature-extraction":
        return ["last_hidden_state", "pooler_output"] if model_type in HAS_POOLER else ["last_hidden_state"]
    if task == "question-answering":
        return ["start_logits", "end_logits"]
    return ["logits"]


def axes_for(task: str, inputs: list[str], outputs: list[str]) -> tuple[dict, dict]:
    """Symbolic axis names per input/output (None = fixed size), as optimum declares them."""
    if task == "multiple-choice":
        in_axes = {n: ["batch_size", "num_choices", "sequence_length"] for n in inputs}
    else:
        in_axes = {n: ["batch_size", "sequence_length"] for n in inputs}
    out_axes = {}
    for n in outputs:
        if n == "last_hidden_state":
            out_axes[n] = ["batch_size", "sequence_length", None]
        elif n == "pooler_output":
            out_axes[n] = ["batch_size", None]
        elif n in ("start_logits", "end_logits"):
            out_axes[n] = ["batch_size", "sequence_length"]
        elif task in ("fill-mask", "token-classification"):
            out_axes[n] = ["batch_size", "sequence_length", None]
        elif task == "text-classification":
            out_axes[n] = ["batch_size", None]
        elif task == "multiple-choice":
            out_axes[n] = ["batch_size", "num_choices"]
        else:
            raise ValueError(task)
    return in_axes, out_axes


def write_npz(path: Path, arrays: dict[str, np.ndarray]) -> None:
    """np.savez_compressed, but with fixed zip timestamps so regenerated files are byte-identical."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name in sorted(arrays):
            buf = io.BytesIO()
            np.lib.format.write_array(buf, np.ascontiguousarray(arrays[name]), allow_pickle=False)
            info = zipfile.ZipInfo(name + ".npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            zf.writestr(info, buf.getvalue())


def run_model(model: nn.Module, inputs: dict[str, np.ndarray], names: list[str]) -> dict[str, np.ndarray]:
    with torch.no_grad():
        out = model(**{k: torch.from_numpy(v) for k, v in inputs.items()}, return_dict=True)
    return {n: out[n].detach().numpy().astype(np.float32) for n in names}


def build_fixture(
    out_dir: Path, v: Variant, task: str, config, fixture_name: str, inputs_override=None
) -> dict:
    seed = seed_of(fixture_name)
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    model = AUTO_CLASS[task].from_config(config, attn_implementation="eager")
    reinit(model, v.keep_init, gen)
    model.eval()

    out_dir.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out_dir)

    rng = np.random.default_rng(seed)
    outputs = output_names(v.model_type, task)
    arrays: dict[str, np.ndarray] = {}
    sets = inputs_override or {s: make_input_set(s, v, task, rng) for s in ("a", "b")}
    input_names = list(next(iter(sets.values())).keys())
    for s, inputs in sets.items():
        res = run_model(model, inputs, outputs)
        for k, a in inputs.items():
            arrays[f"{s}.input.{k}"] = a.astype(np.int64)
        for k, a in res.items():
            arrays[f"{s}.output.{k}"] = a

    # Self-check: the saved checkpoint (with tied weights left out by save_pretrained) reproduces the outputs.
    reloaded, info = AUTO_CLASS[task].from_pretrained(out_dir, attn_implementation="eager", output_loading_info=True)
    bad = {k: v_ for k, v_ in info.items() if v_}
    if bad:
        raise SystemExit(f"{fixture_name}: loading the saved checkpoint reported {bad}")
    reloaded.eval()
    for s, inputs in sets.items():
        res = run_model(reloaded, inputs, outputs)
        for k, a in res.items():
            diff = float(np.abs(a - arrays[f"{s}.output.{k}"]).max())
            if diff > 1e-6:
                raise SystemExit(f"{fixture_name}: reloaded model differs on {s}.{k} by {diff}")

    write_npz(out_dir / "reference.npz", arrays)
    in_axes, out_axes = axes_for(task, input_names, outputs)
    meta = {
        "name": fixture_name,
        "model_type": v.model_type,
        "task": task,
        "architecture": type(model).__name__,
        "inputs": input_names,
        "outputs": outputs,
        "input_axes": in_axes,
        "output_axes": out_axes,
        "notes": v.notes,
        "seed": seed,
        "generated_with": {"torch": torch.__version__.split("+")[0], "transformers": transformers.__version__},
    }
    (out_dir / "fixture.json").write_text(json.dumps(meta, indent=2) + "\n")
    return {
        "name": fixture_name,
        "arch": type(model).__name__,
        "outputs": {k: arrays[f"b.output.{k}"] for k in outputs},
        "bytes": sum(f.stat().st_size for f in out_dir.iterdir()),
    }


def make_config(v: Variant, task: str):
    kw = dict(v.config)
    if task in TASK_NUM_LABELS:
        kw["num_labels"] = TASK_NUM_LABELS[task]
    return CONFIG_CLASS[v.model_type](**kw)


# --------------------------------------------------------------------------------------------------
# the README example: a BERT sentiment classifier with a tokenizer

EXAMPLE_WORDS = (
    "the a an and or but not no is was are be this that it its i you we they he she "
    "movie film story plot acting actor actors scene scenes music ending cast "
    "good great fine nice fun funny best love loved like liked enjoy enjoyed "
    "bad awful boring worst poor dull hate hated slow weak mess "
    "very really quite too so more most less "
    "of in on at to for with from by about as than "
    "one two time day night people thing way "
    "."
).split()
EXAMPLE_PIECES = ["##s", "##ed", "##ing", "##ly", "##er", "##est", "##y", "##'", "##t", ","]


def build_example() -> dict:
    from transformers import BertTokenizer

    specials = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    vocab_list = specials + EXAMPLE_WORDS + EXAMPLE_PIECES
    vocab_list = vocab_list[:VOCAB]
    assert len(vocab_list) == len(set(vocab_list)), "duplicate vocabulary entries"
    v = Variant(
        "example-bert", "bert",
        common(vocab_size=len(vocab_list), hidden_size=32, num_attention_heads=4, hidden_act="gelu",
               type_vocab_size=2),
        ["text-classification"],
        "README example: BERT sentiment classifier (3 labels: negative/neutral/positive) with a WordPiece "
        "tokenizer (tokenizer.json, tokenizer_config.json, vocab.txt, special_tokens_map.json). Random weights.",
    )
    config = CONFIG_CLASS["bert"](
        **v.config,
        id2label={0: "negative", 1: "neutral", 2: "positive"},
        label2id={"negative": 0, "neutral": 1, "positive": 2},
    )
    EXAMPLE.mkdir(parents=True)
    tok = BertTokenizer(vocab={w: i for i, w in enumerate(vocab_list)}, do_lower_case=True, model_max_length=MAX_POS)
    tok.save_pretrained(EXAMPLE)
    (EXAMPLE / "vocab.txt").write_text("\n".join(vocab_list) + "\n")
    special_map = {
        "cls_token": "[CLS]", "mask_token": "[MASK]", "pad_token": "[PAD]", "sep_token": "[SEP]", "unk_token": "[UNK]",
    }
    (EXAMPLE / "special_tokens_map.json").write_text(json.dumps(special_map, indent=2, sort_keys=True) + "\n")

    def encode(texts, pairs=None):
        enc = tok(texts, pairs, padding=True, return_tensors="np")
        return {k: enc[k].astype(np.int64) for k in ("input_ids", "attention_mask", "token_type_ids")}

    sets = {
        "a": encode(["the movie was great fun", "awful plot ."]),
        "b": encode(
            ["i loved the acting", "the story is not bad but the ending was slow", "boring"],
            ["the music too", "two actors", "so boring"],
        ),
    }
    for s, inp in sets.items():
        if (inp["input_ids"] == tok.unk_token_id).any():
            raise SystemExit(f"example-bert: set {s} has unknown words: {tok.batch_decode(inp['input_ids'])}")
        assert (inp["attention_mask"] == 0).any(), "each example set must have a padded row"
    return build_fixture(EXAMPLE, v, "text-classification", config, "example-bert", inputs_override=sets)


# --------------------------------------------------------------------------------------------------


def main() -> int:
    torch.use_deterministic_algorithms(True)
    torch.set_num_threads(1)
    transformers.utils.logging.set_verbosity_error()
    transformers.utils.logging.disable_progress_bar()

    for d in (ENCODERS, EXAMPLE):
        if d.exists():
            shutil.rmtree(d)
    ENCODERS.mkdir(parents=True)

    rows = []
    for v in VARIANTS:
        for task in v.tasks:
            name = f"{v.name}/{task}"
            rows.append(build_fixture(ENCODERS / v.name / task, v, task, make_config(v, task), name))
    rows.append(build_example())

    print(f"{'fixture':45} {'class':38} {'output':18} {'shape(b)':>14} {'max|x|':>8} {'std':>7}")
    for r in rows:
        for k, a in r["outputs"].items():
            print(f"{r['name']:45} {r['arch']:38} {k:18} {str(a.shape):>14} {np.abs(a).max():8.3f} {a.std():7.3f}")
    total = sum(r["bytes"] for r in rows)
    print(f"\n{len(rows)} fixtures, {total / 1e6:.2f} MB  (torch {torch.__version__}, transformers {transformers.__version__})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
