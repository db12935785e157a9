#!/usr/bin/env python3
"""Generate the Transformer-XL parity fixtures: tiny random-init ``TransfoXLLMHeadModel``s and what PyTorch computes.

The companion of ``make_decoder_fixtures.py`` for the one segment-recurrent architecture: its cache is not keys and
values but each layer's input of earlier segments (``mems``), so it has a test of its own
(``Tests/parity/test_transfo_xl_parity.py``, onnx + onnxruntime + numpy only). transformers 5 dropped Transformer-XL:
this script needs transformers 4.x (made with 4.57.6) and torch.

transformers 4.57's ``modeling_transfo_xl.py`` does not run on current torch: ``TransfoXLModel.forward`` calls
``torch.arange(...).type_as(dtype=word_emb.dtype)``, which torch refuses. Patch the venv's copy (only there) to
``.to(word_emb.dtype)``, the same conversion:

    perl -0pi -e 's/\\.type_as\\(\\s*dtype=word_emb\\.dtype\\s*\\)/.to(word_emb.dtype)/' \\
        $VENV/lib/python3.*/site-packages/transformers/models/deprecated/transfo_xl/modeling_transfo_xl.py

(a ``sed`` over the three lines works as well); the script checks the patch is there.

transformers 4.57's ``generate`` does not work for Transformer-XL either (the model does not inherit
``GenerationMixin``; mixed in, generate hands a ``DynamicCache`` to ``mems`` and the forward fails). The greedy
tokens are therefore made by the loop generate ran for this model before caches became objects: the first call on
the prompt without ``mems``, then every step through the model's own ``prepare_inputs_for_generation`` (the last
token and ``mems=past``) with the ``mems`` the previous call returned, and the argmax of the last position.

For every variant it writes ``Tests/Fixtures/transfo-xl/<variant>/`` holding:

* ``config.json`` + ``model.safetensors`` as ``save_pretrained`` writes them (tied tensors left out as transformers
  leaves them out: the softmax's tied ``crit.out_layers.*.weight`` and ``crit.out_projs.*``); with ``untie_r``
  false ``pytorch_model.bin`` instead, the only form transformers 4.57 saves a model whose layers share their
  relative biases in (its safetensors writer refuses the shared tensor);
* ``reference.npz`` (float32 outputs, int64 inputs):

  ``a.input_ids`` [2, 5] and ``b.input_ids`` [3, 9] (two batch sizes and lengths one export must serve; ``a``'s
  second row holds the first and last id of every cluster), with ``a.logits`` / ``b.logits`` [batch, seq, vocab]
  (``prediction_scores``: log-probabilities) and ``a.last_hidden_state`` / ``b.last_hidden_state``: one call
  without ``mems`` each (transformers then attends over ``mem_len`` zero memories);
  with memory (``mem_len`` > 0):
  ``segments.input_ids.K`` (K = 0, 1: [2, 4] then [2, 7], longer than the memory), ``segments.logits.K`` and
  ``segments.new_mems.K.L`` [mem_len, 2, d_model] per layer L: the first segment without ``mems``, the second with
  the first's;
  ``prompt.input_ids`` [2, 5], ``prompt.logits``; ``generated`` [2, 6]: the greedy tokens; ``steps.logits.K`` [2,
  vocab], K = 0..5: the last position's scores of the K-th call (0: the prompt), ``steps.new_mems.K.L`` the mems it
  returned.
* ``fixture.json``: model_type, tasks, per task the ONNX inputs/outputs/axes, dims, generation settings, the
  seed's greedy margin and float64 conditioning, notes.

``txl-bare`` is the base ``TransfoXLModel`` of the first variant saved alone (weights without the ``transformer.``
prefix, no softmax): feature-extraction only.

Weights are re-initialised with larger scales (transformers' 0.02 / 0.01 init gives near-uniform scores): tables
std 0.5, projections 1/sqrt(fan-in), attention and feed-forward 0.2, relative biases 0.5, norms 1 +- 0.1, biases
0.1. A variant is reseeded until its greedy continuations vary, every greedy step wins by a clear margin (so
onnxruntime's argmax cannot flip on rounding) and float32 PyTorch stays within 2e-6 of float64 on every recorded
output, relative to its scale (the float64 run rewrites one line of the attention in memory, see
``float64_scores``) (so a 1e-5 comparison measures the export, not the fixture's amplification of
rounding).

Run from anywhere:  ``/path/to/venv-t4/bin/python Tests/Fixtures/make_transfo_xl_fixtures.py [--only NAME ...]``
The output is deterministic: the same library versions give the same bytes.
"""

