#!/usr/bin/env bash
# Inference speed-up at batch 256 of every distinct subnet a search run evaluated within a FLOPs
# window, against the dense model, in one JMH run (run it idle; about 25 s per model). Prints,
# per subnet: architecture, FLOPs as the search counts them, the share of dense's
# multiply-adds the forward pass runs (flora export's "runs" figure), time and speed-up.
#
#   tools/speed/flops_sweep.sh SEARCH_DIR SUPERNET LOW HIGH [OUT_DIR]
#
# e.g. tools/speed/flops_sweep.sh runs/compress-fmnist/search-lrat \
#        runs/compress-fmnist/supernet-lrat/supernet.safetensors 0.4985 0.5001
# LOW and HIGH are fractions of the dense FLOPs of vit-fmnist (DENSE_FLOPS overrides it).
# Needs the built jars (mvn -q -DskipTests install). The dense model is timed first and last.
set -euo pipefail
cd "$(dirname "$0")/../.."
search=$1 supernet=$2 low=$3 high=$4 out=${5:-runs/flops-sweep}
dense=${DENSE_FLOPS:-62924032}
mkdir -p "$out"
awk -F, -v d="$dense" -v lo="$low" -v hi="$high" 'NR > 1 && $2 / d >= lo && $2 / d <= hi {print $1}' \
  "$search/evaluated.csv" | sort -u > "$out/archs.txt"
[[ -s $out/archs.txt ]] || { echo "no subnet of $search/evaluated.csv within [$low, $high]" >&2; exit 2; }
: > "$out/exports.txt"
models=random
i=0
while read -r arch; do
  i=$((i + 1))
  f="$out/m$i.safetensors"
  # "exported ARCH: 31.38M FLOPs (49.9 % of dense; runs 44.0 % of dense's multiply-adds), ..."
  line=$(./flora export --device cpu --supernet "$supernet" --arch "$arch" --out "$f" 2>/dev/null | tail -1)
  flops=$(sed -E 's/.*\(([0-9.]+) % of dense.*/\1/' <<<"$line")
  runs=$(sed -E 's/.*runs ([0-9.]+) % of.*/\1/' <<<"$line")
  echo "m$i $arch $flops $runs" >> "$out/exports.txt"
  models="$models,$f"
done < "$out/archs.txt"
java -jar benchmarks/target/benchmarks.jar ViTBenchmark.infer256 -wi 3 -w 2 -i 6 -r 2 -f 1 \
  -p model="$models,random" -jvmArgsAppend -Dflora.openblas.core=detect > "$out/jmh.txt" 2>&1
awk '
  FNR == NR { arch[$1] = $2; flops[$1] = $3; runs[$1] = $4; next }
  /^ViTBenchmark\.infer256/ {
    n = split($2, p, "/"); m = p[n]; sub(/\.safetensors$/, "", m)
    if (m == "random") { dense_sum += $5; dense_n++ } else { order[++k] = m; ms[m] = $5 }
  }
  END {
    d = dense_sum / dense_n
    printf "dense: %.1f ms (mean of %d runs)\n", d, dense_n
    printf "%-5s %-36s %7s %7s %9s %8s\n", "model", "architecture", "FLOPs", "runs", "ms", "speed-up"
    for (i = 1; i <= k; i++) {
      m = order[i]
      printf "%-5s %-36s %6.1f%% %6.1f%% %9.1f %7.2fx\n", m, arch[m], flops[m], runs[m], ms[m], d / ms[m]
    }
  }' "$out/exports.txt" "$out/jmh.txt" | tee "$out/table.txt"
