#!/usr/bin/env python3
"""The PyTorch peers of flora-j's GPU benchmarks (dev.flora.bench.gpu.GpuBench), timed the same
way: runs of calls closed by one torch.cuda.synchronize(), lengthened until a sample takes at
least --min-ms, median over --samples. Prints one JSON line, as GpuBench does.

  train: a DeiT training step (timm model, eager; AdamW, cross-entropy) at --batch, img/s
  svd:   torch.linalg.svd of every low-rank target of a model (qkv, fc1, fc2 of each block)

fp32 turns TF32 off for matmuls (flora-j's cuBLAS GEMMs are fp32); tf32 allows it; bf16 runs
the step under autocast.
"""
import argparse
import json
import time

import torch

DIMS = {"deit-t": (192, 3), "deit-s": (384, 6), "deit-b": (768, 12)}


def millis_per_call(work, min_ms, samples):
    work()
    torch.cuda.synchronize()

    def run(calls):
        start = time.perf_counter()
        for _ in range(calls):
            work()
        torch.cuda.synchronize()
        return (time.perf_counter() - start) * 1e3

    calls = 1
    while True:
        ms = run(calls)
        if ms >= min_ms or calls >= 1 << 16:
            break
        calls *= max(2, int(-(-min_ms // max(ms, 1e-6))))
    per_call = sorted(run(calls) / calls for _ in range(samples))
    return per_call[samples // 2]


def train(args):
    import timm
    name = {"deit-t": "deit_tiny_patch16_224", "deit-s": "deit_small_patch16_224",
            "deit-b": "deit_base_patch16_224"}[args.model]
    model = timm.create_model(name, pretrained=False, num_classes=1000).cuda().train()
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4, weight_decay=0.05)
    gen = torch.Generator(device="cuda").manual_seed(2)
    x = torch.randn(args.batch, 3, 224, 224, device="cuda", generator=gen)
    y = torch.arange(args.batch, device="cuda") % 1000
    loss_fn = torch.nn.CrossEntropyLoss()

    def step():
        opt.zero_grad(set_to_none=False)
        with torch.autocast("cuda", dtype=torch.bfloat16, enabled=args.precision == "bf16"):
            loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()

    ms = millis_per_call(step, args.min_ms, args.samples)
    return {"engine": "pytorch", "model": args.model, "precision": args.precision, "batch": args.batch,
            "step_ms": round(ms, 3), "img_per_s": round(args.batch * 1e3 / ms, 1)}


def svd(args):
    dim, depth = DIMS[args.model]
    gen = torch.Generator(device="cuda").manual_seed(3)
    result = {"engine": "pytorch", "model": args.model, "matrices": 3 * depth}
    total = 0.0
    for name, rows, cols in (("attn.qkv", 3 * dim, dim), ("mlp.fc1", 4 * dim, dim), ("mlp.fc2", dim, 4 * dim)):
        w = torch.randn(rows, cols, device="cuda", generator=gen) / cols ** 0.5
        ms = millis_per_call(lambda: torch.linalg.svd(w, full_matrices=False), args.min_ms, args.samples)
        result[f"{name}_{rows}x{cols}_ms"] = round(ms, 2)
        total += ms * depth
    result["total_ms"] = round(total, 1)
    return result


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("what", choices=["train", "svd"])
    p.add_argument("--model", default=None)
    p.add_argument("--precision", default="fp32", choices=["fp32", "tf32", "bf16"])
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--min-ms", type=float, default=20)
    p.add_argument("--samples", type=int, default=5)
    args = p.parse_args()
    args.model = args.model or ("deit-s" if args.what == "train" else "deit-b")
    tf32 = args.precision != "fp32"
    torch.backends.cuda.matmul.allow_tf32 = tf32
    torch.backends.cudnn.allow_tf32 = tf32
    print(json.dumps(train(args) if args.what == "train" else svd(args)))


if __name__ == "__main__":
    main()
