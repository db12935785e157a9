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
With no option it deletes and rebuilds every encoder fixture and the example. ``--only NAME[,NAME...]`` rebuilds
only the named variants (and ``example-bert`` if named); each named variant's folder is replaced, every other
fixture folder is left as it is (fixtures made by other library versions stay byte-identical).
The output is deterministic: the same library versions give the same bytes.
"""

from __future__ import annotations

import argparse
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
from safetensors import safe_open
from safetensors.torch import load_file, save_file
from transformers import (
    AlbertConfig,
    AutoModel,
    AutoModelForCausalLM,
    AutoModelForMaskedLM,
    AutoModelForMultipleChoice,
    AutoModelForQuestionAnswering,
    AutoModelForSequenceClassification,
    AutoModelForTokenClassification,
    BertConfig,
    DebertaV2Config,
    DistilBertConfig,
    ElectraConfig,
    MPNetConfig,
    RobertaConfig,
    XLMConfig,
    XLMRobertaConfig,
    XLNetConfig,
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
    "text-generation": AutoModelForCausalLM,  # XLNet's LM head over the whole sequence
}
TASK_NUM_LABELS = {"text-classification": 3, "token-classification": 5}

CONFIG_CLASS = {
    "bert": BertConfig,
    "roberta": RobertaConfig,
    "xlm-roberta": XLMRobertaConfig,
    "distilbert": DistilBertConfig,
    "electra": ElectraConfig,
    "albert": AlbertConfig,
    "xlm": XLMConfig,
    "deberta-v2": DebertaV2Config,
    "mpnet": MPNetConfig,
    "xlnet": XLNetConfig,
}
# optimum includes token_type_ids only for these (BERT-like ONNX configs); RoBERTa, XLM-R, DistilBERT, MPNet omit
# it, and DeBERTa-v2 has it only when type_vocab_size > 0 (see has_token_type_input).
HAS_TOKEN_TYPE_INPUT = {"bert", "electra", "albert", "xlm", "xlnet"}
# base models (AutoModel) with a pooler -> feature-extraction also returns pooler_output
HAS_POOLER = {"bert", "roberta", "xlm-roberta", "albert", "mpnet"}
# (first, last) special ids around each row: <s> ... </s> or [CLS] ... [SEP] of the family's tokenizer
SPECIAL_IDS = {"roberta": (0, 2), "xlm-roberta": (0, 2), "mpnet": (0, 2), "xlm": (0, 1), "deberta-v2": (1, 2),
               "xlnet": (4, 3)}  # XLNet ends rows with <sep> <cls>; a leading <sep> stands in for the first segment's end
# task classes whose name must be exactly this (the Auto class is checked, not trusted)
EXPECTED_CLASS = {("xlm", "question-answering"): "XLMForQuestionAnsweringSimple",
                  ("xlm", "fill-mask"): "XLMWithLMHeadModel",
                  ("xlnet", "question-answering"): "XLNetForQuestionAnsweringSimple",
                  ("xlnet", "text-generation"): "XLNetLMHeadModel"}


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
    # sequence length of input set "b" (set "a" is always 7)
    seq_b: int = 11
    # set "b" gets one row with attention_mask all zeros and ids all pad (multiple-choice: its last row)
    fully_masked_row: bool = False
    # in each set, the last padded row is padded on the left instead of the right
    left_pad_row: bool = False
    # every padded row is padded on the left (XLNet's tokenizer pads on the left)
    left_padding: bool = False
    # tensors removed from model.safetensors after saving (name or dotted suffix); the reload self-check then
    # expects exactly these as missing keys (transformers must recompute them on load)
    drop_tensors: tuple[str, ...] = ()
    # keys written over config.json after save_pretrained (e.g. a legacy spelling transformers normalises)
    config_json: dict = field(default_factory=dict)


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


def xlm(**kw) -> dict:
    # XLM's FFN width is fixed at 4 * emb_dim (no intermediate_size); specials <s>=0 </s>=1 <pad>=2 <unk>=3 <mask>=5.
    base = dict(vocab_size=VOCAB, n_layers=LAYERS, max_position_embeddings=MAX_POS, pad_token_id=2, bos_token_id=0,
                eos_token_id=1)
    base.update(kw)
    return base


def deberta_v3(**kw) -> dict:
    # microsoft/deberta-v3-* settings: shared-key disentangled attention with log buckets, no absolute positions.
    base = common(
        hidden_size=32, num_attention_heads=4, relative_attention=True, pos_att_type=["p2c", "c2p"],
        position_buckets=8, max_relative_positions=-1, norm_rel_ebd="layer_norm", share_att_key=True,
        position_biased_input=False, type_vocab_size=0, hidden_act="gelu", layer_norm_eps=1e-7, legacy=True,
        pad_token_id=0,
    )
    base.update(kw)
    return base


# Relative-position families: set "b" is 40 long so distances reach the log buckets (MPNet: from 8, with 16 and
# 32 on exact bucket boundaries; DeBERTa position_buckets 8: exact up to |distance| 4, log buckets from 5).
LONG_SEQ = 40


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
    # ---- ALBERT ---------------------------------------------------------------------------------------
    Variant(
        "albert-base", "albert",
        common(embedding_size=16, hidden_size=24, num_attention_heads=4, num_hidden_layers=4, num_hidden_groups=2,
               inner_group_num=2, hidden_act="gelu_new", type_vocab_size=2),
        TASKS,
        "ALBERT, embedding_size 16 -> hidden 24 (encoder.embedding_hidden_mapping_in after the embedding LayerNorm), "
        "4 heads (head size 6), intermediate 37, gelu_new, type_vocab_size 2 (token_type_ids contain 1s), "
        "layer_norm_eps default 1e-12. num_hidden_layers 4 / num_hidden_groups 2 / inner_group_num 2: layer i runs "
        "group int(i / (4 / 2)) = 0,0,1,1, and each group runs its 2 inner layers (albert_layers.0, .1) in turn, so "
        "8 layer applications over 4 stored layers (post-LN: attention.LayerNorm, then full_layer_layer_norm). "
        "Pooler (dense + tanh on token 0) for feature-extraction, text-classification and multiple-choice; "
        "fill-mask AlbertMLMHead: dense 24->16, gelu_new (hidden_act), LayerNorm(16), decoder tied to "
        "word_embeddings (predictions.decoder.* absent; its bias is predictions.bias).",
    ),
    Variant(
        "albert-groups-uneven", "albert",
        common(embedding_size=20, hidden_size=20, num_attention_heads=4, num_hidden_layers=5, num_hidden_groups=2,
               inner_group_num=1, hidden_act="relu", type_vocab_size=2, layer_norm_eps=1e-5),
        ["feature-extraction", "text-classification"],
        "ALBERT with num_hidden_layers 5 not a multiple of num_hidden_groups 2: group_idx = int(i / 2.5) gives "
        "layers 0,1,2 -> group 0 and 3,4 -> group 1 (i // (layers // groups) = i // 2 or round(i * 2 / 5) would "
        "differ); inner_group_num 1. embedding_size == hidden_size 20 (4 heads, head size 5) but embedding_hidden_mapping_in (Linear 20->20) "
        "is still stored and applied. relu, layer_norm_eps 1e-5.",
    ),
    Variant(
        "albert-untied", "albert",
        common(embedding_size=12, hidden_size=18, num_attention_heads=3, hidden_act="gelu", type_vocab_size=2,
               tie_word_embeddings=False),
        ["fill-mask"],
        "ALBERT MLM with tie_word_embeddings false: predictions.decoder.weight (99x12) and predictions.decoder.bias "
        "are stored and must be used; predictions.bias is also stored but unused (different values). Default "
        "num_hidden_groups 1 / inner_group_num 1: the one stored layer runs num_hidden_layers 2 times. embedding 12 "
        "-> hidden 18, 3 heads (head size 6), exact gelu (also the MLM head's activation).",
    ),
    # ---- XLM ------------------------------------------------------------------------------------------
    Variant(
        "xlm-base", "xlm",
        xlm(emb_dim=24, n_heads=4, n_langs=1, gelu_activation=True, sinusoidal_embeddings=False, causal=False),
        TASKS,
        "XLM, emb_dim 24 / 4 heads (head size 6), FFN 4 * emb_dim = 96 with exact gelu (gelu_activation), "
        "layer_norm_eps default 1e-12, post-LN (layer_norm1 after attention, layer_norm2 after the FFN), "
        "n_langs 1 (no lang_embeddings, no langs input), learned position_embeddings (positions 0..n-1, no padding "
        "offset), pad_token_id 2. token_type_ids are looked up in the WORD embeddings (values 0/1) and added. "
        "Hidden states are multiplied by attention_mask after the embedding LayerNorm and after every layer (padded "
        "positions of last_hidden_state are exactly 0); masked scores get finfo.min. fill-mask XLMWithLMHeadModel "
        "(pred_layer.proj tied to embeddings, pred_layer.proj.bias stored); text-classification and multiple-choice "
        "XLMSequenceSummary with the defaults summary_type first, summary_use_proj, summary_proj_to_labels "
        "(Linear 24 -> num_labels, no activation; multiple-choice: Linear 24 -> 2 then logits_proj 2 -> 1); "
        "question-answering XLMForQuestionAnsweringSimple (qa_outputs).",
    ),
    Variant(
        "xlm-langs", "xlm",
        xlm(emb_dim=20, n_heads=4, n_langs=3, use_lang_emb=True, sinusoidal_embeddings=True, gelu_activation=False,
            layer_norm_eps=1e-6),
        ["feature-extraction", "fill-mask", "multiple-choice"],
        "XLM with n_langs 3 and use_lang_emb: a langs input (values 0..2, one language per segment) whose "
        "lang_embeddings are added to word + position embeddings; sinusoidal_embeddings true with the fixed table "
        "stored as position_embeddings.weight (kept at its initial values: sin on even, cos on odd columns, "
        "pos / 10000^(2*(j//2)/dim) in float64 then float32); gelu_activation false (relu); layer_norm_eps 1e-6; "
        "emb_dim 20 / 4 heads (head size 5).",
        keep_init=("position_embeddings.weight",),
    ),
    Variant(
        "xlm-causal", "xlm",
        xlm(emb_dim=16, n_heads=2, causal=True, summary_type="last", summary_activation="tanh"),
        ["feature-extraction", "text-classification"],
        "XLM with causal true: the attention mask is the lower triangle only and ignores attention_mask (padding is "
        "applied only by multiplying hidden states by attention_mask). In each input set the last padded row is "
        "LEFT-padded, so its real tokens attend to the (zeroed) pad positions before them; right-padded rows are "
        "there too. text-classification: summary_type last (hidden_states[:, -1], which is the all-zero pad state "
        "for right-padded rows) and summary_activation tanh after the projection. emb_dim 16 / 2 heads (head size 8).",
        left_pad_row=True,
    ),
    Variant(
        "xlm-sinusoidal-computed", "xlm",
        xlm(emb_dim=24, n_heads=3, sinusoidal_embeddings=True),
        ["feature-extraction"],
        "XLM with sinusoidal_embeddings true and position_embeddings.weight REMOVED from model.safetensors: the "
        "exporter must compute the table itself as create_sinusoidal_embeddings does (max_position_embeddings 64 x "
        "emb_dim 24; out[:, 0::2] = sin, out[:, 1::2] = cos of pos / 10000^(2*(j//2)/24), computed in float64, "
        "rounded to float32); transformers recomputes it on load (checked by the reload self-check). 3 heads "
        "(head size 8).",
        keep_init=("position_embeddings.weight",),
        drop_tensors=("position_embeddings.weight",),
    ),
    # ---- DeBERTa-v2 / v3 ------------------------------------------------------------------------------
    Variant(
        "deberta-v3-base", "deberta-v2",
        deberta_v3(),
        TASKS,
        "DeBERTa-v3 layout (model_type deberta-v2): hidden 32 / 4 heads (head size 8), intermediate 37, gelu, "
        "layer_norm_eps 1e-7, type_vocab_size 0 (no token_type_ids input), position_biased_input false (no absolute "
        "position embeddings). Disentangled attention, pos_att_type [p2c, c2p] (scale 1/sqrt(8 * 3)), "
        "share_att_key (positions projected by query_proj/key_proj), position_buckets 8 with "
        "max_relative_positions -1 (-> max_position_embeddings 64): q-k kept for |q-k| <= 4, log buckets beyond "
        "(ceil(log(|d|/4) / log(63/4) * 3) + 4 in float32: 5..10 -> 5, 11..25 -> 6, 26..39 -> 7, signed), "
        "rel_embeddings 16 rows normalised by encoder.LayerNorm (norm_rel_ebd layer_norm). Embedding output and "
        "the attention mask are multiplied by attention_mask (2-D mask m_q * m_k, masked scores finfo.min). "
        "Input set b is 40 long and has one FULLY masked row (attention_mask all 0, ids all pad; multiple-choice: "
        "its last row): transformers gives uniform attention there and finite outputs. legacy true: fill-mask "
        "cls.predictions (transform dense, gelu, LayerNorm, decoder tied to word_embeddings + cls.predictions.bias); "
        "text-classification / multiple-choice ContextPooler (token 0, dense, pooler_hidden_act gelu) + classifier.",
        seq_b=LONG_SEQ,
        fully_masked_row=True,
    ),
    Variant(
        "deberta-v2-conv", "deberta-v2",
        deberta_v3(hidden_size=24, num_attention_heads=3, conv_kernel_size=3, conv_act="gelu",
                   pos_att_type="p2c|c2p"),
        ["feature-extraction", "token-classification"],
        "DeBERTa-v2 with the ConvLayer after layer 0 (conv_kernel_size 3, padding 1, conv_act gelu): "
        "Conv1d over the EMBEDDING output, zeroed at padded positions, activation, LayerNorm(layer 0 output + conv), "
        "times attention_mask. pos_att_type written in config.json as the legacy string \"p2c|c2p\". Otherwise as "
        "deberta-v3 (share_att_key, position_buckets 8, norm_rel_ebd layer_norm); hidden 24 / 3 heads (head size 8); "
        "set b 40 long.",
        seq_b=LONG_SEQ,
        config_json={"pos_att_type": "p2c|c2p"},
    ),
    Variant(
        "deberta-v2-c2p-typed", "deberta-v2",
        common(embedding_size=16, hidden_size=24, num_attention_heads=4, relative_attention=True,
               pos_att_type=["c2p"], share_att_key=False, position_buckets=-1, max_relative_positions=6,
               position_biased_input=True, type_vocab_size=2, norm_rel_ebd="none", pooler_hidden_act="tanh",
               hidden_act="gelu", layer_norm_eps=1e-7, pad_token_id=0),
        ["feature-extraction", "fill-mask", "text-classification"],
        "DeBERTa-v2 with pos_att_type [c2p] only (scale 1/sqrt(6 * 2)), share_att_key false (pos_key_proj), no "
        "position buckets (position_buckets -1) and max_relative_positions 6: rel_embeddings 12 rows, c2p index "
        "clamp(q - k + 6, 0, 11), so distances past 6 are clamped (set b is 40 long). position_biased_input true "
        "(absolute position_embeddings added), type_vocab_size 2 (token_type_ids input with 1s), embedding_size 16 "
        "!= hidden 24 (embed_proj Linear 16->24 without bias, before the LayerNorm), norm_rel_ebd none (rel_embeddings "
        "used raw), 4 heads (head size 6). text-classification ContextPooler with pooler_hidden_act tanh; fill-mask "
        "legacy head: dense 24->16, gelu, LayerNorm(16), decoder tied to the 16-wide word_embeddings.",
        seq_b=LONG_SEQ,
    ),
    Variant(
        "deberta-v2-p2c-headsize", "deberta-v2",
        common(hidden_size=24, num_attention_heads=4, attention_head_size=6, relative_attention=True,
               pos_att_type=["p2c"], share_att_key=False, position_buckets=8, max_relative_positions=-1,
               position_biased_input=True, type_vocab_size=0, hidden_act="gelu", layer_norm_eps=1e-7, legacy=False,
               pad_token_id=0),
        ["feature-extraction", "fill-mask", "question-answering"],
        "DeBERTa-v2 with pos_att_type [p2c] only (scale 1/sqrt(6 * 2)), share_att_key false (pos_query_proj), "
        "position_buckets 8 (log buckets past |q-k| 4, max_position 64), norm_rel_ebd none, position_biased_input "
        "true, type_vocab_size 0 (no token_type_ids input). attention_head_size is given explicitly (6 = 24 / 4 "
        "heads): transformers cannot run any other value here (attention.output.dense is hidden x hidden, so heads x "
        "attention_head_size must equal hidden_size). legacy false: fill-mask lm_predictions.lm_head (dense 24->24, "
        "gelu, LayerNorm, then x @ word_embeddings^T + lm_predictions.lm_head.bias; no decoder tensor). "
        "question-answering qa_outputs. Set b 40 long.",
        seq_b=LONG_SEQ,
    ),
    Variant(
        "deberta-v2-absolute", "deberta-v2",
        common(hidden_size=20, num_attention_heads=4, relative_attention=False, pos_att_type=["p2c", "c2p"],
               position_biased_input=True, type_vocab_size=2, hidden_act="gelu_new", layer_norm_eps=1e-7,
               pad_token_id=0),
        ["feature-extraction", "text-classification"],
        "DeBERTa-v2 without relative attention (relative_attention false: no rel_embeddings, no c2p/p2c scores) "
        "while pos_att_type still names [p2c, c2p]: transformers keeps scaling the keys by sqrt(head size 5 * 3). "
        "Absolute positions (position_biased_input true), token types (type_vocab_size 2), gelu_new, 4 heads; the "
        "attention mask is the padding mask alone (onnxruntime's Attention-23 wants its query axis spelled out). "
        "Set b 40 long.",
        seq_b=LONG_SEQ,
    ),
    # ---- MPNet ----------------------------------------------------------------------------------------
    Variant(
        "mpnet-base", "mpnet",
        roberta_like(1, hidden_size=24, num_attention_heads=4, relative_attention_num_buckets=32, hidden_act="gelu",
                     layer_norm_eps=1e-5),
        TASKS,
        "MPNet, hidden 24 / 4 heads (head size 6), intermediate 37, gelu, layer_norm_eps 1e-5, no token_type_ids. "
        "Position ids RoBERTa-style from padding_idx 1 (hard-coded): cumsum(ids != 1) * mask + 1, so "
        "max_position_embeddings 66 covers set b (40 long, positions up to 41). Relative position bias: T5-style "
        "bidirectional buckets of (key - query) shared by all layers (encoder.relative_attention_bias, 32 x heads), "
        "computed with num_buckets 32 and max_distance 128 (16 per direction, exact below 8, log buckets "
        "8 + int(log(n/8) / log(16) * 8) in float32, capped at 15; n = 16 and 32 sit on exact boundaries), added to "
        "the scaled scores before the padding mask. fill-mask MPNetLMHead (dense, exact gelu, layer_norm, decoder tied "
        "to word_embeddings + lm_head.bias); text-classification MPNetClassificationHead (dense + tanh on <s>, "
        "out_proj); multiple-choice uses the pooler (dense + tanh on token 0).",
        seq_b=LONG_SEQ,
    ),
    Variant(
        "mpnet-relu-untied", "mpnet",
        roberta_like(1, hidden_size=16, num_attention_heads=2, hidden_act="relu", tie_word_embeddings=False,
                     relative_attention_num_buckets=40),
        ["feature-extraction", "fill-mask"],
        "MPNet with relu (the LM head's activation stays exact gelu), hidden 16 / 2 heads (head size 8), "
        "layer_norm_eps default 1e-12, relative_attention_num_buckets 40: the table has 40 rows but transformers "
        "computes the buckets with its default num_buckets 32 (MPNetEncoder.compute_position_bias is called without "
        "it), so only rows 0..31 are used, exactly as with 32. tie_word_embeddings false: lm_head.decoder.weight and "
        ".bias stored and used; lm_head.bias stored but unused. Set b 40 long.",
        seq_b=LONG_SEQ,
    ),
    Variant(
        "xlnet-base", "xlnet",
        dict(vocab_size=VOCAB, d_model=24, n_layer=LAYERS, n_head=4, d_inner=INTERMEDIATE, ff_activation="gelu",
             pad_token_id=5, mem_len=None),
        ["feature-extraction", "text-generation", "text-classification", "token-classification", "question-answering",
         "multiple-choice"],
        "XLNet, d_model 24 / 4 heads (d_head 6), d_inner 37, gelu, layer_norm_eps 1e-12, attn_type bi, clamp_len -1. "
        "Content stream only: relative positions are sinusoids of klen..-qlen+1 times r, scores (ac + bd + ef) / "
        "sqrt(d_head) with r_w_bias, r_r_bias (rel_shift) and r_s_bias x seg_embed on whether two tokens share a "
        "segment (token_type_ids), minus 1e30 where the key is padding and not the query itself. Rows are padded on "
        "the LEFT, as XLNet's tokenizer pads. text-generation: XLNetLMHeadModel's lm_loss (tied to word_embedding + "
        "bias) over every position; text-classification / multiple-choice: sequence_summary (last token, summary "
        "projection, tanh) + logits_proj; question-answering: XLNetForQuestionAnsweringSimple (qa_outputs).",
        left_padding=True,
    ),
    Variant(
        "xlnet-clamp-relu", "xlnet",
        dict(vocab_size=VOCAB, d_model=16, n_layer=LAYERS, n_head=2, d_inner=20, ff_activation="relu", clamp_len=3,
             untie_r=False, layer_norm_eps=1e-5, tie_word_embeddings=False, summary_type="first", pad_token_id=5,
             mem_len=None),
        ["feature-extraction", "text-generation", "text-classification"],
        "XLNet with clamp_len 3, shorter than both sets' lengths (distances past 3 share the sinusoid of 3), relu, "
        "d_model 16 / 2 heads (d_head 8), layer_norm_eps 1e-5, untie_r false (per-layer biases in PyTorch "
        "checkpoints either way), an untied lm_loss (tie_word_embeddings false), summary_type first. Left padding.",
        left_padding=True,
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


def has_token_type_input(v: Variant) -> bool:
    if v.model_type == "deberta-v2":  # optimum drops it when the model has no token type embeddings
        return v.config.get("type_vocab_size", 0) > 0
    return v.model_type in HAS_TOKEN_TYPE_INPUT


def has_langs_input(v: Variant) -> bool:
    """XLM takes a `langs` input (language id per token) only when it has language embeddings."""
    return v.model_type == "xlm" and v.config.get("n_langs", 1) > 1 and v.config.get("use_lang_emb", True)


def make_input_set(
    set_name: str, v: Variant, task: str, rng: np.random.Generator
) -> dict[str, np.ndarray]:
    cfg = v.config
    batch, seq = (2, 7) if set_name == "a" else (3, v.seq_b)
    choices = (3 if set_name == "a" else 2) if task == "multiple-choice" else None
    lengths = lengths_for(set_name, batch * (choices or 1), seq)
    if v.fully_masked_row and set_name == "b":
        if choices:
            lengths[-1] = 0  # keeps the 3-D shape: the last choice of the last example is fully masked
        else:
            batch += 1
            lengths.append(0)
    rows = batch * (choices or 1)
    pad = cfg.get("pad_token_id", 0)
    type_vocab = cfg.get("type_vocab_size", 2)
    first, last = SPECIAL_IDS.get(v.model_type, (2, 3))  # <s> ... </s>  or  [CLS] ... [SEP]
    lo = 6  # content ids avoid all special ids, including pad_token_id 5 of xlm-roberta-pad5
    assert pad < lo

    ids = np.full((rows, seq), pad, dtype=np.int64)
    mask = np.zeros((rows, seq), dtype=np.int64)
    types = np.zeros((rows, seq), dtype=np.int64)
    langs = np.zeros((rows, seq), dtype=np.int64) if has_langs_input(v) else None
    for r, n in enumerate(lengths):
        if n == 0:  # fully masked row: all pad, mask all 0
            continue
        ids[r, :n] = rng.integers(lo, VOCAB, size=n)
        ids[r, 0] = first
        ids[r, n - 1] = last
        mask[r, :n] = 1
        if type_vocab >= 2:
            types[r, n // 2 : n] = 1  # second segment
        if langs is not None:  # one language per segment (padding keeps the second one's)
            langs[r, :] = rng.integers(0, cfg["n_langs"])
            langs[r, n // 2 :] = rng.integers(0, cfg["n_langs"])
    if v.left_pad_row or v.left_padding:
        padded = [r for r, n in enumerate(lengths) if 0 < n < seq]
        for r in padded if v.left_padding else padded[-1:]:
            for a in (ids, mask, types, langs):
                if a is not None:
                    a[r] = np.roll(a[r], seq - lengths[r])
    shape = (batch, choices, seq) if choices else (batch, seq)
    out = {"input_ids": ids.reshape(shape), "attention_mask": mask.reshape(shape)}
    if has_token_type_input(v):
        out["token_type_ids"] = types.reshape(shape)
    if langs is not None:
        out["langs"] = langs.reshape(shape)
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
        elif task in ("fill-mask", "token-classification", "text-generation"):
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


def drop_tensors(out_dir: Path, names: tuple[str, ...]) -> set[str]:
    """Remove the tensors named (exactly or as a dotted suffix) from model.safetensors; returns the removed keys."""
    path = out_dir / "model.safetensors"
    with safe_open(path, "pt") as f:
        metadata = f.metadata()
    tensors = load_file(path)
    removed = {k for k in tensors if any(k == n or k.endswith("." + n) for n in names)}
    if not removed:
        raise SystemExit(f"{out_dir}: none of {names} is in model.safetensors")
    save_file({k: t for k, t in tensors.items() if k not in removed}, path, metadata=metadata)
    return removed


def patch_config_json(out_dir: Path, overrides: dict) -> None:
    path = out_dir / "config.json"
    cfg = json.loads(path.read_text())
    cfg.update(overrides)
    path.write_text(json.dumps(cfg, indent=2, sort_keys=True) + "\n")


def bf16_weight_rounding_error(model: nn.Module, sets: dict, outputs: list[str], arrays: dict) -> dict[str, float]:
    """PyTorch's own error when its weights are rounded to bfloat16 and it computes in float32, per output:
    max |rounded - reference| / max |reference| over the sets. test_precision.py runs bfloat16 exports widened to
    float32 (onnxruntime's CPU provider has no bfloat16 kernels), which measures exactly this rounding, so an
    ill-conditioned head (small logits from large activations) is judged against what the rounding itself does.
    Rounds the model's weights in place: call it last."""
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(p.to(torch.bfloat16).float())
    worst = {k: 0.0 for k in outputs}
    for s, inputs in sets.items():
        for k, a in run_model(model, inputs, outputs).items():
            want = arrays[f"{s}.output.{k}"]
            worst[k] = max(worst[k], float(np.abs(a - want).max() / np.abs(want).max()))
    return {k: round(v_, 6) for k, v_ in worst.items()}


def build_fixture(
    out_dir: Path, v: Variant, task: str, config, fixture_name: str, inputs_override=None
) -> dict:
    seed = seed_of(fixture_name)
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    model = AUTO_CLASS[task].from_config(config, attn_implementation="eager")
    expected = EXPECTED_CLASS.get((v.model_type, task))
    if expected and type(model).__name__ != expected:
        raise SystemExit(f"{fixture_name}: {AUTO_CLASS[task].__name__} made {type(model).__name__}, not {expected}")
    reinit(model, v.keep_init, gen)
    model.eval()

    out_dir.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out_dir)
    dropped = drop_tensors(out_dir, v.drop_tensors) if v.drop_tensors else set()
    if v.config_json:
        patch_config_json(out_dir, v.config_json)

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
            if not np.isfinite(a).all():
                raise SystemExit(f"{fixture_name}: PyTorch output {s}.{k} is not finite")
            arrays[f"{s}.output.{k}"] = a

    # Self-check: the saved checkpoint (with tied weights left out by save_pretrained, and any dropped tensors
    # recomputed by transformers) reproduces the outputs.
    reloaded, info = AUTO_CLASS[task].from_pretrained(out_dir, attn_implementation="eager", output_loading_info=True)
    if dropped:
        missing = set(info.get("missing_keys", ()))
        if missing != dropped:
            raise SystemExit(f"{fixture_name}: expected exactly {sorted(dropped)} missing on reload, got {sorted(missing)}")
        info = {k: v_ for k, v_ in info.items() if k != "missing_keys"}
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
    floor = bf16_weight_rounding_error(reloaded, sets, outputs, arrays) if v.name.endswith("-base") else None
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
    if floor is not None:
        meta["bf16_weight_rounding_error"] = floor
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


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument(
        "--only", metavar="NAMES",
        help="comma-separated variant names (folder names under encoders/, or example-bert) to rebuild; "
             "other fixture folders are left untouched. Default: delete and rebuild everything.",
    )
    return ap.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    torch.use_deterministic_algorithms(True)
    torch.set_num_threads(1)
    transformers.utils.logging.set_verbosity_error()
    transformers.utils.logging.disable_progress_bar()

    if args.only is None:
        variants, with_example = VARIANTS, True
        for d in (ENCODERS, EXAMPLE):
            if d.exists():
                shutil.rmtree(d)
    else:
        wanted = [n.strip() for n in args.only.split(",") if n.strip()]
        known = {v.name: v for v in VARIANTS}
        unknown = [n for n in wanted if n not in known and n != EXAMPLE.name]
        if unknown or not wanted:
            print(f"unknown variant(s) {unknown or args.only!r}; known: {', '.join([*known, EXAMPLE.name])}",
                  file=sys.stderr)
            return 2
        variants, with_example = [known[n] for n in dict.fromkeys(wanted) if n in known], EXAMPLE.name in wanted
        for d in [ENCODERS / v.name for v in variants] + ([EXAMPLE] if with_example else []):
            if d.exists():
                shutil.rmtree(d)  # only the named variants: no stale task folders left in them
    ENCODERS.mkdir(parents=True, exist_ok=True)

    rows = []
    for v in variants:
        for task in v.tasks:
            name = f"{v.name}/{task}"
            rows.append(build_fixture(ENCODERS / v.name / task, v, task, make_config(v, task), name))
    if with_example:
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
