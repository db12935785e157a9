#!/usr/bin/env python3
"""Generate the decoder parity fixtures: tiny random-init causal language models and what PyTorch computes for them.

The companion of ``make_fixtures.py`` (encoders), with the same conventions and helpers: this script is the only
way the fixtures under ``Tests/Fixtures/decoders`` are made; it needs torch, transformers and numpy, while the
parity tests that consume the fixtures (``Tests/parity/test_decoder_parity.py``) need only onnx, onnxruntime and
numpy.

For every variant it writes ``Tests/Fixtures/decoders/<variant>/causal-lm/`` (one checkpoint serving the tasks
``text-generation``, ``text-generation-with-past`` and ``feature-extraction``) and, for some variants, one folder per
extra head (``text-classification``, ``token-classification``). Each folder holds:

* ``config.json`` + ``model.safetensors`` exactly as ``model.save_pretrained(dir)`` writes them (the two
  ``*-legacy-*`` variants then rewrite config.json in the transformers-4 spelling that most Hub checkpoints still
  use; the script checks that transformers reads the rewritten file back to the same model); the
  generation_config.json that save_pretrained adds for generative models is left out;
* ``reference.npz`` (float32 outputs, int64 inputs):

  causal-lm folders
    ``prompt.input_ids|attention_mask|position_ids`` [3, 6]: three prompts of different lengths, LEFT-padded with
    the pad id (config ``pad_token_id``, else 0), mask 0 there; position_ids exactly as ``generate`` passes them
    (``cumsum(mask) - 1``, padded positions 0; recorded from the model's forward call, not recomputed);
    ``generated`` [3, 12]: ``generate(greedy, max_new_tokens=min_new_tokens=6, eos disabled)``;
    ``full.input_ids|attention_mask|position_ids`` [3, 12] (= generated, prompt mask + ones, same position rule),
    ``full.logits`` [3, 12, vocab] (one eager forward pass), ``full.last_hidden_state`` [3, 12, hidden] (the base
    model's ``last_hidden_state``: after the final norm where the architecture has one);
    ``steps.logits.K`` [3, vocab], K = 0..5: the raw logits of generate's K-th forward pass (``output_logits``),
    step 0 being the prompt and step K feeding ``generated[:, 6 + K - 1]`` against the cache.
  classification folders (like the encoder fixtures)
    ``a.input.*`` / ``b.input.*`` (``input_ids``, ``attention_mask``; right- and left-padded rows) and
    ``a.output.logits`` / ``b.output.logits``.
* ``fixture.json``: model_type, the tasks served, per task the ONNX input/output names and axes of the contract in
  ``Tests/parity/test_decoder_parity.py``, the model dimensions the tests need (layers, kv heads, head_dim, vocab),
  what ``generate`` passed to the model, and notes on what the variant exercises.

Weights are re-initialised with a larger scale (as in make_fixtures.py), so logits reach ~1-10 and greedy decoding
does not collapse onto one token; a variant is reseeded until its continuations vary and every greedy step wins by
a clear margin (so onnxruntime's argmax cannot flip on rounding).

Run from anywhere:  ``/path/to/venv/bin/python Tests/Fixtures/make_decoder_fixtures.py``
The output is deterministic: the same library versions give the same bytes.
"""

from __future__ import annotations

import json
import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
import torch
import transformers
from torch import nn
from transformers import (
    AutoConfig,
    AutoModelForCausalLM,
    AutoModelForSequenceClassification,
    AutoModelForTokenClassification,
)

sys.path.insert(0, str(Path(__file__).resolve().parent))
from make_fixtures import BIAS_STD, NORM_STD, WEIGHT_STD, seed_of, write_npz  # noqa: E402  (shared conventions)

HERE = Path(__file__).resolve().parent
DECODERS = HERE / "decoders"

LAYERS = 2
MAX_POS = 64
PROMPT_LEN = 6  # P: prompts are left-padded to this length
PROMPT_LENGTHS = [6, 4, 1]  # real tokens per prompt row: full, padded, a single token
NEW_TOKENS = 6  # N
MIN_MARGIN = 2e-3  # every greedy step's top-1 logit beats the runner-up by at least this much
MIN_DISTINCT_PER_ROW = 2
MIN_DISTINCT_TOTAL = 6
MAX_ATTEMPTS = 200

CAUSAL_TASKS = ["text-generation", "text-generation-with-past", "feature-extraction"]
HEAD_TASKS = ["text-classification", "token-classification"]
HEAD_CLASS = {
    "text-classification": AutoModelForSequenceClassification,
    "token-classification": AutoModelForTokenClassification,
}
HEAD_NUM_LABELS = {"text-classification": 3, "token-classification": 4}


@dataclass
class Variant:
    name: str
    model_type: str
    config: dict
    notes: str
    heads: list[str] = field(default_factory=list)
    head_pad_token_id: int | None = None  # pad_token_id written into the classification configs
    # rewrites config.json after save_pretrained (the transformers-4 spelling of the same model)
    legacy_config: Callable[[dict], dict] | None = None
    legacy_note: str = ""
    weight_std: float = WEIGHT_STD
    # rope tables that transformers recomputes from each forward's length (dynamic, longrope): generate's cached
    # steps then legitimately differ from one forward over the whole sequence, so that consistency check is skipped
    length_dependent_rope: bool = False


def llama_like(**kw) -> dict:
    base = dict(num_hidden_layers=LAYERS, max_position_embeddings=MAX_POS, bos_token_id=1, eos_token_id=2)
    base.update(kw)
    return base


