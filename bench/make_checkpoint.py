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


def post_norm_layer(p, h, i, squares, norms, intermediate, output):
    """One post-LayerNorm encoder layer's tensors under prefix p: the four square projections, two
    norms, the feed-forward pair (module names per family)."""
    for m in squares:
        yield p + m + ".weight", (h, h)
        yield p + m + ".bias", (h,)
    for m in norms:
        yield p + m + ".weight", (h,)
        yield p + m + ".bias", (h,)
    yield p + intermediate + ".weight", (i, h)
    yield p + intermediate + ".bias", (i,)
    yield p + output + ".weight", (h, i)
    yield p + output + ".bias", (h,)


BERT_LAYER = dict(squares=("attention.self.query", "attention.self.key", "attention.self.value", "attention.output.dense"),
                  norms=("attention.output.LayerNorm", "output.LayerNorm"), intermediate="intermediate.dense",
                  output="output.dense")


def bert_tensors(c):
    h, i = c["hidden_size"], c["intermediate_size"]
    yield "embeddings.word_embeddings.weight", (c["vocab_size"], h)
    yield "embeddings.position_embeddings.weight", (c["max_position_embeddings"], h)
    yield "embeddings.token_type_embeddings.weight", (c["type_vocab_size"], h)
    yield "embeddings.LayerNorm.weight", (h,)
    yield "embeddings.LayerNorm.bias", (h,)
    for n in range(c["num_hidden_layers"]):
        yield from post_norm_layer(f"encoder.layer.{n}.", h, i, **BERT_LAYER)
    yield "pooler.dense.weight", (h, h)
    yield "pooler.dense.bias", (h,)


GPT2_LARGE = dict(model_type="gpt2", vocab_size=50257, n_positions=1024, n_embd=1280, n_layer=36, n_head=20,
                  activation_function="gelu_new", layer_norm_epsilon=1e-5)


def gpt2_tensors(c):
    e = c["n_embd"]
    yield "wte.weight", (c["vocab_size"], e)
    yield "wpe.weight", (c["n_positions"], e)
    for n in range(c["n_layer"]):
        p = f"h.{n}."
        for norm in ("ln_1", "ln_2"):
            yield p + norm + ".weight", (e,)
            yield p + norm + ".bias", (e,)
        yield p + "attn.c_attn.weight", (e, 3 * e)
        yield p + "attn.c_attn.bias", (3 * e,)
        yield p + "attn.c_proj.weight", (e, e)
        yield p + "attn.c_proj.bias", (e,)
        yield p + "mlp.c_fc.weight", (e, 4 * e)
        yield p + "mlp.c_fc.bias", (4 * e,)
        yield p + "mlp.c_proj.weight", (4 * e, e)
        yield p + "mlp.c_proj.bias", (e,)
    yield "ln_f.weight", (e,)
    yield "ln_f.bias", (e,)


# LLaMA-shaped, over 4 GiB of float32: the size where protobuf-c would corrupt lengths.
LLAMA_4G = dict(model_type="llama", vocab_size=32000, hidden_size=2048, intermediate_size=5632, num_hidden_layers=22,
                num_attention_heads=32, num_key_value_heads=4, max_position_embeddings=2048, rms_norm_eps=1e-5,
                tie_word_embeddings=False)


def llama_tensors(c):
    h, i = c["hidden_size"], c["intermediate_size"]
    kv = h // c["num_attention_heads"] * c["num_key_value_heads"]
    yield "model.embed_tokens.weight", (c["vocab_size"], h)
    for n in range(c["num_hidden_layers"]):
        p = f"model.layers.{n}."
        yield p + "input_layernorm.weight", (h,)
        yield p + "self_attn.q_proj.weight", (h, h)
        yield p + "self_attn.k_proj.weight", (kv, h)
        yield p + "self_attn.v_proj.weight", (kv, h)
        yield p + "self_attn.o_proj.weight", (h, h)
        yield p + "post_attention_layernorm.weight", (h,)
        yield p + "mlp.gate_proj.weight", (i, h)
        yield p + "mlp.up_proj.weight", (i, h)
        yield p + "mlp.down_proj.weight", (h, i)
    yield "model.norm.weight", (h,)
    yield "lm_head.weight", (c["vocab_size"], h)


# albert-base-v2's shape: 128-wide embeddings mapped to 768, 12 layers sharing one group's weights.
ALBERT_BASE = dict(model_type="albert", vocab_size=30000, embedding_size=128, hidden_size=768, num_hidden_layers=12,
                   num_hidden_groups=1, inner_group_num=1, num_attention_heads=12, intermediate_size=3072,
                   max_position_embeddings=512, type_vocab_size=2, hidden_act="gelu_new", layer_norm_eps=1e-12)


