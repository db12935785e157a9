#!/usr/bin/env python3
"""Generate the checkpoint-format fixtures under ``Tests/Fixtures/formats``: one tiny model per architecture, its
outputs as PyTorch computes them, and the SAME weights written in every format the exporter reads.

The parity tests (``Tests/parity/test_formats.py``) export each format folder with the CLI and compare onnxruntime
with PyTorch, and run ``onnx-export convert`` on the original checkpoints and compare the written weights bit for
bit with the transformers checkpoint. The reference comes from the real frameworks: transformers computes the
outputs and writes ``reference/``, TensorFlow writes the TF checkpoints, torch writes the ``.bin`` files, NumPy the
``.npy`` files. The name mappings to the original layouts below are written from transformers 4's loaders
(``load_tf_weights_in_bert``, ``load_tf_weights_in_gpt2``, ``load_tf_weights_in_openai_gpt``; transformers 5 no
longer ships them) and, for ALBERT, from google-research/albert's variable scopes (checked by a port of
``load_tf_weights_in_albert``), NOT from the exporter's name tables: the point is an independent check. As a self-check this
script runs a port of each transformers-4 loader (the same pointer walk over the transformers-5 module tree, with
``tf.train.load_variable`` replaced by what TensorFlow read back) and requires it to rebuild every weight bit for
bit.

Two interpreters, both outside the repository (torch and TensorFlow are never installed side by side)::

    /path/to/venv-torch/bin/python Tests/Fixtures/make_format_fixtures.py      # torch, transformers, numpy (+ sentencepiece)
    /path/to/venv-torch/bin/python Tests/Fixtures/make_format_fixtures.py --only albert   # just these models' folders
    # it runs ``$TF_PYTHON`` (a Python with tensorflow + numpy; default python3) on this same file with
    # --write-tf JOB.json to write the TF1 checkpoints; the arrays travel through .npz files in a temp dir.

What it writes (``Tests/Fixtures/formats/<model>/``, < 1.5 MB in all)::

    bert/        BertForPreTraining (hidden 32, 4 heads, 2 layers, vocab 99, intermediate 37, exact gelu)
      reference/   config.json + model.safetensors (save_pretrained: tied decoder weight/bias left out)
      tf/          Google's layout: bert_model.ckpt.{index,data-00000-of-00001} (TF1 Saver, plus global_step,
                   no `checkpoint` state file, as Google ships it), bert_config.json, vocab.txt
      bin/         pytorch_model.bin = torch.save(model.state_dict()) (zip; tied keys included, sharing the
                   word-embedding storage) + config.json
      bin-sharded/ pytorch_model.bin.index.json + pytorch_model-0000{1,2}-of-00002.bin (state dict without the
                   tied aliases, as save_pretrained writes it, split in two) + config.json
      legacy-bin/  the bin/ state dict in torch.save's legacy (pre-1.6) format (_use_new_zipfile_serialization=False:
                   pickles, then raw storages), tied aliases sharing one storage + config.json
    gpt2/        GPT2LMHeadModel (n_embd 32, 4 heads, 2 layers, vocab 97, n_ctx 32, gelu_new)
      reference/   config.json + model.safetensors
      tf/          OpenAI's layout: model.ckpt.{index,data-00000-of-00001}, checkpoint, hparams.json, and a
                   tiny byte-level BPE tokenizer as download_model.py fetches it (encoder.json, vocab.bpe)
      bin/         pytorch_model.bin (torch.save(state_dict), lm_head.weight tied) + config.json
      legacy-bin-sharded/  the saved keys in two legacy-format shards + pytorch_model.bin.index.json + config.json
    albert/      AlbertForPreTraining (embedding 16, hidden 24, 4 heads, 2 layers in 1 group of 2 inner layers, vocab 99,
                 intermediate 37, exact gelu as albert_config.json's "gelu" reads in transformers)
      reference/   config.json + model.safetensors (save_pretrained: tied predictions.decoder.weight/bias left out)
      tf/          Google's layout: model.ckpt-best.{index,data-00000-of-00001} (TF1 Saver; global_step and LAMB's
                   adam_m/adam_v slots on three variables), albert_config.json as Google ships it, and a tiny
                   SentencePiece model as 30k-clean.model
      tf-hub/      the same variables (slots included) under TF-Hub's module/, as a checkpoint saved through the hub
                   module holds them: model.ckpt-1000.*, global_step, albert_config.json
    openai-gpt/  OpenAIGPTLMHeadModel (n_embd 32, 4 heads, 2 layers, vocab 99, n_positions 32, afn gelu)
      reference/   config.json + model.safetensors
      numpy/       finetune-transformer-lm's layout: params_shapes.json + params_0.npy + params_1.npy (one flat
                   float32 vector cut in two inside a tensor)
      numpy-config.json   the transformers config for the numpy folder (which has none; tests pass --config)

Each model folder also holds ``reference.npz`` (int64 inputs ``<set>.input.<name>``, float32 outputs
``<set>.<task>.<output>`` for sets ``a`` and ``b``) and ``formats.json``, what the tests need:

* ``tasks``: per task the ONNX inputs, outputs and axes (the contracts of make_fixtures.py / make_decoder_fixtures.py);
  ``sets``; ``compare_where``: null (every position) or "attention_mask" (left-padded decoder batches);
* ``formats``: name -> {``folder``, ``model_type`` (pass --model-type), ``config`` (pass --config, relative to the
  model folder), ``layout``};
* ``convert``: ``model_type``, ``tf_checkpoint`` (prefix or folder), ``config``, ``tokenizer_files`` (written name ->
  original it must equal), ``optional_heads`` (key prefixes a converter may leave out as a whole); or a list of
  such objects, each with an ``id``, where a model has several originals (ALBERT: ``tf``, ``tf-hub``);
* ``tied`` (state_dict aliases save_pretrained leaves out -> their source key), ``base_model_prefix``,
  ``ignorable_unexpected`` (transformers' _keys_to_ignore_on_load_unexpected), ``config`` (``required`` fields a
  converted config.json must carry with these values; ``optional`` ones that must equal these when present).

It is deliberately not called fixture.json, so ``harness.discover_fixtures`` does not pick these folders up.

The output is deterministic: the same library versions give the same bytes. Other versions change at least the
config.json files (``transformers_version``, defaults), so ``--only`` rebuilds just the models named and leaves the
other folders as they are.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
OUT = HERE / "formats"
TF_PYTHON = os.environ.get("TF_PYTHON", "python3")

LAYERS = 2
HIDDEN = 32
HEADS = 4
MAX_POS = 32
BERT_INTERMEDIATE = 37
GPT2_VOCAB = 97
OPENAI_VOCAB = 99
ALBERT_VOCAB = 99
ALBERT_EMBEDDING = 16
ALBERT_HIDDEN = 24
ALBERT_INNER_GROUPS = 2


# ================================================================================================
# The original layouts, from the transformers side (inverse of transformers 4's loaders)


def bert_to_google(sd: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """transformers BertForPreTraining keys -> Google BERT (modeling.py / run_pretraining.py) variables.

    load_tf_weights_in_bert walks "bert/encoder/layer_0/attention/self/query/kernel" attribute by attribute
    ("layer_0" -> layer[0]), maps kernel/gamma/output_weights -> weight, beta/output_bias -> bias, appends .weight
    after "*_embeddings", and transposes "kernel" (TF Dense kernels are [in, out], nn.Linear weights [out, in]);
    "output_weights" of cls/seq_relationship is stored [2, hidden] and NOT transposed.
    """
    out: dict[str, np.ndarray] = {}
    for key, value in sd.items():
        parts = key.split(".")
        if key in ("cls.predictions.decoder.weight", "cls.predictions.decoder.bias"):
            continue  # tied to word_embeddings / cls.predictions.bias; Google stores neither
        if key == "cls.predictions.bias":
            out["cls/predictions/output_bias"] = value
            continue
        if key == "cls.seq_relationship.weight":
            out["cls/seq_relationship/output_weights"] = value
            continue
        if key == "cls.seq_relationship.bias":
            out["cls/seq_relationship/output_bias"] = value
            continue
        names: list[str] = []
        i = 0
        while i < len(parts):
            if parts[i] == "layer" and i + 1 < len(parts) and parts[i + 1].isdigit():
                names.append(f"layer_{parts[i + 1]}")
                i += 2
                continue
            names.append(parts[i])
            i += 1
        last = names[-1]
        if names[-2].endswith("_embeddings") and last == "weight":
            names.pop()  # bert/embeddings/word_embeddings
        elif names[-2] == "LayerNorm":
            names[-1] = {"weight": "gamma", "bias": "beta"}[last]
        elif last == "weight":
            names[-1] = "kernel"
            value = np.ascontiguousarray(value.T)
        out["/".join(names)] = value
    return out


def gpt2_to_openai_tf(sd: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """transformers GPT2 keys -> OpenAI GPT-2 (src/model.py) variables.

    load_tf_weights_in_gpt2 drops "model/", walks "h0" -> h[0], maps w/g -> weight, b -> bias, wte/wpe -> .weight,
    and squeezes every array: the TF conv1d kernels are [1, in, out], transformers' Conv1D weight is [in, out].
    """
    out: dict[str, np.ndarray] = {}
    for key, value in sd.items():
        if key == "lm_head.weight":
            continue  # tied to wte; OpenAI's checkpoint has no separate head
        key = key.removeprefix("transformer.")
        parts = key.split(".")
        if parts[0] in ("wte", "wpe"):
            out[f"model/{parts[0]}"] = value
            continue
        if parts[0] == "h":
            parts = [f"h{parts[1]}", *parts[2:]]
        leaf = parts[-1]
        module = parts[-2]
        if module.startswith("ln"):
            parts[-1] = {"weight": "g", "bias": "b"}[leaf]
        else:  # Conv1D
            parts[-1] = {"weight": "w", "bias": "b"}[leaf]
            if leaf == "weight":
                value = value[None]  # [1, in, out]
        out["model/" + "/".join(parts)] = np.ascontiguousarray(value)
    return out


def openai_gpt_params(sd: dict[str, np.ndarray], n_layer: int) -> tuple[list[str], list[np.ndarray]]:
    """transformers OpenAIGPT keys -> finetune-transformer-lm's parameter list, in the order its model.py creates
    them (positions first: train.py splits the combined embedding into [n_ctx, E] and [n_vocab, E]).

    Names are those of its parameters_names.json ("model/we:0" for the embedding, then "model/h0/attn/c_attn/w:0",
    ...): load_tf_weights_in_openai_gpt pops params 0 and 1 (positions, tokens) and name 0, then walks the rest
    as "h0/attn/c_attn/w" -> h[0].attn.c_attn.weight, squeezing [1, in, out] conv weights to [in, out].
    """
    p = "transformer."
    names = ["model/positions", "model/we:0"]  # the first two are consumed by position, not by name
    arrays = [sd[p + "positions_embed.weight"], sd[p + "tokens_embed.weight"]]
    for i in range(n_layer):
        h = f"{p}h.{i}."
        for tf_name, key, conv in [
            ("attn/c_attn/w", "attn.c_attn.weight", True), ("attn/c_attn/b", "attn.c_attn.bias", False),
            ("attn/c_proj/w", "attn.c_proj.weight", True), ("attn/c_proj/b", "attn.c_proj.bias", False),
            ("ln_1/g", "ln_1.weight", False), ("ln_1/b", "ln_1.bias", False),
            ("mlp/c_fc/w", "mlp.c_fc.weight", True), ("mlp/c_fc/b", "mlp.c_fc.bias", False),
            ("mlp/c_proj/w", "mlp.c_proj.weight", True), ("mlp/c_proj/b", "mlp.c_proj.bias", False),
            ("ln_2/g", "ln_2.weight", False), ("ln_2/b", "ln_2.bias", False),
        ]:
            a = sd[h + key]
            names.append(f"model/h{i}/{tf_name}:0")
            arrays.append(a[None] if conv else a)
    return names, arrays


# google-research/albert modeling.py: transformer_model() runs attention_ffn_block() under
# "transformer/group_%d/inner_group_%d"; these are the variable scopes inside one block.
ALBERT_BLOCK_SCOPES = {
    "attention.query": "attention_1/self/query",  # attention_layer(): dense_layer_3d(name="query")
    "attention.key": "attention_1/self/key",
    "attention.value": "attention_1/self/value",
    "attention.dense": "attention_1/output/dense",  # dense_layer_3d_proj(name="dense")
    "attention.LayerNorm": "LayerNorm",  # layer_norm(attention_output + layer_input): contrib's default scope
    "ffn": "ffn_1/intermediate/dense",  # dense_layer_2d(name="dense")
    "ffn_output": "ffn_1/intermediate/output/dense",
    "full_layer_layer_norm": "LayerNorm_1",  # the block's second layer_norm()
}
# run_pretraining.py: get_masked_lm_output() under "cls/predictions" (+ "transform"), get_sentence_order_output()
# under "cls/seq_relationship"; AlbertModel's pooler is tf.layers.dense under "bert/pooler" (scope "dense").
ALBERT_OTHER_SCOPES = {
    "albert.embeddings.LayerNorm": "bert/embeddings/LayerNorm",
    "albert.encoder.embedding_hidden_mapping_in": "bert/encoder/embedding_hidden_mapping_in",
    "albert.pooler": "bert/pooler/dense",
    "predictions.dense": "cls/predictions/transform/dense",
    "predictions.LayerNorm": "cls/predictions/transform/LayerNorm",
}


def albert_to_google(sd: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """transformers AlbertForPreTraining keys -> Google ALBERT (modeling.py / run_pretraining.py) variables.

    Written from google-research/albert's variable scopes above, not from load_tf_weights_in_albert's string
    replacements (which the self-check runs on the result). Dense kernels are [in, out] (nn.Linear weights
    transposed), LayerNorm gamma/beta, embeddings as they are; the sentence-order head's output_weights is
    [2, hidden] like nn.Linear's weight; the MLM decoder is the word-embedding table (predictions.decoder.* are
    tied and not stored), its bias is cls/predictions/output_bias.
    """
    out: dict[str, np.ndarray] = {}
    for key, value in sd.items():
        module, leaf = key.rsplit(".", 1)
        if module == "predictions.decoder":
            continue
        if key == "predictions.bias":
            out["cls/predictions/output_bias"] = value
            continue
        if module == "sop_classifier.classifier":
            out["cls/seq_relationship/" + {"weight": "output_weights", "bias": "output_bias"}[leaf]] = value
            continue
        if module.startswith("albert.embeddings.") and module.endswith("_embeddings"):
            out["bert/embeddings/" + module.rsplit(".", 1)[1]] = value
            continue
        parts = module.split(".")
        if parts[:3] == ["albert", "encoder", "albert_layer_groups"] and parts[4] == "albert_layers":
            scope = f"bert/encoder/transformer/group_{parts[3]}/inner_group_{parts[5]}/" \
                    + ALBERT_BLOCK_SCOPES[".".join(parts[6:])]
        else:
            scope = ALBERT_OTHER_SCOPES[module]
        if scope.rsplit("/", 1)[-1].startswith("LayerNorm"):
            out[scope + "/" + {"weight": "gamma", "bias": "beta"}[leaf]] = value
        elif leaf == "weight":
            out[f"{scope}/kernel"] = np.ascontiguousarray(value.T)
        else:
            out[f"{scope}/bias"] = value
    return out


# ================================================================================================
# TensorFlow side (run by $TF_PYTHON with --write-tf JOB.json; imports only tensorflow and numpy)


def tf_main(job_path: str) -> None:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    sys.path.insert(0, str(HERE))
    import tensorflow as tf

    from make_tf_fixtures import save_tf1  # the TF1 graph-mode Saver the other TF fixtures use

    for job in json.loads(Path(job_path).read_text()):
        with np.load(job["variables"]) as z:
            variables = {name: z[name] for name in json.loads(str(z["__order__"]))}
        prefix = Path(job["prefix"])
        save_tf1(prefix, variables, global_step=job.get("global_step"), write_state=job.get("write_state", False))
        # what TensorFlow reads back, in its own (sorted) order, for the transformers-4 loader port
        names = [name for name, _ in tf.train.list_variables(str(prefix))]
        readback = {name: np.asarray(tf.train.load_variable(str(prefix), name)) for name in names}
        np.savez(job["readback"], __order__=np.array(json.dumps(names)), **readback)


# ================================================================================================
# torch side

def torch_main(only: list[str]) -> int:
    import torch
    import transformers

    sys.path.insert(0, str(HERE))
    from make_decoder_fixtures import causal_io, generation_position_ids
    from make_fixtures import Variant, axes_for, make_input_set, output_names, reinit, seed_of, write_npz

    torch.use_deterministic_algorithms(True)
    torch.set_num_threads(1)
    transformers.utils.logging.set_verbosity_error()
    transformers.utils.logging.disable_progress_bar()
    versions = {"torch": torch.__version__.split("+")[0], "transformers": transformers.__version__}

    # --------------------------------------------------------------------------------------------
    # helpers

    def state_arrays(model) -> dict[str, np.ndarray]:
        return {k: v.detach().cpu().numpy() for k, v in model.state_dict().items()}

    def tied_aliases(model, saved_keys: set[str]) -> dict[str, str]:
        """state_dict keys save_pretrained leaves out -> the saved key holding the same storage."""
        sd = model.state_dict()
        ptr = {sd[k].data_ptr(): k for k in saved_keys}
        return {k: ptr[t.data_ptr()] for k, t in sd.items() if k not in saved_keys}

    def safetensors_keys(path: Path) -> set[str]:
        from safetensors import safe_open
        with safe_open(str(path), "pt") as f:
            return set(f.keys())

    def save_reference(model, folder: Path) -> dict:
        folder.mkdir(parents=True)
        model.save_pretrained(folder)
        (folder / "generation_config.json").unlink(missing_ok=True)  # config + weights only
        return json.loads((folder / "config.json").read_text())

    def load_checked(cls, folder: Path, name: str, allow_unexpected: tuple[str, ...] = ()):
        model, info = cls.from_pretrained(folder, attn_implementation="eager", output_loading_info=True)
        unexpected = [k for k in info.get("unexpected_keys", []) if not k.startswith(allow_unexpected)]
        bad = {k: v for k, v in info.items() if v and k != "unexpected_keys"}
        if unexpected:
            bad["unexpected_keys"] = unexpected
        if bad:
            raise SystemExit(f"{name}: {cls.__name__}.from_pretrained({folder.name}) reported {bad}")
        return model.eval()

    def run(model, inputs: dict[str, np.ndarray], output: str) -> np.ndarray:
        with torch.no_grad():
            out = model(**{k: torch.from_numpy(v) for k, v in inputs.items()}, return_dict=True)
        return out[output].detach().numpy().astype(np.float32)

    def same_outputs(name: str, got: dict[str, np.ndarray], want: dict[str, np.ndarray], tol: float = 0.0) -> None:
        for k in want:
            d = float(np.abs(got[k].astype(np.float64) - want[k]).max())
            if not d <= tol:
                raise SystemExit(f"{name}: {k} differs by {d}")

    def bits_equal(name: str, got: dict[str, np.ndarray], want: dict[str, np.ndarray]) -> None:
        """Every key of want is in got with the same dtype, shape and bytes; nothing else in got."""
        if set(got) != set(want):
            raise SystemExit(f"{name}: keys differ: missing {sorted(set(want) - set(got))}, "
                             f"extra {sorted(set(got) - set(want))}")
        for k in want:
            g, w = np.ascontiguousarray(got[k]), np.ascontiguousarray(want[k])
            if g.dtype != w.dtype or g.shape != w.shape or g.tobytes() != w.tobytes():
                raise SystemExit(f"{name}: {k} differs ({g.dtype}{list(g.shape)} vs {w.dtype}{list(w.shape)})")

    def write_tf(job: dict) -> tuple[list[str], list[np.ndarray]]:
        """Run $TF_PYTHON on this file to write one TF checkpoint (the variables travel through an .npz in a temp
        dir); returns what TensorFlow reads back from it (names in its order, arrays)."""
        with tempfile.TemporaryDirectory() as tmp:
            vpath, readback = Path(tmp) / "variables.npz", Path(tmp) / "readback.npz"
            np.savez(vpath, __order__=np.array(json.dumps(list(job["variables"]))), **job["variables"])
            spec = [{"prefix": str(job["prefix"]), "variables": str(vpath), "readback": str(readback),
                     "global_step": job.get("global_step"), "write_state": job.get("write_state", False)}]
            (Path(tmp) / "job.json").write_text(json.dumps(spec))
            env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
            p = subprocess.run([TF_PYTHON, str(Path(__file__).resolve()), "--write-tf", str(Path(tmp) / "job.json")],
                               env=env, capture_output=True, text=True)
            if p.returncode != 0:
                raise SystemExit(f"{TF_PYTHON} --write-tf failed:\n{p.stderr[-4000:]}")
            with np.load(readback) as z:
                names = json.loads(str(z["__order__"]))
                return names, [z[n] for n in names]

    def save_bin(state: dict, path: Path, legacy: bool = False) -> None:
        torch.save(state, path, _use_new_zipfile_serialization=not legacy)

    def save_sharded(full: dict, keys: list[str], folder: Path, legacy: bool = False) -> None:
        """`keys` of `full` in two pytorch_model-0000N-of-00002.bin shards with the index transformers writes."""
        folder.mkdir()
        half = len(keys) // 2
        weight_map, total = {}, 0
        for i, part in enumerate((keys[:half], keys[half:])):
            fname = f"pytorch_model-{i + 1:05d}-of-00002.bin"
            save_bin({k: full[k] for k in part}, folder / fname, legacy=legacy)
            for k in part:
                weight_map[k] = fname
                total += full[k].numel() * full[k].element_size()
        index = {"metadata": {"total_size": total}, "weight_map": dict(sorted(weight_map.items()))}
        (folder / "pytorch_model.bin.index.json").write_text(json.dumps(index, indent=2, sort_keys=True) + "\n")

    def config_fields(saved: dict, cls, required: list[str], optional: list[str]) -> dict:
        """Fields a converted config.json must carry (required: present and equal) or may leave to transformers'
        default (optional: equal when present; the reference value equals the class default)."""
        default = cls().to_dict()
        for k in optional:
            if saved.get(k) != default.get(k):
                raise SystemExit(f"{cls.__name__}: optional field {k} = {saved.get(k)!r} is not the default "
                                 f"{default.get(k)!r}")
        return {"required": {k: saved[k] for k in required}, "optional": {k: saved.get(k) for k in optional}}

    # --------------------------------------------------------------------------------------------
    # transformers 4's loaders, ported: the same pointer walk, over arrays TensorFlow / NumPy read back

    import re

    def tf_pointer_walk(model, name: list[str], array: np.ndarray, loader: str, skip_unknown: bool) -> None:
        """The walk load_tf_weights_in_bert and load_tf_weights_in_albert (transformers 4.x) share: each path element
        is an attribute ("layer_3" -> .layer[3]), kernel/gamma/output_weights -> weight, output_bias/beta -> bias,
        squad -> classifier; "*_embeddings" gets .weight appended, a kernel is transposed; then the array is set.
        An element the model lacks is skipped where the loader skips it (ALBERT's), an error otherwise (4.x's BERT
        loader also skipped it; we want to know)."""
        pointer = model
        for m_name in name:
            if re.fullmatch(r"[A-Za-z]+_\d+", m_name):
                scope_names = re.split(r"_(\d+)", m_name)
            else:
                scope_names = [m_name]
            if scope_names[0] == "kernel" or scope_names[0] == "gamma":
                pointer = getattr(pointer, "weight")
            elif scope_names[0] == "output_bias" or scope_names[0] == "beta":
                pointer = getattr(pointer, "bias")
            elif scope_names[0] == "output_weights":
                pointer = getattr(pointer, "weight")
            elif scope_names[0] == "squad":
                pointer = getattr(pointer, "classifier")
            else:
                try:
                    pointer = getattr(pointer, scope_names[0])
                except AttributeError:
                    if not skip_unknown:
                        raise
                    continue  # 4.x: logger.info("Skipping ..."); the walk goes on from the same module
            if len(scope_names) >= 2:
                pointer = pointer[int(scope_names[1])]
        if m_name[-11:] == "_embeddings":
            pointer = getattr(pointer, "weight")
        elif m_name == "kernel":
            array = np.transpose(array)
        if tuple(pointer.shape) != array.shape:
            raise SystemExit(f"{loader}: {'/'.join(name)} {array.shape} vs {tuple(pointer.shape)}")
        pointer.data = torch.from_numpy(np.ascontiguousarray(array))

    # the optimizer variables both loaders skip (path elements)
    TF_OPTIMIZER_NAMES = ["adam_v", "adam_m", "AdamWeightDecayOptimizer", "AdamWeightDecayOptimizer_1", "global_step"]

    def load_tf_weights_in_bert(model, names: list[str], arrays: list[np.ndarray]) -> None:
        """modeling_bert.load_tf_weights_in_bert (transformers 4.x), tf.train.load_variable replaced by arrays."""
        for name, array in zip(names, arrays):
            name = name.split("/")
            if any(n in TF_OPTIMIZER_NAMES for n in name):
                continue
            tf_pointer_walk(model, name, array, "bert loader", skip_unknown=False)

    def load_tf_weights_in_gpt2(model, names: list[str], arrays: list[np.ndarray]) -> None:
        """modeling_gpt2.load_tf_weights_in_gpt2 (transformers 4.x) on a GPT2Model."""
        for name, array in zip(names, [a.squeeze() for a in arrays]):
            name = name[6:].split("/")  # skip "model/"
            pointer = model
            for m_name in name:
                if re.fullmatch(r"[A-Za-z]+\d+", m_name):
                    scope_names = re.split(r"(\d+)", m_name)
                else:
                    scope_names = [m_name]
                if scope_names[0] == "w" or scope_names[0] == "g":
                    pointer = getattr(pointer, "weight")
                elif scope_names[0] == "b":
                    pointer = getattr(pointer, "bias")
                elif scope_names[0] == "wpe" or scope_names[0] == "wte":
                    pointer = getattr(pointer, scope_names[0])
                    pointer = getattr(pointer, "weight")
                else:
                    pointer = getattr(pointer, scope_names[0])
                if len(scope_names) >= 2:
                    pointer = pointer[int(scope_names[1])]
            if tuple(pointer.shape) != array.shape:
                raise SystemExit(f"gpt2 loader: {'/'.join(name)} {array.shape} vs {tuple(pointer.shape)}")
            pointer.data = torch.from_numpy(np.ascontiguousarray(array))

    def load_tf_weights_in_openai_gpt(model, folder: Path, names: list[str]) -> None:
        """modeling_openai.load_tf_weights_in_openai_gpt (transformers 4.x) on an OpenAIGPTModel; it reads
        params_0..9.npy (range(10)), ours are params_0..1, and takes the names from parameters_names.json."""
        shapes = json.loads((folder / "params_shapes.json").read_text())
        offsets = np.cumsum([np.prod(shape) for shape in shapes])
        files = sorted(folder.glob("params_*.npy"), key=lambda p: int(p.stem.split("_")[1]))
        init_params = [np.load(f) for f in files]
        init_params = np.split(np.concatenate(init_params, 0), offsets)[:-1]
        init_params = [param.reshape(shape) for param, shape in zip(init_params, shapes)]
        init_params = [arr.squeeze() for arr in init_params]
        if model.tokens_embed.weight.shape != init_params[1].shape:
            raise SystemExit("openai loader: tokens_embed shape")
        if model.positions_embed.weight.shape != init_params[0].shape:
            raise SystemExit("openai loader: positions_embed shape")
        model.tokens_embed.weight.data = torch.from_numpy(init_params[1])
        model.positions_embed.weight.data = torch.from_numpy(init_params[0])
        names = list(names)
        names.pop(0)
        init_params.pop(0)
        init_params.pop(0)
        for name, array in zip(names, init_params):
            name = name[6:]
            if name[-2:] != ":0":
                raise SystemExit(f"openai loader: layer {name} does not end with :0")
            name = name[:-2].split("/")
            pointer = model
            for m_name in name:
                if re.fullmatch(r"[A-Za-z]+\d+", m_name):
                    scope_names = re.split(r"(\d+)", m_name)
                else:
                    scope_names = [m_name]
                if scope_names[0] == "g":
                    pointer = getattr(pointer, "weight")
                elif scope_names[0] == "b":
                    pointer = getattr(pointer, "bias")
                elif scope_names[0] == "w":
                    pointer = getattr(pointer, "weight")
                else:
                    pointer = getattr(pointer, scope_names[0])
                if len(scope_names) >= 2:
                    pointer = pointer[int(scope_names[1])]
            if tuple(pointer.shape) != array.shape:
                raise SystemExit(f"openai loader: {'/'.join(name)} {array.shape} vs {tuple(pointer.shape)}")
            pointer.data = torch.from_numpy(array)

    def load_tf_weights_in_albert(model, names: list[str], arrays: list[np.ndarray]) -> None:
        """modeling_albert.load_tf_weights_in_albert (transformers 4.x, as in 4.57.6) on an AlbertForPreTraining,
        tf.train.load_variable replaced by arrays: its renames, then the shared walk, where a path element the model
        lacks is skipped and the walk goes on from the same module, as there: that is how
        cls/sop_classifier/classifier/weight reaches model.sop_classifier (there is no model.cls)."""
        for name, array in zip(names, arrays):
            # If saved from the TF HUB module
            name = name.replace("module/", "")
            # Renaming and simplifying
            name = name.replace("ffn_1", "ffn")
            name = name.replace("bert/", "albert/")
            name = name.replace("attention_1", "attention")
            name = name.replace("transform/", "")
            name = name.replace("LayerNorm_1", "full_layer_layer_norm")
            name = name.replace("LayerNorm", "attention/LayerNorm")
            name = name.replace("transformer/", "")
            # The feed forward layer had an 'intermediate' step which has been abstracted away
            name = name.replace("intermediate/dense/", "")
            name = name.replace("ffn/intermediate/output/dense/", "ffn_output/")
            # ALBERT attention was split between self and output which have been abstracted away
            name = name.replace("/output/", "/")
            name = name.replace("/self/", "/")
            # The pooler is a linear layer
            name = name.replace("pooler/dense", "pooler")
            # The classifier was simplified to predictions from cls/predictions
            name = name.replace("cls/predictions", "predictions")
            name = name.replace("predictions/attention", "predictions")
            # Naming was changed to be more explicit
            name = name.replace("embeddings/attention", "embeddings")
            name = name.replace("inner_group_", "albert_layers/")
            name = name.replace("group_", "albert_layer_groups/")
            # Classifier
            if len(name.split("/")) == 1 and ("output_bias" in name or "output_weights" in name):
                name = "classifier/" + name
            # No ALBERT model currently handles the next sentence prediction task
            if "seq_relationship" in name:
                name = name.replace("seq_relationship/output_", "sop_classifier/classifier/")
                name = name.replace("weights", "weight")
            name = name.split("/")
            # Ignore the gradients applied by the LAMB/ADAM optimizers.
            if any(n in TF_OPTIMIZER_NAMES for n in name):
                continue
            tf_pointer_walk(model, name, array, "albert loader", skip_unknown=True)

    def poisoned(model) -> None:
        """Fill every parameter with NaN, so a weight the loader port does not set cannot pass the comparison."""
        with torch.no_grad():
            for p in model.parameters():
                p.fill_(float("nan"))

    def decoder_sets(rng: np.random.Generator, vocab: int, pad: int) -> dict[str, dict[str, np.ndarray]]:
        """Left-padded batches (mask 0 on the left), position_ids = cumsum(mask) - 1, 0 where the mask is 0."""
        sets = {}
        for s, (seq, lengths) in {"a": (7, [7, 4, 1]), "b": (5, [3, 5])}.items():
            ids = np.full((len(lengths), seq), pad, dtype=np.int64)
            mask = np.zeros_like(ids)
            for r, n in enumerate(lengths):
                ids[r, seq - n:] = rng.integers(3, vocab - 1, size=n)
                mask[r, seq - n:] = 1
            sets[s] = {"input_ids": ids, "attention_mask": mask, "position_ids": generation_position_ids(mask)}
        return sets

    class Reference:
        """One format fixture's model, as every make_* starts it: `cls` built from `config` under the fixture's
        seed and re-initialised, saved with save_pretrained under reference/ (the safetensors format), with what
        the other formats are checked against: its state arrays and the tied aliases save_pretrained leaves out."""

        def __init__(self, model_name: str, cls, config) -> None:
            self.model_name, self.cls, self.config = model_name, cls, config
            self.root = OUT / model_name
            self.name = f"formats/{model_name}"
            self.seed = seed_of(self.name)
            torch.manual_seed(self.seed)
            gen = torch.Generator().manual_seed(self.seed)
            self.model = cls._from_config(config, attn_implementation="eager")
            reinit(self.model, (), gen)
            self.model.eval()
            self.saved = save_reference(self.model, self.root / "reference")
            self.saved_keys = safetensors_keys(self.root / "reference" / "model.safetensors")
            self.tied = tied_aliases(self.model, self.saved_keys)
            self.sd = state_arrays(self.model)

        def check_loader(self, what: str, load) -> None:
            """The self-check of an original format: a fresh model filled with NaN, then by `load` (a transformers-4
            loader port, given the model) and tied again, must equal the reference bit for bit."""
            rebuilt = self.cls._from_config(self.config, attn_implementation="eager")
            poisoned(rebuilt)
            load(rebuilt)
            rebuilt.tie_weights()
            bits_equal(f"{self.name}: {what}", state_arrays(rebuilt), self.sd)

        def write_meta(self, notes: str, compare_where: str | None, tasks: dict, formats: dict, convert: dict,
                       config: dict) -> dict:
            """formats.json, which the parity tests read; returns the row the size summary lists."""
            meta = {
                "model": self.model_name,
                "model_type": self.model.config.model_type,
                "architecture": type(self.model).__name__,
                "base_model_prefix": self.model.base_model_prefix,
                "notes": notes,
                "seed": self.seed,
                "sets": ["a", "b"],
                "compare_where": compare_where,
                "tasks": tasks,
                "formats": formats,
                "convert": convert,
                "tied": self.tied,
                "ignorable_unexpected": sorted(getattr(self.model, "_keys_to_ignore_on_load_unexpected", None) or []),
                "config": config,
                "generated_with": versions,
            }
            (self.root / "formats.json").write_text(json.dumps(meta, indent=2) + "\n")
            return {"name": self.model_name, "tied": self.tied}

    def encoder_reference(ref: Reference, model_type: str, config: dict, mlm, base) -> tuple[dict, dict]:
        """Reference outputs of an encoder pre-training fixture, written to reference.npz: fill-mask logits from
        `mlm`, last_hidden_state and pooler_output from `base` (both loaded from reference/) on input sets a and b
        (right-padded rows, token_type_ids with 1s); the pre-training model must compute the same MLM logits.
        Returns formats.json's task contracts and the arrays."""
        variant = Variant(ref.name, model_type, dict(config), ["fill-mask", "feature-extraction"], "")
        rng = np.random.default_rng(ref.seed)
        arrays: dict[str, np.ndarray] = {}
        tasks = {}
        for task in ("fill-mask", "feature-extraction"):
            outs = output_names(model_type, task)
            in_axes, out_axes = axes_for(task, ["input_ids", "attention_mask", "token_type_ids"], outs)
            tasks[task] = {"inputs": ["input_ids", "attention_mask", "token_type_ids"], "outputs": outs,
                           "input_axes": in_axes, "output_axes": out_axes}
        for s in ("a", "b"):
            inputs = make_input_set(s, variant, "fill-mask", rng)
            for k, a in inputs.items():
                arrays[f"{s}.input.{k}"] = a
            arrays[f"{s}.fill-mask.logits"] = run(mlm, inputs, "logits")
            arrays[f"{s}.feature-extraction.last_hidden_state"] = run(base, inputs, "last_hidden_state")
            arrays[f"{s}.feature-extraction.pooler_output"] = run(base, inputs, "pooler_output")
            same_outputs(ref.name, {"logits": run(ref.model, inputs, "prediction_logits")},
                         {"logits": arrays[f"{s}.fill-mask.logits"]})
        write_npz(ref.root / "reference.npz", arrays)
        return tasks, arrays

    # --------------------------------------------------------------------------------------------
    # bert

    def make_bert() -> dict:
        from make_fixtures import EXAMPLE_PIECES, EXAMPLE_WORDS
        from transformers import BertConfig, BertForMaskedLM, BertForPreTraining, BertModel

        vocab_list = (["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] + EXAMPLE_WORDS + EXAMPLE_PIECES)[:99]
        google_config = {  # bert_config.json as Google's releases spell it (no model_type, no layer_norm_eps)
            "attention_probs_dropout_prob": 0.1, "hidden_act": "gelu", "hidden_dropout_prob": 0.1,
            "hidden_size": HIDDEN, "initializer_range": 0.02, "intermediate_size": BERT_INTERMEDIATE,
            "max_position_embeddings": MAX_POS, "num_attention_heads": HEADS, "num_hidden_layers": LAYERS,
            "type_vocab_size": 2, "vocab_size": len(vocab_list),
        }
        ref = Reference("bert", BertForPreTraining, BertConfig(**google_config))
        root, name, model = ref.root, ref.name, ref.model

        # reference outputs: what transformers' fill-mask / feature-extraction models load from reference/
        mlm = load_checked(BertForMaskedLM, root / "reference", name,
                           allow_unexpected=("cls.seq_relationship.", "bert.pooler."))
        base = load_checked(BertModel, root / "reference", name, allow_unexpected=("cls.",))
        tasks, arrays = encoder_reference(ref, "bert", google_config, mlm, base)

        def check_folder(folder: Path) -> None:
            for cls, task, outs, allow in ((BertForMaskedLM, "fill-mask", ["logits"],
                                            ("cls.seq_relationship.", "bert.pooler.")),
                                           (BertModel, "feature-extraction", ["last_hidden_state", "pooler_output"],
                                            ("cls.",))):
                m = load_checked(cls, folder, f"{name}/{folder.name}", allow_unexpected=allow)
                for s in ("a", "b"):
                    inputs = {k: arrays[f"{s}.input.{k}"] for k in tasks[task]["inputs"]}
                    same_outputs(f"{name}/{folder.name}", {o: run(m, inputs, o) for o in outs},
                                 {o: arrays[f"{s}.{task}.{o}"] for o in outs})

        # bin/: torch.save(model.state_dict()), tied aliases included (they share the word-embedding storage)
        (root / "bin").mkdir()
        save_bin(model.state_dict(), root / "bin" / "pytorch_model.bin")
        shutil.copy(root / "reference" / "config.json", root / "bin" / "config.json")
        check_folder(root / "bin")

        # bin-sharded/: the saved keys (no tied aliases, as save_pretrained leaves them out) in two shards
        shard_dir = root / "bin-sharded"
        full = model.state_dict()
        save_sharded(full, [k for k in full if k in ref.saved_keys], shard_dir)
        shutil.copy(root / "reference" / "config.json", shard_dir / "config.json")
        check_folder(shard_dir)

        # legacy-bin/: bin/'s state dict in the legacy (pre-1.6) torch.save format
        (root / "legacy-bin").mkdir()
        save_bin(model.state_dict(), root / "legacy-bin" / "pytorch_model.bin", legacy=True)
        shutil.copy(root / "reference" / "config.json", root / "legacy-bin" / "config.json")
        check_folder(root / "legacy-bin")

        # tf/: Google's checkpoint layout, written by TensorFlow
        tf_dir = root / "tf"
        tf_dir.mkdir()
        google = bert_to_google({k: ref.sd[k] for k in sorted(ref.saved_keys)})
        names, tf_arrays = write_tf({"prefix": tf_dir / "bert_model.ckpt", "variables": google, "global_step": 1000})
        (tf_dir / "bert_config.json").write_text(json.dumps(google_config, indent=2, sort_keys=True) + "\n")
        (tf_dir / "vocab.txt").write_text("\n".join(vocab_list) + "\n")
        # self-check: transformers 4's loader, run on what TensorFlow reads back, rebuilds every weight
        if "global_step" not in names:
            raise SystemExit(f"{name}: no global_step in the TF checkpoint")
        ref.check_loader("TF -> load_tf_weights_in_bert", lambda m: load_tf_weights_in_bert(m, names, tf_arrays))

        return ref.write_meta(
            notes="BertForPreTraining, so every variable of Google's checkpoint has a transformers key "
                  "(cls.predictions.* for fill-mask, cls.seq_relationship.* next-sentence head, bert.pooler.* "
                  "for pooler_output). fill-mask reference: BertForMaskedLM.from_pretrained(reference/) (ignores "
                  "the NSP head and the pooler); feature-extraction: BertModel.from_pretrained(reference/). "
                  "Exact erf gelu, layer_norm_eps 1e-12 (the default; bert_config.json has none), token_type_ids "
                  "with 1s, right-padded rows (every position is compared, as in test_parity.py).",
            compare_where=None,
            tasks=tasks,
            formats={
                "safetensors": {"folder": "reference"},
                "tf": {"folder": "tf", "model_type": "bert",
                       "layout": "Google BERT: bert_model.ckpt.{index,data-00000-of-00001} + bert_config.json + "
                                 "vocab.txt, global_step, no checkpoint state file"},
                "bin": {"folder": "bin",
                        "layout": "torch.save(state_dict) zip; cls.predictions.decoder.weight/bias stored as "
                                  "aliases of the word embeddings / cls.predictions.bias storages"},
                "bin-sharded": {"folder": "bin-sharded",
                                "layout": "pytorch_model.bin.index.json + 2 zip shards, no tied aliases"},
                "legacy-bin": {"folder": "legacy-bin",
                               "layout": "torch.save(state_dict, _use_new_zipfile_serialization=False): the legacy "
                                         "stream of pickles, then raw storages; tied aliases share one storage"},
            },
            convert={
                "model_type": "bert",
                "tf_checkpoint": "tf/bert_model.ckpt",
                "config": None,
                # written file -> the original it must equal byte for byte
                "tokenizer_files": {"vocab.txt": "tf/vocab.txt"},
                # whole heads a converter may leave out (and then only as a whole): the NSP head is not used
                # by any export task
                "optional_heads": ["cls.seq_relationship."],
            },
            config=config_fields(
                ref.saved, BertConfig,
                ["vocab_size", "hidden_size", "num_hidden_layers", "num_attention_heads", "intermediate_size",
                 "max_position_embeddings", "type_vocab_size", "hidden_act"],
                ["layer_norm_eps", "pad_token_id"]),
        )

    # --------------------------------------------------------------------------------------------
    # albert

    def albert_sentencepiece() -> bytes:
        """A tiny SentencePiece unigram model in the place of Google's 30k-clean.model (transformers calls it
        spiece.model): 99 pieces, <pad> 0, <unk> 1, [CLS] 2, [SEP] 3, [MASK] 4 as in ALBERT's; identity
        normalisation, so the file is about 1 KB instead of carrying NFKC tables."""
        import io

        import sentencepiece as spm
        from make_fixtures import EXAMPLE_WORDS

        words = list(EXAMPLE_WORDS)
        sentences = [" ".join(words[i:i + 8]) for i in range(0, len(words), 3)]
        model = io.BytesIO()
        spm.SentencePieceTrainer.train(
            sentence_iterator=iter(sentences), model_writer=model, vocab_size=ALBERT_VOCAB, model_type="unigram",
            num_threads=1, character_coverage=1.0, hard_vocab_limit=False, normalization_rule_name="identity",
            pad_id=0, unk_id=1, bos_id=-1, eos_id=-1, control_symbols=["[CLS]", "[SEP]"],
            user_defined_symbols=["[MASK]"], minloglevel=2)
        return model.getvalue()

    def make_albert() -> dict:
        from transformers import AlbertConfig, AlbertForMaskedLM, AlbertForPreTraining, AlbertModel

        # albert_config.json as Google's releases spell it (albert_base v2's keys, in its order; no model_type, no
        # layer_norm_eps; net_structure_type, gap_size, num_memory_blocks and down_scale_factor are the original
        # code's and transformers keeps them as they are)
        google_config = {
            "attention_probs_dropout_prob": 0, "hidden_act": "gelu", "hidden_dropout_prob": 0,
            "embedding_size": ALBERT_EMBEDDING, "hidden_size": ALBERT_HIDDEN, "initializer_range": 0.02,
            "intermediate_size": BERT_INTERMEDIATE, "max_position_embeddings": MAX_POS,
            "num_attention_heads": HEADS, "num_hidden_layers": LAYERS, "num_hidden_groups": 1,
            "net_structure_type": 0, "gap_size": 0, "num_memory_blocks": 0, "inner_group_num": ALBERT_INNER_GROUPS,
            "down_scale_factor": 1, "type_vocab_size": 2, "vocab_size": ALBERT_VOCAB,
        }
        ref = Reference("albert", AlbertForPreTraining, AlbertConfig(**google_config))
        root, name = ref.root, ref.name

        mlm = load_checked(AlbertForMaskedLM, root / "reference", name,
                           allow_unexpected=("sop_classifier.", "albert.pooler."))
        base = load_checked(AlbertModel, root / "reference", name, allow_unexpected=("predictions.", "sop_classifier."))
        tasks, _ = encoder_reference(ref, "albert", google_config, mlm, base)

        # Google's layout, and the same under TF-Hub's module/; LAMB's adam_m / adam_v slots on a few variables
        # (a LayerNorm, a shared-layer kernel, the MLM bias) and global_step, which a converter must skip
        google = albert_to_google({k: ref.sd[k] for k in sorted(ref.saved_keys)})
        slot_rng = np.random.default_rng(ref.seed + 1)
        with_slots = ["bert/embeddings/LayerNorm/gamma",
                      "bert/encoder/transformer/group_0/inner_group_0/attention_1/self/query/kernel",
                      "cls/predictions/output_bias"]
        spiece = albert_sentencepiece()
        folders = {"tf": ("", "model.ckpt-best"), "tf-hub": ("module/", "model.ckpt-1000")}
        for folder, (prefix, ckpt) in folders.items():
            variables = {prefix + k: v for k, v in google.items()}
            for k in with_slots:
                for slot in ("adam_m", "adam_v"):
                    variables[f"{prefix}{k}/{slot}"] = slot_rng.standard_normal(google[k].shape).astype(np.float32)
            (root / folder).mkdir()
            names, tf_arrays = write_tf({"prefix": root / folder / ckpt, "variables": variables, "global_step": 1000})
            if "global_step" not in names or not any(n.endswith("/adam_m") for n in names):
                raise SystemExit(f"{name}/{folder}: the TF checkpoint lacks global_step or the optimizer slots")
            (root / folder / "albert_config.json").write_text(json.dumps(google_config, indent=2) + "\n")
            ref.check_loader(f"{folder} -> load_tf_weights_in_albert",
                             lambda m, names=names, tf_arrays=tf_arrays: load_tf_weights_in_albert(m, names, tf_arrays))
        (root / "tf" / "30k-clean.model").write_bytes(spiece)

        return ref.write_meta(
            notes="AlbertForPreTraining, so every variable of Google's checkpoint has a transformers key (predictions.* "
                  "for fill-mask, sop_classifier.classifier.* the sentence-order head, albert.pooler.* for "
                  "pooler_output). embedding 16 -> hidden 24 (embedding_hidden_mapping_in), 4 heads, 2 layers in 1 "
                  f"group of {ALBERT_INNER_GROUPS} inner layers (both layers run the same stored group), exact gelu "
                  "(albert_config.json says gelu, which transformers reads as the erf form), layer_norm_eps 1e-12 "
                  "(the default; albert_config.json has none). fill-mask reference: AlbertForMaskedLM, "
                  "feature-extraction: AlbertModel, both from reference/. Right-padded rows, token_type_ids with 1s.",
            compare_where=None,
            tasks=tasks,
            formats={
                "safetensors": {"folder": "reference"},
                # no --model-type: the exporter must recognise albert_config.json
                "tf": {"folder": "tf",
                       "layout": "Google ALBERT: model.ckpt-best.{index,data-00000-of-00001} + albert_config.json + "
                                 "30k-clean.model, global_step and adam_m/adam_v slots, no checkpoint state file"},
                "tf-hub": {"folder": "tf-hub", "model_type": "albert",
                           "layout": "a checkpoint saved through the TF-Hub module: every variable under module/ "
                                     "(model.ckpt-1000.*), slots under module/ too, global_step, albert_config.json"},
            },
            convert=[
                {"id": "tf", "model_type": "albert", "tf_checkpoint": "tf/model.ckpt-best", "config": None,
                 "tokenizer_files": {"spiece.model": "tf/30k-clean.model"}, "optional_heads": []},
                {"id": "tf-hub", "model_type": "albert", "tf_checkpoint": "tf-hub/model.ckpt-1000",
                 "config": "tf-hub/albert_config.json", "tokenizer_files": {}, "optional_heads": []},
            ],
            config=config_fields(
                ref.saved, AlbertConfig,
                ["vocab_size", "embedding_size", "hidden_size", "num_hidden_layers", "num_hidden_groups",
                 "num_attention_heads", "intermediate_size", "inner_group_num", "hidden_act", "hidden_dropout_prob",
                 "attention_probs_dropout_prob", "max_position_embeddings", "type_vocab_size", "initializer_range",
                 "net_structure_type", "gap_size", "num_memory_blocks", "down_scale_factor"],
                ["layer_norm_eps", "classifier_dropout_prob", "pad_token_id", "bos_token_id", "eos_token_id"]),
        )

    # --------------------------------------------------------------------------------------------
    # decoders (gpt2, openai-gpt)

    def decoder_reference(ref: Reference, base_cls, pad: int) -> tuple[dict, dict]:
        """Reference outputs of a decoder fixture (text-generation from ref's LM class, feature-extraction from
        `base_cls`, both loaded from reference/), and a check that a converted folder loads to the same outputs."""
        root, name, model, lm_cls = ref.root, ref.name, ref.model, ref.cls
        lm = load_checked(lm_cls, root / "reference", name)
        base = load_checked(base_cls, root / "reference", name)
        rng = np.random.default_rng(ref.seed)
        arrays: dict[str, np.ndarray] = {}
        for s, inputs in decoder_sets(rng, model.config.vocab_size, pad).items():
            for k, a in inputs.items():
                arrays[f"{s}.input.{k}"] = a
            arrays[f"{s}.text-generation.logits"] = run(lm, inputs, "logits")
            arrays[f"{s}.feature-extraction.last_hidden_state"] = run(base, inputs, "last_hidden_state")
            same_outputs(name, {"logits": run(model, inputs, "logits")}, {"logits": arrays[f"{s}.text-generation.logits"]})
        write_npz(root / "reference.npz", arrays)
        c = model.config
        io = causal_io({"num_layers": c.num_hidden_layers, "num_attention_heads": c.num_attention_heads,
                        "num_key_value_heads": c.num_attention_heads,
                        "head_dim": c.hidden_size // c.num_attention_heads,
                        "hidden_size": c.hidden_size, "vocab_size": c.vocab_size})
        tasks = {t: io[t] for t in ("text-generation", "feature-extraction")}

        def check_folder(folder: Path) -> None:
            for cls, task, out in ((lm_cls, "text-generation", "logits"),
                                   (base_cls, "feature-extraction", "last_hidden_state")):
                # a raw state_dict carries the tied lm_head.weight, which the base model does not use
                m = load_checked(cls, folder, f"{name}/{folder.name}",
                                 allow_unexpected=("lm_head.",) if cls is base_cls else ())
                for s in ("a", "b"):
                    inputs = {k: arrays[f"{s}.input.{k}"] for k in tasks[task]["inputs"]}
                    same_outputs(f"{name}/{folder.name}", {out: run(m, inputs, out)}, {out: arrays[f"{s}.{task}.{out}"]})

        return tasks, {"check_folder": check_folder}

    def gpt2_tokenizer(vocab: int) -> tuple[dict[str, int], str]:
        """A tiny byte-level BPE in GPT-2's files: the 94 printable ASCII bytes, "Ġ" (space), one merge "Ġt",
        and <|endoftext|> last (bos = eos, as GPT-2)."""
        tokens = [chr(c) for c in range(ord("!"), ord("~") + 1)] + ["\u0120", "\u0120t", "<|endoftext|>"]
        assert len(tokens) == vocab, len(tokens)
        return {t: i for i, t in enumerate(tokens)}, "#version: 0.2\n\u0120 t\n"

    def make_gpt2() -> dict:
        from transformers import GPT2Config, GPT2LMHeadModel, GPT2Model

        hparams = {"n_vocab": GPT2_VOCAB, "n_ctx": MAX_POS, "n_embd": HIDDEN, "n_head": HEADS, "n_layer": LAYERS}
        config = GPT2Config(vocab_size=GPT2_VOCAB, n_positions=MAX_POS, n_embd=HIDDEN, n_head=HEADS, n_layer=LAYERS,
                            bos_token_id=GPT2_VOCAB - 1, eos_token_id=GPT2_VOCAB - 1)
        ref = Reference("gpt2", GPT2LMHeadModel, config)
        root = ref.root
        tasks, helpers = decoder_reference(ref, GPT2Model, pad=0)

        (root / "bin").mkdir()
        save_bin(ref.model.state_dict(), root / "bin" / "pytorch_model.bin")
        shutil.copy(root / "reference" / "config.json", root / "bin" / "config.json")
        helpers["check_folder"](root / "bin")

        full = ref.model.state_dict()
        save_sharded(full, [k for k in full if k in ref.saved_keys], root / "legacy-bin-sharded", legacy=True)
        shutil.copy(root / "reference" / "config.json", root / "legacy-bin-sharded" / "config.json")
        helpers["check_folder"](root / "legacy-bin-sharded")

        tf_dir = root / "tf"
        tf_dir.mkdir()
        variables = gpt2_to_openai_tf({k: ref.sd[k] for k in sorted(ref.saved_keys, key=gpt2_order)})
        names, tf_arrays = write_tf({"prefix": tf_dir / "model.ckpt", "variables": variables, "write_state": True})
        # the Saver's state file names this machine's absolute path; OpenAI's names the relative one
        (tf_dir / "checkpoint").write_text('model_checkpoint_path: "model.ckpt"\n'
                                           'all_model_checkpoint_paths: "model.ckpt"\n')
        (tf_dir / "hparams.json").write_text(json.dumps(hparams, indent=2) + "\n")
        encoder, merges = gpt2_tokenizer(GPT2_VOCAB)
        (tf_dir / "encoder.json").write_text(json.dumps(encoder))
        (tf_dir / "vocab.bpe").write_text(merges, encoding="utf-8")
        ref.check_loader("TF -> load_tf_weights_in_gpt2",
                         lambda m: load_tf_weights_in_gpt2(m.transformer, names, tf_arrays))

        return ref.write_meta(
            notes="GPT-2 as OpenAI's hparams.json can describe it: n_inner 4 * n_embd, gelu_new, "
                  "layer_norm_epsilon 1e-5, n_positions = n_ctx 32, tied lm_head. text-generation reference: "
                  "GPT2LMHeadModel.from_pretrained(reference/), feature-extraction: GPT2Model (after ln_f). "
                  "Left-padded batches, position_ids = cumsum(mask) - 1 (0 where the mask is 0); only positions "
                  "where the mask is 1 are compared.",
            compare_where="attention_mask",
            tasks=tasks,
            formats={
                "safetensors": {"folder": "reference"},
                "tf": {"folder": "tf", "model_type": "gpt2",
                       "layout": "OpenAI GPT-2: model.ckpt.{index,data-00000-of-00001} + checkpoint + hparams.json "
                                 "(+ encoder.json, vocab.bpe)"},
                "bin": {"folder": "bin",
                        "layout": "torch.save(state_dict) zip; lm_head.weight an alias of transformer.wte.weight"},
                "legacy-bin-sharded": {"folder": "legacy-bin-sharded",
                                       "layout": "pytorch_model.bin.index.json + 2 shards in the legacy (pre-1.6) "
                                                 "torch.save format, no tied aliases"},
            },
            convert={
                "model_type": "gpt2",
                "tf_checkpoint": "tf/model.ckpt",
                "config": None,
                "tokenizer_files": {"vocab.json": "tf/encoder.json", "merges.txt": "tf/vocab.bpe"},
                "optional_heads": [],
            },
            config=config_fields(ref.saved, GPT2Config,
                                 ["vocab_size", "n_positions", "n_embd", "n_layer", "n_head"],
                                 ["activation_function", "layer_norm_epsilon", "n_inner"]),
        )

    def gpt2_order(key: str) -> tuple:
        """OpenAI's variable creation order (wte, wpe, h0..., ln_f), for a readable variables list."""
        k = key.removeprefix("transformer.")
        if k.startswith("wte"):
            return (0,)
        if k.startswith("wpe"):
            return (1,)
        if k.startswith("h."):
            i = int(k.split(".")[1])
            return (2, i, k)
        return (3, k)

    def make_openai_gpt() -> dict:
        from transformers import OpenAIGPTConfig, OpenAIGPTLMHeadModel, OpenAIGPTModel

        config = OpenAIGPTConfig(vocab_size=OPENAI_VOCAB, n_positions=MAX_POS, n_embd=HIDDEN, n_head=HEADS,
                                 n_layer=LAYERS, afn="gelu")
        ref = Reference("openai-gpt", OpenAIGPTLMHeadModel, config)
        root = ref.root
        tasks, _ = decoder_reference(ref, OpenAIGPTModel, pad=0)

        np_dir = root / "numpy"
        np_dir.mkdir()
        names, params = openai_gpt_params(ref.sd, LAYERS)
        shapes = [list(p.shape) for p in params]
        flat = np.concatenate([p.astype("<f4").ravel() for p in params])
        cut = flat.size // 2
        ends = np.cumsum([p.size for p in params])
        if cut in set(ends.tolist()):
            cut += 1
        spanning = int(np.searchsorted(ends, cut, side="right"))
        (np_dir / "params_shapes.json").write_text(json.dumps(shapes))
        np.save(np_dir / "params_0.npy", flat[:cut])
        np.save(np_dir / "params_1.npy", flat[cut:])
        shutil.copy(root / "reference" / "config.json", root / "numpy-config.json")
        # parameters_names.json lists one name for the combined embedding ("model/we:0"), then the layers
        ref.check_loader("numpy -> load_tf_weights_in_openai_gpt",
                         lambda m: load_tf_weights_in_openai_gpt(m.transformer, np_dir, names[1:]))

        return ref.write_meta(
            notes="OpenAI GPT-1: post-LayerNorm blocks, afn gelu (= gelu_new for this model), no final norm, tied "
                  "lm_head. text-generation reference: OpenAIGPTLMHeadModel.from_pretrained(reference/), "
                  "feature-extraction: OpenAIGPTModel. Left-padded batches with position_ids = cumsum(mask) - 1; "
                  "only mask-1 positions are compared.",
            compare_where="attention_mask",
            tasks=tasks,
            formats={
                "safetensors": {"folder": "reference"},
                "numpy": {"folder": "numpy", "config": "numpy-config.json",
                          "layout": f"finetune-transformer-lm: params_shapes.json ({len(shapes)} tensors: positions "
                                    f"[{MAX_POS}, {HIDDEN}], tokens [{OPENAI_VOCAB}, {HIDDEN}], then 12 per layer) + "
                                    f"params_0.npy ({cut} floats) + params_1.npy ({flat.size - cut} floats); tensor "
                                    f"{spanning} ({names[spanning]}, {shapes[spanning]}) spans the two files"},
            },
            convert={
                "model_type": "openai-gpt",
                "tf_checkpoint": "numpy",
                "config": "numpy-config.json",
                "tokenizer_files": {},
                "optional_heads": [],
            },
            config=config_fields(ref.saved, OpenAIGPTConfig,
                                 ["vocab_size", "n_positions", "n_embd", "n_layer", "n_head", "afn"],
                                 ["layer_norm_epsilon"]),
        )

    # --------------------------------------------------------------------------------------------

    makers = {"bert": make_bert, "gpt2": make_gpt2, "openai-gpt": make_openai_gpt, "albert": make_albert}
    chosen = only or list(makers)
    unknown = sorted(set(chosen) - set(makers))
    if unknown:
        raise SystemExit(f"--only: unknown model(s) {unknown}; known: {', '.join(makers)}")
    if not only and OUT.exists():
        shutil.rmtree(OUT)
    OUT.mkdir(parents=True, exist_ok=True)
    for model_name in chosen:  # only the chosen folders are rewritten; the others stay byte for byte
        shutil.rmtree(OUT / model_name, ignore_errors=True)
    rows = [makers[m]() for m in chosen]
    for r in rows:
        folder = OUT / r["name"]
        for p in sorted(folder.rglob("*")):
            if p.is_file():
                print(f"{p.relative_to(OUT).as_posix():60} {p.stat().st_size:>9}")
    total = sum(p.stat().st_size for p in OUT.rglob("*") if p.is_file())
    print(f"\n{len(rows)} models written, all format fixtures {total / 1e6:.3f} MB  (torch {versions['torch']}, "
          f"transformers {versions['transformers']})")
    if total >= 1_500_000:
        raise SystemExit("the format fixtures passed 1.5 MB")
    return 0


if __name__ == "__main__":
    if sys.argv[1:2] == ["--write-tf"]:
        tf_main(sys.argv[2])
    else:
        import argparse

        parser = argparse.ArgumentParser(description="Write Tests/Fixtures/formats (all models, or those named).")
        parser.add_argument("--only", nargs="+", metavar="MODEL", default=[],
                            help="rebuild only these models (bert, gpt2, openai-gpt, albert), leaving the others as "
                                 "they are on disk")
        sys.exit(torch_main(parser.parse_args().only))