def gpt2_like(**kw) -> dict:
    base = dict(n_layer=LAYERS, n_positions=MAX_POS, bos_token_id=1, eos_token_id=2)
    base.update(kw)
    return base


def legacy_rope(cfg: dict) -> dict:
    """transformers-4 spelling: top-level rope_theta, rope_scaling with the old "type" key and the other keys."""
    rp = cfg.pop("rope_parameters")
    cfg["rope_theta"] = rp.pop("rope_theta")
    cfg["rope_scaling"] = {"type": rp.pop("rope_type"), **rp}
    return cfg


def legacy_gemma_gelu(cfg: dict) -> dict:
    """Gemma checkpoints on the Hub say hidden_act "gelu"; transformers maps it to gelu_pytorch_tanh."""
    cfg["hidden_act"] = "gelu"
    return cfg


VARIANTS: list[Variant] = [
    Variant(
        "gpt2", "gpt2",
        gpt2_like(vocab_size=97, n_embd=32, n_head=4, n_inner=72, activation_function="gelu_new"),
        "GPT-2: Conv1D weights ([in, out], x @ W + b), fused c_attn split q|k|v, 4 heads (head 8), n_inner 72, "
        "gelu_new (tanh approximation written out), layer_norm_epsilon 1e-5, learned positions wpe indexed by "
        "position_ids, final ln_f, tied lm_head (lm_head.weight absent: transformer.wte.weight). Heads: "
        "GPT2ForSequenceClassification (score, no bias, rightmost token != pad_token_id) and "
        "GPT2ForTokenClassification (classifier with bias).",
        heads=HEAD_TASKS, head_pad_token_id=5,
    ),
    Variant(
        "gpt2-scaled", "gpt2",
        gpt2_like(vocab_size=101, n_embd=30, n_head=3, activation_function="gelu", layer_norm_epsilon=1e-3,
                  scale_attn_by_inverse_layer_idx=True, reorder_and_upcast_attn=True),
        "GPT-2 with scale_attn_by_inverse_layer_idx true (layer i scores use 1/sqrt(head_dim)/(i+1)), 3 heads of "
        "size 10 (not a power of two), n_inner null (4 * n_embd = 120), exact erf gelu, layer_norm_epsilon 1e-3, "
        "reorder_and_upcast_attn true (same math in float32: scores q.k * scaling, computed in float32).",
    ),
    Variant(
        "openai-gpt", "openai-gpt",
        dict(vocab_size=99, n_embd=32, n_head=4, n_layer=LAYERS, n_positions=MAX_POS, afn="gelu"),
        "OpenAI GPT-1: post-LayerNorm blocks (ln_1(x + attn(x)), ln_2(n + mlp(n))), no final norm, MLP 4 * n_embd "
        "fixed, afn \"gelu\" which for this model means gelu_new (tanh approximation), scores divided by "
        "sqrt(head_dim), causal mask as w * tril + -1e4 * (1 - tril), padding mask (1 - mask) * finfo.min added "
        "after, tied lm_head. transformers has no KV cache for it: generate re-runs the full sequence each step "
        "(with the same position_ids rule), which the with-past export must reproduce.",
        heads=["text-classification"], head_pad_token_id=4,
    ),
    Variant(
        "llama", "llama",
        llama_like(vocab_size=101, hidden_size=32, num_attention_heads=4, num_key_value_heads=2,
                   intermediate_size=48, rms_norm_eps=1e-5),
        "LLaMA: grouped-query attention (4 query heads, 2 kv heads, head_dim 8), RMSNorm eps 1e-5, SwiGLU MLP "
        "(down(silu(gate(x)) * up(x))), rotate_half RoPE (default, rope_theta 10000 in rope_parameters), untied "
        "lm_head. Heads: LlamaForSequenceClassification (score, no bias, rightmost token != pad_token_id) and "
        "LlamaForTokenClassification (score with bias).",
        heads=HEAD_TASKS, head_pad_token_id=3,
    ),
    Variant(
        "llama-head16", "llama",
        llama_like(vocab_size=97, hidden_size=64, num_attention_heads=4, num_key_value_heads=2,
                   intermediate_size=48, rms_norm_eps=1e-5),
        "LLaMA with head_dim 16 (4 query heads, 2 kv heads, hidden 64): the smallest head onnxruntime's "
        "GroupQueryAttention rotates, so --target onnxruntime fuses every layer's attention; otherwise as llama.",
    ),
    Variant(
        "llama-linear-tied", "llama",
        llama_like(vocab_size=103, hidden_size=24, num_attention_heads=4, num_key_value_heads=4,
                   intermediate_size=40, tie_word_embeddings=True,
                   rope_parameters={"rope_type": "linear", "factor": 2.0, "rope_theta": 10000.0}),
        "LLaMA with tie_word_embeddings true (lm_head.weight absent: model.embed_tokens.weight), linear RoPE "
        "scaling factor 2 (inv_freq / 2), 4 heads = 4 kv heads (head_dim 6), rms_norm_eps default 1e-6.",
    ),
    Variant(
        "llama3-bias", "llama",
        llama_like(vocab_size=107, hidden_size=48, num_attention_heads=4, num_key_value_heads=2,
                   intermediate_size=64, attention_bias=True, mlp_bias=True,
                   rope_parameters={"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0,
                                    "high_freq_factor": 4.0, "original_max_position_embeddings": 32,
                                    "rope_theta": 10000.0}),
        "LLaMA 3.1 RoPE (rope_type llama3, factor 8, low_freq_factor 1, high_freq_factor 4, "
        "original_max_position_embeddings 32, theta 10000: with head_dim 12 the six frequencies fall in all three "
        "bands: wavelength < 8 kept, 8..32 smoothed, > 32 divided by 8), attention_bias true (q/k/v/o biases), "
        "mlp_bias true (gate/up/down biases), GQA 4/2 heads.",
    ),
    Variant(
        "llama-legacy-dynamic", "llama",
        llama_like(vocab_size=97, hidden_size=32, num_attention_heads=2, num_key_value_heads=1,
                   intermediate_size=44,
                   rope_parameters={"rope_type": "dynamic", "factor": 2.0, "rope_theta": 500000.0}),
        "LLaMA with a transformers-4 style config.json: top-level rope_theta 500000 and rope_scaling "
        "{\"type\": \"dynamic\", \"factor\": 2.0} (old key \"type\", no rope_parameters). Dynamic NTK scaling only "
        "changes inv_freq once max(position_ids) + 1 > max_position_embeddings (64), so for these sequences the "
        "frequencies are the default ones with theta 500000. MQA (2 heads, 1 kv head, head_dim 16).",
        legacy_config=legacy_rope,
        legacy_note="config.json rewritten after save_pretrained: rope_parameters -> top-level rope_theta + "
                    "rope_scaling {type, factor}",
    ),
    Variant(
        "llama-dynamic-long", "llama",
        llama_like(vocab_size=103, hidden_size=32, num_attention_heads=4, num_key_value_heads=2,
                   intermediate_size=40, max_position_embeddings=8,
                   rope_parameters={"rope_type": "dynamic", "factor": 3.0, "rope_theta": 10000.0}),
        "LLaMA with dynamic NTK RoPE (factor 3) and max_position_embeddings 8, shorter than the sequences: the prompt "
        "(6) uses the default frequencies, every later forward recomputes them from seq_len = max(position_ids) + 1 "
        "(theta * (3 * seq_len / 8 - 2) ** (8 / 6)), so the cached keys of earlier steps were rotated with other "
        "frequencies than a full forward uses. GQA 4/2 heads, head_dim 8.",
        length_dependent_rope=True,
    ),
    Variant(
        "mistral", "mistral",
        llama_like(vocab_size=100, hidden_size=32, num_attention_heads=4, num_key_value_heads=2,
                   intermediate_size=56, sliding_window=4096),
        "Mistral: GQA 4/2 heads (head_dim 8), sliding_window 4096 (longer than the sequences: plain causal), "
        "untied lm_head, rms_norm_eps 1e-6.",
        heads=HEAD_TASKS, head_pad_token_id=6,
    ),
    Variant(
        "mistral-window", "mistral",
        llama_like(vocab_size=98, hidden_size=32, num_attention_heads=4, num_key_value_heads=1,
                   intermediate_size=40, sliding_window=3),
        "Mistral with sliding_window 3, shorter than the sequences: key j is visible to query i iff "
        "i - 3 < j <= i in absolute (padded) index, padding included in the count; with the cache, index = "
        "past_sequence_length + offset. MQA (4 heads, 1 kv head).",
    ),
    Variant(
        "qwen2", "qwen2",
        llama_like(vocab_size=111, hidden_size=32, num_attention_heads=4, num_key_value_heads=2,
                   intermediate_size=64, tie_word_embeddings=True,
                   rope_parameters={"rope_type": "default", "rope_theta": 1000000.0}),
        "Qwen2: q/k/v projections with bias, o_proj without, GQA 4/2 heads, rope_theta 1e6, tied lm_head, "
        "use_sliding_window false (sliding_window saved as null). Head: Qwen2ForSequenceClassification.",
        heads=["text-classification"], head_pad_token_id=7,
    ),
    Variant(
        "qwen2-window-layers", "qwen2",
        llama_like(vocab_size=103, hidden_size=32, num_attention_heads=4, num_key_value_heads=2,
                   intermediate_size=40, use_sliding_window=True, sliding_window=3, max_window_layers=1),
        "Qwen2 with use_sliding_window, sliding_window 3 and max_window_layers 1: layer 0 attends to every earlier "
        "key, layer 1 only to keys i - 3 < j <= i (Qwen2Config's rule: sliding from max_window_layers on). GQA 4/2.",
        legacy_config=lambda cfg: (cfg.pop("layer_types"), cfg)[1],
        legacy_note="config.json rewritten after save_pretrained: layer_types removed (as transformers-4 Qwen2 "
                    "configs have it), so the layer split comes from use_sliding_window and max_window_layers",
    ),
    Variant(
        "qwen3-layer-types", "qwen3",
        llama_like(vocab_size=107, hidden_size=24, num_attention_heads=2, num_key_value_heads=1, head_dim=16,
                   intermediate_size=40, use_sliding_window=True, sliding_window=3, max_window_layers=28,
                   layer_types=["sliding_attention", "full_attention"]),
        "Qwen3 with explicit layer_types [sliding_attention, full_attention] and sliding_window 3: the list wins "
        "over max_window_layers 28 (whose rule would window no layer), so layer 0 is windowed and layer 1 is not. "
        "head_dim 16, MQA (2 heads, 1 kv head).",
    ),
    Variant(
        "qwen3-head16", "qwen3",
        llama_like(vocab_size=89, hidden_size=32, num_attention_heads=4, num_key_value_heads=2, head_dim=16,
                   intermediate_size=40),
        "Qwen3 with head_dim 16 (q_proj 32 -> 64): q_norm / k_norm on each head before RoPE, then attention that "
        "--target onnxruntime fuses into GroupQueryAttention (the norms applied to the [B, S, heads * 16] "
        "projections first). GQA 4/2, untied.",
    ),
    Variant(
        "qwen3", "qwen3",
        llama_like(vocab_size=113, hidden_size=32, num_attention_heads=4, num_key_value_heads=2, head_dim=12,
                   intermediate_size=48),
        "Qwen3: explicit head_dim 12 (q_proj 32 -> 48, o_proj 48 -> 32, not hidden/heads = 8), RMSNorm q_norm / "
        "k_norm over each head's 12 dims applied after the projection and before RoPE, no attention bias, GQA 4/2, "
        "untied lm_head.",
        heads=HEAD_TASKS, head_pad_token_id=8,
    ),
    Variant(
        "phi3", "phi3",
        llama_like(vocab_size=100, hidden_size=32, num_attention_heads=4, num_key_value_heads=2,
                   intermediate_size=40, pad_token_id=99, original_max_position_embeddings=MAX_POS),
        "Phi-3: fused qkv_proj [q 32 | k 16 | v 16] rows (GQA 4/2 heads, head_dim 8), fused gate_up_proj "
        "[gate 40 | up 40] rows (chunk(2): first half gate), down(up * silu(gate)), pad_token_id 99 (prompt padding "
        "uses it), partial_rotary_factor default 1.0 (written into rope_parameters), rms_norm_eps 1e-5, untied.",
        heads=["text-classification"], head_pad_token_id=99,
    ),
    Variant(
        "phi3-partial", "phi3",
        llama_like(vocab_size=105, hidden_size=32, num_attention_heads=2, num_key_value_heads=1,
                   intermediate_size=48, pad_token_id=0, original_max_position_embeddings=MAX_POS,
                   tie_word_embeddings=True,
                   rope_parameters={"rope_type": "default", "rope_theta": 10000.0, "partial_rotary_factor": 0.75}),
        "Phi-3 with partial_rotary_factor 0.75 (as Phi-4-mini): head_dim 16, RoPE on the first 12 dims "
        "(rotate_half within those 12, inv_freq from dim 12), the last 4 pass through; MQA (2 heads, 1 kv head), "
        "tied lm_head.",
    ),
    Variant(
        "phi3-longrope", "phi3",
        llama_like(vocab_size=101, hidden_size=32, num_attention_heads=4, num_key_value_heads=2,
                   intermediate_size=40, pad_token_id=0, original_max_position_embeddings=8,
                   rope_parameters={"rope_type": "longrope", "rope_theta": 10000.0,
                                    "short_factor": [1.0, 1.3, 2.1, 3.7], "long_factor": [1.2, 2.5, 5.0, 11.0]}),
        "Phi-3 128k-style longrope: original_max_position_embeddings 8 (top level, as Phi-3 configs have it), "
        "max_position_embeddings 64, so cos/sin are scaled by sqrt(1 + ln 8 / ln 8) = sqrt(2); inv_freq = "
        "1 / (factor_i * theta^(2i/8)) with short_factor while max(position_ids) + 1 <= 8 (the prompt and the first "
        "steps) and long_factor past it (later steps and the full forward). GQA 4/2 heads, head_dim 8.",
        legacy_config=legacy_rope, length_dependent_rope=True,
        legacy_note="config.json rewritten after save_pretrained: rope_parameters -> top-level rope_theta + "
                    "rope_scaling {type longrope, short_factor, long_factor, ...} as the Phi-3 Hub configs spell it",
    ),
    Variant(
        "qwen2-yarn", "qwen2",
        llama_like(vocab_size=99, hidden_size=32, num_attention_heads=2, num_key_value_heads=1,
                   intermediate_size=48,
                   rope_parameters={"rope_type": "yarn", "factor": 4.0, "original_max_position_embeddings": 2048,
                                    "rope_theta": 10000.0}),
        "Qwen2.5-style YaRN (factor 4, original_max_position_embeddings 2048, beta_fast 32 / beta_slow 1 by "
        "default): with head_dim 16 the correction range is dims 2..6, so inv_freq 0-2 are kept, 6-7 divided by 4 "
        "and 3-5 blended on the ramp; cos/sin scaled by 0.1 ln 4 + 1. MQA (2 heads, 1 kv head).",
        legacy_config=legacy_rope,
        legacy_note="config.json rewritten after save_pretrained: rope_parameters -> top-level rope_theta + "
                    "rope_scaling {type yarn, factor, original_max_position_embeddings} as Qwen2.5 configs spell it",
    ),
    Variant(
        "gemma", "gemma",
        llama_like(vocab_size=109, hidden_size=32, num_attention_heads=4, num_key_value_heads=1, head_dim=16,
                   intermediate_size=48, hidden_act="gelu_pytorch_tanh", hidden_activation="gelu_pytorch_tanh",
                   bos_token_id=2, eos_token_id=1),
        "Gemma: embeddings scaled by sqrt(hidden_size) (a float32 tensor sqrt(32)), RMSNorm x * rsqrt(mean(x^2) + "
        "eps) * (1 + weight), explicit head_dim 16 != 32 / 4, MQA (4 heads, 1 kv head), GeGLU MLP with "
        "gelu_pytorch_tanh (hidden_act; hidden_activation is written too, as in Hub configs, and ignored by "
        "transformers 5), tied lm_head, pad_token_id 0.",
        heads=HEAD_TASKS, head_pad_token_id=0,
    ),
    Variant(
        "gemma-legacy-gelu", "gemma",
        llama_like(vocab_size=97, hidden_size=24, num_attention_heads=2, num_key_value_heads=2, head_dim=8,
                   intermediate_size=40, hidden_act="gelu_pytorch_tanh", bos_token_id=2, eos_token_id=1),
        "Gemma with config.json hidden_act \"gelu\" (the spelling of the original Gemma checkpoints) and no "
        "hidden_activation: transformers maps it to gelu_pytorch_tanh (tanh approximation), not exact gelu. "
        "head_dim 8 != 24 / 2.",
        legacy_config=legacy_gemma_gelu, weight_std=0.4,
        legacy_note="config.json rewritten after save_pretrained: hidden_act gelu_pytorch_tanh -> gelu",
    ),
]


