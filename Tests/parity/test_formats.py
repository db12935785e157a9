"""Checkpoint formats: the same tiny model saved in every format the exporter reads must export to ONNX that gives
PyTorch's outputs, and ``onnx-export convert`` must reproduce transformers' weights bit for bit.

Fixtures: ``Tests/Fixtures/formats/<model>/`` (made by ``Tests/Fixtures/make_format_fixtures.py`` with torch,
transformers and TensorFlow; see its docstring), each with ``formats.json``, ``reference.npz`` and one folder per
format: ``reference`` (safetensors, as save_pretrained wrote it), ``tf`` (Google BERT / ALBERT, OpenAI GPT-2 TF1
checkpoints), ``tf-hub`` (ALBERT's variables under TF-Hub's ``module/``), ``bin`` and ``bin-sharded`` (torch.save zip
files), ``numpy`` (OpenAI GPT's params_N.npy).

1. ``test_format_export``: ``onnx-export --model <format folder> --task T --opset N`` (plus ``--model-type`` for the
   original configs and ``--config`` for the numpy folder, which has none), onnx.checker and the declared ports,
   then onnxruntime on sets a and b against PyTorch (tolerance ``bounds.tolerance_for``; gpt2 / openai-gpt at the
   positions where the attention mask is 1, their batches being left-padded). A format whose reader is missing
   fails here with the exporter's error: that is a real gap, not a skip.
2. ``test_convert_weights``: ``onnx-export convert`` of each original checkpoint (formats.json's ``convert``: one, or
   a list of them each with an ``id``), as safetensors and as a PyTorch zip,
   read back here without torch (safetensors by ``st_util``, the zip through a pickle reader built on
   ``pickletools.genops`` that never executes anything) and compared bit for bit with ``reference/model.safetensors``;
   its config.json must carry the transformers fields.
3. ``test_convert_tokenizer_files``: the tokenizer files beside the original checkpoint come along (GPT-2's
   encoder.json / vocab.bpe as vocab.json / merges.txt).
4. ``test_bin_reader_self_check``: the pickle reader and the weight comparison of (2), run on the torch-written
   ``bin`` fixtures, so a failure in (2) is the converter's and not this file's.

Ids read ``<model>/<format>/<task>/op<N>`` and ``<model>/<weights format>`` (``<model>/<convert id>/<weights format>``
where a model has several originals), e.g.
``pytest Tests/parity/test_formats.py -k "bert/tf/fill-mask/op17"``. Needs only onnx, onnxruntime and numpy.
"""

from __future__ import annotations

import functools
import json
import math
import pickletools
import re
import threading
import zipfile
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pytest

import st_util
from bounds import max_abs_diff, tolerance_for
from harness import FIXTURES, check_exported_model, newest_opset, ort_session, run_cli

FORMATS = FIXTURES / "formats"
WEIGHT_FORMATS = {"safetensors": "model.safetensors", "pytorch": "pytorch_model.bin"}


# ------------------------------------------------------------------------------------------------
# fixtures on disk


@dataclass(frozen=True)
class FormatModel:
    name: str  # "bert", "gpt2", "openai-gpt"
    dir: Path

    @functools.cached_property
    def meta(self) -> dict:
        return json.loads((self.dir / "formats.json").read_text())

    @functools.cached_property
    def reference(self) -> dict[str, np.ndarray]:
        with np.load(self.dir / "reference.npz") as z:
            return {k: z[k] for k in z.files}

    def export_args(self, fmt: str) -> list[str]:
        spec = self.meta["formats"][fmt]
        args = ["--model", str(self.dir / spec["folder"])]
        if spec.get("model_type"):
            args += ["--model-type", spec["model_type"]]
        if spec.get("config"):
            args += ["--config", str(self.dir / spec["config"])]
        return args

    @functools.cached_property
    def conversions(self) -> dict[str | None, dict]:
        """The originals ``convert`` runs on, by id: formats.json's ``convert`` is one object (id None) or a list of
        objects with an ``id`` each (ALBERT's Google checkpoint and the same under TF-Hub's ``module/``)."""
        c = self.meta["convert"]
        return {None: c} if isinstance(c, dict) else {x["id"]: x for x in c}

    def convert_args(self, source: str | None) -> list[str]:
        c = self.conversions[source]
        args = ["convert", "--model-type", c["model_type"], "--tf-checkpoint", str(self.dir / c["tf_checkpoint"])]
        if c.get("config"):
            args += ["--config", str(self.dir / c["config"])]
        return args


