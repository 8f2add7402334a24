#!/usr/bin/env python3
"""Writes the Fashion-MNIST subset bundled with flora-j (development tool, not product).

Takes a class-balanced, seeded sample of the full data set installed by the Debian package
dataset-fashion-mnist: 600 training and 200 test images per class (6000 + 2000), and writes
them as gzip IDX files under src/main/resources/dev/flora/data/fmnist-subset/.

Usage: /usr/bin/python3 tools/make_bundled_subset.py [SOURCE_DIR]
"""
import gzip
import os
import struct
import sys

import numpy as np

SOURCE = sys.argv[1] if len(sys.argv) > 1 else "/usr/share/datasets/fashion-mnist"
TARGET = os.path.join(os.path.dirname(__file__), "..", "src", "main", "resources", "dev", "flora", "data",
                      "fmnist-subset")
PER_CLASS = {"train": 600, "t10k": 200}
SEED = 20231107


def read_idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    magic, = struct.unpack(">I", data[:4])
    rank = magic & 0xff
    dims = struct.unpack(">" + "I" * rank, data[4:4 + 4 * rank])
    return np.frombuffer(data[4 + 4 * rank:], dtype=np.uint8).reshape(dims)


def write_idx(path, array):
    header = struct.pack(">I", 0x0800 | array.ndim) + struct.pack(">" + "I" * array.ndim, *array.shape)
    # mtime=0 keeps the file byte-identical across runs
    with open(path, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as f:
        f.write(header + array.astype(np.uint8).tobytes())


def main():
    rng = np.random.default_rng(SEED)
    os.makedirs(TARGET, exist_ok=True)
    for prefix, per_class in PER_CLASS.items():
        images = read_idx(os.path.join(SOURCE, prefix + "-images-idx3-ubyte.gz"))
        labels = read_idx(os.path.join(SOURCE, prefix + "-labels-idx1-ubyte.gz"))
        picked = np.concatenate([rng.choice(np.flatnonzero(labels == c), per_class, replace=False)
                                 for c in range(10)])
        picked.sort()
        write_idx(os.path.join(TARGET, prefix + "-images-idx3-ubyte.gz"), images[picked])
        write_idx(os.path.join(TARGET, prefix + "-labels-idx1-ubyte.gz"), labels[picked])
        print(prefix, len(picked), "images")


if __name__ == "__main__":
    main()
