#!/usr/bin/env bash
# Every `flora allocate` method at several FLOPs targets of the bundled vit-fmnist, no fine-tune,
# each scored once on the full Fashion-MNIST test set: a markdown table of FLOPs reached, test
# top-1 with its standard error, and the allocation's wall time (calibration included).
# Usage: tools/allocation/compare_fmnist.sh [OUT_DIR]   (TARGETS="0.25 0.35 0.5" by default;
#   FINETUNE_EPOCHS=E adds each method after E epochs of fine-tuning on the training split, as
#   METHOD+ft, the same budget for all; MODEL=FILE allocates another backbone, e.g. a LoRITa one
#   from `flora pretrain --lorita 2`; METHODS="m1 m2" a subset of the methods)
# Needs Debian's dataset-fashion-mnist; allocations are deterministic (the calibration images are
# the first 256 of the training split), so one run per method and target is the whole result.
set -euo pipefail
cd "$(dirname "$0")/../.."
out=${1:-runs/allocation-fmnist}
data=/usr/share/datasets/fashion-mnist
targets=${TARGETS:-0.25 0.35 0.5}
model=${MODEL:-vit-fmnist}
read -r -a methods <<< "${METHODS:-uniform svd-energy activation-aware greedy global-threshold}"
ft=${FINETUNE_EPOCHS:-0}
mkdir -p "$out"
./flora eval --model "$model" --data "$data" --json 2>/dev/null > "$out/dense.json"
for t in $targets; do
  for m in "${methods[@]}"; do
    d="$out/$m-$t"
    [[ -f "$d/allocation.json" ]] || ./flora allocate --method "$m" --model "$model" --target "$t" --out "$d" \
      --data "$data" >&2
    ./flora eval --model "$d/model.safetensors" --data "$data" --json 2>/dev/null > "$d/eval.json"
    if [[ $ft -gt 0 ]]; then
      d="$out/$m+ft-$t"
      [[ -f "$d/allocation.json" ]] || ./flora allocate --method "$m" --model "$model" --target "$t" --out "$d" \
        --data "$data" --finetune-epochs "$ft" >&2
      ./flora eval --model "$d/model.safetensors" --data "$data" --json 2>/dev/null > "$d/eval.json"
    fi
  done
done
[[ $ft -gt 0 ]] && methods+=("${methods[@]/%/+ft}")
python3 - "$out" "$targets" "${methods[@]}" <<'PY'
import json, math, sys
out, targets, methods = sys.argv[1], sys.argv[2].split(), sys.argv[3:]
def se(top1, n):
    p = top1 / 100
    return 100 * math.sqrt(p * (1 - p) / n)
dense = json.load(open(f"{out}/dense.json"))
print(f"dense: {dense['top1']:.2f} % ± {se(dense['top1'], dense['count']):.2f} on {dense['count']} test images\n")
print("| method | " + " | ".join(f"target {t}: FLOPs, test top-1 ± SE, seconds" for t in targets) + " |")
print("|---|" + "---|" * len(targets))
for m in methods:
    cells = []
    for t in targets:
        a = json.load(open(f"{out}/{m}-{t}/allocation.json"))
        e = json.load(open(f"{out}/{m}-{t}/eval.json"))
        cells.append(f"{100 * e['flops'] / dense['flops']:.1f} %, **{e['top1']:.2f}** ± {se(e['top1'], e['count']):.2f}, "
                     f"{a['total_seconds']:.0f} s")
    print(f"| {m} | " + " | ".join(cells) + " |")
PY