@functools.lru_cache(maxsize=None)
def format_models() -> tuple[FormatModel, ...]:
    if not FORMATS.is_dir():
        return ()
    return tuple(FormatModel(p.parent.name, p.parent) for p in sorted(FORMATS.glob("*/formats.json")))


def format_opsets() -> list[int]:
    return sorted({11, 17, newest_opset()})


def _export_matrix():
    for m in format_models():
        for fmt in m.meta["formats"]:
            for task in m.meta["tasks"]:
                for op in format_opsets():
                    yield pytest.param(m, fmt, task, op, id=f"{m.name}/{fmt}/{task}/op{op}")


def convert_id(m: FormatModel, source: str | None, *rest: str) -> str:
    return "/".join([m.name, *([source] if source else []), *rest])


def _convert_matrix():
    for m in format_models():
        for source in m.conversions:
            for wf in WEIGHT_FORMATS:
                yield pytest.param(m, source, wf, id=convert_id(m, source, wf))


# ------------------------------------------------------------------------------------------------
# CLI runs, in parallel ahead of the tests that need them


@dataclass
class Run:
    out_dir: Path
    returncode: int
    stdout: str
    stderr: str

    def failure(self, what: str) -> str:
        return f"{what} failed (exit {self.returncode}):\n{self.stderr.strip() or self.stdout.strip()}"


class Runs:
    def __init__(self, root: Path, jobs: int = 8):
        self.root = root
        self.pool = ThreadPoolExecutor(max_workers=jobs, thread_name_prefix="onnx-export-formats")
        self.futures: dict[tuple, Future] = {}
        self.lock = threading.Lock()

    def _submit(self, key: tuple, out: Path, args: list[str]) -> Future:
        with self.lock:
            if key not in self.futures:
                def job() -> Run:
                    p = run_cli([*args, "--force", *([] if args[0] == "convert" else [str(out)])])
                    return Run(out, p.returncode, p.stdout, p.stderr)
                self.futures[key] = self.pool.submit(job)
            return self.futures[key]

    def export(self, m: FormatModel, fmt: str, task: str, opset: int) -> Future:
        out = self.root / "export" / f"{m.name}__{fmt}__{task}" / f"op{opset}"
        args = [*m.export_args(fmt), "--task", task, "--opset", str(opset)]
        return self._submit(("export", m.name, fmt, task, opset), out, args)

    def convert(self, m: FormatModel, source: str | None, weights: str) -> Future:
        out = self.root / "convert" / f"{m.name}__{source or 'original'}__{weights}"
        args = [*m.convert_args(source), "--output", str(out), "--format", weights]
        return self._submit(("convert", m.name, source, weights), out, args)

    def close(self) -> None:
        self.pool.shutdown(wait=True, cancel_futures=True)


@pytest.fixture(scope="session")
def format_runs(request, tmp_path_factory):
    runs = Runs(tmp_path_factory.mktemp("formats"))
    for item in request.session.items:  # prefetch what the selected tests need, in test order
        cs = getattr(item, "callspec", None)
        if cs is None or Path(str(item.path)).name != Path(__file__).name:
            continue
        p = cs.params
        if item.originalname == "test_format_export":
            runs.export(p["m"], p["fmt"], p["task"], p["opset"])
        elif item.originalname in ("test_convert_weights", "test_convert_tokenizer_files"):
            runs.convert(p["m"], p["source"], p.get("weights", "safetensors"))
    yield runs
    runs.close()


# ------------------------------------------------------------------------------------------------
# reading weights without torch


class WeightTensor(NamedTuple):
    dtype: str  # safetensors spelling: F32, F16, I64, ...
    shape: tuple[int, ...]
    data: bytes


def read_safetensors(path: Path) -> dict[str, WeightTensor]:
    tensors, _ = st_util.read(path)
    return {k: WeightTensor(t.dtype, tuple(t.shape), t.data) for k, t in tensors.items()}


class _Global(NamedTuple):
    module: str
    name: str


class _Storage(NamedTuple):
    dtype: str
    key: str
    numel: int


class _TensorRef(NamedTuple):
    storage: _Storage
    offset: int
    size: tuple
    stride: tuple


class _Opaque(NamedTuple):
    func: object
    args: object


