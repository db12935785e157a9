"""``--genai``: onnxruntime-genai loads the folder and generates what a plain onnxruntime loop over the same export
generates. For every decoder fixture whose model type onnxruntime-genai implements, the export with ``--genai``
(``genai_config.json`` beside ``model.onnx``) is loaded by ``onnxruntime_genai.Model`` and runs greedy search on the
fixture's unpadded prompt (up to the config's context_length); its tokens must equal a plain onnxruntime greedy loop feeding ``present`` back as
``past``, and transformers' generated tokens where transformers' ``generate`` kept its cache (Phi-3 longrope
recomputes the whole sequence when it crosses the original length; a runtime with a cache does not).

Skipped where onnxruntime-genai is not installed (``scripts/requirements-test.txt`` installs it).
"""

from __future__ import annotations

import json

import numpy as np
import pytest

og = pytest.importorskip("onnxruntime_genai", reason="onnxruntime-genai is not installed")

from harness import Fixture, discover_decoder_fixtures, ort_session, run_cli  # noqa: E402

GENAI_TYPES = {"llama", "mistral", "qwen2", "qwen3", "phi3", "gemma"}


def causal_fixtures() -> list[Fixture]:
    return [f for f in discover_decoder_fixtures() if f.name.endswith("/causal-lm")]


def plain_loop(path, fx: Fixture, prompt: np.ndarray, steps: int) -> list[int]:
    """Greedy decoding in onnxruntime on the export itself: prompt with empty pasts, then one token at a time."""
    sess = ort_session(path)
    d = fx.meta["dims"]
    names = [o.name for o in sess.get_outputs()]
    pasts = {f"past_key_values.{i}.{k}": np.zeros((1, d["num_key_value_heads"], 0, d["head_dim"]), np.float32)
             for i in range(d["num_layers"]) for k in ("key", "value")}
    ids, tokens = prompt[None].astype(np.int64), []
    length = 0
    for _ in range(steps):
        total = length + ids.shape[1]
        feeds = {"input_ids": ids, "attention_mask": np.ones((1, total), np.int64),
                 "position_ids": np.arange(length, total, dtype=np.int64)[None], **pasts}
        outs = dict(zip(names, sess.run(None, feeds)))
        token = int(outs["logits"][0, -1].argmax())
        tokens.append(token)
        pasts = {n.replace("present.", "past_key_values."): v for n, v in outs.items() if n.startswith("present.")}
        ids, length = np.array([[token]], np.int64), total
    return tokens


@pytest.mark.parametrize("quantize", ["", "int4", "int8"], ids=["float32", "int4", "int8"])
@pytest.mark.parametrize("fx", causal_fixtures(), ids=lambda f: f.variant)
def test_genai_generates_what_onnxruntime_does(fx: Fixture, quantize: str, tmp_path):
    """Also with ``--quantize`` (MatMulNBits at the default accuracy level): the same tokens as the plain loop over
    that export; transformers' tokens are compared for float32 only, since quantized weights may rightly change
    them."""
    out = tmp_path / "genai"
    p = run_cli(["--model", str(fx.dir), "--task", "text-generation-with-past", "--genai", str(out)]
                + (["--quantize", quantize] if quantize else []))
    if fx.model_type not in GENAI_TYPES:
        assert p.returncode != 0 and "onnxruntime-genai" in p.stderr and not (out / "model.onnx").exists(), p.stderr
        return
    assert p.returncode == 0, p.stderr
    config = json.loads((out / "genai_config.json").read_text())
    gen = fx.meta["generation"]
    prompt_length = gen["prompt_length"]
    # onnxruntime-genai stops at context_length (llama-dynamic-long's 8, which the fixture passes on purpose).
    new = min(gen["new_tokens"], config["model"]["context_length"] - prompt_length)
    assert new >= 1
    prompt = fx.reference["prompt.input_ids"][0]  # the unpadded row
    assert fx.reference["prompt.attention_mask"][0].all()

    model = og.Model(str(out))
    params = og.GeneratorParams(model)
    params.set_search_options(max_length=prompt_length + new, do_sample=False)
    generator = og.Generator(model, params)
    generator.append_tokens(prompt[None].astype(np.int32))
    got = []
    while not generator.is_done():
        generator.generate_next_token()
        got.append(int(generator.get_next_tokens()[0]))

    assert got == plain_loop(out / "model.onnx", fx, prompt, len(got))
    transformers_tokens = fx.reference["generated"][0, prompt_length:prompt_length + len(got)].tolist()
    if not gen.get("recomputed_steps") and not quantize:
        assert got == transformers_tokens
