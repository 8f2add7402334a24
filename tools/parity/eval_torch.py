#!/usr/bin/env python3
"""PyTorch side of the accuracy-parity experiment: scores a timm-named ViT checkpoint on an
image folder the way timm + torchvision would (development tool).

Usage: /usr/bin/python3 tools/parity/eval_torch.py --model M.safetensors --data DIR
           [--num-heads H] [--split val] [--batch-size 256] [--json]

Reads DIR/<split> with torchvision's ImageFolder (classes numbered in sorted order of the
sub-folder names, images converted to RGB by PIL) through timm's eval transform for the
DeiT defaults it resolves for a checkpoint without a pretrained config: Resize(shorter side
to floor(img_size / 0.875), bicubic) -> CenterCrop(img_size) -> ToTensor ->
Normalize(ImageNet mean, std). The architecture is read from the tensor shapes (patch size
and channels from patch_embed.proj.weight, img_size from pos_embed, depth from the block
count, MLP width from fc1, classes from head); the head count is not in the shapes, so it
comes from the file's metadata ("num_heads") or --num-heads. Prints top-1 (percent), mean
cross-entropy and the image count; with --json one line {"top1", "loss", "count"}, the keys
of `flora eval --json`.
"""
import argparse
import json
import math
import os
import struct
import sys

import torch
import torch.nn.functional as F
from torchvision import datasets, transforms
from torchvision.transforms import InterpolationMode

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures"))
from timm_vit import VisionTransformer  # noqa: E402

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
CROP_PCT = 0.875  # timm's DEFAULT_CROP_PCT


def eval_transform(img_size, crop_pct=CROP_PCT):
    """timm's create_transform(is_training=False) for the DeiT defaults."""
    return transforms.Compose([
        transforms.Resize(int(math.floor(img_size / crop_pct)), interpolation=InterpolationMode.BICUBIC),
        transforms.CenterCrop(img_size),
        transforms.ToTensor(),
        transforms.Normalize(IMAGENET_MEAN, IMAGENET_STD),
    ])


def read_safetensors(path):
    """(tensors, metadata) of a safetensors file; F32, F16, BF16 tensors, returned as float32."""
    dtypes = {"F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16}
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    meta = header.pop("__metadata__", {}) or {}
    tensors = {}
    for name, info in header.items():
        if info["dtype"] not in dtypes:
            raise SystemExit("%s: tensor %s has dtype %s, not supported here" % (path, name, info["dtype"]))
        a, b = info["data_offsets"]
        t = torch.frombuffer(bytearray(data[a:b]), dtype=dtypes[info["dtype"]]) if b > a else \
            torch.empty(0, dtype=dtypes[info["dtype"]])
        tensors[name] = t.reshape(info["shape"]).float()
    return tensors, meta


def model_from_state(tensors, num_heads):
    """A VisionTransformer shaped after the timm-named tensors, with them loaded."""
    w = tensors["patch_embed.proj.weight"]  # [dim, chans, patch, patch]
    dim, chans, patch = w.shape[0], w.shape[1], w.shape[2]
    tokens = tensors["pos_embed"].shape[1] - 1
    grid = int(round(math.sqrt(tokens)))
    if grid * grid != tokens:
        raise SystemExit("pos_embed has %d patch positions, not a square grid" % tokens)
    depth = 0
    while "blocks.%d.norm1.weight" % depth in tensors:
        depth += 1
    hidden = tensors["blocks.0.mlp.fc1.weight"].shape[0]
    classes = tensors["head.weight"].shape[0]
    if dim % num_heads:
        raise SystemExit("embed dim %d is not divisible by %d heads" % (dim, num_heads))
    model = VisionTransformer(img=grid * patch, patch=patch, chans=chans, dim=dim, depth=depth, heads=num_heads,
                              mlp_ratio=hidden / dim, classes=classes)
    model.load_state_dict(tensors, strict=True)
    model.eval()
    return model, grid * patch


def evaluate(model, folder, img_size, batch_size=256):
    """(top-1 percent, mean cross-entropy, count) over an ImageFolder directory."""
    ds = datasets.ImageFolder(folder, transform=eval_transform(img_size))
    loader = torch.utils.data.DataLoader(ds, batch_size=batch_size, shuffle=False, num_workers=0)
    correct, loss_sum, count = 0, 0.0, 0
    with torch.no_grad():
        for x, y in loader:
            logits = model(x)
            correct += int((logits.argmax(1) == y).sum())
            loss_sum += float(F.cross_entropy(logits.double(), y, reduction="sum"))
            count += y.shape[0]
    return 100.0 * correct / count, loss_sum / count, count


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", required=True)
    ap.add_argument("--data", required=True, help="an image folder root with a <split>/ sub-folder")
    ap.add_argument("--split", default="val")
    ap.add_argument("--num-heads", type=int, help="attention heads, when the file's metadata lacks num_heads")
    ap.add_argument("--batch-size", type=int, default=256)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--json", action="store_true", help="print one JSON line")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    tensors, meta = read_safetensors(args.model)
    heads = args.num_heads if args.num_heads is not None else (int(meta["num_heads"]) if "num_heads" in meta else None)
    if heads is None:
        raise SystemExit("%s has no num_heads in its metadata: pass --num-heads" % args.model)
    model, img_size = model_from_state(tensors, heads)
    top1, loss, count = evaluate(model, os.path.join(args.data, args.split), img_size, args.batch_size)
    if args.json:
        print(json.dumps({"top1": top1, "loss": loss, "count": count}))
    else:
        print("model   %s" % args.model)
        print("data    %s (%s)" % (args.data, args.split))
        print("top-1   %.2f %%" % top1)
        print("loss    %.4f" % loss)
        print("images  %d" % count)


if __name__ == "__main__":
    main()
