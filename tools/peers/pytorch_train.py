#!/usr/bin/env python3
"""PyTorch CPU training throughput of vit-fmnist, the peer of `flora pretrain` (development tool).

Trains the same architecture (timm layout, 28x28x1, patch 4, dim 128, depth 6, heads 4,
mlp 4), the same way (AdamW lr 1e-3 wd 0.05 on weight matrices only, label smoothing 0.1,
random crop with 2 px padding and horizontal flip, batch 128, gradient clipping at 1.0) on
the bundled Fashion-MNIST subset, and prints images per second over the steps after the
first --warmup (default five). Needs Debian's python3-torch with libopenblas0-pthread (run
with /usr/bin/python3).

Usage: /usr/bin/python3 tools/peers/pytorch_train.py --threads N [--steps 40] [--warmup 5] [--bare]
                                                    [--arch deit-tiny|deit-small|deit-base] [--batch N] [--bf16]
`--bare` leaves out augmentation and clipping: the work of `flora bench`'s training figure.
`--arch` trains a DeiT preset (224x224, 1000 classes, random weights) on random images and
labels instead, bare, as `flora bench --model deit-small` does. `--bf16` runs the forward and
loss under CPU autocast to bfloat16 (PyTorch's mixed precision; the weights and AdamW stay fp32),
the peer of `flora bench --precision bf16`.
"""
import argparse
import gzip
import os
import struct
import sys
import time

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures"))
from timm_vit import VisionTransformer  # noqa: E402
from pytorch_infer import DEIT  # noqa: E402

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
DATA = os.path.join(ROOT, "src", "main", "resources", "dev", "flora", "data", "fmnist-subset")


def read_idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    rank = struct.unpack(">I", data[:4])[0] & 0xff
    dims = struct.unpack(">" + "I" * rank, data[4:4 + 4 * rank])
    return torch.frombuffer(bytearray(data[4 + 4 * rank:]), dtype=torch.uint8).reshape(dims)


def augment(x, pad=2):
    # random crop from the zero-padded batch, then random horizontal flip, per image
    b, c, h, w = x.shape
    padded = F.pad(x, (pad, pad, pad, pad), value=float((0 - 0.2860) / 0.3530))
    out = torch.empty_like(x)
    ox = torch.randint(0, 2 * pad + 1, (b,))
    oy = torch.randint(0, 2 * pad + 1, (b,))
    flip = torch.rand(b) < 0.5
    for i in range(b):
        img = padded[i, :, oy[i]:oy[i] + h, ox[i]:ox[i] + w]
        out[i] = img.flip(-1) if flip[i] else img
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=torch.get_num_threads())
    ap.add_argument("--steps", type=int, default=40)
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--warmup", type=int, default=5, help="untimed steps before the timed ones")
    ap.add_argument("--arch", choices=sorted(DEIT), help="a DeiT preset on random data (implies --bare)")
    ap.add_argument("--bare", action="store_true",
                    help="the work of `flora bench`'s training figure only: no augmentation, no clipping")
    ap.add_argument("--bf16", action="store_true", help="CPU autocast to bfloat16 for the forward and loss")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    if args.arch:
        args.bare = True
        dim, depth, heads = DEIT[args.arch]
        model = VisionTransformer(img=224, patch=16, chans=3, dim=dim, depth=depth, heads=heads, mlp_ratio=4.0,
                                  classes=1000)
        x = torch.randn(4 * args.batch, 3, 224, 224)
        y = torch.randint(0, 1000, (4 * args.batch,))
    else:
        x = (read_idx(os.path.join(DATA, "train-images-idx3-ubyte.gz")).float() / 255 - 0.2860) / 0.3530
        y = read_idx(os.path.join(DATA, "train-labels-idx1-ubyte.gz")).long()
        x = x.unsqueeze(1)
        model = VisionTransformer(img=28, patch=4, chans=1, dim=128, depth=6, heads=4, mlp_ratio=4.0, classes=10)
    decay = [p for n, p in model.named_parameters() if p.ndim >= 2 and n not in ("cls_token", "pos_embed")]
    no_decay = [p for n, p in model.named_parameters() if not (p.ndim >= 2 and n not in ("cls_token", "pos_embed"))]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.05}, {"params": no_decay, "weight_decay": 0.0}],
                            lr=1e-3)
    n = x.shape[0]
    perm = torch.randperm(n)
    warm = args.warmup
    start = None
    for step in range(args.steps + warm):
        if step == warm:
            start = time.perf_counter()
        idx = perm[(step * args.batch) % (n - args.batch):][:args.batch]
        xb = x[idx] if args.bare else augment(x[idx])
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=args.bf16):
            loss = F.cross_entropy(model(xb), y[idx], label_smoothing=0.1)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        if not args.bare:
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
    secs = time.perf_counter() - start
    print("pytorch %s %s %s threads=%d batch=%d: %.2f img/s" % (
        torch.__version__, args.arch or "vit-fmnist", "bf16-autocast" if args.bf16 else "fp32", args.threads,
        args.batch, args.steps * args.batch / secs))


if __name__ == "__main__":
    main()