from __future__ import annotations

import argparse
import contextlib
import inspect
import json
import shutil
import sys
import textwrap
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import transformers

warnings.filterwarnings("ignore")
transformers.logging.set_verbosity_error()
from transformers import TransfoXLConfig, TransfoXLLMHeadModel, TransfoXLModel  # noqa: E402
from transformers.models.deprecated.transfo_xl import modeling_transfo_xl  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from make_fixtures import seed_of, write_npz  # noqa: E402  (shared conventions)

HERE = Path(__file__).resolve().parent
OUT = HERE / "transfo-xl"

A_SHAPE, B_SHAPE = (2, 5), (3, 9)
SEGMENT_LENGTHS = [4, 7]
PROMPT_LENGTH = 5
NEW_TOKENS = 6
MIN_MARGIN = 2e-3
MIN_DISTINCT_PER_ROW = 3
MAX_ATTEMPTS = 300
CONDITIONING_LIMIT = 2e-6
TABLE_STD, WEIGHT_STD, REL_BIAS_STD, NORM_STD, BIAS_STD = 0.5, 0.2, 0.5, 0.1, 0.1


@dataclass
class Variant:
    name: str
    config: dict
    notes: str


def base(**kw) -> dict:
    cfg = dict(vocab_size=100, d_model=32, d_embed=32, n_head=4, d_head=8, d_inner=48, n_layer=2, dropout=0.0,
               dropatt=0.0, eos_token_id=0)
    cfg.update(kw)
    return cfg


VARIANTS = [
    Variant("txl-adaptive", base(cutoffs=[20, 60], div_val=2, mem_len=6, clamp_len=4, same_length=True, untie_r=True,
                                 pre_lnorm=False),
            "div_val 2: three embedding tables of widths 32/16/8 with their own projections (tie_projs [false, true, "
            "true]: the softmax's tail projections are the embedding's, its head projection its own), adaptive "
            "softmax with 2 tail clusters (cutoffs 20, 60), weights tied to the embedding tables; per-layer "
            "r_w_bias/r_r_bias (untie_r), post-LayerNorm, same_length, clamp_len 4 (shorter than every key length "
            "here), mem_len 6 (the 7-token segment and every step truncate the memory)."),
    Variant("txl-shared-prenorm", base(cutoffs=[30, 70], div_val=1, d_embed=24, mem_len=5, clamp_len=0,
                                       same_length=False, untie_r=False, pre_lnorm=True, tie_projs=[False, True, False]),
            "div_val 1 with d_embed 24 != d_model 32: one table and one projection (emb_projs.0); the softmax's "
            "single output layer (tied to the table) is sliced into 3 clusters (cutoffs 30, 70), each with its "
            "projection: tie_projs [false, true, false] makes the second emb_projs.0 and the others their own "
            "(crit.out_projs.0, .2). Shared r_w_bias/r_r_bias (untie_r false), pre_lnorm (LayerNorm before attention "
            "and feed-forward, memory included, no final norm), no same_length, clamp_len 0 (no clamping), mem_len 5."),
    Variant("txl-plain-softmax", base(cutoffs=[], adaptive=False, div_val=1, mem_len=4, clamp_len=3, same_length=True,
                                      untie_r=True, pre_lnorm=False, tie_word_embeddings=False, layer_norm_epsilon=1e-3),
            "No clusters (cutoffs [], adaptive false, which the PyTorch model does not read): log_softmax over one "
            "output layer with its own weight (tie_word_embeddings false) and no projection (d_embed = d_model); "
            "div_val 1, mem_len 4, clamp_len 3, same_length, layer_norm_epsilon 1e-3."),
    Variant("txl-untied-projs", base(vocab_size=90, cutoffs=[10, 40, 70], div_val=3, d_embed=36, mem_len=7, clamp_len=9,
                                     same_length=True, untie_r=False, pre_lnorm=True, proj_share_all_but_first=False),
            "div_val 3 with 3 tail clusters: tables of widths 36/12/4/1 (the last cluster has 1-wide embeddings), "
            "proj_share_all_but_first false (tie_projs all false: every softmax projection is its own), d_embed 36 "
            "!= d_model 32, shared biases, pre_lnorm, same_length, clamp_len 9 (longer than the prompt's keys, "
            "shorter than the 7-token segment's), mem_len 7."),
    Variant("txl-no-memory", base(cutoffs=[50], div_val=2, mem_len=0, clamp_len=0, same_length=True, untie_r=True),
            "mem_len 0: transformers keeps no memory (text-generation-with-past is refused), and with same_length "
            "every query hides every key (mask_len = klen > 0 and shift 0): transformers' masked_fill with float32's "
            "lowest then averages every value uniformly, which the export must reproduce (uniform rows, not NaN "
            "or zeros)."),
]


