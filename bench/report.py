#!/usr/bin/env python3
"""Prints the benchmark tables (markdown, as bench/README.md shows them) from bench/results/*.json,
with the machine they ran on.

    python bench/report.py
"""
import glob
import json
import os
import platform

HERE = os.path.dirname(os.path.abspath(__file__))
RESULTS = os.path.join(HERE, "results")


def machine():
    cpu = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name")), "?")
    memory_gb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return f"{os.cpu_count()} cores ({cpu}), {memory_gb:.0f} GiB, Linux {platform.release()}"


def export_table():
    rows = []
    for path in sorted(glob.glob(os.path.join(RESULTS, "export-*.json")), key=os.path.getmtime):
        r = json.load(open(path))
        optimum = (f"{r['optimum_seconds']:.1f} s, {r['optimum_peak_rss_mb'] / 1000:.1f} GB RSS ({r['optimum_over_ours']}x)"
                   if "optimum_seconds" in r else "—")
        check = r.get("onnxruntime", {})
        ok = "bf16: onnx.checker only" if "checked_by" in check else ("yes" if check.get("finite") else "no")
        rows.append(f"| {r['model']} {r['task']} {r.get('dtype', 'fp32')} | {r['weights_mb']:.0f} MB | {r['cp_seconds']:.2f} s "
                    f"| {r['export_seconds']:.2f} s | {r['export_over_cp']} | {r['budget_seconds']:.2f} s "
                    f"| {r['export_peak_rss_mb']:.0f} MB | {r['output_mb']:.0f} MB ({r['output_over_weights']:.3f}) | {ok} | {optimum} |")
    head = ("| checkpoint, task, dtype | weights | cp | onnx-export | export / cp | budget 1.5·cp+1 s | peak RSS "
            "| output (/ weights) | onnxruntime runs it | optimum exporter (/ ours) |\n|---|---|---|---|---|---|---|---|---|---|")
    return head + "\n" + "\n".join(rows) if rows else ""


def inference_table():
    path = os.path.join(RESULTS, "inference.json")
    if not os.path.exists(path):
        return ""
    data = json.load(open(path))
    points = {}
    for r in data["rows"]:
        points.setdefault((r["model"], r["task"], r["batch"], r["seq"]), {})[r["variant"]] = r
    variants = [v for v in ("ours", "optimum", "optimum O2") if any(v in p for p in points.values())]
    head = ("| model, point | " + " | ".join(f"{v} ms (nodes)" for v in variants) + " | optimum / ours (quartiles) | O2 / ours (quartiles) |\n|"
            + "---|" * (len(variants) + 3))
    lines = []
    for (model, task, batch, seq), p in points.items():
        what = f"{model} batch {batch}, " + (f"1 token after {seq}" if "past" in task else f"seq {seq}")
        cells = [f"{p[v]['median_ms']:.1f} ({p[v]['nodes']})" if v in p else "—" for v in variants]
        def ratio(v):
            if v not in p:
                return "—"
            r = p[v]
            spread = f" ({r['vs_ours_q1']:.2f}–{r['vs_ours_q3']:.2f})" if "vs_ours_q1" in r else ""
            return f"{r['vs_ours']:.2f}{spread}"
        lines.append(f"| {what} | " + " | ".join(cells) + f" | {ratio('optimum')} | {ratio('optimum O2')} |")
    method = (f"; each variant in a process of its own, ratios the median over {data['trials']} trials (fresh processes) "
              f"of {data['rounds']} interleaved rounds each, {'quartiles' if data['trials'] >= 4 else 'range'} over trials"
              if "trials" in data else "")
    return (f"onnxruntime {data['onnxruntime']}, CPU, {data['threads']} threads{method}\n\n" + head + "\n"
            + "\n".join(lines))


def decode_tables():
    """From decode_bench.py: export cost, ms per token (median, quartiles) and teacher-forced logit error."""
    tables = []
    for path in sorted(glob.glob(os.path.join(RESULTS, "decode-*.json"))):
        r = json.load(open(path))
        exports = "\n".join(f"| {label} | {e['seconds']:.2f} s | {e['peak_rss_mb']:.0f} MB |" for label, e in r["exports"].items())
        pasts = sorted({int(k.rsplit(" ", 1)[1]) for k in r["decode_ms_per_token"]})
        rows = {}
        for key, q in r["decode_ms_per_token"].items():
            label, mode, past = key.split(" | ")
            rows.setdefault((label, mode), {})[int(past.split()[1])] = f"{q['median']:.2f} ({q['q1']:.2f}–{q['q3']:.2f})"
        decode = "\n".join(f"| {label} | {'onnxruntime-genai' if mode == 'genai' else 'plain onnxruntime loop'} | "
                           + " | ".join(cells.get(p, "—") for p in pasts) + " |" for (label, mode), cells in rows.items())
        accuracy = "\n".join(f"| {label} | {a['max_error_of_scale']:.2e} | {a['mean_abs_error']:.2e} | {a['argmax_agreement']:.3f} |"
                             for label, a in r["accuracy"]["rows"].items())
        tables.append(
            f"{r['model']}, block size {r['block_size']}: export\n\n| export | time | peak RSS |\n|---|---|---|\n{exports}\n\n"
            f"decode, batch 1, ms per token over {r['tokens']} tokens (median, quartiles over {r['rounds']} rounds)\n\n"
            "| folder | runner | " + " | ".join(f"past {p}" for p in pasts) + " |\n|---|---|" + "---|" * len(pasts) + f"\n{decode}\n\n"
            f"logits of a 128-token teacher-forced sequence against our float32 export (logit scale {r['accuracy']['logit_scale']:.1f})\n\n"
            f"| folder | max error / scale | mean abs error | arg-max agreement |\n|---|---|---|---|\n{accuracy}")
    return "\n\n".join(tables)


if __name__ == "__main__":
    print(f"Machine: {machine()}\n")
    for table in (export_table(), inference_table(), decode_tables()):
        if table:
            print(table + "\n")
