#!/usr/bin/env python3
"""Generate the original TensorFlow XLNet and Transformer-XL fixtures (``Tests/Fixtures/xlnet-tf``,
``Tests/Fixtures/transfo-xl-tf``) for ``onnx-export convert --model-type xlnet|transfo-xl``.

XLNet's released checkpoints (zihangdai/xlnet: ``xlnet_model.ckpt`` + ``xlnet_config.json``, and what its
``run_classifier.py`` / ``run_squad.py`` save when fine-tuning) are converted by transformers 4's
``convert_xlnet_original_tf_checkpoint_to_pytorch.py``: ``XLNetConfig.from_json_file`` -> a model picked by
``--finetuning_task`` (a GLUE task: ``XLNetForSequenceClassification`` with the task's label count; a name holding
``squad``: ``XLNetForQuestionAnswering``; else ``XLNetLMHeadModel``) -> ``load_tf_weights_in_xlnet``. Transformer-XL's
(kimiyoung/transformer-xl ``tf/``, configured by flags, so a transformers-style config describes them) by
``convert_transfo_xl_original_tf_checkpoint_to_pytorch.py``: ``TransfoXLConfig.from_json_file`` ->
``TransfoXLLMHeadModel`` -> ``load_tf_weights_in_transfo_xl``. The scripts are not in the transformers wheel; their
steps are written out in ``reference_main`` below, and the folder is written with ``save_pretrained`` (the scripts
``torch.save`` the state dict; ``save_pretrained`` is what ``from_pretrained`` and the exporter read).

This script writes tiny checkpoints with the original code's variable names (written out below from
``modeling.py``/``xlnet.py``/``function_builder.py`` and ``tf/model.py``/``tf/train_gpu.py``, NOT from the exporter's
tables), has transformers 4.57 load them, and saves what it built. Where 4.57's loader cannot give the model the
checkpoint describes, the reference is completed here, and ``meta.json`` records what the loader alone did:

- XLNet: the loader maps no classification head but ``model/regression_<task>/logit`` (``run_classifier.py`` names a
  classifier ``model/classification_<task>/logit``) and no SQuAD head (``start_logits/``, ``end_logits/``,
  ``answer_class/``): it leaves them at their random init. They are loaded here by the loader's own rule (kernels
  transposed), as the exporter loads them. ``mask_emb`` exists only in pretraining graphs (two-stream attention);
  a fine-tuned checkpoint lacks it and the loader leaves it random: it is zeroed here, as the exporter writes it
  (the models of these tasks never read it).
- Transformer-XL with shared ``r_w_bias``/``r_r_bias`` (``untie_r`` false): the loader fails on them
  (``AttributeError: 'list' object has no attribute 'shape'``); they are loaded here into
  ``transformer.r_w_bias``/``r_r_bias`` (which every layer's ``dec_attn`` holds too). ``save_pretrained`` refuses to
  write that model as safetensors (shared tensors it was not told about), so its reference is
  ``save_pretrained(safe_serialization=False)``'s ``pytorch_model.bin``, which keeps every alias; ``meta.json``
  lists the tied ones its safetensors path drops (``crit.out_layers.N.weight``, the embeddings), which the
  exporter does not write either. Projections are stored contiguous before saving (the loader leaves them
  transposed views, which ``save_pretrained`` refuses to write as safetensors).

Interpreters (outside the repository; torch and TensorFlow are never installed side by side)::

    /path/to/venv-t4/bin/python Tests/Fixtures/make_xl_fixtures.py

runs ``$TF_PYTHON`` (tensorflow) through ``make_t5_fixtures.write_tf`` to write the TF1 checkpoints, then
``$T4_PYTHON`` (torch + transformers 4.57, tensorflow from ``$T4_TF_SITE`` on its PYTHONPATH, as the loaders need)
on this file with ``--reference JOBS.json``. Transformer-XL's modeling file needs its one-line fix for current torch
(``.type_as(dtype=word_emb.dtype)`` -> ``.to(word_emb.dtype)``, ~line 941), applied in that venv.

What it writes (about 350 KB)::

    xlnet-tf/
      base/      pretraining checkpoint (XLNetLMHeadModel): xlnet_model.ckpt.*, xlnet_config.json (the release's keys:
                 d_head, d_inner, d_model, ff_activation, n_head, n_layer, n_token, untie_r), reference/
      mnli/      run_classifier.py fine-tuned on MNLI (3 labels): model/sequnece_summary/summary, model/classification_mnli/
                 logit, no mask_emb, no lm_loss; model.ckpt-300.*, reference/ (XLNetForSequenceClassification)
      sts-b/     regression (1 label): model/regression_sts-b/logit, the one head 4.57's loader maps
      squad/     run_squad.py: start_logits/, end_logits/, answer_class/ heads (XLNetForQuestionAnswering)
      bad/missing, bad/misshapen   base's variables without model/transformer/layer_1/ff/layer_2/bias, or with
                 model/transformer/layer_0/rel_attn/k/kernel one head dimension short
      meta.json
    transfo-xl-tf/
      untied/    untie_r (per-layer biases [n_layer, n_head, d_head]), div_val 2, cutoffs [10, 20], d_embed = d_model,
                 proj_share_all_but_first (output projections 1 and 2 tied to the embedding's): model.ckpt-500.*,
                 config.json, reference/
      tied/      shared biases [n_head, d_head], div_val 2, d_embed 12 != d_model 8, every output projection untied
      bad/missing, bad/misshapen   untied's variables without transformer/adaptive_softmax/cutoff_1/b, or with
                 transformer/layer_0/rel_attn/qkv/kernel one column short
      meta.json

Every checkpoint carries Adam's slots (``<var>/Adam``, ``<var>/Adam_1``), ``beta1_power``, ``beta2_power`` (what
``tf.train.AdamOptimizer`` saves, the default of both codebases) and ``global_step``; every variable is float32.
Each ``reference/`` has a ``reference.outputs.npz`` beside it: what PyTorch computes with the converted model for
fixed inputs, for the tests that export the converted folder. As a self-check every saved tensor is compared with
the checkpoint variable it must come from (this script's own mapping), so nothing left at a random init can slip
into a reference.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import sys
import tempfile
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from make_t5_fixtures import run_reference, write_tf  # noqa: E402  (the TF writer and the 4.57 runner)

XLNET = HERE / "xlnet-tf"
TXL = HERE / "transfo-xl-tf"

# convert_xlnet_original_tf_checkpoint_to_pytorch.GLUE_TASKS_NUM_LABELS
GLUE_TASKS_NUM_LABELS = {"cola": 2, "mnli": 3, "mrpc": 2, "sst-2": 2, "sts-b": 1, "qqp": 2, "qnli": 2, "rte": 2, "wnli": 2}

# the release's xlnet_config.json keys (xlnet_cased_L-12_H-768_A-12), tiny
XLNET_CONFIG = {"d_head": 4, "d_inner": 12, "d_model": 8, "ff_activation": "gelu", "n_head": 2, "n_layer": 2,
                "n_token": 40, "untie_r": True}

XLNET_MODELS = {
    "base": {"head": "lm", "task": None, "prefix": "xlnet_model.ckpt", "step": 1000, "seed": 20},
    "mnli": {"head": "classification", "task": "MNLI", "prefix": "model.ckpt-300", "step": 300, "seed": 21},
    "sts-b": {"head": "regression", "task": "sts-b", "prefix": "model.ckpt-200", "step": 200, "seed": 22},
    "squad": {"head": "squad", "task": "squad", "prefix": "model.ckpt-100", "step": 100, "seed": 23},
}
XLNET_MISSING = "model/transformer/layer_1/ff/layer_2/bias"
XLNET_MISSHAPEN = "model/transformer/layer_0/rel_attn/k/kernel"

# transformers-style TransfoXLConfig files (the original models were configured by train_gpu.py's flags)
TXL_UNTIED_CONFIG = {
    "model_type": "transfo-xl", "vocab_size": 30, "cutoffs": [10, 20], "d_model": 8, "d_embed": 8, "n_head": 2,
    "d_head": 3, "d_inner": 12, "div_val": 2, "n_layer": 2, "mem_len": 16, "clamp_len": 12, "same_length": True,
    "proj_share_all_but_first": True, "untie_r": True, "adaptive": True, "eos_token_id": 0,
}
TXL_TIED_CONFIG = {
    "n_token": 30, "cutoffs": [10, 20], "d_model": 8, "d_embed": 12, "n_head": 2, "d_head": 4, "d_inner": 10,
    "div_val": 2, "n_layer": 2, "mem_len": 8, "clamp_len": 6, "same_length": False, "proj_share_all_but_first": False,
    "untie_r": False, "tgt_len": 8, "ext_len": 0,
}
TXL_MODELS = {
    "untied": {"config": TXL_UNTIED_CONFIG, "prefix": "model.ckpt-500", "step": 500, "seed": 30},
    "tied": {"config": TXL_TIED_CONFIG, "prefix": "model.ckpt-600", "step": 600, "seed": 31},
}
TXL_MISSING = "transformer/adaptive_softmax/cutoff_1/b"
TXL_MISSHAPEN = "transformer/layer_0/rel_attn/qkv/kernel"


# ================================================================================================
# the original variables (independent of transformers and of the exporter)


class Variables:
    def __init__(self, seed: int):
        self.rng = np.random.RandomState(seed)
        self.out: dict[str, np.ndarray] = {}

    def normal(self, name: str, *shape: int, scale: float = 0.3, shift: float = 0.0) -> None:
        self.out[name] = (self.rng.standard_normal(shape) * scale + shift).astype(np.float32)

    def norm(self, scope: str, d: int) -> None:
        """tf.contrib.layers.layer_norm's variables."""
        self.normal(f"{scope}/LayerNorm/beta", d, scale=0.1)
        self.normal(f"{scope}/LayerNorm/gamma", d, scale=0.1, shift=1.0)

    def dense(self, scope: str, n_in: int, n_out: int, bias: bool = True) -> None:
        """tf.layers.dense's variables: kernel [in, out], bias [out]."""
        self.normal(f"{scope}/kernel", n_in, n_out, scale=n_in ** -0.5)
        if bias:
            self.normal(f"{scope}/bias", n_out, scale=0.1)

    def with_adam(self) -> dict[str, np.ndarray]:
        """What tf.train.AdamOptimizer adds: <var>/Adam, <var>/Adam_1 (first and second moments), beta1_power and
        beta2_power (the decayed betas)."""
        slots: dict[str, np.ndarray] = {}
        for name, value in self.out.items():
            slots[f"{name}/Adam"] = (self.rng.standard_normal(value.shape) * 1e-3).astype(np.float32)
            slots[f"{name}/Adam_1"] = np.abs(self.rng.standard_normal(value.shape) * 1e-6).astype(np.float32)
        return {**self.out, **slots, "beta1_power": np.float32(0.9 ** 7), "beta2_power": np.float32(0.999 ** 7)}