# --------------------------------------------------------------------------------------------------
# helpers


def reinit(model: nn.Module, gen: torch.Generator, weight_std: float) -> None:
    """Re-initialise every parameter with a larger scale (tied parameters are visited once).

    Norm weights: LayerNorm / RMSNorm ~ 1 + NORM_STD * N(0,1); Gemma's RMSNorm stores w with scale (1 + w), so its
    weights get NORM_STD * N(0,1) (same effective scale). Biases BIAS_STD, matrices and embeddings weight_std.
    """
    kinds: dict[str, str] = {}
    for mod_name, mod in model.named_modules():
        cls = type(mod).__name__
        if isinstance(mod, nn.LayerNorm) or cls.endswith("RMSNorm"):
            kind = "norm_offset" if cls == "GemmaRMSNorm" else "norm"
            for pn, _ in mod.named_parameters(recurse=False):
                kinds[f"{mod_name}.{pn}" if mod_name else pn] = kind if pn == "weight" else "bias"
    with torch.no_grad():
        for name, p in model.named_parameters():
            kind = kinds.get(name)
            if kind == "norm":
                p.copy_(1.0 + NORM_STD * torch.randn(p.shape, generator=gen))
            elif kind == "norm_offset":
                p.copy_(NORM_STD * torch.randn(p.shape, generator=gen))
            elif kind == "bias" or name.endswith("bias") or p.ndim == 1:
                p.copy_(BIAS_STD * torch.randn(p.shape, generator=gen))
            else:
                p.copy_(weight_std * torch.randn(p.shape, generator=gen))