def require_patched_transformers() -> None:
    source = inspect.getsource(modeling_transfo_xl.TransfoXLModel.forward)
    if "type_as(" in source and "dtype=word_emb.dtype" in source:
        raise SystemExit(f"{modeling_transfo_xl.__file__} still calls .type_as(dtype=...): apply the patch in this "
                         "script's docstring (in the venv only)")


def reinit(model: torch.nn.Module, gen: torch.Generator) -> None:
    """Larger-scale weights (tied parameters are visited once)."""
    with torch.no_grad():
        for name, p in model.named_parameters():
            def normal(std):
                p.copy_(std * torch.randn(p.shape, generator=gen))
            if name.endswith("layer_norm.weight"):
                p.copy_(1.0 + NORM_STD * torch.randn(p.shape, generator=gen))
            elif name.endswith("bias") and p.dim() == 1:
                normal(BIAS_STD)
            elif name.endswith(("r_w_bias", "r_r_bias")):
                normal(REL_BIAS_STD)
            elif "emb_layers" in name or "out_layers" in name:
                normal(TABLE_STD)
            elif "emb_projs" in name or "out_projs" in name:
                normal(1.0 / max(1, p.shape[1]) ** 0.5)
            else:
                normal(WEIGHT_STD)


def token_inputs(config: TransfoXLConfig, gen: torch.Generator) -> dict[str, torch.Tensor]:
    v = config.vocab_size
    a = torch.randint(0, v, A_SHAPE, generator=gen)
    ends = [0] + list(config.cutoffs) + [v]
    edges = sorted({t for i in range(len(ends) - 1) for t in (ends[i], ends[i + 1] - 1)})
    a[1, : min(len(edges), A_SHAPE[1])] = torch.tensor(edges[: A_SHAPE[1]])
    out = {"a": a, "b": torch.randint(0, v, B_SHAPE, generator=gen),
           "prompt": torch.randint(0, v, (2, PROMPT_LENGTH), generator=gen)}
    for k, n in enumerate(SEGMENT_LENGTHS):
        out[f"segment.{k}"] = torch.randint(0, v, (2, n), generator=gen)
    return out


def arrays_of(t) -> np.ndarray:
    return t.detach().float().numpy()


def run_reference(model: TransfoXLLMHeadModel, inputs: dict[str, torch.Tensor]) -> tuple[dict[str, np.ndarray], list]:
    """Every recorded output of ``model`` (float32 or float64) and the greedy steps' top-2 gaps."""
    ref: dict[str, np.ndarray] = {}
    gaps = []
    with torch.no_grad():
        for s in ("a", "b"):
            out = model(inputs[s])
            ref[f"{s}.logits"] = arrays_of(out.prediction_scores)
            ref[f"{s}.last_hidden_state"] = arrays_of(model.transformer(inputs[s]).last_hidden_state)
        if model.config.mem_len <= 0:
            return ref, gaps
        mems = None
        for k in range(len(SEGMENT_LENGTHS)):
            out = model(inputs[f"segment.{k}"], mems=mems)
            mems = out.mems
            ref[f"segments.logits.{k}"] = arrays_of(out.prediction_scores)
            for layer, m in enumerate(mems):
                ref[f"segments.new_mems.{k}.{layer}"] = arrays_of(m)
        sequence = inputs["prompt"]
        out = model(sequence)
        ref["prompt.logits"] = arrays_of(out.prediction_scores)
        for k in range(NEW_TOKENS):
            if k > 0:
                out = model(**model.prepare_inputs_for_generation(sequence, past_key_values=out.mems))
            last = out.prediction_scores[:, -1]
            ref[f"steps.logits.{k}"] = arrays_of(last)
            for layer, m in enumerate(out.mems):
                ref[f"steps.new_mems.{k}.{layer}"] = arrays_of(m)
            top2 = torch.topk(last.double(), 2, dim=-1).values
            gaps.append(float((top2[:, 0] - top2[:, 1]).min()))
            sequence = torch.cat([sequence, last.argmax(-1, keepdim=True)], dim=1)
        ref["generated"] = sequence[:, PROMPT_LENGTH:].numpy().astype(np.int64)
    return ref, gaps


