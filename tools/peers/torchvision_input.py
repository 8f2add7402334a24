#!/usr/bin/env python3
"""The torchvision peer of dev.flora.bench.InputPipelineBench: ImageFolder + DataLoader
(num_workers=2, batch_size=64) over the same files with timm's eval transform at 224
(Resize(256, bicubic), CenterCrop(224), ToTensor, Normalize(ImageNet)). Pass 1 warms up (page
cache, worker start); the figure is the median of the timed passes, worker start-up included
in each pass as a DataLoader epoch includes it.

  /usr/bin/python3 tools/peers/torchvision_input.py DIR [PASSES] [WORKERS]
"""
import statistics
import sys
import time

import torch
from torch.utils.data import DataLoader
from torchvision import datasets, transforms as T


def main():
    root = sys.argv[1]
    passes = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    workers = int(sys.argv[3]) if len(sys.argv) > 3 else 2
    torch.set_num_threads(1)
    tf = T.Compose([T.Resize(256, interpolation=T.InterpolationMode.BICUBIC), T.CenterCrop(224), T.ToTensor(),
                    T.Normalize((0.485, 0.456, 0.406), (0.229, 0.224, 0.225))])
    ds = datasets.ImageFolder(root, transform=tf)
    loader = DataLoader(ds, batch_size=64, num_workers=workers)
    rates = []
    for p in range(passes + 1):
        t0 = time.perf_counter()
        n = 0
        for x, _ in loader:
            n += x.shape[0]
        if p > 0:
            rates.append(n / (time.perf_counter() - t0))
    print(f"{root}: {len(ds)} images, DataLoader num_workers={workers} batch 64: "
          f"median {statistics.median(rates):.1f} images/s (passes: {[round(r, 1) for r in rates]})")


if __name__ == "__main__":
    main()