def dims(config) -> dict:
    """The model dimensions the parity tests need (KV cache shapes, vocab, hidden)."""
    heads = config.num_attention_heads
    return {
        "num_layers": config.num_hidden_layers,
        "num_attention_heads": heads,
        "num_key_value_heads": getattr(config, "num_key_value_heads", None) or heads,
        "head_dim": getattr(config, "head_dim", None) or config.hidden_size // heads,
        "hidden_size": config.hidden_size,
        "vocab_size": config.vocab_size,
    }


def causal_io(d: dict) -> dict:
    """Per task: ONNX inputs, outputs and axes (a str is a symbolic dim_param, an int a fixed size)."""
    bs = ["batch_size", "sequence_length"]
    kv, hd, v, h = d["num_key_value_heads"], d["head_dim"], d["vocab_size"], d["hidden_size"]
    past = [f"past_key_values.{i}.{kind}" for i in range(d["num_layers"]) for kind in ("key", "value")]
    present = [f"present.{i}.{kind}" for i in range(d["num_layers"]) for kind in ("key", "value")]
    total = "past_sequence_length + sequence_length"
    io = {
        "text-generation": {
            "inputs": ["input_ids", "attention_mask", "position_ids"],
            "outputs": ["logits"],
            "input_axes": {"input_ids": bs, "attention_mask": bs, "position_ids": bs},
            "output_axes": {"logits": [*bs, v]},
        },
        "text-generation-with-past": {
            "inputs": ["input_ids", "attention_mask", "position_ids", *past],
            "outputs": ["logits", *present],
            "input_axes": {"input_ids": bs, "attention_mask": ["batch_size", total], "position_ids": bs,
                           **{n: ["batch_size", kv, "past_sequence_length", hd] for n in past}},
            "output_axes": {"logits": [*bs, v], **{n: ["batch_size", kv, total, hd] for n in present}},
        },
        "feature-extraction": {
            "inputs": ["input_ids", "attention_mask", "position_ids"],
            "outputs": ["last_hidden_state"],
            "input_axes": {"input_ids": bs, "attention_mask": bs, "position_ids": bs},
            "output_axes": {"last_hidden_state": [*bs, h]},
        },
    }
    return io