_MARK = object()
_STORAGE_DTYPES = {  # torch's typed storage classes, as torch.save names them, and their element sizes
    "FloatStorage": ("F32", 4), "HalfStorage": ("F16", 2), "BFloat16Storage": ("BF16", 2),
    "DoubleStorage": ("F64", 8), "LongStorage": ("I64", 8), "IntStorage": ("I32", 4), "ShortStorage": ("I16", 2),
    "CharStorage": ("I8", 1), "ByteStorage": ("U8", 1), "BoolStorage": ("BOOL", 1),
}
_ITEMSIZE = {dt: size for dt, size in _STORAGE_DTYPES.values()}
_PUSH_ARG = {
    "BINUNICODE", "SHORT_BINUNICODE", "BINUNICODE8", "UNICODE", "BININT", "BININT1", "BININT2", "LONG1", "LONG4",
    "INT", "LONG", "BINFLOAT", "FLOAT", "SHORT_BINSTRING", "BINSTRING", "STRING", "SHORT_BINBYTES", "BINBYTES",
    "BINBYTES8",
}


def parse_torch_pickle(data: bytes) -> object:
    """Interpret the opcodes of a torch.save ``data.pkl`` symbolically (pickletools.genops: nothing is imported or
    called). Globals stay names; ``collections.OrderedDict()`` becomes a dict, ``torch._utils._rebuild_tensor_v2``
    a _TensorRef, ``_rebuild_parameter`` its tensor; a persistent id ``('storage', torch.XStorage, key, location,
    numel)`` a _Storage; any other call an _Opaque value."""
    stack: list = []
    memo: dict = {}

    def pop_mark() -> list:
        i = len(stack) - 1
        while stack[i] is not _MARK:
            i -= 1
        items = stack[i + 1:]
        del stack[i:]
        return items

    def call(func, args):
        if func == _Global("collections", "OrderedDict") and args == ():
            return {}
        if func == _Global("torch._utils", "_rebuild_tensor_v2"):
            storage, offset, size, stride = args[:4]
            return _TensorRef(storage, offset, tuple(size), tuple(stride))
        if func == _Global("torch._utils", "_rebuild_parameter"):
            return args[0]
        return _Opaque(func, args)

    def persistent(pid):
        if not (isinstance(pid, tuple) and len(pid) == 5 and pid[0] == "storage" and isinstance(pid[1], _Global)
                and pid[1].module == "torch" and pid[1].name in _STORAGE_DTYPES):
            raise ValueError(f"unexpected persistent id {pid!r}")
        return _Storage(_STORAGE_DTYPES[pid[1].name][0], str(pid[2]), int(pid[4]))

    for op, arg, pos in pickletools.genops(data):
        name = op.name
        if name in ("PROTO", "FRAME"):
            continue
        if name == "STOP":
            break
        if name == "MARK":
            stack.append(_MARK)
        elif name == "EMPTY_DICT":
            stack.append({})
        elif name == "EMPTY_LIST":
            stack.append([])
        elif name == "EMPTY_TUPLE":
            stack.append(())
        elif name in ("BINPUT", "LONG_BINPUT", "PUT"):
            memo[arg] = stack[-1]
        elif name == "MEMOIZE":
            memo[len(memo)] = stack[-1]
        elif name in ("BINGET", "LONG_BINGET", "GET"):
            stack.append(memo[arg])
        elif name in _PUSH_ARG:
            stack.append(arg)
        elif name == "NONE":
            stack.append(None)
        elif name in ("NEWTRUE", "NEWFALSE"):
            stack.append(name == "NEWTRUE")
        elif name == "TUPLE":
            stack.append(tuple(pop_mark()))
        elif name in ("TUPLE1", "TUPLE2", "TUPLE3"):
            n = int(name[-1])
            items = tuple(stack[-n:])
            del stack[-n:]
            stack.append(items)
        elif name == "LIST":
            stack.append(pop_mark())
        elif name == "DICT":
            items = pop_mark()
            stack.append(dict(zip(items[::2], items[1::2])))
        elif name == "APPEND":
            v = stack.pop()
            stack[-1].append(v)
        elif name == "APPENDS":
            items = pop_mark()
            stack[-1].extend(items)
        elif name == "SETITEM":
            v = stack.pop()
            k = stack.pop()
            stack[-1][k] = v
        elif name == "SETITEMS":
            items = pop_mark()
            target = stack[-1]
            if not isinstance(target, dict):
                raise ValueError(f"SETITEMS at {pos} on {target!r}")
            for k, v in zip(items[::2], items[1::2]):
                target[k] = v
        elif name == "GLOBAL":
            module, qual = arg.split(" ", 1)
            stack.append(_Global(module, qual))
        elif name == "STACK_GLOBAL":
            qual = stack.pop()
            module = stack.pop()
            stack.append(_Global(module, qual))
        elif name == "BINPERSID":
            stack.append(persistent(stack.pop()))
        elif name == "REDUCE":
            args = stack.pop()
            func = stack.pop()
            stack.append(call(func, args))
        elif name == "NEWOBJ":
            args = stack.pop()
            cls = stack.pop()
            stack.append(_Opaque(cls, args))
        elif name == "BUILD":
            stack.pop()  # state set on the object below (an OrderedDict's _metadata): not needed
        else:
            raise ValueError(f"unsupported pickle opcode {name} at byte {pos}")
    if len(stack) != 1:
        raise ValueError(f"pickle ended with {len(stack)} values on the stack")
    return stack[0]


