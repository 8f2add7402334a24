#!/usr/bin/env python3
"""PyTorch CPU inference of a flora-j ViT, and its ONNX export (development tool).

Loads a dense timm-named model from safetensors (e.g. runs/.../model.safetensors or the
bundled vit-fmnist, see --model) or builds a DeiT preset with random weights (--arch
deit-tiny|deit-small|deit-base, as `flora bench --model deit-small` does), measures
single-image latency (median of --calls) and throughput at batch --batch (default 256) with
--threads threads, prints one JSON line, and with --onnx FILE writes the model as ONNX for the
ONNX Runtime peer (--torchscript FILE: as TorchScript, for the DJL peer). --bf16 runs under CPU autocast to bfloat16 (PyTorch's own low-precision
path; no ONNX export then). Needs Debian's python3-torch with libopenblas0-pthread (run with
/usr/bin/python3).
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


# the DeiT presets of flora-j's ModelSource: (dim, depth, heads) at 224x224, patch 16, 1000 classes
DEIT = {"deit-tiny": (192, 12, 3), "deit-small": (384, 12, 6), "deit-base": (768, 12, 12)}


def preset(name):
    dim, depth, heads = DEIT[name]
    torch.manual_seed(0)
    model = VisionTransformer(img=224, patch=16, chans=3, dim=dim, depth=depth, heads=heads, mlp_ratio=4.0,
                              classes=1000)
    return model.eval(), 3, 224


def main():
    ap = argparse.ArgumentParser()
    src = ap.add_mutually_exclusive_group(required=True)
    src.add_argument("--model", help="a dense timm-named safetensors file with flora-j's metadata")
    src.add_argument("--arch", choices=sorted(DEIT), help="a DeiT preset with random weights")
    ap.add_argument("--threads", type=int, default=torch.get_num_threads())
    ap.add_argument("--calls", type=int, default=300)
    ap.add_argument("--batches", type=int, default=10)
    ap.add_argument("--batch", type=int, default=256, help="images per batch of the throughput figure")
    ap.add_argument("--bf16", action="store_true", help="CPU autocast to bfloat16")
    ap.add_argument("--onnx")
    ap.add_argument("--torchscript", help="also write the model traced to TorchScript, for the DJL peer")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    model, chans, size = build(args.model) if args.model else preset(args.arch)
    one = torch.randn(1, chans, size, size)
    big = torch.randn(args.batch, chans, size, size)
    with torch.inference_mode(), torch.autocast("cpu", dtype=torch.bfloat16, enabled=args.bf16):
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
        thr = args.batch * args.batches / (time.perf_counter() - t0)
    print(json.dumps({"peer": "pytorch " + torch.__version__ + (" bf16 autocast" if args.bf16 else ""),
                      "threads": args.threads, "infer_b1_ms": 1000 * t[len(t) // 2],
                      "infer_b%d_img_per_s" % args.batch: thr}))
    if args.torchscript and not args.bf16:
        with torch.no_grad():
            torch.jit.trace(model, one).save(args.torchscript)
    if args.onnx and not args.bf16:
        torch.onnx.export(model, one, args.onnx, input_names=["images"], output_names=["logits"],
                          dynamic_axes={"images": {0: "batch"}, "logits": {0: "batch"}}, opset_version=17)


if __name__ == "__main__":
    main()
