#!/usr/bin/env python3
"""PyTorch CPU inference of a flora-j ViT, and its ONNX export (development tool).

Loads a dense timm-named model from safetensors (e.g. runs/.../model.safetensors or the
bundled vit-fmnist, see --model), measures single-image latency (median of --calls) and
throughput at batch 256 with --threads threads, prints one JSON line, and with --onnx FILE
writes the model as ONNX for the ONNX Runtime peer. Needs Debian's python3-torch with
libopenblas0-pthread (run with /usr/bin/python3).
"""
import argparse
import json
import os
import struct
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures"))
from timm_vit import VisionTransformer  # noqa: E402


def read_safetensors(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    meta = header.pop("__metadata__", {})
    tensors = {}
    for name, e in header.items():
        if name.startswith("optimizer."):
            continue
        b, end = e["data_offsets"]
        assert e["dtype"] == "F32", name
        tensors[name] = torch.from_numpy(np.frombuffer(data[b:end], dtype="<f4").copy()).reshape(e["shape"])
    return tensors, meta


def build(path):
    tensors, meta = read_safetensors(path)
    model = VisionTransformer(img=int(meta["img_size"]), patch=int(meta["patch_size"]), chans=int(meta["in_chans"]),
                              dim=int(meta["embed_dim"]), depth=int(meta["depth"]), heads=int(meta["num_heads"]),
                              mlp_ratio=float(meta["mlp_ratio"]), classes=int(meta["num_classes"]))
    model.load_state_dict(tensors, strict=True)
    return model.eval(), int(meta["in_chans"]), int(meta["img_size"])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True)
    ap.add_argument("--threads", type=int, default=torch.get_num_threads())
    ap.add_argument("--calls", type=int, default=300)
    ap.add_argument("--batches", type=int, default=10)
    ap.add_argument("--onnx")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    model, chans, size = build(args.model)
    one = torch.randn(1, chans, size, size)
    big = torch.randn(256, chans, size, size)
    with torch.inference_mode():
        for _ in range(30):
            model(one)
        t = []
        for _ in range(args.calls):
            t0 = time.perf_counter()
            model(one)
            t.append(time.perf_counter() - t0)
        t.sort()
        model(big)
        t0 = time.perf_counter()
        for _ in range(args.batches):
            model(big)
        thr = 256 * args.batches / (time.perf_counter() - t0)
    print(json.dumps({"peer": "pytorch " + torch.__version__, "threads": args.threads,
                      "infer_b1_ms": 1000 * t[len(t) // 2], "infer_b256_img_per_s": thr}))
    if args.onnx:
        torch.onnx.export(model, one, args.onnx, input_names=["images"], output_names=["logits"],
                          dynamic_axes={"images": {0: "batch"}, "logits": {0: "batch"}}, opset_version=17)


if __name__ == "__main__":
    main()
