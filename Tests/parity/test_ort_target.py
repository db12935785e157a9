"""``--target onnxruntime``: decoders exported with onnxruntime's fused operators still compute what PyTorch does.

For every decoder fixture's causal LM, at several opsets, the with-past export for that target is checked by onnx and
compared, on the fixture's unpadded row (the fused attention reads positions and masking from each row's length, so
it takes unpadded or right-padded rows, as onnxruntime-genai feeds them), with transformers' outputs
(Tests/Fixtures/decoders/*/causal-lm/reference.npz):

* the whole sequence in one step with empty pasts: logits at every position vs the full forward pass;
* the prompt, then one token at a time feeding ``present`` back: each step's logits vs ``generate``'s, and a greedy
  loop on onnxruntime's own argmax reproduces the generated tokens.

The graph itself must use the fused operators where the model allows them: one ``GroupQueryAttention`` per layer for
LLaMA-family models whose rope is a fixed table over the whole head and whose layers have no window, and a
``SkipSimplifiedLayerNormalization`` for every residual sum an RMSNorm reads. onnxruntime-genai then shares one
cache buffer (``past_present_share_buffer``) and generates the plain loop's tokens, also from int4 weights.
"""

from __future__ import annotations

import json

import numpy as np
import onnx
import pytest

from bounds import FP16_BOUND, max_abs_diff, tolerance_for
from harness import Fixture, discover_decoder_fixtures, newest_opset, ort_session, run_cli

LLAMA_FAMILY = {"llama", "mistral", "qwen2", "qwen3", "phi3", "gemma"}
# Layers attending through GroupQueryAttention, per fixture. onnxruntime's kernel rotates heads whose size is a
# multiple of 16 only, so most fixtures (heads of 4 to 12) keep the portable attention: they check that the fusion
# declines rightly, and the fixtures below check the fused path (qwen3-layer-types: its windowed layer 0 stays
# portable, layer 1 fuses; qwen2-yarn: yarn's attention factor scales the tables). The others that decline for their own reasons: rope tables that depend on the input's
# length (llama-dynamic-long, phi3-longrope), partial rotation (phi3-partial), windowed layers (mistral-window).
FUSED_LAYERS = {"llama-head16": 2, "qwen3-head16": 2, "gemma": 2, "qwen2-yarn": 2, "qwen3-layer-types": 1}


def causal_fixtures() -> list[Fixture]:
    return [f for f in discover_decoder_fixtures() if f.name.endswith("/causal-lm")]


def export(fx: Fixture, out, opset: int, *extra: str):
    p = run_cli(["--model", str(fx.dir), "--task", "text-generation-with-past", "--target", "onnxruntime",
                 "--opset", str(opset), *extra, str(out)])
    assert p.returncode == 0, p.stderr
    return out / "model.onnx"


def feeds(fx: Fixture, ids: np.ndarray, start: int, pasts: dict | None) -> dict:
    d = fx.meta["dims"]
    empty = np.zeros((1, d["num_key_value_heads"], 0, d["head_dim"]), np.float32)
    total = start + ids.shape[1]
    f = {"input_ids": ids, "attention_mask": np.ones((1, total), np.int64),
         "position_ids": np.arange(start, total, dtype=np.int64)[None]}
    for i in range(d["num_layers"]):
        for kind in ("key", "value"):
            f[f"past_key_values.{i}.{kind}"] = pasts[f"present.{i}.{kind}"] if pasts else empty
    return f


def check_fused_nodes(fx: Fixture, path) -> None:
    ops = [n.op_type for n in onnx.load(str(path), load_external_data=False).graph.node]
    layers = fx.meta["dims"]["num_layers"]
    attention, skips = ops.count("GroupQueryAttention"), ops.count("SkipSimplifiedLayerNormalization")
    if fx.model_type in LLAMA_FAMILY:
        assert skips == 2 * layers, f"{skips} SkipSimplifiedLayerNormalization for {layers} layers"
        assert attention == FUSED_LAYERS.get(fx.variant, 0), f"{attention} GroupQueryAttention for {layers} layers"
    else:
        assert attention == 0 and skips == 0


