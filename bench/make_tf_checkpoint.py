#!/usr/bin/env python3
"""Writes a GPT-2-large-sized TensorFlow v1 checkpoint in OpenAI's original layout
(`model/h{i}/attn/c_attn/w` [1, in, out], ...) plus hparams.json, to measure reading a multi-GB
tensor bundle. Needs tensorflow (keep it in its own venv: `python3 -m venv venv-tf &&
venv-tf/bin/pip install tensorflow-cpu`).

    venv-tf/bin/python bench/make_tf_checkpoint.py /tmp/onnx-export-bench/gpt2-large-tf
"""
import json
import os
import sys

import tensorflow as tf

HPARAMS = dict(n_vocab=50257, n_ctx=1024, n_embd=1280, n_head=20, n_layer=36)


def shapes(h):
    e = h["n_embd"]
    yield "model/wte", (h["n_vocab"], e)
    yield "model/wpe", (h["n_ctx"], e)
    for i in range(h["n_layer"]):
        p = f"model/h{i}/"
        for norm in ("ln_1", "ln_2"):
            yield p + norm + "/g", (e,)
            yield p + norm + "/b", (e,)
        yield p + "attn/c_attn/w", (1, e, 3 * e)
        yield p + "attn/c_attn/b", (3 * e,)
        yield p + "attn/c_proj/w", (1, e, e)
        yield p + "attn/c_proj/b", (e,)
        yield p + "mlp/c_fc/w", (1, e, 4 * e)
        yield p + "mlp/c_fc/b", (4 * e,)
        yield p + "mlp/c_proj/w", (1, 4 * e, e)
        yield p + "mlp/c_proj/b", (e,)
    yield "model/ln_f/g", (e,)
    yield "model/ln_f/b", (e,)


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    tf.compat.v1.disable_eager_execution()
    # Random initialisers run inside TF: no multi-GB constants in the graph (they hit protobuf's
    # 2 GB limit and double the memory).
    init = tf.compat.v1.random_normal_initializer(stddev=0.02, seed=0)
    variables = [tf.compat.v1.get_variable(name, shape=shape, dtype=tf.float32, initializer=init)
                 for name, shape in shapes(HPARAMS)]
    with tf.compat.v1.Session() as session:
        session.run(tf.compat.v1.global_variables_initializer())
        tf.compat.v1.train.Saver(variables).save(session, os.path.join(out, "model.ckpt"), write_meta_graph=False)
    with open(os.path.join(out, "hparams.json"), "w") as f:
        json.dump(HPARAMS, f)
    print(out)


if __name__ == "__main__":
    main()
