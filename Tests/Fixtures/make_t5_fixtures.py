#!/usr/bin/env python3
"""Generate the Mesh TensorFlow T5 fixtures under ``Tests/Fixtures/t5-mesh`` for ``onnx-export convert --model-type t5``.

Original T5 checkpoints (google-research/text-to-text-transfer-transformer, ``gs://t5-data/pretrained_models/...``:
``model.ckpt-N.{index,data-*}`` written by Mesh TensorFlow) are converted by transformers 4's
``convert_t5_original_tf_checkpoint_to_pytorch.py``: ``T5Config.from_json_file(config)`` ->
``T5ForConditionalGeneration(config)`` -> ``load_tf_weights_in_t5(model, config, ckpt)`` -> ``model.save_pretrained``.
This script writes tiny checkpoints with Mesh TensorFlow's variable names and has transformers 4.57 convert them
exactly that way, so the tests compare ``onnx-export convert`` with the real thing. The variable names and layouts
come from Mesh TensorFlow's code (``mesh_tensorflow/transformer/transformer_layers.py``, ``transformer.py``,
``attention.py``, ``optimize.py``), written out below, NOT from the exporter's name table.

Three interpreters, all outside the repository (torch and TensorFlow are never installed side by side)::

    /path/to/venv-t4/bin/python Tests/Fixtures/make_t5_fixtures.py     # numpy (any python with numpy runs the driver)

It runs ``$TF_PYTHON`` (a Python with tensorflow + numpy; default python3) on ``make_format_fixtures.py
--write-tf`` to write the TF1 checkpoints (the arrays travel through .npz files in a temp dir), then
``$T4_PYTHON`` (a Python with torch + transformers 4.57, whose ``load_tf_weights_in_t5`` needs tensorflow;
default python3) on this file with ``--reference JOB.json``, with ``$T4_TF_SITE`` (the tensorflow venv's
site-packages, e.g. /path/to/venv-tf/lib/python3.11/site-packages; no default) on its PYTHONPATH so that
transformers' loader imports the same tensorflow that wrote the checkpoints.

What it writes (``Tests/Fixtures/t5-mesh/``, about 160 KB)::

    v1_0/        T5 v1.0 (the 2019 release's layout: legacy LayerStack names ``layer_norm/scale`` per sublayer and
                 ``final_layer_norm/scale`` per stack; relu; no ``decoder/logits/kernel``: the head is the shared
                 embedding): model.ckpt-1000.{index,data-00000-of-00001}, checkpoint, t5_config.json (as transformers'
                 t5 configs spell it: architectures, n_positions, output_past, task_specific_params, ...)
      reference/   what 4.57's script wrote (config.json, model.safetensors; generation_config.json too)
    v1_1/        T5 v1.1 (newer layout: ``rms_norm/scale`` in sublayers and stacks; gated-gelu ``wi_0``/``wi_1``;
                 untied ``decoder/logits/kernel``; 3 decoder layers for 2 encoder layers): model.ckpt-2000.*,
                 t5_config.json, mt5_config.json (the same model as model_type mt5)
      reference/      4.57's script on t5_config.json
      reference-mt5/  the same with MT5Config / MT5ForConditionalGeneration / load_tf_weights_in_mt5
    bad/missing/     v1.0's variables without ``decoder/block_001/layer_002/DenseReluDense/wo/kernel``
    bad/misshapen/   v1.0's variables with ``encoder/block_000/layer_000/SelfAttention/k`` one column short
    t5-mesh.json     what the tests need: per checkpoint the prefix, configs, references; what 4.57's loader did
                     with the bad checkpoints (it leaves a missing weight at its random init and says nothing; it
                     raises on the misshapen one); which keys save_pretrained kept.

Every checkpoint carries Adafactor's slot variables (``<var>_slot_vr`` / ``_slot_vc`` for factored 2-D variables,
``<var>_slot_v`` for 1-D ones) and ``global_step``, as the released ones do; every variable is float32.

As a self-check the script compares every tensor of each reference with the checkpoint variable it must come from
(this script's own mapping: attention ``q/k/v/o`` and dense kernels transposed to nn.Linear's ``[out, in]``,
``relative_attention_bias`` ``[heads, buckets]`` transposed, embeddings and scales as they are), so a weight the
loader left at its random init cannot slip into a reference.
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
OUT = HERE / "t5-mesh"
TF_PYTHON = os.environ.get("TF_PYTHON", "python3")
T4_PYTHON = os.environ.get("T4_PYTHON", "python3")
T4_TF_SITE = os.environ.get("T4_TF_SITE", "")

# transformers-style configs, as the T5 release's configs on the hub spell them
V1_0_CONFIG = {
    "architectures": ["T5WithLMHeadModel"],
    "d_ff": 12,
    "d_kv": 3,
    "d_model": 8,
    "decoder_start_token_id": 0,
    "dropout_rate": 0.1,
    "eos_token_id": 1,
    "initializer_factor": 1.0,
    "is_encoder_decoder": True,
    "layer_norm_epsilon": 1e-06,
    "model_type": "t5",
    "n_positions": 512,
    "num_heads": 2,
    "num_layers": 2,
    "output_past": True,
    "pad_token_id": 0,
    "relative_attention_num_buckets": 8,
    "relative_attention_max_distance": 20,
    "task_specific_params": {"translation_en_to_de": {"early_stopping": True, "max_length": 300,
                                                      "prefix": "translate English to German: "}},
    "vocab_size": 32,
}
V1_1_CONFIG = {
    "architectures": ["T5ForConditionalGeneration"],
    "d_ff": 10,
    "d_kv": 4,
    "d_model": 8,
    "decoder_start_token_id": 0,
    "dropout_rate": 0.1,
    "eos_token_id": 1,
    "feed_forward_proj": "gated-gelu",
    "initializer_factor": 1.0,
    "is_encoder_decoder": True,
    "layer_norm_epsilon": 1e-06,
    "model_type": "t5",
    "num_decoder_layers": 3,
    "num_heads": 3,
    "num_layers": 2,
    "output_past": True,
    "pad_token_id": 0,
    "relative_attention_num_buckets": 8,
    "tie_word_embeddings": False,
    "vocab_size": 36,
}
MT5_CONFIG = {**V1_1_CONFIG, "architectures": ["MT5ForConditionalGeneration"], "model_type": "mt5",
              "tokenizer_class": "T5Tokenizer"}

MODELS = {
    "v1_0": {"config": V1_0_CONFIG, "norm": "layer_norm", "final_norm": "final_layer_norm", "step": 1000, "seed": 10},
    "v1_1": {"config": V1_1_CONFIG, "norm": "rms_norm", "final_norm": "rms_norm", "step": 2000, "seed": 11},
}
MISSING = "decoder/block_001/layer_002/DenseReluDense/wo/kernel"
MISSHAPEN = "encoder/block_000/layer_000/SelfAttention/k"


# ================================================================================================
# Mesh TensorFlow's variables (independent of transformers and of the exporter)


def mesh_variables(spec: dict) -> dict[str, np.ndarray]:
    """Mesh TF T5 variables, in creation order, with Adafactor slots and float32 values.

    Names: ``shared/embedding`` [vocab, d_model]; per stack ``block_NNN/layer_NNN/<sublayer>``: SelfAttention (and
    EncDecAttention in the decoder) ``q``, ``k``, ``v`` [d_model, heads*d_kv] and ``o`` [heads*d_kv, d_model] (no
    ``kernel``: attention.AttentionParams makes the variables itself, with combined heads), the first block's
    SelfAttention ``relative_attention_bias`` [heads, buckets] ("bias_shared": one table per stack), the norm's
    ``scale`` [d_model], DenseReluDense ``wi/kernel`` (or ``wi_0/kernel`` and ``wi_1/kernel`` when gated)
    [d_model, d_ff] and ``wo/kernel`` [d_ff, d_model] (mtf.layers.dense); the stack's final norm; an untied
    ``decoder/logits/kernel`` [d_model, vocab].
    """
    c = spec["config"]
    rng = np.random.RandomState(spec["seed"])
    d, inner, ff, vocab = c["d_model"], c["num_heads"] * c["d_kv"], c["d_ff"], c["vocab_size"]
    gated = c.get("feed_forward_proj", "relu").startswith("gated-")
    heads, buckets = c["num_heads"], c["relative_attention_num_buckets"]
    out: dict[str, np.ndarray] = {}

    def var(name: str, *shape: int, scale: float = 1.0) -> None:
        out[name] = (rng.standard_normal(shape) * scale).astype(np.float32)

    var("shared/embedding", vocab, d)
    for stack, layers in (("encoder", c["num_layers"]), ("decoder", c.get("num_decoder_layers", c["num_layers"]))):
        sublayers = ["SelfAttention"] + (["EncDecAttention"] if stack == "decoder" else []) + ["DenseReluDense"]
        for b in range(layers):
            for l, kind in enumerate(sublayers):
                prefix = f"{stack}/block_{b:03d}/layer_{l:03d}"
                var(f"{prefix}/{spec['norm']}/scale", d, scale=0.3)
                if kind == "DenseReluDense":
                    for wi in (["wi_0", "wi_1"] if gated else ["wi"]):
                        var(f"{prefix}/{kind}/{wi}/kernel", d, ff)
                    var(f"{prefix}/{kind}/wo/kernel", ff, d)
                else:
                    for p in "qkv":
                        var(f"{prefix}/{kind}/{p}", d, inner)
                    var(f"{prefix}/{kind}/o", inner, d)
                    if kind == "SelfAttention" and b == 0:
                        var(f"{prefix}/{kind}/relative_attention_bias", heads, buckets)
        var(f"{stack}/{spec['final_norm']}/scale", d, scale=0.3)
    if not c.get("tie_word_embeddings", True):
        var("decoder/logits/kernel", d, vocab)
    # Adafactor (mesh_tensorflow/optimize.py): factored second moments for 2-D variables, a full one for 1-D
    slots: dict[str, np.ndarray] = {}
    for name, value in out.items():
        if value.ndim == 2:
            slots[f"{name}_slot_vr"] = np.abs(rng.standard_normal(value.shape[:1])).astype(np.float32)
            slots[f"{name}_slot_vc"] = np.abs(rng.standard_normal(value.shape[1:])).astype(np.float32)
        else:
            slots[f"{name}_slot_v"] = np.abs(rng.standard_normal(value.shape)).astype(np.float32)
    return {**out, **slots}


def expected_state(variables: dict[str, np.ndarray], tied: bool) -> dict[str, np.ndarray]:
    """The transformers state dict the variables must become (this script's mapping, for the self-check)."""
    out = {}
    for name, value in variables.items():
        if "_slot_" in name:
            continue
        parts = name.split("/")
        if name == "shared/embedding":
            out["shared.weight"] = value
            continue
        if name == "decoder/logits/kernel":
            out["lm_head.weight"] = value.T
            continue
        stack = parts[0]
        if len(parts) == 3:  # final norm
            out[f"{stack}.final_layer_norm.weight"] = value
            continue
        b, l = int(parts[1].split("_")[1]), int(parts[2].split("_")[1])
        key = f"{stack}.block.{b}.layer.{l}."
        if parts[3] in ("layer_norm", "rms_norm"):
            out[key + "layer_norm.weight"] = value
        elif parts[3] == "DenseReluDense":
            out[key + f"DenseReluDense.{parts[4]}.weight"] = value.T
        else:
            out[key + f"{parts[3]}.{parts[4]}.weight"] = value.T
    out["encoder.embed_tokens.weight"] = out["decoder.embed_tokens.weight"] = out["shared.weight"]
    if tied:
        out["lm_head.weight"] = out["shared.weight"]
    return out


# ================================================================================================
# driver


def write_tf(prefix: Path, variables: dict[str, np.ndarray], step: int) -> None:
    """make_format_fixtures.py --write-tf under $TF_PYTHON: a TF1 graph-mode Saver checkpoint plus global_step."""
    with tempfile.TemporaryDirectory() as tmp:
        vpath = Path(tmp) / "variables.npz"
        np.savez(vpath, __order__=np.array(json.dumps(list(variables))), **variables)
        job = [{"prefix": str(prefix), "variables": str(vpath), "readback": str(Path(tmp) / "readback.npz"),
                "global_step": step, "write_state": True}]
        (Path(tmp) / "job.json").write_text(json.dumps(job))
        p = subprocess.run([TF_PYTHON, str(HERE / "make_format_fixtures.py"), "--write-tf", str(Path(tmp) / "job.json")],
                           env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3"), capture_output=True, text=True)
        if p.returncode != 0:
            raise SystemExit(f"{TF_PYTHON} --write-tf failed:\n{p.stderr[-4000:]}")
    # the Saver's state file names this machine's absolute path; keep the name only
    (prefix.parent / "checkpoint").write_text(f'model_checkpoint_path: "{prefix.name}"\n'
                                              f'all_model_checkpoint_paths: "{prefix.name}"\n')


def run_reference(jobs: list[dict], script: Path = Path(__file__).resolve()) -> list[dict]:
    """``script`` (this file) with --reference under $T4_PYTHON (transformers 4.57 + torch, tensorflow from
    $T4_TF_SITE)."""
    with tempfile.TemporaryDirectory() as tmp:
        spec = Path(tmp) / "jobs.json"
        spec.write_text(json.dumps(jobs))
        env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", PYTHONPATH=T4_TF_SITE)
        p = subprocess.run([T4_PYTHON, str(script), "--reference", str(spec)], env=env,
                           capture_output=True, text=True)
        if p.returncode != 0:
            raise SystemExit(f"{T4_PYTHON} --reference failed:\n{p.stderr[-6000:]}")
        return json.loads((Path(tmp) / "jobs.json.out").read_text())


def main() -> int:
    if OUT.exists():
        shutil.rmtree(OUT)
    jobs: list[dict] = []
    meta: dict = {"checkpoints": {}, "refused": {}}
    variables_of: dict[str, dict[str, np.ndarray]] = {}
    for name, spec in MODELS.items():
        folder = OUT / name
        folder.mkdir(parents=True)
        variables = mesh_variables(spec)
        variables_of[name] = variables
        prefix = folder / f"model.ckpt-{spec['step']}"
        write_tf(prefix, variables, spec["step"])
        (folder / "t5_config.json").write_text(json.dumps(spec["config"], indent=2) + "\n")
        configs = {"t5": "t5_config.json"}
        if name == "v1_1":
            (folder / "mt5_config.json").write_text(json.dumps(MT5_CONFIG, indent=2) + "\n")
            configs["mt5"] = "mt5_config.json"
        entry = {"tf_checkpoint": f"{name}/{prefix.name}", "global_step": spec["step"], "conversions": {}}
        expected = Path(tempfile.gettempdir()) / f"t5-mesh-{name}-{os.getpid()}.npz"
        np.savez(expected, **expected_state(variables, tied=spec["config"].get("tie_word_embeddings", True)))
        for model_type, config in configs.items():
            ref = "reference" if model_type == "t5" else f"reference-{model_type}"
            entry["conversions"][model_type] = {"config": f"{name}/{config}", "reference": f"{name}/{ref}"}
            jobs.append({"id": f"{name}/{model_type}", "model_type": model_type, "checkpoint": str(prefix),
                         "config": str(folder / config), "output": str(folder / ref),
                         "expected": str(expected)})
        meta["checkpoints"][name] = entry

    # checkpoints to refuse: v1.0 with one weight missing, with one weight misshapen
    base = variables_of["v1_0"]
    bad = {
        "missing": {k: v for k, v in base.items() if not k.startswith(MISSING)},
        "misshapen": {k: (v[:, :-1] if k == MISSHAPEN else v) for k, v in base.items()},
    }
    for kind, variables in bad.items():
        folder = OUT / "bad" / kind
        folder.mkdir(parents=True)
        write_tf(folder / "model.ckpt-1000", variables, 1000)
        meta["refused"][kind] = {"tf_checkpoint": f"bad/{kind}/model.ckpt-1000", "config": "v1_0/t5_config.json",
                                 "tensor": MISSING if kind == "missing" else MISSHAPEN}
        jobs.append({"id": f"bad/{kind}", "model_type": "t5", "checkpoint": str(folder / "model.ckpt-1000"),
                     "config": str(OUT / "v1_0" / "t5_config.json"), "output": None})

    results = {r["id"]: r for r in run_reference(jobs)}
    for expected in {job["expected"] for job in jobs if job.get("expected")}:
        os.unlink(expected)
    meta["transformers"] = results["v1_0/t5"]["versions"]
    for name, entry in meta["checkpoints"].items():
        for model_type, conversion in entry["conversions"].items():
            r = results[f"{name}/{model_type}"]
            conversion["saved_keys"] = r["saved_keys"]
            conversion["not_saved"] = r["not_saved"]
    for kind in bad:
        meta["refused"][kind]["transformers_4"] = results[f"bad/{kind}"]["outcome"]
    (OUT / "t5-mesh.json").write_text(json.dumps(meta, indent=1, sort_keys=True) + "\n")
    size = sum(p.stat().st_size for p in OUT.rglob("*") if p.is_file())
    print(f"wrote {OUT} ({size / 1024:.0f} KB)")
    if size > 400_000:
        raise SystemExit("the T5 fixtures passed 400 KB")
    return 0


# ================================================================================================
# transformers 4.57's conversion (run by $T4_PYTHON with --reference JOBS.json)


def reference_main(jobs_path: str) -> None:
    import tensorflow  # noqa: F401  (load_tf_weights_in_t5 imports it; fail here, not in the loader's except)
    import torch
    import transformers
    from safetensors import safe_open
    from transformers import MT5Config, MT5ForConditionalGeneration, T5Config, T5ForConditionalGeneration
    from transformers.models.mt5.modeling_mt5 import load_tf_weights_in_mt5
    from transformers.models.t5.modeling_t5 import load_tf_weights_in_t5

    sys.path.insert(0, str(HERE))
    from make_fixtures import write_npz  # fixed zip timestamps: regenerated files are byte-identical

    transformers.utils.logging.set_verbosity_error()
    torch.manual_seed(0)
    classes = {"t5": (T5Config, T5ForConditionalGeneration, load_tf_weights_in_t5),
               "mt5": (MT5Config, MT5ForConditionalGeneration, load_tf_weights_in_mt5)}
    results = []
    for job in json.loads(Path(jobs_path).read_text()):
        config_cls, model_cls, load = classes[job["model_type"]]
        # convert_t5_original_tf_checkpoint_to_pytorch.convert_tf_checkpoint_to_pytorch, step by step
        config = config_cls.from_json_file(job["config"])
        model = model_cls(config)
        result = {"id": job["id"], "versions": {"transformers": transformers.__version__,
                                                "torch": torch.__version__.split("+")[0]}}
        if job["output"] is None:  # a bad checkpoint: record what the loader does with it
            before = {k: v.clone() for k, v in model.state_dict().items()}
            try:
                load(model, config, job["checkpoint"])
            except Exception as e:  # noqa: BLE001 (any failure is the outcome recorded)
                result["outcome"] = f"raises {type(e).__name__}: {e}"
            else:
                untouched = sorted(k for k, v in model.state_dict().items() if torch.equal(v, before[k]))
                result["outcome"] = f"loads without a word; left at their random init: {untouched}"
            results.append(result)
            continue
        load(model, config, job["checkpoint"])
        with np.load(job["expected"]) as z:
            expected = {k: z[k] for k in z.files}
        state = model.state_dict()
        if sorted(state) != sorted(expected):
            raise SystemExit(f"{job['id']}: state dict keys {sorted(state)} != expected {sorted(expected)}")
        for k, v in state.items():
            want = np.ascontiguousarray(expected[k])
            if v.dtype != torch.float32 or v.numpy().tobytes() != want.tobytes() or tuple(v.shape) != want.shape:
                raise SystemExit(f"{job['id']}: {k} is not the checkpoint's variable (left at its random init?)")
        out = Path(job["output"])
        model.save_pretrained(out)
        # What PyTorch computes with the converted weights, for the test that exports the converted folder:
        # the encoder's output and the logits of a teacher-forced decoder pass (row 1 padded).
        model.eval()
        generator = torch.Generator().manual_seed(5)
        ids = torch.randint(2, config.vocab_size, (2, 9), generator=generator)
        mask = torch.ones_like(ids)
        ids[1, 6:], mask[1, 6:] = 0, 0
        decoder = torch.randint(2, config.vocab_size, (2, 5), generator=generator)
        decoder[:, 0] = config.decoder_start_token_id
        with torch.no_grad():
            encoded = model.get_encoder()(input_ids=ids, attention_mask=mask).last_hidden_state
            logits = model(input_ids=ids, attention_mask=mask, decoder_input_ids=decoder).logits
        write_npz(Path(str(out) + ".outputs.npz"), {
            "input_ids": ids.numpy(), "attention_mask": mask.numpy(), "decoder_input_ids": decoder.numpy(),
            "last_hidden_state": encoded.numpy(), "logits": logits.numpy()})
        with safe_open(str(out / "model.safetensors"), "pt") as f:
            saved = sorted(f.keys())
        result["saved_keys"] = saved
        result["not_saved"] = sorted(set(state) - set(saved))
        results.append(result)
    Path(jobs_path + ".out").write_text(json.dumps(results))


if __name__ == "__main__":
    if sys.argv[1:2] == ["--reference"]:
        reference_main(sys.argv[2])
    else:
        sys.exit(main())