def xlnet_variables(spec: dict) -> dict[str, np.ndarray]:
    """zihangdai/xlnet's variables: ``XLNetModel`` builds ``model/transformer/`` (modeling.transformer_xl): r_w_bias,
    r_r_bias, r_s_bias [n_layer, n_head, d_head] (untie_r), word_embedding/lookup_table [n_token, d_model],
    mask_emb/mask_emb [1, 1, d_model] (only with a query stream: pretraining), seg_embed [n_layer, 2, n_head, d_head],
    per layer rel_attn/{q,k,v,r,o}/kernel [d_model, n_head, d_head] (head_projection / post_attention, no biases),
    rel_attn/LayerNorm, ff/layer_1 and ff/layer_2 (tf.layers.dense), ff/LayerNorm. Heads: pretraining's
    model/lm_loss/bias (the weight is tied to the embedding); run_classifier.py's model/sequnece_summary/summary
    (sic, summarize_sequence's default scope) and model/classification_<task>/logit or model/regression_<task>/logit;
    run_squad.py's start_logits/dense, end_logits/dense_0, end_logits/LayerNorm, end_logits/dense_1,
    answer_class/dense_0 and answer_class/dense_1 (no bias), outside ``model/``."""
    c = XLNET_CONFIG
    d, heads, dh, inner, layers, vocab = c["d_model"], c["n_head"], c["d_head"], c["d_inner"], c["n_layer"], c["n_token"]
    v = Variables(spec["seed"])
    t = "model/transformer"
    v.normal(f"{t}/r_w_bias", layers, heads, dh)
    v.normal(f"{t}/r_r_bias", layers, heads, dh)
    v.normal(f"{t}/word_embedding/lookup_table", vocab, d, scale=1.0)
    if spec["head"] == "lm":
        v.normal(f"{t}/mask_emb/mask_emb", 1, 1, d)
    v.normal(f"{t}/r_s_bias", layers, heads, dh)
    v.normal(f"{t}/seg_embed", layers, 2, heads, dh)
    for i in range(layers):
        for p in "qkvro":
            v.normal(f"{t}/layer_{i}/rel_attn/{p}/kernel", d, heads, dh, scale=d ** -0.5)
        v.norm(f"{t}/layer_{i}/rel_attn", d)
        v.dense(f"{t}/layer_{i}/ff/layer_1", d, inner)
        v.dense(f"{t}/layer_{i}/ff/layer_2", inner, d)
        v.norm(f"{t}/layer_{i}/ff", d)
    task = (spec["task"] or "").lower()
    if spec["head"] == "lm":
        v.normal("model/lm_loss/bias", vocab, scale=0.1)
    elif spec["head"] in ("classification", "regression"):
        v.dense("model/sequnece_summary/summary", d, d)
        v.dense(f"model/{spec['head']}_{task}/logit", d, GLUE_TASKS_NUM_LABELS[task])
    else:
        v.dense("start_logits/dense", d, 1)
        v.dense("end_logits/dense_0", 2 * d, d)
        v.norm("end_logits", d)
        v.dense("end_logits/dense_1", d, 1)
        v.dense("answer_class/dense_0", 2 * d, d)
        v.dense("answer_class/dense_1", d, 1, bias=False)
    return v.with_adam()


