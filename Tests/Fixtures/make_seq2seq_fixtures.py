#!/usr/bin/env python3
"""Generate the encoder-decoder parity fixtures: tiny random-init T5-family models and what PyTorch computes for them.

The companion of ``make_fixtures.py`` (encoders) and ``make_decoder_fixtures.py`` (causal LMs), with the same
conventions: this script is the only way the fixtures under ``Tests/Fixtures/seq2seq`` are made; it needs torch,
transformers (4.57.x: its T5 configs are the ones Hub checkpoints carry, ``tie_word_embeddings`` deciding the
head) and numpy, while the parity tests that consume them (``Tests/parity/test_seq2seq_parity.py``) need only
onnx, onnxruntime and numpy.

For every variant it writes ``Tests/Fixtures/seq2seq/<variant>/`` holding:

* ``config.json`` + ``model.safetensors`` exactly as ``T5ForConditionalGeneration.save_pretrained`` (or the
  mT5 / UMT5 class) writes them; the generation_config.json it adds is left out (the tests pass their settings);
* ``reference.npz`` (float32 outputs, int64 inputs):

  ``encoder.input_ids|attention_mask`` [2, 11]: row 0 eleven real tokens, row 1 seven then padding (id 0, mask 0);
  ``encoder.last_hidden_state`` [2, 11, d_model]: the encoder's output (every position, padded ones included);
  ``decoder.input_ids`` [2, 7]: ``decoder_start_token_id`` then six random tokens (teacher forcing);
  ``decoder.logits`` [2, 7, vocab]: one forward pass of the whole model on those;
  ``generated`` [2, 1 + N]: ``generate`` (greedy, ``max_new_tokens=N``, no eos), starting token included;
  ``steps.logits.K`` [2, vocab], K = 0..N-1: the raw logits of generate's K-th decoder step (``output_logits``).
* ``fixture.json``: model_type, the model dimensions the tests need, the generation settings, notes.

and ``Tests/Fixtures/seq2seq-fp16/t5-overflow/`` (``write_overflow_fixture``): T5 v1.1 with one feed-forward
scaled until float16 overflows, and PyTorch's float16 outputs, for the float16 guard's test.

Weights are re-initialised with larger scales (embedding std 1 (T5 v1.0's tied one 0.3), an untied head 0.3, projections 0.2, bias tables 0.5, norms
1 ± 0.1) so logits spread and greedy decoding does not collapse onto one token; a variant is reseeded until its
continuations vary, every greedy step wins by a clear margin (so onnxruntime's argmax cannot flip on rounding) and
float32 PyTorch stays within 2e-6 of float64 on the logits, relative to their scale (so a 1e-5 comparison measures
the export, not the fixture's amplification of rounding).

Run from anywhere:  ``/path/to/venv/bin/python Tests/Fixtures/make_seq2seq_fixtures.py [--only NAME ...]``
The output is deterministic: the same library versions give the same bytes.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import transformers
from transformers import DynamicCache, EncoderDecoderCache, GenerationConfig, MT5ForConditionalGeneration, T5ForConditionalGeneration, UMT5ForConditionalGeneration

sys.path.insert(0, str(Path(__file__).resolve().parent))
from make_fixtures import seed_of, write_npz  # noqa: E402  (shared conventions)

HERE = Path(__file__).resolve().parent
SEQ2SEQ = HERE / "seq2seq"

ENCODER_LENGTH = 11
PADDED_ROW_LENGTH = 7
DECODER_LENGTH = 7
NEW_TOKENS = 8
MIN_MARGIN = 2e-3
MIN_DISTINCT_PER_ROW = 3
MAX_ATTEMPTS = 200
PROJECTION_STD = 0.2
# float32 PyTorch against float64 on the teacher-forced logits, relative to their scale: a seed whose model
# amplifies rounding past this is skipped (ill-conditioned fixtures would make 1e-5 parity unmeasurable).
CONDITIONING_LIMIT = 2e-6
HEAD_STD = 0.3  # an untied head: logits of a few units, as the tied head's (whose std 1 table meets d_model^-0.5)

CLASSES = {"t5": T5ForConditionalGeneration, "mt5": MT5ForConditionalGeneration, "umt5": UMT5ForConditionalGeneration}


@dataclass
class Variant:
    name: str
    model_type: str
    config: dict
    notes: str
    # The tied head meets its own input token's embedding, which dominates the residual stream at std 1 and
    # makes greedy decoding repeat it: T5 v1.0 takes a smaller table.
    embedding_std: float = 1.0


VARIANTS = [
    Variant("t5", "t5", dict(vocab_size=90, d_model=32, d_kv=8, num_heads=4, d_ff=48, num_layers=2,
                             relative_attention_num_buckets=8, relative_attention_max_distance=6,
                             feed_forward_proj="relu", decoder_start_token_id=0),
            "T5 v1.0: ReLU feed-forward, head tied to the shared embedding and fed d_model^-0.5 · hidden; "
            "8 buckets up to distance 6, so the inputs' distances pass the largest bucket", embedding_std=0.3),
    Variant("t5-v1_1", "t5", dict(vocab_size=96, d_model=32, d_kv=12, num_heads=4, d_ff=40, num_layers=2,
                                  num_decoder_layers=3, relative_attention_num_buckets=16,
                                  relative_attention_max_distance=10, feed_forward_proj="gated-gelu",
                                  tie_word_embeddings=False, decoder_start_token_id=0),
            "T5 v1.1: gated GELU (tanh form), untied unscaled head, d_kv x heads = 48 != d_model 32, "
            "3 decoder layers against 2 encoder layers"),
    Variant("mt5", "mt5", dict(vocab_size=120, d_model=24, d_kv=8, num_heads=3, d_ff=40, num_layers=2,
                               feed_forward_proj="gated-gelu", tie_word_embeddings=False, decoder_start_token_id=0),
            "mT5: T5 v1.1's arithmetic, transformers' default 32 buckets up to distance 128"),
    Variant("umt5", "umt5", dict(vocab_size=100, d_model=32, d_kv=8, num_heads=4, d_ff=48, num_layers=2,
                                 relative_attention_num_buckets=8, relative_attention_max_distance=12,
                                 feed_forward_proj="gated-gelu", tie_word_embeddings=False, decoder_start_token_id=0),
            "UMT5: a relative attention bias table in every self-attention layer, encoder and decoder"),
]


def reinit(model: torch.nn.Module, gen: torch.Generator, embedding_std: float) -> None:
    """Larger-scale weights (tied parameters are visited once)."""
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith("layer_norm.weight"):
                p.copy_(1.0 + 0.1 * torch.randn(p.shape, generator=gen))
            elif "relative_attention_bias" in name:
                p.copy_(0.5 * torch.randn(p.shape, generator=gen))
            elif name.startswith("shared"):
                p.copy_(embedding_std * torch.randn(p.shape, generator=gen))
            elif name.startswith("lm_head"):
                p.copy_(HEAD_STD * torch.randn(p.shape, generator=gen))
            else:
                p.copy_(PROJECTION_STD * torch.randn(p.shape, generator=gen))


def make_inputs(vocab: int, gen: torch.Generator) -> dict[str, torch.Tensor]:
    ids = torch.randint(2, vocab, (2, ENCODER_LENGTH), generator=gen)
    mask = torch.ones_like(ids)
    ids[1, PADDED_ROW_LENGTH:] = 0
    mask[1, PADDED_ROW_LENGTH:] = 0
    decoder = torch.randint(2, vocab, (2, DECODER_LENGTH), generator=gen)
    decoder[:, 0] = 0
    return {"input_ids": ids, "attention_mask": mask, "decoder_input_ids": decoder}


def build(v: Variant):
    cls = CLASSES[v.model_type]
    config = cls.config_class(**v.config)
    for attempt in range(MAX_ATTEMPTS):
        gen = torch.Generator().manual_seed(seed_of(v.name) + attempt)
        torch.manual_seed(seed_of(v.name) + attempt)
        model = cls(config).eval()
        reinit(model, gen, v.embedding_std)
        model.generation_config.eos_token_id = None  # no early stop: every row generates N tokens
        inputs = make_inputs(config.vocab_size, gen)
        settings = GenerationConfig(decoder_start_token_id=0, pad_token_id=0, eos_token_id=None, bos_token_id=None,
                                    max_new_tokens=NEW_TOKENS, do_sample=False, num_beams=1)
        with torch.no_grad():
            # A cache that grows its layers as they come: the one generate sizes from the config
            # has num_layers entries, too few when the decoder has more layers (transformers 4.57).
            cache = EncoderDecoderCache(DynamicCache(), DynamicCache())
            out = model.generate(input_ids=inputs["input_ids"], attention_mask=inputs["attention_mask"],
                                 generation_config=settings, output_logits=True, return_dict_in_generate=True,
                                 past_key_values=cache)
        steps = [l.float().numpy() for l in out.logits]
        top2 = [np.sort(s, axis=-1)[:, -2:] for s in steps]
        margin = min(float((t[:, 1] - t[:, 0]).min()) for t in top2)
        rows = out.sequences[:, 1:].numpy()
        varied = all(len(set(r.tolist())) >= MIN_DISTINCT_PER_ROW for r in rows)
        with torch.no_grad():
            single = model(**inputs).logits.numpy()
            double = model.double()(**inputs).logits.numpy()
        model.float()
        conditioning = float(np.abs(single - double).max() / max(1.0, np.abs(double).max()))
        if margin >= MIN_MARGIN and varied and rows.shape[1] == NEW_TOKENS and conditioning <= CONDITIONING_LIMIT:
            return model, inputs, out, steps, attempt, margin
        print(f"  attempt {attempt}: margin {margin:.2g}, conditioning {conditioning:.2g}, rows {rows.tolist()}")
    raise SystemExit(f"{v.name}: no seed among {MAX_ATTEMPTS} gives varied continuations with margin {MIN_MARGIN}")


def write_variant(v: Variant) -> None:
    model, inputs, out, steps, attempt, margin = build(v)
    folder = SEQ2SEQ / v.name
    if folder.exists():
        shutil.rmtree(folder)
    model.save_pretrained(folder, safe_serialization=True)
    (folder / "generation_config.json").unlink(missing_ok=True)
    with torch.no_grad():
        encoded = model.get_encoder()(input_ids=inputs["input_ids"], attention_mask=inputs["attention_mask"]).last_hidden_state
        logits = model(**inputs).logits
        # The same model read back from the folder must give the same outputs (nothing lost in saving).
        again = type(model).from_pretrained(folder).eval()
        assert torch.equal(again(**inputs).logits, logits), f"{v.name}: reloaded model differs"
    arrays = {
        "encoder.input_ids": inputs["input_ids"].numpy().astype(np.int64),
        "encoder.attention_mask": inputs["attention_mask"].numpy().astype(np.int64),
        "encoder.last_hidden_state": encoded.numpy().astype(np.float32),
        "decoder.input_ids": inputs["decoder_input_ids"].numpy().astype(np.int64),
        "decoder.logits": logits.numpy().astype(np.float32),
        "generated": out.sequences.numpy().astype(np.int64),
    }
    for k, s in enumerate(steps):
        arrays[f"steps.logits.{k}"] = s.astype(np.float32)
    write_npz(folder / "reference.npz", arrays)
    c = model.config
    meta = {
        "model_type": v.model_type,
        "dims": {"d_model": c.d_model, "num_heads": c.num_heads, "d_kv": c.d_kv, "num_layers": c.num_layers,
                 "num_decoder_layers": c.num_decoder_layers, "vocab_size": c.vocab_size},
        "generation": {"new_tokens": NEW_TOKENS, "decoder_start_token_id": 0, "greedy_margin": round(margin, 6)},
        "seed_attempt": attempt,
        "made_with": {"transformers": transformers.__version__, "torch": torch.__version__},
        "notes": v.notes,
    }
    (folder / "fixture.json").write_text(json.dumps(meta, indent=2) + "\n")
    print(f"{v.name}: attempt {attempt}, margin {margin:.4f}, generated {out.sequences.tolist()}")


OVERFLOW = HERE / "seq2seq-fp16" / "t5-overflow"
OVERFLOW_SCALE = 3e4


def write_overflow_fixture() -> None:
    """T5 v1.1's fixture with the first encoder block's ``wo`` scaled by 3e4, so that in float16 its feed-forward
    output overflows to infinity and transformers' guard clamps it (``T5Block``): what an fp16 export must
    reproduce instead of turning the infinities into NaN. reference.npz holds PyTorch's float16 outputs (as
    float32): ``encoder.last_hidden_state`` and ``decoder.logits`` for the t5-v1_1 fixture's inputs."""
    source = SEQ2SEQ / "t5-v1_1"
    model = T5ForConditionalGeneration.from_pretrained(source).eval()
    with torch.no_grad():
        model.encoder.block[0].layer[1].DenseReluDense.wo.weight.mul_(OVERFLOW_SCALE)
    if OVERFLOW.exists():
        shutil.rmtree(OVERFLOW)
    model.save_pretrained(OVERFLOW, safe_serialization=True)
    (OVERFLOW / "generation_config.json").unlink(missing_ok=True)
    with np.load(source / "reference.npz") as z:
        ids, mask, decoder = (torch.from_numpy(z[k]) for k in ("encoder.input_ids", "encoder.attention_mask", "decoder.input_ids"))
    half = model.half()
    overflowed = []
    hook = half.encoder.block[0].layer[1].register_forward_hook(lambda m, i, o: overflowed.append(bool(torch.isinf(o).any())))
    with torch.no_grad():
        encoded = half.get_encoder()(input_ids=ids, attention_mask=mask).last_hidden_state
        logits = half(input_ids=ids, attention_mask=mask, decoder_input_ids=decoder).logits
    hook.remove()
    assert overflowed and all(overflowed), "the scaled feed-forward did not overflow float16"
    assert torch.isfinite(encoded).all() and torch.isfinite(logits).all()
    write_npz(OVERFLOW / "reference.npz", {
        "encoder.input_ids": ids.numpy(), "encoder.attention_mask": mask.numpy(), "decoder.input_ids": decoder.numpy(),
        "encoder.last_hidden_state": encoded.float().numpy(), "decoder.logits": logits.float().numpy()})
    meta = {"model_type": "t5", "source": "seq2seq/t5-v1_1", "scaled": "encoder.block.0.layer.1.DenseReluDense.wo.weight",
            "scale": OVERFLOW_SCALE, "float16_overflow_before_guard": True,
            "made_with": {"transformers": transformers.__version__, "torch": torch.__version__}}
    (OVERFLOW / "overflow.json").write_text(json.dumps(meta, indent=2) + "\n")
    print(f"t5-overflow: float16 outputs finite after the guard, logits max {float(logits.abs().max()):.3g}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="*", help="variant names to (re)generate")
    args = parser.parse_args()
    for v in VARIANTS:
        if args.only and v.name not in args.only:
            continue
        write_variant(v)
    if not args.only or "t5-overflow" in args.only:
        write_overflow_fixture()


if __name__ == "__main__":
    main()
