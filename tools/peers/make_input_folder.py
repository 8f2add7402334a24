#!/usr/bin/env python3
"""Writes an ImageFolder of seeded natural-ish RGB JPEGs (default 400 of 500x375, quality 90,
in 4 class folders) for the input-pipeline comparison. Not committed: regenerate with
  /usr/bin/python3 tools/peers/make_input_folder.py /tmp/input-bench [COUNT]
"""
import os
import sys

from PIL import Image

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "fixtures"))
from make_preprocess_fixtures import natural  # noqa: E402


def main():
    root = sys.argv[1]
    count = int(sys.argv[2]) if len(sys.argv) > 2 else 400
    for i in range(count):
        d = os.path.join(root, f"class{i % 4}")
        os.makedirs(d, exist_ok=True)
        w, h = (500, 375) if i % 3 else (375, 500)  # a third portrait, as photo datasets have
        Image.fromarray(natural(w, h, 1000 + i)).save(os.path.join(d, f"img{i:04d}.jpg"), quality=90)


if __name__ == "__main__":
    main()
