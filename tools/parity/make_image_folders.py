#!/usr/bin/env python3
"""Writes the image folders of the accuracy-parity experiment (development tool).

Usage: /usr/bin/python3 tools/parity/make_image_folders.py OUT_DIR
           [--per-class-train 300] [--per-class-val 100] [--seed 0]
           [--fmnist /usr/share/datasets/fashion-mnist] [--jpeg-quality 90]

Writes OUT_DIR/png/ and OUT_DIR/jpeg/, the same images in both, each in torchvision's
ImageFolder layout:

    OUT_DIR/png/{train,val}/<class>/<index>.png
    OUT_DIR/jpeg/{train,val}/<class>/<index>.jpg

<class> is the Fashion-MNIST class name in lower case with '/' and ' ' replaced
(t-shirt_top, trouser, pullover, ...). ImageFolder numbers the classes in sorted order of
these names, which is not Fashion-MNIST's label order; a model trained and scored through
ImageFolder never sees the original labels, so that does not matter.

Each image is a Fashion-MNIST image (train/ from the train file, val/ from the t10k file):
the 28x28 greyscale picture is upscaled with PIL bicubic to a random non-square size with
sides in [--min-side, --max-side], then used as the blend weight between a random
background colour and a random foreground colour (per image; any hues, the foreground at
least --min-contrast brighter in luma, the polarity of Fashion-MNIST), so the result is a
genuine RGB picture in which no single channel holds the whole signal.
Everything is drawn from one seeded generator: the same arguments write the same bytes.
"""
import argparse
import os
import sys

import numpy as np
from PIL import Image

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures"))
from make_golden import read_idx  # noqa: E402

# Fashion-MNIST label order; the folder names below are derived from these.
FMNIST_CLASSES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                  "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]
DEFAULT_FMNIST = "/usr/share/datasets/fashion-mnist"


def folder_name(label):
    return FMNIST_CLASSES[label].lower().replace("/", "_").replace(" ", "_")


def pick(labels, per_class, rng):
    """Indices of the first `per_class` images of each class in a seeded permutation."""
    order = rng.permutation(len(labels))
    chosen = {c: [] for c in range(len(FMNIST_CLASSES))}
    for i in order:
        c = int(labels[i])
        if len(chosen[c]) < per_class:
            chosen[c].append(int(i))
    for c, idx in chosen.items():
        if len(idx) < per_class:
            raise SystemExit("only %d images of class %s, asked for %d" % (len(idx), folder_name(c), per_class))
    return chosen


LUMA = np.array([0.299, 0.587, 0.114])


def colours(rng, min_contrast):
    """A background and a foreground colour (RGB, 0..255), the foreground at least `min_contrast`
    brighter (luma): any hues, but Fashion-MNIST's light-object-on-dark polarity is kept, so
    the shape is learnable in a few hundred steps."""
    while True:
        bg = rng.integers(0, 256, 3).astype(np.float64)
        fg = rng.integers(0, 256, 3).astype(np.float64)
        if (fg - bg) @ LUMA >= min_contrast:
            return bg, fg


def render(grey28, rng, min_side, max_side, min_contrast):
    """One RGB PIL image from a 28x28 uint8 array."""
    while True:
        w, h = (int(v) for v in rng.integers(min_side, max_side + 1, 2))
        if w != h:
            break
    big = Image.fromarray(grey28, mode="L").resize((w, h), Image.BICUBIC)
    a = np.asarray(big, dtype=np.float64)[:, :, None] / 255.0
    bg, fg = colours(rng, min_contrast)
    rgb = np.clip(np.rint(bg * (1 - a) + fg * a), 0, 255).astype(np.uint8)
    return Image.fromarray(rgb, mode="RGB")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("out_dir")
    ap.add_argument("--per-class-train", type=int, default=300)
    ap.add_argument("--per-class-val", type=int, default=100)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--fmnist", default=DEFAULT_FMNIST, help="directory with the four IDX .gz files")
    ap.add_argument("--min-side", type=int, default=34)
    ap.add_argument("--max-side", type=int, default=56)
    ap.add_argument("--min-contrast", type=float, default=70.0,
                    help="least luma(foreground) - luma(background), in 0..255")
    ap.add_argument("--jpeg-quality", type=int, default=90)
    args = ap.parse_args()

    rng = np.random.default_rng(args.seed)
    splits = [("train", "train", args.per_class_train), ("val", "t10k", args.per_class_val)]
    total = {"png": [0, 0], "jpeg": [0, 0]}  # files, bytes
    for split, prefix, per_class in splits:
        images = read_idx(os.path.join(args.fmnist, prefix + "-images-idx3-ubyte.gz")).numpy()
        labels = read_idx(os.path.join(args.fmnist, prefix + "-labels-idx1-ubyte.gz")).numpy()
        chosen = pick(labels, per_class, rng)
        for c in sorted(chosen):
            for fmt in total:
                os.makedirs(os.path.join(args.out_dir, fmt, split, folder_name(c)), exist_ok=True)
            for i in chosen[c]:
                img = render(images[i], rng, args.min_side, args.max_side, args.min_contrast)
                stem = "%05d" % i  # index in the IDX file
                paths = {"png": os.path.join(args.out_dir, "png", split, folder_name(c), stem + ".png"),
                         "jpeg": os.path.join(args.out_dir, "jpeg", split, folder_name(c), stem + ".jpg")}
                img.save(paths["png"], format="PNG")
                img.save(paths["jpeg"], format="JPEG", quality=args.jpeg_quality)
                for fmt, p in paths.items():
                    total[fmt][0] += 1
                    total[fmt][1] += os.path.getsize(p)
    for fmt, (files, size) in total.items():
        print("%-4s  %5d files  %10d bytes  %s" % (fmt, files, size, os.path.join(args.out_dir, fmt)))
    print("total %5d files  %10d bytes" % (sum(v[0] for v in total.values()), sum(v[1] for v in total.values())))


if __name__ == "__main__":
    main()
