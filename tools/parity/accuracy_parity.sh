#!/usr/bin/env bash
# Accuracy parity on real image files: a 3-channel ViT trained by PyTorch on a PNG image folder
# and saved with metadata {"format": "pt"} only, scored by PyTorch + torchvision's ImageFolder
# (tools/parity/eval_torch.py) and by `flora eval --num-heads 4 --json`, on the PNG and the
# JPEG copy of the same val/ images. Passes when flora-j's top-1 is within 0.1 points and its
# mean loss within 0.2 % (relative) of PyTorch's on PNG, within 0.5 points and 1 % on JPEG,
# with the same image count. See docs/parity/accuracy.md.
#
# Usage: tools/parity/accuracy_parity.sh [WORK_DIR]
#   WORK_DIR  where the image folders (png/, jpeg/) and model.safetensors go; kept afterwards.
#             Steps whose outputs are already there are skipped (so a directory made by an
#             earlier run, e.g. /tmp/parity-run, is re-scored without re-training).
#             Default: a fresh temporary directory, removed at the end (KEEP=1 keeps it).
# Environment: PY (default /usr/bin/python3, Debian's python3-torch + python3-torchvision),
#              THREADS for PyTorch (default 1; at most 2 on the shared machine), FLORA_JAVA_OPTS as for ./flora.
# Exit status: 0 within tolerance, 1 outside, 2 when a step fails.
set -euo pipefail
cd "$(dirname "$0")/../.."
py=${PY:-/usr/bin/python3}
threads=${THREADS:-1}
heads=4
if [[ $# -ge 1 ]]; then
  work=$1
  mkdir -p "$work"
else
  work=$(mktemp -d)
  [[ ${KEEP:-0} == 1 ]] || trap 'rm -rf "$work"' EXIT
fi
model=$work/model.safetensors
echo "work dir: $work" >&2
t0=$SECONDS

if [[ -d $work/png/val && -d $work/jpeg/val ]]; then
  echo "[1/4] image folders: already in $work, kept" >&2
else
  echo "[1/4] writing the image folders" >&2
  "$py" tools/parity/make_image_folders.py "$work" >&2 || exit 2
fi
if [[ -f $model ]]; then
  echo "[2/4] model: $model already there, kept" >&2
else
  echo "[2/4] training the ViT with PyTorch" >&2
  "$py" tools/parity/train_torch_vit.py --data "$work/png" --out "$model.part" --threads "$threads" >&2 || exit 2
  mv "$model.part" "$model"
fi

echo "[3/4] PyTorch + torchvision ImageFolder" >&2
torch_png=$("$py" tools/parity/eval_torch.py --model "$model" --num-heads $heads --data "$work/png" --json \
  --threads "$threads" | tail -n 1) || exit 2
torch_jpeg=$("$py" tools/parity/eval_torch.py --model "$model" --num-heads $heads --data "$work/jpeg" --json \
  --threads "$threads" | tail -n 1) || exit 2

echo "[4/4] flora eval" >&2
flora_png=$(./flora eval --model "$model" --num-heads $heads --data "$work/png" --json | tail -n 1) || exit 2
flora_jpeg=$(./flora eval --model "$model" --num-heads $heads --data "$work/jpeg" --json | tail -n 1) || exit 2
echo "took $((SECONDS - t0)) s" >&2

"$py" - "$torch_png" "$flora_png" "$torch_jpeg" "$flora_jpeg" <<'EOF'
import json
import sys

torch_png, flora_png, torch_jpeg, flora_jpeg = (json.loads(a) for a in sys.argv[1:5])
ok = True
print("%-5s %-8s %9s %10s %6s" % ("files", "side", "top-1 %", "loss", "count"))
for name, t, f, top1_tol, loss_tol in (("png", torch_png, flora_png, 0.1, 0.002),
                                       ("jpeg", torch_jpeg, flora_jpeg, 0.5, 0.01)):
    for side, r in (("pytorch", t), ("flora-j", f)):
        print("%-5s %-8s %9.2f %10.5f %6d" % (name, side, r["top1"], r["loss"], r["count"]))
    d_top1 = f["top1"] - t["top1"]
    d_loss = (f["loss"] - t["loss"]) / t["loss"]
    good = abs(d_top1) <= top1_tol + 1e-9 and abs(d_loss) <= loss_tol and f["count"] == t["count"]
    ok &= good
    print("%-5s %-8s %+9.2f %+9.3f%% %6s   tolerance %.1f points, %.1f %%: %s" % (
        name, "diff", d_top1, 100 * d_loss, "same" if f["count"] == t["count"] else "DIFFER",
        top1_tol, 100 * loss_tol, "ok" if good else "OUTSIDE"))
print("accuracy parity: %s" % ("PASS" if ok else "FAIL"))
sys.exit(0 if ok else 1)
EOF
