"""Hostile configs never crash or hang the exporter: for a fixture of every architecture family and task kind,
every integer and float field of its config.json (and of its nested objects such as rope_scaling, and the first
number of each list such as longrope's factors) is set in turn to extreme values and exported. Each run must
end in an export (exit 0) or a refusal with a message (exit 1): no trap, no abort, nothing past the timeout.
Which of the two is right for a given field is for the targeted tests (test_config_mismatch.py) to say.
(The first sweep found a with-past export aborting on 2^40 layers, a hang on head_dim 2^61, and traps on
overflowing widths and on partial_rotary_factor 1e300.) About 1600 exports, most refused at once: ~30 s."""

from __future__ import annotations

import copy
import json
import shutil
import subprocess

import pytest

from harness import decoder_fixture_by_name, discover_seq2seq_fixtures, discover_transfo_xl_fixtures, fixture_by_name, run_cli


def seq2seq_fixture_by_name(name: str):
    return next(f for f in discover_seq2seq_fixtures() if f.name == name)


def transfo_xl_fixture_by_name(name: str):
    return next(f for f in discover_transfo_xl_fixtures() if f.name == name)


FIXTURES = [
    ("bert-base/text-classification", "text-classification", fixture_by_name),
    ("roberta-base/fill-mask", "fill-mask", fixture_by_name),
    ("distilbert-base/multiple-choice", "multiple-choice", fixture_by_name),
    ("electra-base/multiple-choice", "multiple-choice", fixture_by_name),
    ("xlm-roberta-base/question-answering", "question-answering", fixture_by_name),
    ("albert-base/fill-mask", "fill-mask", fixture_by_name),
    ("albert-groups-uneven/text-classification", "text-classification", fixture_by_name),
    ("mpnet-base/multiple-choice", "multiple-choice", fixture_by_name),
    ("xlm-langs/multiple-choice", "multiple-choice", fixture_by_name),
    ("xlm-sinusoidal-computed/feature-extraction", "feature-extraction", fixture_by_name),
    ("xlm-causal/text-classification", "text-classification", fixture_by_name),
    ("deberta-v3-base/fill-mask", "fill-mask", fixture_by_name),
    ("deberta-v2-conv/token-classification", "token-classification", fixture_by_name),
    ("deberta-v2-c2p-typed/text-classification", "text-classification", fixture_by_name),
    ("xlnet-base/multiple-choice", "multiple-choice", fixture_by_name),
    ("xlnet-clamp-relu/text-generation", "text-generation", fixture_by_name),
    ("gpt2/causal-lm", "text-generation-with-past", decoder_fixture_by_name),
    ("openai-gpt/text-classification", "text-classification", decoder_fixture_by_name),
    ("llama/causal-lm", "text-generation-with-past", decoder_fixture_by_name),
    ("mistral-window/causal-lm", "text-generation-with-past", decoder_fixture_by_name),
    ("phi3-partial/causal-lm", "text-generation-with-past", decoder_fixture_by_name),
    ("qwen2/causal-lm", "text-generation-with-past", decoder_fixture_by_name),
    ("qwen3/token-classification", "token-classification", decoder_fixture_by_name),
    ("gemma/causal-lm", "text-generation-with-past", decoder_fixture_by_name),
    ("phi3-longrope/causal-lm", "text-generation-with-past", decoder_fixture_by_name),
    ("qwen2-yarn/causal-lm", "text-generation", decoder_fixture_by_name),
    ("llama-dynamic-long/causal-lm", "text-generation-with-past", decoder_fixture_by_name),
    ("t5", "text2text-generation-with-past", seq2seq_fixture_by_name),
    ("t5-v1_1", "text2text-generation-with-past", seq2seq_fixture_by_name),
    ("umt5", "text2text-generation", seq2seq_fixture_by_name),
    ("txl-adaptive", "text-generation-with-past", transfo_xl_fixture_by_name),
    ("txl-shared-prenorm", "text-generation-with-past", transfo_xl_fixture_by_name),
]
EXTREMES = [2 ** 62, -1, 0, 2 ** 31 + 1, 1e300, -0.5]


def is_number(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def numeric_paths(config: dict):
    """Every number of the config as a key path: top-level fields, the fields of nested objects
    (rope_scaling, rope_parameters), and the first element of a list of numbers (longrope factors)."""
    def walk(node, path, depth):
        if is_number(node):
            yield path
        elif isinstance(node, dict) and depth < 2:
            for k, v in node.items():
                yield from walk(v, path + (k,), depth + 1)
        elif isinstance(node, list) and node and depth < 3:
            yield from walk(node[0], path + (0,), depth + 1)
    yield from walk(config, (), 0)


def replaced(config: dict, path: tuple, value):
    out = copy.deepcopy(config)
    node = out
    for k in path[:-1]:
        node = node[k]
    node[path[-1]] = value
    return out


@pytest.mark.parametrize("name,task,find", FIXTURES, ids=[f[0] for f in FIXTURES])
def test_extreme_config_values_end_in_an_export_or_a_refusal(tmp_path, name, task, find):
    model = tmp_path / "model"
    shutil.copytree(find(name).dir, model, ignore=shutil.ignore_patterns("reference.npz"))
    base = json.loads((model / "config.json").read_text())
    numeric = list(numeric_paths(base))
    assert numeric, f"{name}: no numeric config fields to vary"
    problems = []
    for path in numeric:
        key = ".".join(map(str, path))
        for value in EXTREMES:
            (model / "config.json").write_text(json.dumps(replaced(base, path, value)))
            out = tmp_path / "out"
            shutil.rmtree(out, ignore_errors=True)
            try:
                p = run_cli(["--model", str(model), "--task", task, str(out)], timeout=30)
            except subprocess.TimeoutExpired:
                problems.append(f"{key}={value}: hung")
                continue
            if p.returncode not in (0, 1) or "Fatal error" in p.stderr:
                problems.append(f"{key}={value}: exit {p.returncode}")
            elif p.returncode == 1 and not p.stderr.strip():
                problems.append(f"{key}={value}: refused without a message")
    assert not problems, f"{name}: " + "; ".join(problems)
