"""Sets __metadata__ keys of safetensors files in place, tensors untouched.

    python3 tools/set_safetensors_metadata.py FILE... -- key=value...

Used to record the preprocessing and class names of the bundled models, which were trained
before flora-j wrote them into every model file."""
import json
import struct
import sys


def main(argv):
    split = argv.index("--")
    files, pairs = argv[:split], argv[split + 1:]
    updates = dict(p.split("=", 1) for p in pairs)
    for path in files:
        with open(path, "rb") as f:
            (n,) = struct.unpack("<Q", f.read(8))
            header = json.loads(f.read(n))
            data = f.read()
        header.setdefault("__metadata__", {}).update(updates)
        raw = json.dumps(header, separators=(",", ":")).encode()
        raw += b" " * (-len(raw) % 8)
        with open(path, "wb") as f:
            f.write(struct.pack("<Q", len(raw)) + raw + data)
        print(path, "->", {k: header["__metadata__"][k] for k in updates})


if __name__ == "__main__":
    main(sys.argv[1:])
