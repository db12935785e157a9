#!/usr/bin/env python3
"""Writes a random-weight checkpoint of a real size with numpy only: transformers' tensor names
and shapes, a config.json, and model.safetensors (streamed tensor by tensor, so making a
multi-GB checkpoint needs little memory).

    python bench/make_checkpoint.py bert-base /tmp/bench/bert-base
"""
import json
import os
import struct
import sys

import numpy as np

BERT_BASE = dict(model_type="bert", vocab_size=30522, hidden_size=768, num_hidden_layers=12,
                 num_attention_heads=12, intermediate_size=3072, max_position_embeddings=512,
                 type_vocab_size=2, hidden_act="gelu", layer_norm_eps=1e-12, pad_token_id=0)


def bert_tensors(c):
    h, i = c["hidden_size"], c["intermediate_size"]
    yield "embeddings.word_embeddings.weight", (c["vocab_size"], h)
    yield "embeddings.position_embeddings.weight", (c["max_position_embeddings"], h)
    yield "embeddings.token_type_embeddings.weight", (c["type_vocab_size"], h)
    yield "embeddings.LayerNorm.weight", (h,)
    yield "embeddings.LayerNorm.bias", (h,)
    for n in range(c["num_hidden_layers"]):
        p = f"encoder.layer.{n}."
        for m in ("attention.self.query", "attention.self.key", "attention.self.value", "attention.output.dense"):
            yield p + m + ".weight", (h, h)
            yield p + m + ".bias", (h,)
        for m in ("attention.output.LayerNorm", "output.LayerNorm"):
            yield p + m + ".weight", (h,)
            yield p + m + ".bias", (h,)
        yield p + "intermediate.dense.weight", (i, h)
        yield p + "intermediate.dense.bias", (i,)
        yield p + "output.dense.weight", (h, i)
        yield p + "output.dense.bias", (h,)
    yield "pooler.dense.weight", (h, h)
    yield "pooler.dense.bias", (h,)


MODELS = {"bert-base": (BERT_BASE, bert_tensors)}


def write_safetensors(path, tensors, seed=0):
    rng = np.random.default_rng(seed)
    header, offset = {}, 0
    for name, shape in tensors:
        n = int(np.prod(shape)) * 4
        header[name] = {"dtype": "F32", "shape": list(shape), "data_offsets": [offset, offset + n]}
        offset += n
    blob = json.dumps(header, separators=(",", ":")).encode()
    blob += b" " * (-len(blob) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(blob)))
        f.write(blob)
        for name, shape in tensors:
            f.write(rng.standard_normal(shape, dtype=np.float32).__mul__(0.05).astype("<f4").tobytes())
    return offset


def main():
    if len(sys.argv) != 3 or sys.argv[1] not in MODELS:
        sys.exit(f"usage: make_checkpoint.py {{{','.join(MODELS)}}} OUTPUT_DIR")
    config, layout = MODELS[sys.argv[1]]
    out = sys.argv[2]
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, "config.json"), "w") as f:
        json.dump(config, f, indent=2)
    size = write_safetensors(os.path.join(out, "model.safetensors"), list(layout(config)))
    print(f"{out}: {size / 1e6:.0f} MB of float32 weights")


if __name__ == "__main__":
    main()
