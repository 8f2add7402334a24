#!/usr/bin/env bash
# RSS of a VitPredictor after every batch size 1..48 (BatchSizeMemory), before and after a84955f
# (product primitives shared by shape), with oneDNN's primitive cache on (default) and off.
# BEFORE_FLORA_JAR: flora.jar at 211ed82 (3aeca39's code), put ahead of BENCHMARKS_JAR (a84955f, with BatchSizeMemory).
# Usage: run.sh BEFORE_FLORA_JAR BENCHMARKS_JAR OUT_DIR
set -uo pipefail
before=$1 bench=$2 out=$3
mkdir -p "$out"
for cache in default 0; do
  for jar in before after; do
    cp=$([[ $jar == before ]] && echo "$before:$bench" || echo "$bench")
    for order in max up down random; do
      if [[ $cache == default ]]; then unset ONEDNN_PRIMITIVE_CACHE_CAPACITY; else export ONEDNN_PRIMITIVE_CACHE_CAPACITY=$cache; fi
      echo "== jar $jar, oneDNN primitive cache ${cache}, order $order"
      java --add-modules jdk.incubator.vector -Xms1g -Xmx1g -XX:+AlwaysPreTouch -XX:MaxDirectMemorySize=16g -cp "$cp" \
        dev.flora.bench.BatchSizeMemory deit-tiny bf16 48 "$order" 2>/dev/null
    done
  done
done | tee "$out/batch-size-memory.txt"
