#!/usr/bin/env bash
# RSS of a VitPredictor after every batch size 1..48 (BatchSizeMemory), buffers grown exactly
# (a84955f) against grown at least twofold, in alternation, oneDNN's primitive cache as default.
# Usage: run2.sh EXACT_BENCHMARKS_JAR DOUBLING_BENCHMARKS_JAR OUT_DIR [MODEL]
set -uo pipefail
exact=$1 doubling=$2 out=$3 model=${4:-deit-tiny}
mkdir -p "$out"
for order in max up down random; do
  for jar in exact doubling; do
    cp=$([[ $jar == exact ]] && echo "$exact" || echo "$doubling")
    echo "== buffers grown $jar, order $order"
    java --add-modules jdk.incubator.vector -Xms1g -Xmx1g -XX:+AlwaysPreTouch -XX:MaxDirectMemorySize=16g -cp "$cp" \
      dev.flora.bench.BatchSizeMemory "$model" bf16 48 "$order" 2>/dev/null
  done
done | tee "$out/batch-size-memory-growth-$model.txt"