@contextlib.contextmanager
def float64_scores():
    """transformers' attention masks its scores with ``attn_score.float().masked_fill(mask, finfo(dtype).min)``: in
    float64 the scores pass through float32 and float64's min does not fit it (the call fails). For the float64
    run only, the same forward without the ``.float()`` (its source rewritten in memory) keeps every step float64."""
    cls = modeling_transfo_xl.RelPartialLearnableMultiHeadAttn
    source = textwrap.dedent(inspect.getsource(cls.forward))
    assert "attn_score.float().masked_fill" in source
    namespace: dict = {}
    exec(source.replace("attn_score.float().masked_fill", "attn_score.masked_fill"), vars(modeling_transfo_xl), namespace)
    original = cls.forward
    cls.forward = namespace["forward"]
    try:
        yield
    finally:
        cls.forward = original


def conditioning(single: dict[str, np.ndarray], double: dict[str, np.ndarray]) -> float:
    """max over outputs of |float32 - float64| / max(1, |float64|)."""
    worst = 0.0
    for k, v in single.items():
        if k == "generated":
            continue
        w = double[k].astype(np.float64)
        worst = max(worst, float(np.abs(v.astype(np.float64) - w).max() / max(1.0, np.abs(w).max())))
    return worst


def build(v: Variant):
    config = TransfoXLConfig(**v.config)
    for attempt in range(MAX_ATTEMPTS):
        gen = torch.Generator().manual_seed(seed_of(v.name) + attempt)
        torch.manual_seed(seed_of(v.name) + attempt)
        model = TransfoXLLMHeadModel(config).eval()
        reinit(model, gen)
        inputs = token_inputs(config, gen)
        ref, gaps = run_reference(model, inputs)
        with float64_scores():
            ref64, _ = run_reference(model.double(), inputs)
        model.float()
        cond = conditioning(ref, ref64)
        margin = min(gaps) if gaps else float("inf")
        varied = "generated" not in ref or all(len(set(r.tolist())) >= MIN_DISTINCT_PER_ROW for r in ref["generated"])
        same_tokens = "generated" not in ref or np.array_equal(ref["generated"], ref64["generated"])
        if margin >= MIN_MARGIN and varied and same_tokens and cond <= CONDITIONING_LIMIT:
            return model, inputs, ref, attempt, margin, cond
        print(f"  attempt {attempt}: margin {margin:.2g}, conditioning {cond:.2g}, varied {varied}")
    raise SystemExit(f"{v.name}: no seed among {MAX_ATTEMPTS} meets the margin, variety and conditioning limits")


def io_for(d_model: int, vocab: int, with_memory: bool, layers: int) -> dict:
    bs = ["batch_size", "sequence_length"]
    ids = {"inputs": ["input_ids"], "input_axes": {"input_ids": bs}}
    io = {
        "feature-extraction": {**ids, "outputs": ["last_hidden_state"],
                               "output_axes": {"last_hidden_state": bs + [d_model]}},
        "text-generation": {**ids, "outputs": ["logits"], "output_axes": {"logits": bs + [vocab]}},
    }
    if with_memory:
        mems = [f"mems.{i}" for i in range(layers)]
        new = [f"new_mems.{i}" for i in range(layers)]
        io["text-generation-with-past"] = {
            "inputs": ["input_ids"] + mems,
            "input_axes": {"input_ids": bs, **{m: ["memory_length", "batch_size", d_model] for m in mems}},
            "outputs": ["logits"] + new,
            "output_axes": {"logits": bs + [vocab], **{m: ["new_memory_length", "batch_size", d_model] for m in new}},
        }
    return io