def xlnet_expected(variables: dict[str, np.ndarray], head: str) -> dict[str, np.ndarray]:
    """The transformers state dict the variables must become (this script's mapping, for the self-check)."""
    layers = XLNET_CONFIG["n_layer"]
    out: dict[str, np.ndarray] = {}
    for name, value in variables.items():
        if name.endswith(("/Adam", "/Adam_1")) or name in ("beta1_power", "beta2_power"):
            continue
        parts = name.split("/")
        if name == "model/transformer/word_embedding/lookup_table":
            out["transformer.word_embedding.weight"] = value
        elif name == "model/transformer/mask_emb/mask_emb":
            out["transformer.mask_emb"] = value
        elif parts[:2] == ["model", "transformer"] and parts[2] in ("r_w_bias", "r_r_bias", "r_s_bias", "seg_embed"):
            for i in range(layers):
                out[f"transformer.layer.{i}.rel_attn.{parts[2]}"] = value[i]
        elif parts[:2] == ["model", "transformer"]:
            layer = f"transformer.layer.{parts[2].split('_')[1]}."
            if parts[3] == "rel_attn" and parts[4] == "LayerNorm":
                out[layer + "rel_attn.layer_norm." + {"gamma": "weight", "beta": "bias"}[parts[5]]] = value
            elif parts[3] == "rel_attn":
                out[layer + f"rel_attn.{parts[4]}"] = value
            elif parts[4] == "LayerNorm":
                out[layer + "ff.layer_norm." + {"gamma": "weight", "beta": "bias"}[parts[5]]] = value
            else:
                out[layer + f"ff.{parts[4]}." + {"kernel": "weight", "bias": "bias"}[parts[5]]] = value.T if parts[5] == "kernel" else value
        elif name == "model/lm_loss/bias":
            out["lm_loss.bias"] = value
        elif parts[1] == "sequnece_summary":
            out["sequence_summary.summary." + {"kernel": "weight", "bias": "bias"}[parts[3]]] = value.T if parts[3] == "kernel" else value
        elif parts[0] == "model":  # classification_<task>/logit or regression_<task>/logit
            out["logits_proj." + {"kernel": "weight", "bias": "bias"}[parts[3]]] = value.T if parts[3] == "kernel" else value
        else:  # SQuAD heads
            module = {"start_logits/dense": "start_logits.dense", "end_logits/dense_0": "end_logits.dense_0",
                      "end_logits/dense_1": "end_logits.dense_1", "end_logits/LayerNorm": "end_logits.LayerNorm",
                      "answer_class/dense_0": "answer_class.dense_0", "answer_class/dense_1": "answer_class.dense_1"}
            leaf = {"kernel": "weight", "bias": "bias", "gamma": "weight", "beta": "bias"}[parts[2]]
            out[f"{module['/'.join(parts[:2])]}.{leaf}"] = value.T if parts[2] == "kernel" else value
    if head == "lm":  # the output layer's weight is the embedding (tied)
        out["lm_loss.weight"] = out["transformer.word_embedding.weight"]
    else:  # fine-tuned graphs have no query stream: mask_emb is zeroed (see the docstring)
        out["transformer.mask_emb"] = np.zeros((1, 1, XLNET_CONFIG["d_model"]), np.float32)
    return out