def albert_tensors(c):
    h, e, i = c["hidden_size"], c["embedding_size"], c["intermediate_size"]
    yield "embeddings.word_embeddings.weight", (c["vocab_size"], e)
    yield "embeddings.position_embeddings.weight", (c["max_position_embeddings"], e)
    yield "embeddings.token_type_embeddings.weight", (c["type_vocab_size"], e)
    yield "embeddings.LayerNorm.weight", (e,)
    yield "embeddings.LayerNorm.bias", (e,)
    yield "encoder.embedding_hidden_mapping_in.weight", (h, e)
    yield "encoder.embedding_hidden_mapping_in.bias", (h,)
    for g in range(c["num_hidden_groups"]):
        for n in range(c["inner_group_num"]):
            yield from post_norm_layer(f"encoder.albert_layer_groups.{g}.albert_layers.{n}.", h, i,
                                       squares=("attention.query", "attention.key", "attention.value", "attention.dense"),
                                       norms=("attention.LayerNorm", "full_layer_layer_norm"), intermediate="ffn",
                                       output="ffn_output")
    yield "pooler.weight", (h, h)
    yield "pooler.bias", (h,)


# microsoft/deberta-v3-base's shape: 128k vocabulary, 12 layers, disentangled attention with 256
# log buckets over 512 positions, shared attention keys, no absolute positions or token types.
DEBERTA_V3_BASE = dict(model_type="deberta-v2", vocab_size=128100, hidden_size=768, num_hidden_layers=12,
                       num_attention_heads=12, intermediate_size=3072, max_position_embeddings=512, type_vocab_size=0,
                       hidden_act="gelu", layer_norm_eps=1e-7, relative_attention=True, max_relative_positions=-1,
                       position_buckets=256, norm_rel_ebd="layer_norm", share_att_key=True, pos_att_type="p2c|c2p",
                       position_biased_input=False, pad_token_id=0)


def deberta_v2_tensors(c):
    h, i = c["hidden_size"], c["intermediate_size"]
    yield "embeddings.word_embeddings.weight", (c["vocab_size"], h)
    yield "embeddings.LayerNorm.weight", (h,)
    yield "embeddings.LayerNorm.bias", (h,)
    squares = ("attention.self.query_proj", "attention.self.key_proj", "attention.self.value_proj", "attention.output.dense")
    for n in range(c["num_hidden_layers"]):
        yield from post_norm_layer(f"encoder.layer.{n}.", h, i, **dict(BERT_LAYER, squares=squares))
    yield "encoder.rel_embeddings.weight", (2 * c["position_buckets"], h)
    yield "encoder.LayerNorm.weight", (h,)
    yield "encoder.LayerNorm.bias", (h,)


# google-t5/t5-base's shape (v1.0, 223M parameters): 12 encoder and 12 decoder layers, no biases,
# RMS norms, ReLU feed-forward, relative position buckets (32 over 128 positions) stored in block 0
# of each stack's self-attention only, and the embedding tied to the LM head: transformers saves
# it once, as `shared.weight` (no encoder/decoder embed_tokens, no lm_head.weight). The config is
# what transformers 4.57 writes for t5-base's hub config; transformers itself leaves
# tie_word_embeddings out (true is its default), it is written here to say so.
T5_BASE = dict(architectures=["T5ForConditionalGeneration"], classifier_dropout=0.0, d_ff=3072, d_kv=64, d_model=768,
               decoder_start_token_id=0, dense_act_fn="relu", dropout_rate=0.1, dtype="float32", eos_token_id=1,
               feed_forward_proj="relu", initializer_factor=1.0, is_encoder_decoder=True, is_gated_act=False,
               layer_norm_epsilon=1e-6, model_type="t5", n_positions=512, num_decoder_layers=12, num_heads=12,
               num_layers=12, output_past=True, pad_token_id=0, relative_attention_max_distance=128,
               relative_attention_num_buckets=32, tie_word_embeddings=True, transformers_version="4.57.6",
               use_cache=True, vocab_size=32128)


