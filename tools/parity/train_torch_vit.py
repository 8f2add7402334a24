#!/usr/bin/env python3
"""Trains the small 3-channel ViT of the accuracy-parity experiment with PyTorch on an image
folder and saves it the way timm checkpoints are published (development tool).

Usage: /usr/bin/python3 tools/parity/train_torch_vit.py --data DIR --out M.safetensors
           [--epochs 10] [--seed 0] [--threads 1]

Model: timm's VisionTransformer layout (tools/fixtures/timm_vit.py), img_size 32, patch 4,
in_chans 3, embed_dim 96, depth 3, num_heads 4, mlp_ratio 4, 10 classes. 96 / 4 = 24-wide
heads are no standard timm width, so a reader must be told the head count (--num-heads 4).
Data: DIR/train through torchvision's ImageFolder with timm-style training preprocessing:
RandomResizedCrop(32, scale (0.35, 1), bicubic) -> horizontal flip -> ToTensor ->
Normalize(ImageNet mean, std). Optimiser: AdamW (lr 2e-3, weight decay 0.05 on the weight
matrices only), linear warm-up for one epoch then cosine decay, batch 32, label smoothing
0.1, gradient clipping at 1.0. One thread by default: on the shared 2-core machine two
OpenMP threads ran a step about 3x slower than one whenever other work was running. The saved file holds the state dict in float32 and metadata {"format": "pt"} only: no
img_size, num_heads, mean or crop_pct, so a reader must infer them or use timm's defaults.
At the end it prints the top-1 and loss on DIR/val through eval_torch.py's evaluation.
"""
import argparse
import math
import os
import sys
import time

import torch
import torch.nn.functional as F
from torchvision import datasets, transforms
from torchvision.transforms import InterpolationMode

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "fixtures"))
sys.path.insert(0, HERE)
from timm_vit import VisionTransformer  # noqa: E402
from safetensors_file import write_safetensors  # noqa: E402
from eval_torch import IMAGENET_MEAN, IMAGENET_STD, evaluate  # noqa: E402

IMG, PATCH, CHANS, DIM, DEPTH, HEADS, MLP_RATIO, CLASSES = 32, 4, 3, 96, 3, 4, 4.0, 10


def train_transform():
    return transforms.Compose([
        transforms.RandomResizedCrop(IMG, scale=(0.35, 1.0), interpolation=InterpolationMode.BICUBIC),
        transforms.RandomHorizontalFlip(),
        transforms.ToTensor(),
        transforms.Normalize(IMAGENET_MEAN, IMAGENET_STD),
    ])


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", required=True, help="an image folder root with train/ and val/")
    ap.add_argument("--out", required=True)
    ap.add_argument("--epochs", type=int, default=10)
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)

    train = datasets.ImageFolder(os.path.join(args.data, "train"), transform=train_transform())
    if len(train.classes) != CLASSES:
        raise SystemExit("%s/train has %d classes, expected %d" % (args.data, len(train.classes), CLASSES))
    gen = torch.Generator().manual_seed(args.seed)
    loader = torch.utils.data.DataLoader(train, batch_size=args.batch_size, shuffle=True, drop_last=True,
                                         num_workers=0, generator=gen)

    model = VisionTransformer(img=IMG, patch=PATCH, chans=CHANS, dim=DIM, depth=DEPTH, heads=HEADS,
                              mlp_ratio=MLP_RATIO, classes=CLASSES)
    with torch.no_grad():  # timm's init of the two token parameters
        torch.nn.init.trunc_normal_(model.pos_embed, std=0.02)
        torch.nn.init.trunc_normal_(model.cls_token, std=1e-6)

    def decays(name, p):
        return p.ndim >= 2 and name not in ("cls_token", "pos_embed")

    params = list(model.named_parameters())
    opt = torch.optim.AdamW([{"params": [p for n, p in params if decays(n, p)], "weight_decay": 0.05},
                             {"params": [p for n, p in params if not decays(n, p)], "weight_decay": 0.0}],
                            lr=args.lr)
    steps_per_epoch = len(loader)
    total = args.epochs * steps_per_epoch
    warm = steps_per_epoch

    def lr_at(step):
        if step < warm:
            return args.lr * (step + 1) / warm
        return args.lr * 0.5 * (1 + math.cos(math.pi * (step - warm) / max(1, total - warm)))

    start = time.perf_counter()
    step = 0
    for epoch in range(args.epochs):
        model.train()
        loss_sum, seen, correct = 0.0, 0, 0
        for x, y in loader:
            for g in opt.param_groups:
                g["lr"] = lr_at(step)
            logits = model(x)
            loss = F.cross_entropy(logits, y, label_smoothing=0.1)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            step += 1
            loss_sum += loss.item() * y.shape[0]
            correct += int((logits.argmax(1) == y).sum())
            seen += y.shape[0]
        print("epoch %2d  train loss %.4f  train top-1 %5.1f %%  %.0f s" % (
            epoch + 1, loss_sum / seen, 100.0 * correct / seen, time.perf_counter() - start), flush=True)

    model.eval()
    state = {k: v.detach().clone() for k, v in model.state_dict().items()}
    write_safetensors(args.out, state, {"format": "pt"})
    print("wrote %s (%d tensors, %d parameters, metadata {\"format\": \"pt\"})" % (
        args.out, len(state), sum(v.numel() for v in state.values())))
    val = os.path.join(args.data, "val")
    if os.path.isdir(val):
        top1, loss, count = evaluate(model, val, IMG)
        print("val (eval transform): top-1 %.2f %%  loss %.4f  images %d" % (top1, loss, count))
    print("training took %.0f s" % (time.perf_counter() - start))


if __name__ == "__main__":
    main()