def read_torch_zip(path: Path) -> dict[str, WeightTensor]:
    """A torch.save zip file (``<archive>/data.pkl`` + ``<archive>/data/<storage key>``) as name -> tensor bytes."""
    if not zipfile.is_zipfile(path):
        raise ValueError(f"{path.name} is not a zip file (legacy torch.save pickle?)")
    with zipfile.ZipFile(path) as zf:
        names = zf.namelist()
        pkls = [n for n in names if n.endswith("/data.pkl") and n.count("/") == 1]
        if len(pkls) != 1:
            raise ValueError(f"{path.name}: expected one <archive>/data.pkl, found {pkls} in {names}")
        archive = pkls[0][: -len("data.pkl")]
        state = parse_torch_pickle(zf.read(pkls[0]))
        if not isinstance(state, dict):
            raise ValueError(f"{path.name}: data.pkl holds {type(state).__name__}, expected a state dict")
        storages: dict[str, bytes] = {}
        out = {}
        for key, t in state.items():
            if not isinstance(t, _TensorRef):
                raise ValueError(f"{path.name}: {key!r} is {t!r}, not a tensor")
            s = t.storage
            if s.key not in storages:
                entry = f"{archive}data/{s.key}"
                if entry not in names:
                    raise ValueError(f"{path.name}: {key!r} names storage {entry}, which the zip lacks")
                storages[s.key] = zf.read(entry)
            raw = storages[s.key]
            itemsize = _ITEMSIZE[s.dtype]
            if len(raw) != s.numel * itemsize:
                raise ValueError(f"{path.name}: storage {s.key} holds {len(raw)} bytes, expected {s.numel} x {itemsize}")
            numel = math.prod(t.size)
            contiguous = tuple(math.prod(t.size[i + 1:]) for i in range(len(t.size)))
            if numel > 1 and t.stride != contiguous:
                raise ValueError(f"{path.name}: {key!r} has strides {t.stride}, not contiguous {contiguous}")
            if t.offset + numel > s.numel:
                raise ValueError(f"{path.name}: {key!r} [{t.offset}, +{numel}) outside storage of {s.numel}")
            out[key] = WeightTensor(s.dtype, t.size, raw[t.offset * itemsize:(t.offset + numel) * itemsize])
        return out


def read_weights(folder: Path) -> dict[str, WeightTensor]:
    """Every tensor of a folder's model.safetensors or pytorch_model.bin (single files or index-listed shards)."""
    for single, index, reader in (("model.safetensors", "model.safetensors.index.json", read_safetensors),
                                  ("pytorch_model.bin", "pytorch_model.bin.index.json", read_torch_zip)):
        if (folder / single).is_file():
            return reader(folder / single)
        if (folder / index).is_file():
            weight_map = json.loads((folder / index).read_text())["weight_map"]
            out = {}
            for shard in sorted(set(weight_map.values())):
                out.update(reader(folder / shard))
            return out
    raise FileNotFoundError(f"no weights in {folder}: {sorted(p.name for p in folder.iterdir())}")