@pytest.mark.parametrize("opset", sorted({14, 17, newest_opset()}))
@pytest.mark.parametrize("fx", causal_fixtures(), ids=lambda f: f.variant)
def test_fused_decoder_matches_pytorch(fx: Fixture, opset: int, tmp_path):
    path = export(fx, tmp_path / "out", opset)
    onnx.checker.check_model(str(path), full_check=True)
    check_fused_nodes(fx, path)
    sess = ort_session(path)
    names = [o.name for o in sess.get_outputs()]
    ref, gen = fx.reference, fx.meta["generation"]
    row = 0
    assert ref["prompt.attention_mask"][row].all() and ref["full.attention_mask"][row].all(), "row 0 must be unpadded"

    full = ref["full.input_ids"][row:row + 1]
    if not gen.get("length_dependent_rope"):
        logits = sess.run(["logits"], feeds(fx, full, 0, None))[0]
        want = ref["full.logits"][row:row + 1]
        assert max_abs_diff(logits, want) <= tolerance_for(want), max_abs_diff(logits, want)

    P, N = gen["prompt_length"], gen["new_tokens"]
    generated = ref["generated"][row]
    recomputed = set(gen.get("recomputed_steps", []))
    for teacher_forcing in (True, False):
        ids, start, pasts, tokens = ref["prompt.input_ids"][row:row + 1], 0, None, []
        for k in range(N):
            if k in recomputed:  # generate ran the whole sequence here (Phi-3 longrope crossing its length)
                ids, start, pasts = np.concatenate([ref["prompt.input_ids"][row:row + 1], np.array([tokens], np.int64)], 1)[:, :P + k], 0, None
            outs = dict(zip(names, sess.run(None, feeds(fx, ids, start, pasts))))
            last = outs["logits"][:, -1]
            if teacher_forcing:
                want = ref[f"steps.logits.{k}"][row:row + 1]
                assert max_abs_diff(last, want) <= tolerance_for(want), f"step {k}: {max_abs_diff(last, want)}"
            token = int(generated[P + k]) if teacher_forcing else int(last.argmax())
            tokens.append(token)
            start, pasts = start + ids.shape[1], outs
            ids = np.array([[token]], np.int64)
        if not teacher_forcing:
            assert tokens == generated[P:].tolist()


@pytest.mark.parametrize("fx", [f for f in causal_fixtures() if FUSED_LAYERS.get(f.variant)], ids=lambda f: f.variant)
def test_fused_decoder_in_float16(fx: Fixture, tmp_path):
    """``--dtype fp16`` with the fused operators: the whole sequence's logits within the float16 bound of PyTorch's
    float32 ones (the bound ``test_precision.py`` holds portable exports to)."""
    path = export(fx, tmp_path / "out", 17, "--dtype", "fp16")
    sess = ort_session(path)
    ref = fx.reference
    full = ref["full.input_ids"][:1]
    f = {k: v.astype(np.float16) if v.dtype == np.float32 else v for k, v in feeds(fx, full, 0, None).items()}
    logits = sess.run(["logits"], f)[0]
    want = ref["full.logits"][:1]
    assert max_abs_diff(logits, want) / np.abs(want).max() <= FP16_BOUND


@pytest.mark.parametrize("quantize", ["", "int4"], ids=["float32", "int4"])
@pytest.mark.parametrize("fx", [f for f in causal_fixtures() if f.model_type in LLAMA_FAMILY], ids=lambda f: f.variant)
def test_genai_shares_the_cache_buffer(fx: Fixture, quantize: str, tmp_path):
    """onnxruntime-genai on the fused export (one buffer for past and present where every layer is fused) generates
    the tokens of a plain onnxruntime loop over the same file. Skipped only where onnxruntime-genai is absent
    (``scripts/requirements-test.txt`` installs it, so CI runs it)."""
    og = pytest.importorskip("onnxruntime_genai", reason="onnxruntime-genai is not installed")
    out = tmp_path / "genai"
    path = export(fx, out, 17, "--genai", *(["--quantize", quantize] if quantize else []))
    config = json.loads((out / "genai_config.json").read_text())
    shared = FUSED_LAYERS.get(fx.variant, 0) == fx.meta["dims"]["num_layers"]
    assert config["search"]["past_present_share_buffer"] == shared
    prompt = fx.reference["prompt.input_ids"][0]
    context = config["model"]["context_length"]
    steps = min(fx.meta["generation"]["new_tokens"], context - len(prompt))

    sess = ort_session(path)
    names = [o.name for o in sess.get_outputs()]
    ids, start, pasts, want = prompt[None].astype(np.int64), 0, None, []
    for _ in range(steps):
        outs = dict(zip(names, sess.run(None, feeds(fx, ids, start, pasts))))
        want.append(int(outs["logits"][0, -1].argmax()))
        start, pasts, ids = start + ids.shape[1], outs, np.array([[want[-1]]], np.int64)

    model = og.Model(str(out))
    params = og.GeneratorParams(model)
    params.set_search_options(do_sample=False, max_length=len(prompt) + steps)
    generator = og.Generator(model, params)
    generator.append_tokens(prompt[None].astype(np.int32))
    got = []
    while not generator.is_done() and len(got) < steps:
        generator.generate_next_token()
        got.append(int(generator.get_next_tokens()[0]))
    # genai stops early at an end-of-sequence token; the plain loop runs on.
    assert got and got == want[:len(got)]