def head_io(task: str, num_labels: int) -> dict:
    bs = ["batch_size", "sequence_length"]
    out = ["batch_size", num_labels] if task == "text-classification" else [*bs, num_labels]
    return {task: {"inputs": ["input_ids", "attention_mask"], "outputs": ["logits"],
                   "input_axes": {"input_ids": bs, "attention_mask": bs}, "output_axes": {"logits": out}}}


def generation_position_ids(mask: np.ndarray) -> np.ndarray:
    """transformers 5 GenerationMixin._prepare_position_ids_for_generation: cumsum(mask) - 1, 0 where mask is 0."""
    pos = np.cumsum(mask, axis=-1) - 1
    return np.where(mask == 0, 0, pos).astype(np.int64)


def content_ids(rng: np.random.Generator, vocab: int, n: int, avoid: set[int]) -> np.ndarray:
    allowed = np.array([i for i in range(3, vocab) if i not in avoid], dtype=np.int64)
    return rng.choice(allowed, size=n)


def make_prompt(rng: np.random.Generator, vocab: int, pad: int) -> tuple[np.ndarray, np.ndarray]:
    ids = np.full((len(PROMPT_LENGTHS), PROMPT_LEN), pad, dtype=np.int64)
    mask = np.zeros_like(ids)
    for r, n in enumerate(PROMPT_LENGTHS):
        ids[r, PROMPT_LEN - n:] = content_ids(rng, vocab, n, {pad})
        mask[r, PROMPT_LEN - n:] = 1
    return ids, mask