def txl_dims(c: dict) -> dict:
    vocab = c.get("vocab_size", c.get("n_token"))
    ends = [0] + c["cutoffs"] + [vocab]
    tie_projs = [False] + [c["proj_share_all_but_first"]] * len(c["cutoffs"])
    return {"vocab": vocab, "ends": ends, "tie_projs": tie_projs,
            "d_emb": [c["d_embed"] // c["div_val"] ** i for i in range(len(ends) - 1)]}


def txl_variables(spec: dict) -> dict[str, np.ndarray]:
    """kimiyoung/transformer-xl tf/model.py's variables, as train_gpu.py builds them (div_val > 1: the per-cluster
    mask_adaptive_embedding_lookup, proj_same_dim true): transformer/r_w_bias, r_r_bias ([n_layer, n_head, d_head]
    with untie_r, else [n_head, d_head]); adaptive_embed/cutoff_i/lookup_table [n_i, d_embed // div_val^i] and
    proj_W [d_i, d_model]; per layer rel_attn/qkv/kernel [d_model, 3 n_head d_head], rel_attn/r/kernel,
    rel_attn/o/kernel (no biases), rel_attn/LayerNorm, ff/layer_1, ff/layer_2, ff/LayerNorm;
    adaptive_softmax/cutoff_i/b [n_i], cutoff_i/proj [d_i, d_model] unless tie_projs[i] (then the embedding's proj_W
    serves), cutoff_0/cluster_W [n_clusters, d_embed] and cluster_b [n_clusters]."""
    c = spec["config"]
    dims = txl_dims(c)
    d, heads, dh, layers = c["d_model"], c["n_head"], c["d_head"], c["n_layer"]
    v = Variables(spec["seed"])
    bias_shape = (layers, heads, dh) if c["untie_r"] else (heads, dh)
    v.normal("transformer/r_w_bias", *bias_shape)
    v.normal("transformer/r_r_bias", *bias_shape)
    ends = dims["ends"]
    for i, d_i in enumerate(dims["d_emb"]):
        v.normal(f"transformer/adaptive_embed/cutoff_{i}/lookup_table", ends[i + 1] - ends[i], d_i, scale=1.0)
        v.normal(f"transformer/adaptive_embed/cutoff_{i}/proj_W", d_i, d, scale=d_i ** -0.5)
    for i in range(layers):
        v.dense(f"transformer/layer_{i}/rel_attn/qkv", d, 3 * heads * dh, bias=False)
        v.dense(f"transformer/layer_{i}/rel_attn/r", d, heads * dh, bias=False)
        v.dense(f"transformer/layer_{i}/rel_attn/o", heads * dh, d, bias=False)
        v.norm(f"transformer/layer_{i}/rel_attn", d)
        v.dense(f"transformer/layer_{i}/ff/layer_1", d, c["d_inner"])
        v.dense(f"transformer/layer_{i}/ff/layer_2", c["d_inner"], d)
        v.norm(f"transformer/layer_{i}/ff", d)
    for i, d_i in enumerate(dims["d_emb"]):
        s = f"transformer/adaptive_softmax/cutoff_{i}"
        v.normal(f"{s}/b", ends[i + 1] - ends[i], scale=0.1)
        if not dims["tie_projs"][i]:
            v.normal(f"{s}/proj", d_i, d, scale=d ** -0.5)
        if i == 0:
            v.normal(f"{s}/cluster_W", len(c["cutoffs"]), c["d_embed"], scale=0.3)
            v.normal(f"{s}/cluster_b", len(c["cutoffs"]), scale=0.1)
    return v.with_adam()


def txl_expected(variables: dict[str, np.ndarray], c: dict) -> dict[str, np.ndarray]:
    """The TransfoXLLMHeadModel state dict the variables must become (this script's mapping)."""
    dims = txl_dims(c)
    out: dict[str, np.ndarray] = {}
    for name, value in variables.items():
        if name.endswith(("/Adam", "/Adam_1")) or name in ("beta1_power", "beta2_power"):
            continue
        parts = name.split("/")
        if parts[1] in ("r_w_bias", "r_r_bias"):
            if c["untie_r"]:
                for i in range(c["n_layer"]):
                    out[f"transformer.layers.{i}.dec_attn.{parts[1]}"] = value[i]
            else:  # shared: every layer's attention holds the model's Parameter too
                out[f"transformer.{parts[1]}"] = value
                for i in range(c["n_layer"]):
                    out[f"transformer.layers.{i}.dec_attn.{parts[1]}"] = value
        elif parts[1] == "adaptive_embed":
            i = int(parts[2].split("_")[1])
            if parts[3] == "lookup_table":
                out[f"transformer.word_emb.emb_layers.{i}.weight"] = value
                out[f"crit.out_layers.{i}.weight"] = value
            else:
                out[f"transformer.word_emb.emb_projs.{i}"] = value.T
                if dims["tie_projs"][i]:
                    out[f"crit.out_projs.{i}"] = value.T
        elif parts[1] == "adaptive_softmax":
            i = int(parts[2].split("_")[1])
            key = {"b": f"crit.out_layers.{i}.bias", "proj": f"crit.out_projs.{i}", "cluster_W": "crit.cluster_weight",
                   "cluster_b": "crit.cluster_bias"}[parts[3]]
            out[key] = value.T if parts[3] == "proj" else value
        else:
            layer = f"transformer.layers.{parts[1].split('_')[1]}."
            if parts[2] == "rel_attn" and parts[3] == "LayerNorm":
                out[layer + "dec_attn.layer_norm." + {"gamma": "weight", "beta": "bias"}[parts[4]]] = value
            elif parts[2] == "rel_attn":
                out[layer + f"dec_attn.{parts[3]}_net.weight"] = value.T
            elif parts[3] == "LayerNorm":
                out[layer + "pos_ff.layer_norm." + {"gamma": "weight", "beta": "bias"}[parts[4]]] = value
            else:
                core = {"layer_1": 0, "layer_2": 3}[parts[3]]
                out[layer + f"pos_ff.CoreNet.{core}." + {"kernel": "weight", "bias": "bias"}[parts[4]]] = \
                    value.T if parts[4] == "kernel" else value
    return out


# ================================================================================================
# driver


def write_bad(root: Path, kind: str, variables: dict[str, np.ndarray], missing: str, misshapen: str, prefix: str, config: str,
              meta: dict) -> list[dict]:
    """``root/bad/missing`` (``variables`` without ``missing``) and ``root/bad/misshapen`` (``misshapen`` one entry short
    on its last axis), with their meta entries; returns the jobs recording what 4.57's loader does with them."""
    jobs = []
    cases = {"missing": ({k: v for k, v in variables.items() if not k.startswith(missing)}, missing),
             "misshapen": ({k: (v[..., :-1] if k == misshapen else v) for k, v in variables.items()}, misshapen)}
    for case, (changed, tensor) in cases.items():
        folder = root / "bad" / case
        folder.mkdir(parents=True)
        write_tf(folder / prefix, changed, 1000 if kind == "xlnet" else 500)
        if kind == "xlnet":  # as the release: the bundle alone
            (folder / "checkpoint").unlink()
        meta["refused"][case] = {"tf_checkpoint": f"bad/{case}/{prefix}", "config": config, "tensor": tensor}
        jobs.append({"id": f"{kind}/bad/{case}", "kind": kind, "checkpoint": str(folder / prefix),
                     "config": str(root / config), "task": None, "output": None})
    return jobs


def main() -> int:
    for root in (XLNET, TXL):
        if root.exists():
            shutil.rmtree(root)
    jobs: list[dict] = []
    temporary: list[Path] = []

    def expected_file(arrays: dict[str, np.ndarray]) -> str:
        path = Path(tempfile.gettempdir()) / f"xl-fixture-{os.getpid()}-{len(temporary)}.npz"
        np.savez(path, **arrays)
        temporary.append(path)
        return str(path)

    # XLNet
    xmeta: dict = {"checkpoints": {}, "refused": {}}
    base_variables: dict[str, np.ndarray] = {}
    for name, spec in XLNET_MODELS.items():
        folder = XLNET / name
        folder.mkdir(parents=True)
        variables = xlnet_variables(spec)
        if name == "base":
            base_variables = variables
        write_tf(folder / spec["prefix"], variables, spec["step"])
        if name == "base":  # the release ships the bundle alone, without a `checkpoint` state file
            (folder / "checkpoint").unlink()
        (folder / "xlnet_config.json").write_text(json.dumps(XLNET_CONFIG, indent=2) + "\n")
        xmeta["checkpoints"][name] = {"tf_checkpoint": f"{name}/{spec['prefix']}", "config": f"{name}/xlnet_config.json",
                                      "finetuning_task": spec["task"], "reference": f"{name}/reference"}
        jobs.append({"id": f"xlnet/{name}", "kind": "xlnet", "checkpoint": str(folder / spec["prefix"]),
                     "config": str(folder / "xlnet_config.json"), "task": spec["task"], "output": str(folder / "reference"),
                     "expected": expected_file(xlnet_expected(variables, spec["head"]))})
    jobs += write_bad(XLNET, "xlnet", base_variables, XLNET_MISSING, XLNET_MISSHAPEN, "xlnet_model.ckpt", "base/xlnet_config.json",
                      xmeta)

    # Transformer-XL
    tmeta: dict = {"checkpoints": {}, "refused": {}}
    untied_variables: dict[str, np.ndarray] = {}
    for name, spec in TXL_MODELS.items():
        folder = TXL / name
        folder.mkdir(parents=True)
        variables = txl_variables(spec)
        if name == "untied":
            untied_variables = variables
        write_tf(folder / spec["prefix"], variables, spec["step"])
        (folder / "config.json").write_text(json.dumps(spec["config"], indent=2) + "\n")
        tmeta["checkpoints"][name] = {"tf_checkpoint": f"{name}/{spec['prefix']}", "config": f"{name}/config.json",
                                      "reference": f"{name}/reference"}
        jobs.append({"id": f"transfo-xl/{name}", "kind": "transfo-xl", "checkpoint": str(folder / spec["prefix"]),
                     "config": str(folder / "config.json"), "output": str(folder / "reference"),
                     "expected": expected_file(txl_expected(variables, spec["config"]))})
    jobs += write_bad(TXL, "transfo-xl", untied_variables, TXL_MISSING, TXL_MISSHAPEN, "model.ckpt-500", "untied/config.json", tmeta)

    try:
        results = {r["id"]: r for r in run_reference(jobs, Path(__file__).resolve())}
    finally:
        for path in temporary:
            path.unlink(missing_ok=True)
    for root, meta, kind in ((XLNET, xmeta, "xlnet"), (TXL, tmeta, "transfo-xl")):
        meta["transformers"] = results[f"{kind}/{next(iter(meta['checkpoints']))}"]["versions"]
        for name, entry in meta["checkpoints"].items():
            r = results[f"{kind}/{name}"]
            for key in ("saved_keys", "not_saved", "transformers_4", "completed_here", "architecture"):
                entry[key] = r[key]
            entry["tied_not_written"] = r.get("tied_not_written", [])
        if kind == "transfo-xl":
            meta["inv_freq"] = results["transfo-xl/untied"]["inv_freq"]
        for bad_kind in meta["refused"]:
            meta["refused"][bad_kind]["transformers_4"] = results[f"{kind}/bad/{bad_kind}"]["transformers_4"]
        (root / "meta.json").write_text(json.dumps(meta, indent=1, sort_keys=True) + "\n")
    size = sum(p.stat().st_size for root in (XLNET, TXL) for p in root.rglob("*") if p.is_file())
    print(f"wrote {XLNET} and {TXL} ({size / 1024:.0f} KB)")
    if size > 400_000:
        raise SystemExit("the XLNet and Transformer-XL fixtures passed 400 KB")
    return 0


# ================================================================================================
# transformers 4.57 (run by $T4_PYTHON with --reference JOBS.json)


def reference_main(jobs_path: str) -> None:
    import tensorflow as tf
    import torch
    import transformers
    from safetensors import safe_open
    from transformers import (TransfoXLConfig, TransfoXLLMHeadModel, XLNetConfig, XLNetForQuestionAnswering,
                              XLNetForSequenceClassification, XLNetLMHeadModel)
    from transformers.models.deprecated.transfo_xl import modeling_transfo_xl
    from transformers.models.xlnet.modeling_xlnet import load_tf_weights_in_xlnet
    from transformers.pytorch_utils import id_tensor_storage

    from make_fixtures import write_npz  # fixed zip timestamps: regenerated files are byte-identical

    transformers.utils.logging.set_verbosity_error()
    torch.manual_seed(0)

    def xlnet_model(job: dict):
        """convert_xlnet_checkpoint_to_pytorch's model choice."""
        config = XLNetConfig.from_json_file(job["config"])
        task = job["task"].lower() if job["task"] is not None else ""
        if task in GLUE_TASKS_NUM_LABELS:
            config.finetuning_task = task
            config.num_labels = GLUE_TASKS_NUM_LABELS[task]
            return config, XLNetForSequenceClassification(config)
        if "squad" in task:
            config.finetuning_task = task
            return config, XLNetForQuestionAnswering(config)
        return config, XLNetLMHeadModel(config)

    def txl_load(model, config, path: str) -> None:
        """load_tf_weights_in_transfo_xl, but for shared biases (untie_r false), on which it fails: they are taken
        out of its map and loaded into transformer.r_w_bias / r_r_bias."""
        if config.untie_r:
            modeling_transfo_xl.load_tf_weights_in_transfo_xl(model, config, path)
            return
        original = modeling_transfo_xl.build_tf_to_pytorch_map

        def without_shared_biases(m, c):
            return {k: v for k, v in original(m, c).items() if k not in ("transformer/r_w_bias", "transformer/r_r_bias")}

        modeling_transfo_xl.build_tf_to_pytorch_map = without_shared_biases
        try:
            modeling_transfo_xl.load_tf_weights_in_transfo_xl(model, config, path)
        finally:
            modeling_transfo_xl.build_tf_to_pytorch_map = original
        for name in ("r_w_bias", "r_r_bias"):
            getattr(model.transformer, name).data = torch.from_numpy(tf.train.load_variable(path, f"transformer/{name}"))

    def complete_xlnet(model, config, path: str, job: dict) -> list[str]:
        """What 4.57's loader leaves at its random init and the exporter loads (see the docstring)."""
        names = dict(tf.train.list_variables(path))
        done = []

        def take(variable: str, parameter: torch.nn.Parameter, label: str) -> None:
            array = tf.train.load_variable(path, variable)
            parameter.data = torch.from_numpy(np.ascontiguousarray(array.T if variable.endswith("kernel") else array))
            done.append(f"{label} <- {variable}")

        if "model/transformer/mask_emb/mask_emb" not in names:
            model.transformer.mask_emb.data.zero_()
            done.append("transformer.mask_emb <- zeros (no mask_emb in a fine-tuned checkpoint)")
        task = (job["task"] or "").lower()
        if isinstance(model, XLNetForSequenceClassification) and f"model/classification_{task}/logit/kernel" in names:
            take(f"model/classification_{task}/logit/kernel", model.logits_proj.weight, "logits_proj.weight")
            take(f"model/classification_{task}/logit/bias", model.logits_proj.bias, "logits_proj.bias")
        if isinstance(model, XLNetForQuestionAnswering):
            heads = {"start_logits/dense": model.start_logits.dense, "end_logits/dense_0": model.end_logits.dense_0,
                     "end_logits/LayerNorm": model.end_logits.LayerNorm, "end_logits/dense_1": model.end_logits.dense_1,
                     "answer_class/dense_0": model.answer_class.dense_0, "answer_class/dense_1": model.answer_class.dense_1}
            prefix = {v: k for k, v in {"start_logits.dense": "start_logits/dense", "end_logits.dense_0": "end_logits/dense_0",
                                        "end_logits.LayerNorm": "end_logits/LayerNorm", "end_logits.dense_1": "end_logits/dense_1",
                                        "answer_class.dense_0": "answer_class/dense_0",
                                        "answer_class.dense_1": "answer_class/dense_1"}.items()}
            for scope, module in heads.items():
                for leaf, parameter in module.named_parameters():
                    tf_leaf = {"weight": "gamma", "bias": "beta"}[leaf] if "LayerNorm" in scope else \
                        {"weight": "kernel", "bias": "bias"}[leaf]
                    take(f"{scope}/{tf_leaf}", parameter, f"{prefix[scope]}.{leaf}")
        return done

    results = []
    versions = {"transformers": transformers.__version__, "torch": torch.__version__.split("+")[0]}
    for job in json.loads(Path(jobs_path).read_text()):
        result = {"id": job["id"], "versions": versions}
        if job["kind"] == "xlnet":
            config, model = xlnet_model(job)
            load = load_tf_weights_in_xlnet
        else:
            config = TransfoXLConfig.from_json_file(job["config"])
            model = TransfoXLLMHeadModel(config)
            load = modeling_transfo_xl.load_tf_weights_in_transfo_xl
        before = {k: v.clone() for k, v in model.state_dict().items()}
        # transformers' own loader, alone, on a copy: what it does with these files
        try:
            probe = type(model)(config)
            probe.load_state_dict(before)
            load(probe, config, job["checkpoint"])
        except Exception as e:  # noqa: BLE001 (any failure is the outcome recorded)
            result["transformers_4"] = f"raises {type(e).__name__}: {e}"
        else:
            untouched = sorted(k for k, v in probe.named_parameters(remove_duplicate=False) if torch.equal(v, before[k]))
            result["transformers_4"] = (f"loads; left at their random init: {untouched}" if untouched else "loads every weight")
        if job["output"] is None:
            results.append(result)
            continue
        if job["kind"] == "xlnet":
            load_tf_weights_in_xlnet(model, config, job["checkpoint"])
            result["completed_here"] = complete_xlnet(model, config, job["checkpoint"], job)
        else:
            txl_load(model, config, job["checkpoint"])
            result["completed_here"] = [] if config.untie_r else \
                ["transformer.r_w_bias, transformer.r_r_bias <- transformer/r_w_bias, r_r_bias (the loader fails on them)"]
            # the loader leaves projections as transposed views; save_pretrained writes contiguous tensors only
            for parameter in model.parameters():
                parameter.data = parameter.data.contiguous()
        result["architecture"] = type(model).__name__
        with np.load(job["expected"]) as z:
            expected = {k: z[k] for k in z.files}
        state = model.state_dict()
        own = {k for k in state if k != "transformer.pos_emb.inv_freq"}
        if sorted(own) != sorted(expected):
            raise SystemExit(f"{job['id']}: state dict keys {sorted(own)} != expected {sorted(expected)}")
        for k in own:
            v, want = state[k], np.ascontiguousarray(expected[k])
            if v.dtype != torch.float32 or v.contiguous().numpy().tobytes() != want.tobytes() or tuple(v.shape) != want.shape:
                raise SystemExit(f"{job['id']}: {k} is not the checkpoint's variable (left at its random init?)")
        out = Path(job["output"])
        if job["kind"] == "transfo-xl" and not config.untie_r:
            # 4.57 refuses safetensors for the shared biases (every layer holds transformer.r_w_bias too, an
            # alias it was not told about); its torch.save format keeps every alias
            model.save_pretrained(out, safe_serialization=False)
            saved = sorted(torch.load(out / "pytorch_model.bin", weights_only=True))
            # the tied aliases its safetensors path drops before it fails on the biases (the exporter drops
            # them too: crit.out_layers.N.weight is the embedding)
            groups: dict = {}
            for key, tensor in state.items():
                groups.setdefault(id_tensor_storage(tensor), []).append(key)
            result["tied_not_written"] = sorted(
                key for keys in groups.values() if len(keys) > 1
                for found, key in enumerate((k for k in sorted(keys) if any(re.search(p, k) for p in model._tied_weights_keys)), 1)
                if found < len(keys))
        else:
            model.save_pretrained(out)
            with safe_open(str(out / "model.safetensors"), "pt") as f:
                saved = sorted(f.keys())
        result["saved_keys"] = saved
        result["not_saved"] = sorted(set(state) - set(saved))

        # What PyTorch computes with the converted model, for the tests that export the converted folder.
        model.eval()
        generator = torch.Generator().manual_seed(7)
        vocab = config.vocab_size
        arrays: dict[str, np.ndarray] = {}
        with torch.no_grad():
            if job["kind"] == "xlnet":
                ids = torch.randint(6, vocab, (2, 7), generator=generator)
                mask = torch.ones_like(ids)
                mask[1, 5:] = 0
                types = torch.zeros_like(ids)
                types[:, 4:] = 1
                arrays.update(input_ids=ids.numpy(), attention_mask=mask.numpy(), token_type_ids=types.numpy())
                hidden = model.transformer(input_ids=ids, attention_mask=mask, token_type_ids=types).last_hidden_state
                arrays["last_hidden_state"] = hidden.numpy()
                if not isinstance(model, XLNetForQuestionAnswering):
                    arrays["logits"] = model(input_ids=ids, attention_mask=mask, token_type_ids=types).logits.numpy()
            else:
                ids = torch.randint(0, vocab, (2, 6), generator=generator)
                arrays["input_ids"] = ids.numpy()
                arrays["last_hidden_state"] = model.transformer(input_ids=ids).last_hidden_state.numpy()
                arrays["logits"] = model(input_ids=ids).logits.numpy()
        write_npz(Path(str(out) + ".outputs.npz"), arrays)
        if job["kind"] == "transfo-xl":
            # PositionalEmbedding's buffer for a few widths (wt103/lm1b's 1024, the base models' 410 and 512):
            # torch's float32 pow, which the exporter's correctly rounded one may miss by an ulp
            result["inv_freq"] = {str(w): modeling_transfo_xl.PositionalEmbedding(w).inv_freq.tolist() for w in (66, 410, 512, 1024)}
        results.append(result)
    Path(jobs_path + ".out").write_text(json.dumps(results))


if __name__ == "__main__":
    if sys.argv[1:2] == ["--reference"]:
        reference_main(sys.argv[2])
    else:
        sys.exit(main())
