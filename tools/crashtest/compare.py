#!/usr/bin/env python3
"""Compares the results of an uninterrupted run (REF) with a killed-and-resumed one (RUN).

Usage: compare.py REF RUN FILE...  (FILE relative to both run directories)
safetensors: same tensor names, dtypes, shapes and data bytes, same metadata once the run
directory's path is written as DIR; JSON: equal without timing keys (stage_seconds); other
files: equal text once paths are written as DIR. Prints one line per file, exits 1 on a difference.
"""
import json
import struct
import sys

TIMING_KEYS = {"stage_seconds"}


def safetensors(path, root):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    meta = {k: v.replace(root, "DIR") for k, v in header.pop("__metadata__", {}).items()}
    tensors = {}
    for name, e in header.items():
        b, end = e["data_offsets"]
        tensors[name] = (e["dtype"], tuple(e["shape"]), data[b:end])
    return tensors, meta


def without_timing(node):
    if isinstance(node, dict):
        return {k: without_timing(v) for k, v in node.items() if k not in TIMING_KEYS}
    if isinstance(node, list):
        return [without_timing(v) for v in node]
    return node


def load(path, root):
    if path.endswith(".safetensors"):
        return safetensors(path, root)
    text = open(path, encoding="utf-8").read().replace(root, "DIR")
    return without_timing(json.loads(text)) if path.endswith(".json") else text


def main():
    ref, run, files = sys.argv[1], sys.argv[2], sys.argv[3:]
    bad = 0
    for f in files:
        a, b = load(f"{ref}/{f}", ref), load(f"{run}/{f}", run)
        same = a == b
        if f.endswith(".safetensors"):
            detail = f"{len(a[0])} tensors" + ("" if same else ", differing: " + ", ".join(
                sorted(k for k in set(a[0]) | set(b[0]) if a[0].get(k) != b[0].get(k))[:5])
                + ("" if a[1] == b[1] else " (metadata differs)"))
        else:
            detail = "equal" if same else "differs"
        print(f"  {'same' if same else 'DIFF'}  {f}: {detail}")
        bad += not same
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