def torchify(arrays: dict[str, np.ndarray]) -> dict[str, torch.Tensor]:
    return {k: torch.from_numpy(v) for k, v in arrays.items()}


def f32(t: torch.Tensor) -> np.ndarray:
    return t.detach().to(torch.float32).numpy().astype(np.float32)


def run_generate(model, ids: np.ndarray, mask: np.ndarray, pad: int) -> tuple[np.ndarray, list[np.ndarray], list]:
    """Greedy generate with eos disabled; returns sequences, raw per-step logits and what each forward received."""
    calls: list[dict] = []

    def hook(_module, _args, kwargs):
        calls.append({k: (v.clone() if torch.is_tensor(v) else v) for k, v in kwargs.items()
                      if k in ("input_ids", "attention_mask", "position_ids", "past_key_values", "use_cache")})

    model.generation_config.eos_token_id = None
    handle = model.register_forward_pre_hook(hook, with_kwargs=True)
    try:
        with torch.no_grad():
            out = model.generate(
                torch.from_numpy(ids), attention_mask=torch.from_numpy(mask),
                max_new_tokens=NEW_TOKENS, min_new_tokens=NEW_TOKENS, do_sample=False, num_beams=1,
                eos_token_id=None, pad_token_id=pad, output_logits=True, return_dict_in_generate=True,
            )
    finally:
        handle.remove()
    seq = out.sequences.numpy().astype(np.int64)
    if seq.shape != (len(PROMPT_LENGTHS), PROMPT_LEN + NEW_TOKENS):
        raise SystemExit(f"generate returned {seq.shape}; eos was not disabled?")
    return seq, [f32(l) for l in out.logits], calls


def quality(seq: np.ndarray, step_logits: list[np.ndarray]) -> tuple[bool, dict]:
    new = seq[:, PROMPT_LEN:]
    distinct_rows = [len(set(r.tolist())) for r in new]
    srt = [np.sort(l, axis=-1) for l in step_logits]
    margin = float(min((s[:, -1] - s[:, -2]).min() for s in srt))
    info = {"distinct_per_row": distinct_rows, "distinct_total": len(set(new.ravel().tolist())),
            "min_top1_margin": round(margin, 5), "max_abs_logit": round(float(max(np.abs(l).max() for l in step_logits)), 3)}
    ok = (min(distinct_rows) >= MIN_DISTINCT_PER_ROW and info["distinct_total"] >= MIN_DISTINCT_TOTAL
          and margin >= MIN_MARGIN)
    return ok, info


def describe_calls(calls: list[dict]) -> list[dict]:
    rows = []
    for c in calls:
        rows.append({
            "input_ids": list(c["input_ids"].shape),
            "attention_mask": list(c["attention_mask"].shape) if torch.is_tensor(c.get("attention_mask")) else None,
            "position_ids": c["position_ids"].tolist() if torch.is_tensor(c.get("position_ids")) else None,
            "past_key_values": type(c.get("past_key_values")).__name__ if c.get("past_key_values") is not None else None,
        })
    return rows


def rope_key(saved: dict) -> str:
    keys = [k for k in ("rope_parameters", "rope_scaling", "rope_theta", "partial_rotary_factor") if k in saved]
    return ", ".join(keys) if keys else "none (no rotary embedding)"


def write_meta(out_dir: Path, meta: dict) -> None:
    (out_dir / "fixture.json").write_text(json.dumps(meta, indent=2) + "\n")


def save_checkpoint(model, out_dir: Path, v: Variant) -> dict:
    out_dir.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out_dir)
    # save_pretrained also writes generation_config.json for generative models; the fixture is config + weights
    # (and ours had eos switched off for the reference run), so it is left out
    (out_dir / "generation_config.json").unlink(missing_ok=True)
    cfg_path = out_dir / "config.json"
    saved = json.loads(cfg_path.read_text())
    if v.legacy_config is not None:
        saved = v.legacy_config(saved)
        cfg_path.write_text(json.dumps(saved, indent=2, sort_keys=True) + "\n")
    return saved


def check_reload(cls, out_dir: Path, name: str, run: Callable, expected: dict[str, np.ndarray]) -> None:
    """The saved folder (tied weights left out, legacy config rewritten) must give the same outputs."""
    reloaded, info = cls.from_pretrained(out_dir, attn_implementation="eager", output_loading_info=True)
    bad = {k: v_ for k, v_ in info.items() if v_}
    if bad:
        raise SystemExit(f"{name}: loading the saved checkpoint reported {bad}")
    reloaded.eval()
    got = run(reloaded)
    for k, a in got.items():
        diff = float(np.abs(a - expected[k]).max())
        if diff > 1e-6:
            raise SystemExit(f"{name}: reloaded model differs on {k} by {diff}")


def meta_common(v: Variant, name: str, arch: str, seed: int, saved: dict) -> dict:
    return {
        "name": name,
        "model_type": v.model_type,
        "architecture": arch,
        "config_rope_keys": rope_key(saved),
        "config_json": v.legacy_note or "as written by save_pretrained (transformers 5)",
        "notes": v.notes,
        "seed": seed,
        "generated_with": {"torch": torch.__version__.split("+")[0], "transformers": transformers.__version__},
    }


# --------------------------------------------------------------------------------------------------
# causal-lm folders