def exact_folder_problems(out: Path, ref: Path, files: list[str], not_written: list[str] = ()) -> list[str]:
    """A converted folder against the one transformers' own script wrote: exactly ``files`` written, and the
    reference's tensors but those in ``not_written``, no more, with the same names, dtypes, shapes and bytes."""
    problems = []
    written = sorted(f.name for f in out.iterdir())
    if written != sorted(files):
        problems.append(f"the folder holds {written}")
    got = read_weights(out)
    want = {k: v for k, v in read_weights(ref).items() if k not in not_written}
    if sorted(got) != sorted(want):
        problems.append(f"tensor names differ: missing {sorted(set(want) - set(got))}, extra {sorted(set(got) - set(want))}")
    for name in sorted(set(got) & set(want)):
        if got[name] != want[name]:
            problems.append(f"{name}: {got[name].dtype}{list(got[name].shape)} differs from transformers' "
                            f"{want[name].dtype}{list(want[name].shape)} (or its bytes do)")
    return problems


def without_version(path: Path) -> dict:
    """A JSON file transformers wrote, parsed, without its ``transformers_version``."""
    value = json.loads(path.read_text())
    value.pop("transformers_version", None)
    return value


def compare_weights(m: FormatModel, got: dict[str, WeightTensor], ref: dict[str, WeightTensor],
                    optional_heads: list[str] = ()) -> list[str]:
    """Problems with ``got`` against transformers' reference checkpoint, compared as transformers loads them:

    * key names up to the base-model prefix (``bert.`` / ``transformer.``): a base-model checkpoint
      (``wte.weight``) loads into the head model (``transformer.wte.weight``) and back;
    * every reference key present with the same dtype, shape and bytes, except a whole head listed in
      ``optional_heads`` (the conversion's ``optional_heads``) that ``got`` lacks entirely (BERT's next-sentence head ``cls.seq_relationship.*``:
      a converter writing BertForMaskedLM has no such head; the reference, BertForPreTraining, has it);
    * keys ``got`` has beyond the reference: only tied aliases the reference leaves out
      (``cls.predictions.decoder.weight``, ``lm_head.weight``, ...), whose bytes must equal their source, or buffers
      transformers ignores on load (``_keys_to_ignore_on_load_unexpected``, e.g. GPT-2's ``attn.bias``).
    """
    prefix = m.meta["base_model_prefix"] + "."

    def norm(k: str) -> str:
        return k[len(prefix):] if k.startswith(prefix) else k

    def normalized(d: dict[str, WeightTensor], side: str) -> dict[str, WeightTensor]:
        out = {}
        for k, v in d.items():
            if norm(k) in out:
                problems.append(f"{side}: {k} appears both with and without the {prefix!r} prefix")
            out[norm(k)] = v
        return out

    problems: list[str] = []
    g, r = normalized(got, "written"), normalized(ref, "reference")
    tied = {norm(a): norm(s) for a, s in m.meta["tied"].items()}
    ignorable = [re.compile(p) for p in m.meta.get("ignorable_unexpected", [])]

    missing = sorted(k for k in r if k not in g)
    for head in optional_heads:
        head = norm(head)
        in_ref = {k for k in r if k.startswith(head)}
        if in_ref and in_ref <= set(missing):
            missing = [k for k in missing if k not in in_ref]  # the whole head is absent: allowed
    if missing:
        problems.append(f"missing {len(missing)} tensor(s): {missing}")

    def same(label: str, a: WeightTensor, b: WeightTensor) -> None:
        if a.dtype != b.dtype or tuple(a.shape) != tuple(b.shape):
            problems.append(f"{label}: {a.dtype}{list(a.shape)}, expected {b.dtype}{list(b.shape)}")
        elif a.data != b.data:
            x = np.frombuffer(a.data, dtype=np.uint8)
            y = np.frombuffer(b.data, dtype=np.uint8)
            first = int(np.argmax(x != y)) if x.size == y.size else -1
            problems.append(f"{label}: bytes differ (first at byte {first} of {len(b.data)})")

    for k in sorted(g):
        if k in r:
            same(k, g[k], r[k])
        elif k in tied and tied[k] in r:
            same(f"{k} (tied to {tied[k]})", g[k], r[tied[k]])
        elif any(p.search(k) for p in ignorable):
            pass
        else:
            problems.append(f"unexpected tensor {k} {g[k].dtype}{list(g[k].shape)} (not in transformers' model)")
    return problems


