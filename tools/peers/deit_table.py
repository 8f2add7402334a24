#!/usr/bin/env python3
"""Markdown tables from the raw results that compare_deit.sh leaves in its folder.

Usage: deit_table.py FOLDER TRAIN_BATCH INFER_BATCH RSS_MODEL MODEL...
Each FOLDER/MODEL/PEER file holds one JSON line per thread (or pin) setting; a peer's best
setting counts (least batch-1 latency, most images per second). FOLDER/rss-table holds lines
"NAME MiB". Speed-ups are "how many times faster flora-j is": the peer's time over ours.
"""
import json
import os
import sys

PEERS = [("pt-train", "pt-infer", "PyTorch 1.13 (Debian)"),
         (None, "pt-bf16", "PyTorch 1.13 bf16 autocast"),
         ("djl", "djl", "libtorch 2.7.1 (DJL)"),
         (None, "ort", "ONNX Runtime"),
         ("flora", "flora", "flora-j fp32"),
         (None, "flora-bf16", "flora-j bf16")]


def rows(folder, name):
    path = os.path.join(folder, name)
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return [json.loads(line) for line in f if line.lstrip().startswith("{")]


def best(folder, name, key, pick):
    values = [r[key] for r in rows(folder, name) if r.get(key) is not None and r[key] > 0]
    return pick(values) if values else None


def cell(value, digits):
    return "-" if value is None else f"{value:.{digits}f}"


def speedup(ours, theirs, lower_is_better):
    if ours is None or theirs is None:
        return "-"
    return f"{(theirs / ours if lower_is_better else ours / theirs):.2f}x"


def model_table(folder, model, train_batch, infer_batch):
    d = os.path.join(folder, model)
    bkey = f"infer_b{infer_batch}_img_per_s"
    figures = [(f"training, batch {train_batch} (img/s)", "train_img_per_s", max, False, 2, 0),
               ("inference, batch 1 (ms, median)", "infer_b1_ms", min, True, 1, 1),
               (f"inference, batch {infer_batch} (img/s)", bkey, max, False, 1, 1)]
    head = [p[2] for p in PEERS]
    out = [f"### {model}", "",
           "| figure | " + " | ".join(head) + " | flora-j fp32 vs PyTorch | vs libtorch | vs ONNX Runtime |"
           " flora-j bf16 vs ONNX Runtime |",
           "|---|" + "---:|" * (len(head) + 4)]
    for label, key, pick, lower, digits, source in figures:
        vals = [best(d, p[source], key, pick) if p[source] else None for p in PEERS]
        pt, _, djl, ort, fj, fjb = vals
        out.append(f"| {label} | " + " | ".join(cell(v, digits) for v in vals) + " | "
                   + " | ".join([speedup(fj, pt, lower), speedup(fj, djl, lower), speedup(fj, ort, lower),
                                 speedup(fjb, ort, lower)]) + " |")
    return out


def rss_table(folder, model):
    path = os.path.join(folder, "rss-table")
    if not os.path.exists(path):
        return []
    out = [f"### peak resident memory, {model} inference at batch 1", "", "| runtime | peak RSS (MiB) |",
           "|---|---:|"]
    with open(path) as f:
        for line in f:
            name, _, mib = line.strip().rpartition(" ")
            if name:
                out.append(f"| {name} | {mib} |")
    return out


def main():
    folder, train_batch, infer_batch, rss_model = sys.argv[1:5]
    lines = []
    for model in sys.argv[5:]:
        lines += model_table(folder, model, int(train_batch), int(infer_batch)) + [""]
    lines += rss_table(folder, rss_model)
    print("\n".join(lines))


if __name__ == "__main__":
    main()