def build_causal(v: Variant) -> dict:
    name = f"{v.name}/causal-lm"
    out_dir = DECODERS / v.name / "causal-lm"
    config = AutoConfig.for_model(v.model_type, **v.config)
    pad = config.pad_token_id if config.pad_token_id is not None else 0

    tried = []
    for attempt in range(MAX_ATTEMPTS):
        seed = (seed_of(name) + 7919 * attempt) & 0x7FFFFFFF
        torch.manual_seed(seed)
        gen = torch.Generator().manual_seed(seed)
        model = AutoModelForCausalLM.from_config(config, attn_implementation="eager")
        reinit(model, gen, v.weight_std)
        model.eval()
        rng = np.random.default_rng(seed)
        ids, mask = make_prompt(rng, config.vocab_size, pad)
        seq, step_logits, calls = run_generate(model, ids, mask, pad)
        ok, q = quality(seq, step_logits)
        tried.append(q)
        if ok:
            break
    else:
        raise SystemExit(f"{name}: no seed in {MAX_ATTEMPTS} gave varied, well-separated greedy steps: {tried[-3:]}")

    # what generate passed at the prompt step is the reference (not our reimplementation of it)
    prompt_pos = calls[0]["position_ids"].numpy().astype(np.int64)
    if prompt_pos.shape != ids.shape:
        raise SystemExit(f"{name}: prompt forward got position_ids {prompt_pos.shape}")
    if not np.array_equal(prompt_pos, generation_position_ids(mask)):
        raise SystemExit(f"{name}: generate's position_ids {prompt_pos.tolist()} differ from cumsum(mask)-1 rule")
    uses_cache = calls[1]["input_ids"].shape[1] == 1
    full_mask = np.concatenate([mask, np.ones((mask.shape[0], NEW_TOKENS), np.int64)], axis=1)
    full_pos = generation_position_ids(full_mask)
    recomputed = []  # steps where generate dropped the cache and ran the whole sequence again
    for k, c in enumerate(calls):
        want = full_pos[:, : PROMPT_LEN + k]
        if uses_cache and k > 0:
            if c["input_ids"].shape[1] == PROMPT_LEN + k:
                # Phi-3 with longrope: once the length crosses original_max_position_embeddings, its
                # prepare_inputs_for_generation discards the cache so every key is rotated with the long factors
                recomputed.append(k)
            else:
                want = want[:, -1:]
        if not np.array_equal(c["position_ids"].numpy(), want):
            raise SystemExit(f"{name}: step {k} position_ids {c['position_ids'].tolist()} != {want.tolist()}")
    for k in range(NEW_TOKENS):
        if not np.array_equal(step_logits[k].argmax(-1), seq[:, PROMPT_LEN + k]):
            raise SystemExit(f"{name}: step {k} argmax differs from the generated token (a logits processor ran?)")

    full = {"input_ids": seq, "attention_mask": full_mask, "position_ids": full_pos}

    def run_full(m) -> dict[str, np.ndarray]:
        with torch.no_grad():
            lm = m(**torchify(full), use_cache=False, return_dict=True)
            base = m.base_model(**torchify(full), return_dict=True)
            return {"logits": f32(lm.logits), "last_hidden_state": f32(base.last_hidden_state)}

    ref = run_full(model)
    # consistency: generate's cached steps agree with one forward over the whole sequence, and so does the head
    step_vs_full = max(float(np.abs(step_logits[k] - ref["logits"][:, PROMPT_LEN - 1 + k]).max())
                       for k in range(NEW_TOKENS))
    if step_vs_full > 1e-4 and not v.length_dependent_rope:
        raise SystemExit(f"{name}: generate's step logits differ from the full forward by {step_vs_full}")
    with torch.no_grad():
        head = f32(model.get_output_embeddings()(torch.from_numpy(ref["last_hidden_state"])))
    if float(np.abs(head - ref["logits"]).max()) > 1e-4:
        raise SystemExit(f"{name}: lm_head(last_hidden_state) != logits")

    saved = save_checkpoint(model, out_dir, v)
    check_reload(AutoModelForCausalLM, out_dir, name, run_full, ref)

    arrays: dict[str, np.ndarray] = {
        "prompt.input_ids": ids, "prompt.attention_mask": mask, "prompt.position_ids": prompt_pos,
        "generated": seq,
        "full.input_ids": seq, "full.attention_mask": full_mask, "full.position_ids": full_pos,
        "full.logits": ref["logits"], "full.last_hidden_state": ref["last_hidden_state"],
    }
    for k, l in enumerate(step_logits):
        arrays[f"steps.logits.{k}"] = l
    write_npz(out_dir / "reference.npz", arrays)

    d = dims(model.config)
    meta = meta_common(v, name, type(model).__name__, seed, saved)
    meta.update({
        "tasks": CAUSAL_TASKS,
        "io": causal_io(d),
        "dims": d,
        "pad_token_id_used": pad,
        "generation": {
            "prompt_length": PROMPT_LEN,
            "prompt_lengths": PROMPT_LENGTHS,
            "new_tokens": NEW_TOKENS,
            "padding_side": "left",
            "position_ids": "cumsum(attention_mask) - 1, then 0 where attention_mask is 0 "
                            "(GenerationMixin._prepare_position_ids_for_generation); each new token: last + 1",
            "uses_cache": uses_cache,
            "forward_calls": describe_calls(calls),
            "seed_attempts": len(tried),
            "quality": q,
            "max_step_vs_full_forward_diff": step_vs_full,
            **({"recomputed_steps": recomputed} if recomputed else {}),
            **({"length_dependent_rope": True} if v.length_dependent_rope else {}),
        },
        "compare": "logits / last_hidden_state at positions where the attention mask is 1",
    })
    write_meta(out_dir, meta)
    return {"name": name, "arch": type(model).__name__, "bytes": folder_bytes(out_dir), "quality": q,
            "max_logit": float(np.abs(ref["logits"]).max()), "seq": seq[:, PROMPT_LEN:]}


