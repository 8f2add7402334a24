#!/usr/bin/env bash
# Latency-bounded against FLOPs-bounded search on one supernet (issue 25's Fashion-MNIST
# comparison): searches under 0.6x the dense model's measured latency (the table's dense.ms) and
# under several FLOPs bounds, exports each result and uniform-rank subnets at several FLOPs, and
# measures every model's test top-1 and, all in one timing loop, its latency at the table's batch
# with `flora eval --time-with`.
#   tools/latency/compare_fmnist.sh SUPERNET TABLE OUT [FACTOR] [DATA]   (FACTOR of dense.ms, default 0.6)
# Selection uses validation images only; test top-1 is reported, never used to choose.
set -euo pipefail
cd "$(dirname "$0")/../.."
supernet=$1 table=$2 out=$3 factor=${4:-0.6} data=${5:-/usr/share/datasets/fashion-mnist}
mkdir -p "$out"
search=(--population 16 --top-k 8 --mutations 8 --crossovers 8 --generations 3 --val-limit 1500 --seed 1)
budget=$(python3 -c "import json,sys; print(round(float(sys.argv[2]) * json.load(open(sys.argv[1]))['dense']['ms'], 3))" \
    "$table" "$factor")
echo "budget: $budget ms ($factor x dense) from $table"
# a rerun keeps the models already exported and measures again
if [ ! -e "$out/latency.safetensors" ]; then
  ./flora search --device cpu --supernet "$supernet" --data "$data" --out "$out/search-latency" \
      --latency-table "$table" --latency-ms "$budget" --min-flops 0 --max-flops 1 "${search[@]}" >"$out/search-latency.log" 2>&1
  ./flora export --device cpu --supernet "$supernet" --search "$out/search-latency" --latency-table "$table" \
      --out "$out/latency.safetensors" >/dev/null 2>&1
fi
for f in 0.35 0.45 0.55; do
  [ -e "$out/flops-$f.safetensors" ] && continue
  ./flora search --device cpu --supernet "$supernet" --data "$data" --out "$out/search-flops-$f" \
      --min-flops 0 --max-flops "$f" "${search[@]}" >"$out/search-flops-$f.log" 2>&1
  ./flora export --device cpu --supernet "$supernet" --search "$out/search-flops-$f" \
      --out "$out/flops-$f.safetensors" >/dev/null 2>&1
done
for f in 0.3 0.4 0.5 0.6; do
  [ -e "$out/uniform-$f.safetensors" ] && continue
  ./flora export --device cpu --supernet "$supernet" --uniform-at-flops "$f" --out "$out/uniform-$f.safetensors" >/dev/null 2>&1
done
# every model's latency in one interleaved loop (the host's speed changes from second to second,
# so latencies measured in separate processes do not compare), then each one's test top-1
models=("$out"/latency.safetensors "$out"/flops-*.safetensors "$out"/uniform-*.safetensors)
with=()
for m in "${models[@]:1}"; do with+=(--time-with "$m"); done
./flora eval --device cpu --model "${models[0]}" --data "$data" --latency-table "$table" "${with[@]}" --json \
    2>/dev/null | tail -n 1 >"$out/latency.json"
echo "model,test_top1,measured_ms,flops"
i=0
for m in "${models[@]}"; do
  j=$(./flora eval --device cpu --model "$m" --data "$data" --json 2>/dev/null | tail -n 1)
  python3 -c "
import json, sys
j = json.loads(sys.argv[2]); t = json.load(open(sys.argv[3])); i = int(sys.argv[4])
ms = t['latency_ms'] if i == 0 else t['latency_with'][i - 1]['latency_ms']
print('%s,%.2f,%.3f,%d' % (sys.argv[1], j['top1'], ms, j['flops']))" "$(basename "$m")" "$j" "$out/latency.json" "$i"
  i=$((i + 1))
done | tee "$out/compare.csv"
