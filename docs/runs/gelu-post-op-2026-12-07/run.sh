#!/usr/bin/env bash
# DeiT-S (224, random weights) inference before and after fc1's GELU became a oneDNN post-op, fp32
# and bf16, dense and its svd-energy subnet at target 0.5, batch 1 latency and batch 32
# throughput, ROUNDS rounds alternating the two jars.
# Usage: run.sh BEFORE_JAR AFTER_JAR SUBNET_MODEL OUT.jsonl  (SUBNET_MODEL as in ../fp32-onednn-2026-12-07/run.sh)
set -euo pipefail
before=$1 after=$2 subnet=$3 out=$4
: > "$out"
for r in $(seq "${ROUNDS:-3}"); do
  for p in fp32 bf16; do
    for jar in before after; do
      path=$([[ $jar == before ]] && echo "$before" || echo "$after")
      for model in deit-small "$subnet"; do
        line=$(java --add-modules jdk.incubator.vector -Xmx4g -XX:MaxDirectMemorySize=16g -Dflora.openblas.core=detect \
          -jar "$path" bench --model "$model" --device cpu --train-steps 0 --infer-batch 32 --latency-calls 60 \
          --batches 4 --precision "$p" --json 2>/dev/null | tail -1)
        name=$([[ $model == deit-small ]] && echo dense || echo subnet)
        echo "{\"round\": $r, \"jar\": \"$jar\", \"precision\": \"$p\", \"model\": \"$name\", \"bench\": $line}" | tee -a "$out"
      done
    done
  done
done