# --------------------------------------------------------------------------------------------------
# classification folders


def head_input_sets(rng: np.random.Generator, vocab: int, pad: int) -> dict[str, dict[str, np.ndarray]]:
    """Set a: a full row and a right-padded one. Set b: left-padded, full, right-padded whose last real token is
    the pad id (mask 1 there: pooling takes the rightmost token != pad_token_id, i.e. the one before), and a
    short left-padded row."""
    def build(seq: int, rows: list[tuple[str, int]]) -> dict[str, np.ndarray]:
        ids = np.full((len(rows), seq), pad, dtype=np.int64)
        mask = np.zeros_like(ids)
        for r, (side, n) in enumerate(rows):
            sl = slice(0, n) if side in ("right", "right-pad-last") else slice(seq - n, seq)
            ids[r, sl] = content_ids(rng, vocab, n, {pad})
            mask[r, sl] = 1
            if side == "right-pad-last":
                ids[r, n - 1] = pad
        return {"input_ids": ids, "attention_mask": mask}

    return {
        "a": build(7, [("right", 7), ("right", 4)]),
        "b": build(9, [("left", 5), ("left", 9), ("right-pad-last", 6), ("left", 2)]),
    }


def build_head(v: Variant, task: str) -> dict:
    name = f"{v.name}/{task}"
    out_dir = DECODERS / v.name / task
    kw = dict(v.config)
    kw["num_labels"] = HEAD_NUM_LABELS[task]
    if v.head_pad_token_id is not None:
        kw["pad_token_id"] = v.head_pad_token_id
    config = AutoConfig.for_model(v.model_type, **kw)
    pad = config.pad_token_id if config.pad_token_id is not None else 0
    cls = HEAD_CLASS[task]

    seed = seed_of(name)
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    model = cls.from_config(config, attn_implementation="eager")
    reinit(model, gen, v.weight_std)
    model.eval()
    rng = np.random.default_rng(seed)
    sets = head_input_sets(rng, config.vocab_size, pad)

    def run(m) -> dict[str, np.ndarray]:
        res = {}
        with torch.no_grad():
            for s, inputs in sets.items():
                res[s] = f32(m(**torchify(inputs), return_dict=True).logits)
        return res

    ref = run(model)
    saved = save_checkpoint(model, out_dir, v)
    check_reload(cls, out_dir, name, run, ref)

    arrays: dict[str, np.ndarray] = {}
    for s, inputs in sets.items():
        for k, a in inputs.items():
            arrays[f"{s}.input.{k}"] = a
        arrays[f"{s}.output.logits"] = ref[s]
    write_npz(out_dir / "reference.npz", arrays)

    io = head_io(task, HEAD_NUM_LABELS[task])
    meta = meta_common(v, name, type(model).__name__, seed, saved)
    meta.update({
        "task": task,
        "tasks": [task],
        "io": io,
        "inputs": io[task]["inputs"],
        "outputs": io[task]["outputs"],
        "input_axes": io[task]["input_axes"],
        "output_axes": io[task]["output_axes"],
        "dims": dims(model.config),
        "pad_token_id_used": pad,
        "inputs_choice": "input_ids + attention_mask only, as optimum's TextDecoder(WithPositionIds)OnnxConfig "
                         "declares for classification tasks (position_ids only for text-generation and "
                         "feature-extraction); the model then uses position_ids = arange(sequence_length), also "
                         "for left-padded rows",
        "compare": ("all logits (pooled at the rightmost token != pad_token_id)" if task == "text-classification"
                    else "logits at positions where the attention mask is 1"),
    })
    write_meta(out_dir, meta)
    return {"name": name, "arch": type(model).__name__, "bytes": folder_bytes(out_dir), "quality": None,
            "max_logit": float(max(np.abs(a).max() for a in ref.values())), "seq": None}


def folder_bytes(d: Path) -> int:
    return sum(f.stat().st_size for f in d.iterdir())


# --------------------------------------------------------------------------------------------------


def main() -> int:
    torch.use_deterministic_algorithms(True)
    torch.set_num_threads(1)
    transformers.utils.logging.set_verbosity_error()
    transformers.utils.logging.disable_progress_bar()

    only = set(sys.argv[1:])
    if DECODERS.exists() and not only:
        shutil.rmtree(DECODERS)
    DECODERS.mkdir(parents=True, exist_ok=True)

    rows = []
    for v in VARIANTS:
        if only and v.name not in only:
            continue
        if (DECODERS / v.name).exists():
            shutil.rmtree(DECODERS / v.name)
        rows.append(build_causal(v))
        for task in v.heads:
            rows.append(build_head(v, task))

    print(f"{'fixture':40} {'class':34} {'KB':>6} {'max|logit|':>10} {'margin':>8}  greedy continuation")
    for r in rows:
        q = r["quality"]
        margin = f"{q['min_top1_margin']:8.4f}" if q else f"{'':8}"
        cont = " | ".join(" ".join(str(t) for t in row) for row in r["seq"]) if r["seq"] is not None else ""
        print(f"{r['name']:40} {r['arch']:34} {r['bytes'] / 1024:6.1f} {r['max_logit']:10.3f} {margin}  {cont}")
    total = sum(f.stat().st_size for f in DECODERS.rglob("*") if f.is_file())
    print(f"\n{len(rows)} fixtures, decoders/ holds {total / 1e6:.2f} MB  "
          f"(torch {torch.__version__}, transformers {transformers.__version__})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