def write_folder(folder: Path, model, inputs: dict, ref: dict, meta: dict) -> None:
    if folder.exists():
        shutil.rmtree(folder)
    # A model whose layers share r_w_bias / r_r_bias (untie_r false) holds one tensor under several names, which
    # transformers 4.57 refuses to write as safetensors: such checkpoints exist only as pytorch_model.bin.
    model.save_pretrained(folder, safe_serialization=model.config.untie_r)
    (folder / "generation_config.json").unlink(missing_ok=True)
    arrays = {f"{k}.input_ids": t.numpy().astype(np.int64) for k, t in inputs.items() if k in meta["input_sets"]}
    arrays.update({k: v.astype(np.int64) if k == "generated" else v.astype(np.float32) for k, v in ref.items()})
    write_npz(folder / "reference.npz", arrays)
    (folder / "fixture.json").write_text(json.dumps(meta, indent=2) + "\n")


def write_variant(v: Variant) -> TransfoXLLMHeadModel:
    model, inputs, ref, attempt, margin, cond = build(v)
    c = model.config
    with_memory = c.mem_len > 0
    tasks = ["text-generation", "text-generation-with-past", "feature-extraction"] if with_memory else \
        ["text-generation", "feature-extraction"]
    sets = ["a", "b"] + (["prompt"] + [f"segment.{k}" for k in range(len(SEGMENT_LENGTHS))] if with_memory else [])
    meta = {
        "model_type": "transfo-xl",
        "tasks": tasks,
        "io": {t: spec for t, spec in io_for(c.d_model, c.vocab_size, with_memory, c.n_layer).items() if t in tasks},
        "input_sets": sets,
        "dims": {"n_layer": c.n_layer, "d_model": c.d_model, "mem_len": c.mem_len, "vocab_size": c.vocab_size},
        "generation": ({"prompt_length": PROMPT_LENGTH, "new_tokens": NEW_TOKENS, "segment_lengths": SEGMENT_LENGTHS,
                        "greedy_margin": round(margin, 6)} if with_memory else None),
        "float64_conditioning": float(f"{cond:.3g}"),
        "seed_attempt": attempt,
        "made_with": {"transformers": transformers.__version__, "torch": torch.__version__},
        "notes": v.notes,
    }
    folder = OUT / v.name
    write_folder(folder, model, inputs, ref, meta)
    again = TransfoXLLMHeadModel.from_pretrained(folder).eval()
    reread, _ = run_reference(again, inputs)
    for k, want in ref.items():
        assert np.array_equal(reread[k], want), f"{v.name}: {k} differs after save_pretrained/from_pretrained"
    print(f"{v.name}: attempt {attempt}, margin {margin:.4f}, conditioning {cond:.2g}, "
          f"generated {ref.get('generated', np.zeros(0)).tolist()}")
    return model


def write_bare(lm: TransfoXLLMHeadModel, source: Variant) -> None:
    """The base model of ``source`` saved alone: names without ``transformer.``, no ``crit``."""
    model = lm.transformer
    gen = torch.Generator().manual_seed(seed_of("txl-bare"))
    inputs = {"a": torch.randint(0, model.config.vocab_size, A_SHAPE, generator=gen),
              "b": torch.randint(0, model.config.vocab_size, B_SHAPE, generator=gen)}
    with torch.no_grad():
        ref = {f"{s}.last_hidden_state": arrays_of(model(inputs[s]).last_hidden_state) for s in inputs}
    meta = {
        "model_type": "transfo-xl", "tasks": ["feature-extraction"],
        "io": {"feature-extraction": io_for(model.config.d_model, model.config.vocab_size, False, 0)["feature-extraction"]},
        "input_sets": ["a", "b"],
        "dims": {"n_layer": model.config.n_layer, "d_model": model.config.d_model, "mem_len": model.config.mem_len,
                 "vocab_size": model.config.vocab_size},
        "made_with": {"transformers": transformers.__version__, "torch": torch.__version__},
        "notes": f"TransfoXLModel of {source.name} saved alone (no transformer. prefix, no adaptive softmax).",
    }
    folder = OUT / "txl-bare"
    write_folder(folder, model, inputs, ref, meta)
    again = TransfoXLModel.from_pretrained(folder).eval()
    with torch.no_grad():
        assert np.array_equal(arrays_of(again(inputs["a"]).last_hidden_state), ref["a.last_hidden_state"])
    print("txl-bare: written")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="*", help="variant names to (re)generate (txl-bare comes with the first)")
    args = parser.parse_args()
    require_patched_transformers()
    for i, v in enumerate(VARIANTS):
        if args.only and v.name not in args.only:
            continue
        model = write_variant(v)
        if i == 0:
            write_bare(model, v)


if __name__ == "__main__":
    main()
