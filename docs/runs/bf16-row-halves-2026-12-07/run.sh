#!/usr/bin/env bash
# bf16 before/after the row halves (e151d20), DeiT-S dense and its svd-energy subnet at target 0.5,
# batch 1 and 32, with the fp32 rows of the same jar for the ratios; ROUNDS rounds alternating.
# Usage: run.sh OLD_JAR NEW_JAR SUBNET_MODEL OUT.jsonl  (SUBNET_MODEL from
#   ./flora allocate --method svd-energy --model deit-small --target 0.5 --out DIR)
set -euo pipefail
old=$1 new=$2 subnet=$3 out=$4
: > "$out"
for r in $(seq "${ROUNDS:-3}"); do
  for cfg in "old bf16" "new bf16" "new fp32"; do
    set -- $cfg
    jar=$([[ $1 == old ]] && echo "$old" || echo "$new")
    for model in deit-small "$subnet"; do
      line=$(java --add-modules jdk.incubator.vector -Xmx4g -XX:MaxDirectMemorySize=16g -Dflora.openblas.core=detect \
        -jar "$jar" bench --model "$model" --device cpu --train-steps 0 --infer-batch 32 --latency-calls 60 \
        --batches 4 --precision "$2" --json 2>/dev/null | tail -1)
      name=$([[ $model == deit-small ]] && echo dense || echo subnet)
      echo "{\"round\": $r, \"jar\": \"$1\", \"model\": \"$name\", \"precision\": \"$2\", \"bench\": $line}" | tee -a "$out"
    done
  done
done