def compare_config(m: FormatModel, cfg: dict) -> list[str]:
    problems = []
    if cfg.get("model_type") != m.meta["model_type"]:
        problems.append(f"config.json model_type {cfg.get('model_type')!r}, expected {m.meta['model_type']!r}")

    def equal(a, b) -> bool:
        if isinstance(a, float) or isinstance(b, float):
            return isinstance(a, (int, float)) and isinstance(b, (int, float)) and math.isclose(a, b, rel_tol=1e-9)
        return a == b

    for k, want in m.meta["config"]["required"].items():
        if k not in cfg:
            problems.append(f"config.json lacks {k} (expected {want!r})")
        elif not equal(cfg[k], want):
            problems.append(f"config.json {k} = {cfg[k]!r}, expected {want!r}")
    for k, want in m.meta["config"]["optional"].items():
        if k in cfg and not equal(cfg[k], want):
            problems.append(f"config.json {k} = {cfg[k]!r}, expected {want!r} (or absent: transformers' default)")
    return problems


def reference_problems(path: Path, opset: int, io: dict, ref: dict[str, np.ndarray], task: str, sets: list[str],
                       compare_where: str | None) -> list[str]:
    """What is wrong with an exported model against a reference: onnx.checker and the declared ports
    (``check_exported_model``), then onnxruntime on every input set (``<set>.input.<name>``) against the outputs
    (``<set>.<task>.<output>``), within ``bounds.tolerance_for``, at the positions where input ``compare_where`` is 1
    when it is given (left-padded decoder batches)."""
    shapes = {n: [ref[f"{s}.input.{n}"].shape for s in sets] for n in io["inputs"]}
    shapes.update({n: [ref[f"{s}.{task}.{n}"].shape for s in sets] for n in io["outputs"]})
    problems: list[str] = []
    _, runnable = check_exported_model(path, opset, io, problems, ref_shapes=shapes)
    if runnable:
        try:
            sess = ort_session(path)
            for s in sets:
                feeds = {n: ref[f"{s}.input.{n}"] for n in io["inputs"]}
                where = feeds[compare_where] if compare_where else None
                for name, got in zip(io["outputs"], sess.run(io["outputs"], feeds)):
                    want = ref[f"{s}.{task}.{name}"]
                    if got.shape != want.shape:
                        problems.append(f"set {s}: {name} has shape {got.shape}, expected {want.shape}")
                        continue
                    d, bound = max_abs_diff(got, want, where), tolerance_for(want, where)
                    if not d <= bound:
                        problems.append(f"set {s}: {name} max |diff| {d:.3g} > {bound:.3g}")
        except Exception as e:  # onnxruntime refusing the model or the inputs is one more problem to report
            problems.append(f"onnxruntime: {type(e).__name__}: {e}")
    return problems


# ------------------------------------------------------------------------------------------------
# 1. export every format, compare with PyTorch


@pytest.mark.parametrize("m,fmt,task,opset", list(_export_matrix()))
def test_format_export(m: FormatModel, fmt: str, task: str, opset: int, format_runs):
    res = format_runs.export(m, fmt, task, opset).result()
    if res.returncode != 0:
        pytest.fail(res.failure(f"export of {m.name}/{m.meta['formats'][fmt]['folder']} for {task}"), pytrace=False)
    path = res.out_dir / "model.onnx"
    if not path.is_file():
        held = sorted(p.name for p in res.out_dir.iterdir()) if res.out_dir.exists() else "nothing"
        pytest.fail(f"export exited 0 but {path} is missing; the folder holds {held}", pytrace=False)

    problems = reference_problems(path, opset, m.meta["tasks"][task], m.reference, task, m.meta["sets"], m.meta["compare_where"])
    if problems:
        pytest.fail(f"{m.name}/{fmt} {task} at opset {opset}:\n  " + "\n  ".join(problems), pytrace=False)


# ------------------------------------------------------------------------------------------------
# 2-3. convert the original checkpoint, compare with transformers' checkpoint


