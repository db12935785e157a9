#!/usr/bin/env python3
"""Random-config parity sweep against transformers: the checks the committed fixtures cannot make.

The fixtures pin a few dozen configs; real checkpoints come with others. Each case here draws a
model_type, a config (widths, head and key/value head counts, head_dim, layer counts, activations,
epsilons, label counts, tied or untied heads, biases, sliding windows and their per-layer split,
rope scaling), a task, an opset, a storage (safetensors or `pytorch_model.bin`, single file or
sharded, float32 or a float16/bfloat16 checkpoint) and whether the weights go to external data,
builds the transformers model with random weights (norm scales away from 1, biases away from 0),
saves it, exports it with onnx-export and compares onnxruntime's outputs with the model as
transformers reloads it in float32:

- encoders: every output over right-padded rows (per-token outputs at unmasked positions);
- decoders: left-padded prompts with generate's position_ids; with a KV cache, three more
  steps, each fed the previous step's `present` and compared with transformers' own cached step
  (as `generate` runs it: rope tables that depend on the length are recomputed per step; OpenAI
  GPT, which has no cache in transformers, against the whole sequence);
- decoder classification heads: positions 0..S-1 and the rightmost token that is not the pad id;
- encoder-decoders (T5, mT5, UMT5): the encoder's output over a right-padded batch, the first
  decoder step on a few tokens, then three cached steps through `decoder_with_past_model.onnx` and
  the same through `decoder_model_merged.onnx`, each against transformers' own cached step.

fp32 must be within 3 × the parity tests' bound (1e-5 of the output's scale, at most 1e-4); a
share of cases export `--dtype fp16` and must be within the fp16 bound, 1e-2 of the scale. An
fp16 case over it where PyTorch's own float16 run of the same inputs is over it too is counted
as `fp16-limit`, not as a failure: random weights sometimes sit where float16 arithmetic cannot
reach the bound, whoever computes it.

    /path/to/torch-venv/bin/python scripts/parity_sweep.py [--cases 200] [--seed 0] [--wide] [--families gpt2 llama ...]

Needs torch, transformers and onnxruntime (the venv the fixture scripts use); not run by CI. Exit
status 1 when a case fails; each failing checkpoint is kept under --keep with a line to rerun it.
(Its first run found Qwen2/3 windows applied to every layer instead of those from
max_window_layers on.)
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import random
import shutil
import subprocess
import sys
import tempfile
import traceback
from dataclasses import dataclass

import numpy as np
import onnxruntime as ort
import torch
import transformers as T

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "Tests", "parity"))
from bounds import FP16_BOUND, max_abs, max_abs_diff, tolerance_for  # noqa: E402  (the parity tests' own bounds)
OPSETS = [11, 13, 14, 17, 18, 20, 21, 23, 28]
ACTIVATIONS = ["gelu", "gelu_new", "gelu_pytorch_tanh", "gelu_fast", "quick_gelu", "relu", "silu", "tanh",
               "sigmoid", "mish", "gelu_python"]
ENCODER_TASKS = {"feature-extraction": T.AutoModel, "fill-mask": T.AutoModelForMaskedLM,
                 "text-classification": T.AutoModelForSequenceClassification,
                 "token-classification": T.AutoModelForTokenClassification,
                 "question-answering": T.AutoModelForQuestionAnswering,
                 "multiple-choice": T.AutoModelForMultipleChoice}
DECODER_TASKS = {"feature-extraction": T.AutoModel, "text-generation": T.AutoModelForCausalLM,
                 "text-generation-with-past": T.AutoModelForCausalLM,
                 "text-classification": T.AutoModelForSequenceClassification,
                 "token-classification": T.AutoModelForTokenClassification}
ENCODERS = ["bert", "roberta", "xlm-roberta", "distilbert", "electra", "albert", "xlm", "deberta-v2", "mpnet", "xlnet"]
# Encoders whose tokenizers pad on the left, and which score every position for text-generation instead of fill-mask.
LEFT_PADDED = {"xlnet"}
XLNET_TASKS = {t: c for t, c in ENCODER_TASKS.items() if t != "fill-mask"} | {"text-generation": T.AutoModelForCausalLM}
# Families whose relative positions need longer sequences to reach their log buckets.
LONG_SEQUENCES = {"deberta-v2", "mpnet"}
DECODERS = ["gpt2", "openai-gpt", "llama", "mistral", "qwen2", "qwen3", "phi3", "gemma"]
SEQ2SEQ = ["t5", "mt5", "umt5"]
SEQ2SEQ_TASKS = {"feature-extraction": T.AutoModelForSeq2SeqLM, "text2text-generation": T.AutoModelForSeq2SeqLM,
                 "text2text-generation-with-past": T.AutoModelForSeq2SeqLM}


# ------------------------------------------------------------------------------------------ configs

@dataclass(frozen=True)
class Widths:
    """What the widths are drawn from: tiny (fast, the default) or those of real checkpoints (`--wide`)."""
    heads: tuple[int, ...] = (1, 2, 3, 4, 6)
    head_sizes: tuple[int, ...] = (4, 8, 12, 16)
    mlp: tuple[int, int] = (8, 80)

    def draw(self, r: random.Random) -> tuple[int, int]:
        return r.choice(self.heads), r.choice(self.head_sizes)

    def mlp_width(self, r: random.Random) -> int:
        return r.randint(*self.mlp)


TINY = Widths()
WIDE = Widths(heads=(2, 4, 8, 12), head_sizes=(32, 64, 80, 128), mlp=(64, 1536))


def encoder_config(r: random.Random, model_type: str, widths: Widths = TINY):
    heads, head_size = widths.draw(r)
    hidden = heads * head_size
    if model_type == "distilbert":
        return T.DistilBertConfig(vocab_size=r.randint(40, 200), dim=hidden, n_heads=heads, n_layers=r.randint(1, 3),
                                  hidden_dim=widths.mlp_width(r), activation=r.choice(["gelu", "relu"]),
                                  sinusoidal_pos_embds=r.random() < 0.3, max_position_embeddings=r.randint(24, 80),
                                  num_labels=r.randint(1, 5), pad_token_id=r.choice([0, 1, 3]))
    common = dict(vocab_size=r.randint(40, 200), hidden_size=hidden, num_attention_heads=heads,
                  num_hidden_layers=r.randint(1, 3), intermediate_size=widths.mlp_width(r),
                  hidden_act=r.choice(ACTIVATIONS), layer_norm_eps=r.choice([1e-12, 1e-5, 1e-3]),
                  type_vocab_size=r.randint(1, 3), num_labels=r.randint(1, 5),
                  max_position_embeddings=r.randint(24, 80))
    if model_type == "bert":
        return T.BertConfig(pad_token_id=r.choice([0, 2]), **common)
    if model_type == "albert":
        return T.AlbertConfig(embedding_size=r.choice([hidden, max(4, hidden // 2), hidden + 4]),
                              num_hidden_groups=r.randint(1, 3), inner_group_num=r.randint(1, 2),
                              pad_token_id=0, **dict(common, num_hidden_layers=r.randint(1, 4)))
    if model_type == "xlm":
        del common["type_vocab_size"], common["hidden_act"]
        return T.XLMConfig(emb_dim=common.pop("hidden_size"), n_heads=common.pop("num_attention_heads"),
                           n_layers=common.pop("num_hidden_layers"), gelu_activation=r.random() < 0.7,
                           sinusoidal_embeddings=r.random() < 0.3, causal=r.random() < 0.3,
                           n_langs=r.choice([1, 2, 3]), use_lang_emb=r.random() < 0.8,
                           summary_type=r.choice(["first", "last", "mean", "cls_index"]),
                           summary_activation=r.choice([None, "tanh", "gelu"]), pad_token_id=2,
                           **{k: v for k, v in common.items() if k != "intermediate_size"})
    if model_type == "deberta-v2":
        kinds = r.choice([[], ["c2p"], ["p2c"], ["p2c", "c2p"], "p2c|c2p"])
        buckets = r.choice([-1, 4, 8, 16])
        max_relative = r.choice([-1, r.randint(buckets // 2 + 2 if buckets > 0 else 2, 48)])
        groups = r.choice([d for d in (1, 2, 4) if hidden % d == 0])
        common.update(type_vocab_size=r.randint(0, 2), max_position_embeddings=r.randint(50, 80))
        legacy = r.random() < 0.5  # the newer MLM head needs embedding_size == hidden_size (transformers fails otherwise)
        return T.DebertaV2Config(
            relative_attention=r.random() < 0.85, pos_att_type=kinds, position_buckets=buckets,
            max_relative_positions=max_relative if buckets <= 0 or max_relative > 0 else -1,
            share_att_key=r.random() < 0.5, norm_rel_ebd=r.choice(["none", "layer_norm"]),
            position_biased_input=r.random() < 0.5, embedding_size=r.choice([hidden, max(4, hidden // 2)]) if legacy else hidden,
            conv_kernel_size=r.choice([0, 0, 1, 3, 5]), conv_groups=groups, conv_act=r.choice(["tanh", "gelu", "relu"]),
            pooler_hidden_act=r.choice(["gelu", "tanh"]), legacy=legacy, pad_token_id=0, **common)
    if model_type == "xlnet":
        return T.XLNetConfig(vocab_size=common["vocab_size"], d_model=hidden, n_head=heads, n_layer=common["num_hidden_layers"],
                             d_inner=common["intermediate_size"], ff_activation=r.choice(ACTIVATIONS),
                             layer_norm_eps=common["layer_norm_eps"], clamp_len=r.choice([-1, -1, r.randint(1, 12)]),
                             tie_word_embeddings=r.random() < 0.7, summary_type=r.choice(["first", "last", "mean"]),
                             summary_activation=r.choice(["", "tanh", "gelu"]), num_labels=common["num_labels"],
                             pad_token_id=5, mem_len=None)
    if model_type == "mpnet":
        del common["type_vocab_size"]
        common["max_position_embeddings"] = r.randint(52, 80)  # positions start after the fixed pad id 1
        return T.MPNetConfig(relative_attention_num_buckets=r.choice([32, 40]), pad_token_id=1, **common)
    if model_type in ("roberta", "xlm-roberta"):
        pad = r.choice([1, 2, 5])
        common["max_position_embeddings"] += pad + 1  # positions start after the pad id
        cls = T.RobertaConfig if model_type == "roberta" else T.XLMRobertaConfig
        return cls(pad_token_id=pad, bos_token_id=0, eos_token_id=2, **common)
    return T.ElectraConfig(embedding_size=r.choice([hidden, max(4, hidden // 2), hidden + 4]),
                           summary_type=r.choice(["first", "last", "mean"]),
                           summary_activation=r.choice(["gelu", "tanh"]), pad_token_id=0, **common)


def rope_scaling(r: random.Random):
    pick = r.random()
    if pick < 0.45:
        return None
    if pick < 0.55:
        return {"rope_type": "linear", "factor": r.choice([2.0, 4.0])}
    if pick < 0.65:
        return {"rope_type": "dynamic", "factor": r.choice([2.0, 3.0])}
    if pick < 0.8:
        return {"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0,
                "original_max_position_embeddings": r.choice([8, 16, 32])}
    return {"rope_type": "yarn", "factor": r.choice([2.0, 4.0]), "original_max_position_embeddings": r.choice([8, 16])}


def decoder_config(r: random.Random, model_type: str, widths: Widths = TINY):
    heads, head_size = widths.draw(r)
    hidden = heads * head_size
    gpt = dict(vocab_size=r.randint(40, 200), n_embd=hidden, n_head=heads, n_layer=r.randint(1, 3),
               n_positions=r.randint(32, 80), layer_norm_epsilon=r.choice([1e-5, 1e-3]),
               num_labels=r.randint(1, 4), pad_token_id=r.randint(0, 30))
    if model_type == "gpt2":
        return T.GPT2Config(n_inner=r.choice([None, widths.mlp_width(r)]),
                            activation_function=r.choice(["gelu_new", "gelu", "relu", "silu", "gelu_pytorch_tanh"]),
                            scale_attn_weights=r.random() < 0.8, scale_attn_by_inverse_layer_idx=r.random() < 0.3,
                            reorder_and_upcast_attn=r.random() < 0.2, **gpt)
    if model_type == "openai-gpt":
        return T.OpenAIGPTConfig(afn=r.choice(["gelu", "relu", "silu", "swish"]), **gpt)
    key_value_heads = r.choice([k for k in range(1, heads + 1) if heads % k == 0])
    explicit_head_dim = r.choice([None, head_size, 2 * head_size])
    window = dict(use_sliding_window=r.random() < 0.3, sliding_window=r.choice([3, 5]), max_window_layers=r.randint(0, 3))
    common = dict(vocab_size=r.randint(40, 200), hidden_size=hidden, num_attention_heads=heads,
                  num_key_value_heads=key_value_heads, num_hidden_layers=r.randint(1, 3),
                  intermediate_size=widths.mlp_width(r), rms_norm_eps=r.choice([1e-6, 1e-5, 1e-3]),
                  max_position_embeddings=r.choice([6, 9, r.randint(32, 80)]),
                  rope_theta=r.choice([10000.0, 500000.0, 1e6]), rope_scaling=rope_scaling(r),
                  tie_word_embeddings=r.random() < 0.4, num_labels=r.randint(1, 4), pad_token_id=r.randint(0, 30))
    if model_type == "llama":
        return T.LlamaConfig(head_dim=explicit_head_dim or head_size, attention_bias=r.random() < 0.3,
                             mlp_bias=r.random() < 0.3, hidden_act=r.choice(["silu", "gelu", "relu"]), **common)
    if model_type == "mistral":
        return T.MistralConfig(head_dim=explicit_head_dim or head_size, sliding_window=r.choice([None, 3, 5, 100]),
                               **common)
    if model_type == "qwen2":
        return T.Qwen2Config(**window, **common)
    if model_type == "qwen3":
        return T.Qwen3Config(head_dim=explicit_head_dim or head_size, attention_bias=r.random() < 0.3, **window,
                             **common)
    if model_type == "phi3":  # longrope: short factors up to the original length, long ones past it
        partial = r.choice([1.0, 0.5])
        original = r.choice([4, 8, common["max_position_embeddings"]])
        common["max_position_embeddings"] = max(common["max_position_embeddings"], original)
        pairs = int(head_size * partial) // 2
        if r.random() < 0.5:
            common["rope_scaling"] = {"rope_type": "longrope", "short_factor": [r.uniform(1, 1.5) for _ in range(pairs)],
                                      "long_factor": [r.uniform(1, 8) for _ in range(pairs)]}
        else:
            common["rope_scaling"] = None
        return T.Phi3Config(partial_rotary_factor=partial, sliding_window=r.choice([None, 4, 100]),
                            original_max_position_embeddings=original, **common)
    return T.GemmaConfig(head_dim=explicit_head_dim or head_size, hidden_activation="gelu_pytorch_tanh", **common)


# ------------------------------------------------------------------------------------------ a case

@dataclass
class Case:
    seed: int
    model_type: str
    task: str
    opset: int
    fp16: bool
    external_data: bool  # every weight in model.onnx_data (`--external-data always`)
    storage: str = ""

    def __str__(self):
        return (f"seed={self.seed} {self.model_type} {self.task} opset {self.opset}" + (" fp16" if self.fp16 else "")
                + (" external-data" if self.external_data else "") + (f" ({self.storage})" if self.storage else ""))


def seq2seq_config(r: random.Random, model_type: str, widths: Widths = TINY):
    """T5-family: d_kv × heads free of d_model, encoder and decoder depths apart, buckets and distances that
    short inputs pass, every feed-forward form, tied (scaled) or untied heads."""
    heads, size = widths.draw(r)
    buckets = r.choice([4, 6, 8, 16, 32])
    return T.AutoConfig.for_model(
        model_type, vocab_size=r.randint(40, 160), d_model=r.choice([heads * size, r.randint(4, 24) * 2]), d_kv=size,
        num_heads=heads, d_ff=widths.mlp_width(r), num_layers=r.randint(1, 3), num_decoder_layers=r.randint(1, 3),
        relative_attention_num_buckets=buckets, relative_attention_max_distance=r.randint(buckets // 2 + 1, 3 * buckets),
        feed_forward_proj=r.choice(["relu", "gelu", "gated-gelu", "gated-silu", "gated-relu", "gelu_new"]),
        layer_norm_epsilon=r.choice([1e-6, 1e-5]), tie_word_embeddings=r.random() < 0.5, decoder_start_token_id=0,
        pad_token_id=0, eos_token_id=1)


def randomize(model: torch.nn.Module, gen: torch.Generator) -> None:
    """Weights a trained checkpoint could have: norm scales around 1, every bias and matrix random,
    matrices wider than 32 scaled down by √(32 / width) so activations keep their size through the layers
    (with a fixed spread they grow with the width, and 1024-wide models' float32 rounding alone passed 1e-4)."""
    with torch.no_grad():
        for name, p in model.named_parameters():
            noise = torch.randn(p.shape, generator=gen)
            if p.ndim == 1:
                p.copy_(1 + 0.2 * noise if name.endswith("weight") else 0.3 * noise)
            else:
                p.copy_(0.25 * min(1.0, (32 / min(p.shape)) ** 0.5) * noise)


def save(r: random.Random, model: torch.nn.Module, folder: str) -> str:
    half = r.random() < 0.2
    if half:
        model.to(r.choice([torch.float16, torch.bfloat16]))
    shard = r.random() < 0.33
    safetensors = r.random() < 0.7
    model.save_pretrained(folder, safe_serialization=safetensors, **({"max_shard_size": "20KB"} if shard else {}))
    dtype = str(next(model.parameters()).dtype).removeprefix("torch.")
    return ", ".join([("safetensors" if safetensors else ".bin") + (" shards" if shard else ""), dtype])


def export(binary: str, case: Case, folder: str, out: str) -> None:
    cmd = [binary, "--model", folder, "--task", case.task, "--opset", str(case.opset), "--force", out]
    cmd += ["--external-data", "always"] if case.external_data else []
    done = subprocess.run(cmd + (["--dtype", "fp16"] if case.fp16 else []), capture_output=True, text=True, timeout=300)
    if done.returncode:
        raise AssertionError(f"export exited {done.returncode}: {done.stderr.strip()[:400]}")


class Float16Limit(AssertionError):
    """Over the fp16 bound, and so is PyTorch's own float16 run of the same inputs."""


def compare(case: Case, name: str, got, want, where=None, torch_half=None) -> None:
    """got/want compared at `where` (all positions when None); torch_half: PyTorch's float16 output, fp16 only."""
    got, want = np.asarray(got), np.asarray(want)
    if got.shape != want.shape:
        raise AssertionError(f"{name}: shape {got.shape}, PyTorch {want.shape}")
    worst, scale = max_abs_diff(got, want, where), max_abs(want, where)
    bound = FP16_BOUND * scale if case.fp16 else 3 * tolerance_for(want, where)
    if worst <= bound:
        return
    message = f"{name}: max |diff| {worst:.3g} > {bound:.3g} (scale {scale:.3g})"
    if case.fp16 and torch_half is not None and np.isfinite(worst):
        theirs = max_abs_diff(np.asarray(torch_half), want, where)
        if theirs > bound:
            raise Float16Limit(f"{message}; PyTorch's float16 run: {theirs:.3g}")
    raise AssertionError(message)


class Runner:
    """The exported model in onnxruntime and the reloaded model in PyTorch (float32, and float16 for fp16 cases)."""

    def __init__(self, case: Case, cls, folder: str, out: str):
        self.case = case
        self.session = ort.InferenceSession(os.path.join(out, "model.onnx"), providers=["CPUExecutionProvider"])
        self.inputs = {i.name: i for i in self.session.get_inputs()}
        self.outputs = [o.name for o in self.session.get_outputs()]
        self.model = cls.from_pretrained(folder, dtype=torch.float32).eval()
        self.half = cls.from_pretrained(folder, dtype=torch.float16).eval() if case.fp16 else None

    def onnx(self, feeds: dict) -> dict:
        feeds = {k: v for k, v in feeds.items() if k in self.inputs}
        return dict(zip(self.outputs, self.session.run(None, feeds)))

    def torch(self, feeds: dict, caches: tuple | None = None) -> tuple[object, object]:
        """Both PyTorch models on the graph's inputs; with `caches` (their outputs of the previous step),
        a cached step as `generate` runs it: the reference for rope tables that depend on the length."""
        args = {k: torch.tensor(v) for k, v in feeds.items() if k in self.inputs and not k.startswith("past")}
        cached = lambda i: {} if caches is None else {"past_key_values": caches[i].past_key_values, "use_cache": True}
        with torch.no_grad():
            return self.model(**args, **cached(0)), self.half_run(args, cached(1))

    def half_run(self, args: dict, cached: dict):
        """PyTorch's float16 run, or None where transformers cannot run the model in float16 on CPU
        (XLNet mixes float32 masks into float16 matmuls): the float32 reference then judges alone."""
        if self.half is None:
            return None
        try:
            return self.half(**args, **cached)
        except RuntimeError as e:
            if "expected scalar type" not in str(e):
                raise
            return None


def field(result, name):
    return None if result is None else getattr(result, name).float().numpy()


def run_encoder(case: Case, runner: Runner, rng: np.random.Generator, config) -> None:
    batch, length = 2, int(rng.integers(3, 48 if case.model_type in LONG_SEQUENCES else 13))
    pad = config.pad_token_id or 0
    ids = rng.integers(max(pad, 3) + 1, config.vocab_size, (batch, length))
    mask = np.ones((batch, length), np.int64)
    cut = int(rng.integers(1, length))
    if case.model_type in LEFT_PADDED:
        mask[1, :length - cut], ids[1, :length - cut] = 0, pad
    else:
        mask[1, cut:], ids[1, cut:] = 0, pad
    # XLM looks token types up in its word embeddings: any small word id will do.
    types = rng.integers(0, max(1, getattr(config, "type_vocab_size", 2)), (batch, length))
    langs = rng.integers(0, getattr(config, "n_langs", 1), (batch, length))
    if case.task == "multiple-choice":
        ids, mask, types, langs = (np.repeat(a[:, None], 3, 1) for a in (ids, mask, types, langs))
    feeds = {"input_ids": ids, "attention_mask": mask, "token_type_ids": types, "langs": langs}
    got = runner.onnx(feeds)
    want, half = runner.torch(feeds)
    for name, value in got.items():
        pooled = name == "pooler_output" or case.task in ("text-classification", "multiple-choice")
        compare(case, name, value, field(want, name), None if pooled else mask == 1, field(half, name))


def run_decoder(case: Case, runner: Runner, rng: np.random.Generator, config) -> None:
    batch, length, pad, vocab = 2, int(rng.integers(3, 11)), config.pad_token_id, config.vocab_size

    def tokens(shape):
        ids = rng.integers(0, vocab, shape)
        ids[ids == pad] = (pad + 1) % vocab
        return ids

    ids, mask = tokens((batch, length)), np.ones((batch, length), np.int64)
    cut = int(rng.integers(1, length))
    if case.task == "text-classification":  # right padding with the pad id; pooling finds the token before it
        ids[1, cut:] = pad
        feeds = {"input_ids": ids, "attention_mask": mask}
        want, half = runner.torch(feeds)
        compare(case, "logits", runner.onnx(feeds)["logits"], field(want, "logits"), None, field(half, "logits"))
        return
    mask[1, :cut], ids[1, :cut] = 0, pad  # left padding, positions as generate numbers them
    positions = np.cumsum(mask, -1) - 1
    positions[mask == 0] = 1
    feeds = {"input_ids": ids, "attention_mask": mask, "position_ids": positions}
    pasts = [n for n in runner.inputs if n.startswith("past_key_values")]
    for name in pasts:
        spec = runner.inputs[name]
        feeds[name] = np.zeros((batch, spec.shape[1], 0, spec.shape[3]), np.float16 if "float16" in spec.type else np.float32)
    got = runner.onnx(feeds)
    want, half = runner.torch(feeds)
    key = "logits" if "logits" in got else "last_hidden_state"
    compare(case, f"prompt {key}", got[key], field(want, key), mask == 1, field(half, key))
    for step in range(3 if pasts else 0):
        new = tokens((batch, 1))
        mask = np.concatenate([mask, np.ones((batch, 1), np.int64)], 1)
        step_positions = positions[:, -1:] + 1
        step_feeds = {"input_ids": new, "attention_mask": mask, "position_ids": step_positions}
        step_feeds.update({n: got["present" + n.removeprefix("past_key_values")] for n in pasts})
        got = runner.onnx(step_feeds)
        ids, positions = np.concatenate([ids, new], 1), np.concatenate([positions, step_positions], 1)
        if getattr(want, "past_key_values", None) is not None:  # a cached step, as generate runs it
            want, half = runner.torch(step_feeds, caches=(want, half))
        else:  # no cache in transformers (OpenAI GPT): the whole sequence again
            want, half = runner.torch({"input_ids": ids, "attention_mask": mask, "position_ids": positions})
        last = lambda a: None if a is None else a[:, -1:]
        compare(case, f"step {step} logits", got["logits"], last(field(want, "logits")), None, last(field(half, "logits")))


def run_seq2seq(case: Case, folder: str, out: str, rng: np.random.Generator, config) -> None:
    """Encoder, first decoder step and three cached steps (separate and merged files) against transformers."""
    model = T.AutoModelForSeq2SeqLM.from_pretrained(folder, dtype=torch.float32).eval()
    batch, length = 2, int(rng.integers(2, 24))
    ids = rng.integers(2, config.vocab_size, (batch, length))
    mask = np.ones((batch, length), np.int64)
    cut = int(rng.integers(1, length))
    mask[1, cut:], ids[1, cut:] = 0, 0
    session = lambda name: ort.InferenceSession(os.path.join(out, name), providers=["CPUExecutionProvider"])
    encoder = session("model.onnx" if case.task == "feature-extraction" else "encoder_model.onnx")
    (encoded,) = encoder.run(None, {"input_ids": ids, "attention_mask": mask})
    with torch.no_grad():
        want = model.get_encoder()(input_ids=torch.tensor(ids), attention_mask=torch.tensor(mask)).last_hidden_state
    compare(case, "encoder last_hidden_state", encoded, want.numpy())
    if case.task == "feature-extraction":
        return
    prompt = rng.integers(2, config.vocab_size, (batch, int(rng.integers(1, 5))))
    prompt[:, 0] = 0
    common = {"encoder_attention_mask": mask, "encoder_hidden_states": encoded}
    first = session("decoder_model.onnx")
    names = [o.name for o in first.get_outputs()]
    got = dict(zip(names, first.run(None, {**common, "input_ids": prompt})))
    with torch.no_grad():
        reference = model(input_ids=torch.tensor(ids), attention_mask=torch.tensor(mask),
                          decoder_input_ids=torch.tensor(prompt), use_cache=True)
    compare(case, "first step logits", got["logits"], reference.logits.numpy())
    if case.task != "text2text-generation-with-past":
        return
    steps = [rng.integers(2, config.vocab_size, (batch, 1)) for _ in range(3)]
    wants, cache = [], reference.past_key_values
    with torch.no_grad():
        for token in steps:
            r = model(encoder_outputs=(torch.tensor(encoded),), attention_mask=torch.tensor(mask),
                      decoder_input_ids=torch.tensor(token), past_key_values=cache, use_cache=True)
            wants.append(r.logits.numpy())
            cache = r.past_key_values
    for file in ("decoder_with_past_model.onnx", "decoder_model_merged.onnx"):
        later = session(file)
        inputs = {i.name for i in later.get_inputs()}
        outputs = [o.name for o in later.get_outputs()]
        pasts = {n.replace("present.", "past_key_values."): v for n, v in got.items() if n.startswith("present.")}
        for k, token in enumerate(steps):
            feeds = {**common, **pasts, "input_ids": token, "use_cache_branch": np.array([True])}
            step = dict(zip(outputs, later.run(None, {n: v for n, v in feeds.items() if n in inputs})))
            compare(case, f"{file} step {k} logits", step["logits"], wants[k])
            pasts.update({n.replace("present.", "past_key_values."): v for n, v in step.items() if ".decoder." in n})


def run_case(seed: int, families: list[str], binary: str, fp16_share: float, keep: str,
             widths: Widths = TINY) -> tuple[Case, str, str]:
    """The case drawn from `seed`, its outcome (ok, FAIL, fp16-limit, skip) and what went wrong."""
    r = random.Random(seed)
    model_type = r.choice(families)
    encoder, seq2seq = model_type in ENCODERS, model_type in SEQ2SEQ
    task_classes = (XLNET_TASKS if model_type == "xlnet" else ENCODER_TASKS) if encoder else SEQ2SEQ_TASKS if seq2seq else DECODER_TASKS
    tasks = [t for t in task_classes
             if not (model_type == "openai-gpt" and t == "token-classification")]  # no such head in transformers
    # Encoder-decoders run in float32 only here (their float16 guard has a test of its own).
    case = Case(seed, model_type, r.choice(tasks), r.choice(OPSETS), not seq2seq and r.random() < fp16_share, r.random() < 0.15)
    try:
        config = (encoder_config if encoder else seq2seq_config if seq2seq else decoder_config)(r, model_type, widths)
    except (ValueError, TypeError) as e:  # a draw transformers' config class refuses is no case
        return case, "skip", f"transformers refuses the config ({type(e).__name__}: {str(e)[:120]})"
    if case.task == "question-answering":
        config.num_labels = 2  # start and end; transformers' QA heads fail with any other count
    cls = task_classes[case.task]
    work = tempfile.mkdtemp(prefix="parity-sweep-")
    folder, out = os.path.join(work, "checkpoint"), os.path.join(work, "onnx")
    try:
        model = cls.from_config(config).eval()
        if seq2seq and not config.tie_word_embeddings and hasattr(model, "lm_head"):
            # transformers 5 ties T5's head to `shared` at init whatever the config says; a separate
            # tensor is what untied checkpoints hold (it reloads untied when the two differ).
            model.lm_head.weight = torch.nn.Parameter(model.lm_head.weight.detach().clone())
        randomize(model, torch.Generator().manual_seed(seed))
        if seq2seq:
            # T5 does not scale attention scores by 1/√d_kv: its query projections carry that factor (Mesh
            # TensorFlow initialises them with it, and trained checkpoints keep it). Without it, random queries
            # of width 64–128 saturate every softmax and float32 PyTorch itself drifts 1e-4 from float64.
            with torch.no_grad():
                for name, p in model.named_parameters():
                    if name.endswith(("SelfAttention.q.weight", "EncDecAttention.q.weight")):
                        p.mul_(config.d_kv ** -0.5)
        case.storage = save(r, model, folder)
        export(binary, case, folder, out)
        if seq2seq:
            run_seq2seq(case, folder, out, np.random.default_rng(seed), config)
            return case, "ok", ""
        runner = Runner(case, cls, folder, out)
        (run_encoder if encoder else run_decoder)(case, runner, np.random.default_rng(seed), config)
        return case, "ok", ""
    except Float16Limit as e:
        return case, "fp16-limit", str(e)
    except Exception as e:  # a failing case is reported, kept and the sweep goes on
        message = str(e) if isinstance(e, AssertionError) else "".join(traceback.format_exception_only(e)).strip()
        if os.path.isdir(folder):
            kept = os.path.join(keep, f"seed-{seed}")
            shutil.rmtree(kept, ignore_errors=True)
            shutil.copytree(folder, kept)
            flags = (" --dtype fp16" if case.fp16 else "") + (" --external-data always" if case.external_data else "")
            message += f"\n    checkpoint: {kept}  (onnx-export --model {kept} --task {case.task} --opset {case.opset}{flags})"
        return case, "FAIL", message
    finally:
        shutil.rmtree(work, ignore_errors=True)


def run_isolated(seed: int, *args) -> tuple[object, str, str]:
    """`run_case` in a forked process, so a runtime that crashes (onnxruntime has segfaulted creating a
    session) is one failed case, not the end of the sweep."""
    receive, send = multiprocessing.Pipe(duplex=False)
    worker = multiprocessing.get_context("fork").Process(target=lambda: send.send(run_case(seed, *args)))
    worker.start()
    worker.join()
    if worker.exitcode == 0 and receive.poll():
        return receive.recv()
    return f"seed={seed}", "FAIL", f"the case's process died (exit {worker.exitcode}; a negative exit is the signal)"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--cases", type=int, default=200)
    ap.add_argument("--seed", type=int, default=0, help="first case's seed; case k uses seed + k")
    ap.add_argument("--families", nargs="+", default=ENCODERS + DECODERS + SEQ2SEQ, choices=ENCODERS + DECODERS + SEQ2SEQ)
    ap.add_argument("--wide", action="store_true",
                    help="widths of real checkpoints (2-12 heads of 32-128, MLPs up to 1536) instead of tiny ones")
    ap.add_argument("--fp16-share", type=float, default=0.15, help="share of cases exported with --dtype fp16")
    ap.add_argument("--bin", default=os.path.join(ROOT, ".build", "release", "onnx-export"))
    ap.add_argument("--keep", default=os.path.join(tempfile.gettempdir(), "parity-sweep-failures"))
    args = ap.parse_args()
    if not os.access(args.bin, os.X_OK):
        sys.exit(f"{args.bin}: not built (swift build -c release)")
    T.logging.set_verbosity_error()
    T.logging.disable_progress_bar()
    ort.set_default_logger_severity(3)  # Gemma's fp16 `1 + weight` Add warns that it cannot be constant-folded
    outcomes = {"ok": 0, "FAIL": 0, "fp16-limit": 0, "skip": 0}
    for k in range(args.cases):
        case, outcome, message = run_isolated(args.seed + k, args.families, args.bin, args.fp16_share, args.keep,
                                              WIDE if args.wide else TINY)
        outcomes[outcome] += 1
        print(f"{outcome:4} {case}" + (f": {message}" if message else ""), flush=True)
    print(f"{outcomes['FAIL']} of {args.cases} cases failed ({outcomes['fp16-limit']} at float16's limit, "
          f"{outcomes['skip']} skipped; transformers {T.__version__}, torch {torch.__version__}, "
          f"onnxruntime {ort.__version__})")
    return 1 if outcomes["FAIL"] else 0


if __name__ == "__main__":
    sys.exit(main())