def t5_tensors(c):
    d, inner, ff = c["d_model"], c["num_heads"] * c["d_kv"], c["d_ff"]
    yield "shared.weight", (c["vocab_size"], d)
    for stack, layers in (("encoder", c["num_layers"]), ("decoder", c["num_decoder_layers"])):
        attentions = ("SelfAttention",) if stack == "encoder" else ("SelfAttention", "EncDecAttention")
        for n in range(layers):
            for k, attention in enumerate(attentions):
                p = f"{stack}.block.{n}.layer.{k}."
                for m in ("q", "k", "v"):
                    yield p + f"{attention}.{m}.weight", (inner, d)
                yield p + f"{attention}.o.weight", (d, inner)
                if n == 0 and attention == "SelfAttention":
                    yield p + f"{attention}.relative_attention_bias.weight", (c["relative_attention_num_buckets"], c["num_heads"])
                yield p + "layer_norm.weight", (d,)
            p = f"{stack}.block.{n}.layer.{len(attentions)}."
            yield p + "DenseReluDense.wi.weight", (ff, d)
            yield p + "DenseReluDense.wo.weight", (d, ff)
            yield p + "layer_norm.weight", (d,)
        yield f"{stack}.final_layer_norm.weight", (d,)


def t5_init(name, values):
    """T5's norms scale without a bias or a mean: near 1 (1 + 0.05 N(0, 1)) rather than near 0, so the
    residual stream is not scaled to nothing at every layer."""
    return values + 1 if name.endswith("layer_norm.weight") else values


# GPT-2 small (124M): the inference benchmark's decoder.
GPT2_SMALL = dict(GPT2_LARGE, n_embd=768, n_layer=12, n_head=12)

# The LLaMA shape stored the way released LLaMA-family checkpoints are: bfloat16 (2.2 GB), which
# onnx-export widens to float32 (4.4 GB of external data) unless asked for --dtype auto.
LLAMA_4G_BF16 = dict(LLAMA_4G, torch_dtype="bfloat16")

# The decode benchmark's LLaMA: 155 M parameters (TinyLlama's vocabulary, 8 layers of width 1024,
# grouped-query attention 16/4), bfloat16 as released LLaMA-family checkpoints are.
LLAMA_155M = dict(model_type="llama", architectures=["LlamaForCausalLM"], vocab_size=32000, hidden_size=1024,
                  intermediate_size=2816, num_hidden_layers=8, num_attention_heads=16, num_key_value_heads=4,
                  max_position_embeddings=2048, rms_norm_eps=1e-5, rope_theta=10000.0, tie_word_embeddings=False,
                  bos_token_id=1, eos_token_id=2, hidden_act="silu", torch_dtype="bfloat16")

MODELS = {"bert-base": (BERT_BASE, bert_tensors), "albert-base": (ALBERT_BASE, albert_tensors),
          "deberta-v3-base": (DEBERTA_V3_BASE, deberta_v2_tensors), "gpt2": (GPT2_SMALL, gpt2_tensors), "gpt2-large": (GPT2_LARGE, gpt2_tensors),
          "llama-4g": (LLAMA_4G, llama_tensors), "llama-4g-bf16": (LLAMA_4G_BF16, llama_tensors),
          "llama-155m": (LLAMA_155M, llama_tensors),
          "t5-base": (T5_BASE, t5_tensors)}

# Per-model adjustment of the N(0, 0.05) values (the others take them as drawn).
INITS = {"t5-base": t5_init}


def write_safetensors(path, tensors, seed=0, bfloat16=False, init=None):
    rng = np.random.default_rng(seed)
    header, offset = {}, 0
    width = 2 if bfloat16 else 4
    for name, shape in tensors:
        n = int(np.prod(shape)) * width
        header[name] = {"dtype": "BF16" if bfloat16 else "F32", "shape": list(shape), "data_offsets": [offset, offset + n]}
        offset += n
    blob = json.dumps(header, separators=(",", ":")).encode()
    blob += b" " * (-len(blob) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(blob)))
        f.write(blob)
        for name, shape in tensors:
            values = rng.standard_normal(shape, dtype=np.float32).__mul__(0.05).astype("<f4")
            if init is not None:
                values = init(name, values).astype("<f4")
            # bfloat16 is the top half of a float32's bits (truncated: these are random anyway).
            f.write((values.view("<u4") >> 16).astype("<u2").tobytes() if bfloat16 else values.tobytes())
    return offset


def main():
    if len(sys.argv) != 3 or sys.argv[1] not in MODELS:
        sys.exit(f"usage: make_checkpoint.py {{{','.join(MODELS)}}} OUTPUT_DIR")
    config, layout = MODELS[sys.argv[1]]
    out = sys.argv[2]
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, "config.json"), "w") as f:
        json.dump(config, f, indent=2)
    bfloat16 = config.get("torch_dtype") == "bfloat16"
    size = write_safetensors(os.path.join(out, "model.safetensors"), list(layout(config)), bfloat16=bfloat16,
                             init=INITS.get(sys.argv[1]))
    print(f"{out}: {size / 1e6:.0f} MB of {'bfloat16' if bfloat16 else 'float32'} weights")


if __name__ == "__main__":
    main()