@pytest.mark.parametrize("m,source,weights", list(_convert_matrix()))
def test_convert_weights(m: FormatModel, source: str | None, weights: str, format_runs):
    spec = m.conversions[source]
    res = format_runs.convert(m, source, weights).result()
    if res.returncode != 0:
        pytest.fail(res.failure(f"convert of {spec['tf_checkpoint']}"), pytrace=False)
    out = res.out_dir
    expected_file = out / WEIGHT_FORMATS[weights]
    if not expected_file.is_file():
        pytest.fail(f"--format {weights}: no {expected_file.name}; {out} holds {sorted(p.name for p in out.iterdir())}",
                    pytrace=False)
    problems: list[str] = []
    other = [p.name for p in out.iterdir() if p.name in WEIGHT_FORMATS.values() and p != expected_file]
    if other:
        problems.append(f"--format {weights} also wrote {other}")
    try:
        got = read_weights(out)
    except ValueError as e:
        pytest.fail(f"reading {expected_file.name}: {e}", pytrace=False)
    ref = read_safetensors(m.dir / "reference" / "model.safetensors")
    problems += compare_weights(m, got, ref, spec.get("optional_heads", []))
    cfg_path = out / "config.json"
    if not cfg_path.is_file():
        problems.append("no config.json written")
    else:
        problems += compare_config(m, json.loads(cfg_path.read_text()))
    if problems:
        pytest.fail(f"convert {spec['tf_checkpoint']} --format {weights}:\n  " + "\n  ".join(problems), pytrace=False)


@pytest.mark.parametrize("m,source", [pytest.param(m, source, id=convert_id(m, source)) for m in format_models()
                                      for source, spec in m.conversions.items() if spec["tokenizer_files"]])
def test_convert_tokenizer_files(m: FormatModel, source: str | None, format_runs):
    res = format_runs.convert(m, source, "safetensors").result()
    if res.returncode != 0:
        pytest.fail(res.failure("convert"), pytrace=False)
    problems = []
    for written, original in m.conversions[source]["tokenizer_files"].items():
        p = res.out_dir / written
        if not p.is_file():
            problems.append(f"{written} (from {original}) not written")
        elif p.read_bytes() != (m.dir / original).read_bytes():
            problems.append(f"{written} differs from {original}")
    if problems:
        pytest.fail("\n".join(problems), pytrace=False)


# ------------------------------------------------------------------------------------------------
# 4. the reader and the comparison above, on files torch wrote


@pytest.mark.parametrize("m,fmt", [pytest.param(m, f, id=f"{m.name}/{f}") for m in format_models()
                                   for f in m.meta["formats"] if f.startswith("bin")])
def test_bin_reader_self_check(m: FormatModel, fmt: str):
    got = read_weights(m.dir / m.meta["formats"][fmt]["folder"])
    ref = read_safetensors(m.dir / "reference" / "model.safetensors")
    problems = compare_weights(m, got, ref)
    assert not problems, problems
    # the comparison notices a flipped bit, a missing tensor and a stray one
    k = sorted(ref)[0]
    t = got[k]
    flipped = dict(got, **{k: t._replace(data=bytes([t.data[0] ^ 1]) + t.data[1:])})
    assert any("bytes differ" in p for p in compare_weights(m, flipped, ref))
    assert any("missing" in p for p in compare_weights(m, {a: b for a, b in got.items() if a != k}, ref))
    assert any("unexpected" in p for p in compare_weights(m, dict(got, stray=t), ref))


# ------------------------------------------------------------------------------------------------
# 5. .npz archives (np.savez, stored, and np.savez_compressed, deflated) of the reference weights


@pytest.mark.parametrize("compressed", [False, True], ids=["savez", "savez_compressed"])
def test_npz_export(compressed: bool, tmp_path: Path):
    m = next(x for x in format_models() if x.name == "bert")
    folder = tmp_path / "npz"
    folder.mkdir()
    weights = read_safetensors(m.dir / "reference" / "model.safetensors")
    arrays = {name: np.frombuffer(t.data, dtype={"F32": "<f4", "I64": "<i8"}[t.dtype]).reshape(t.shape) for name, t in weights.items()}
    (np.savez_compressed if compressed else np.savez)(folder / "model.npz", **arrays)
    (folder / "config.json").write_bytes((m.dir / "reference" / "config.json").read_bytes())
    task = "fill-mask"
    out = tmp_path / "out"
    p = run_cli(["--model", str(folder), "--task", task, str(out)])
    assert p.returncode == 0, p.stderr
    io = m.meta["tasks"][task]
    sess = ort_session(out / "model.onnx")
    for s in m.meta["sets"]:
        feeds = {n: m.reference[f"{s}.input.{n}"] for n in io["inputs"]}
        for name, got in zip(io["outputs"], sess.run(io["outputs"], feeds)):
            want = m.reference[f"{s}.{task}.{name}"]
            assert max_abs_diff(got, want) <= tolerance_for(want), name
