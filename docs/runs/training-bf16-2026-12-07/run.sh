#!/usr/bin/env bash
# DeiT-S (224, random data) training step at batch 32, fp32 and mixed precision: PyTorch CPU
# (tools/peers/pytorch_train.py, 1 and 2 threads, fp32 and --bf16 autocast) against flora-j
# (flora bench, fp32 and --precision bf16), ROUNDS rounds (default 2) alternating.
# Usage: run.sh FLORA_JAR OUT.jsonl
set -euo pipefail
cd "$(dirname "$0")/../../.."
jar=$1 out=$2
: > "$out"
for r in $(seq "${ROUNDS:-2}"); do
  for bf16 in "" --bf16; do
    for t in 1 2; do
      line=$(/usr/bin/python3 tools/peers/pytorch_train.py --arch deit-small --threads "$t" --batch 32 --warmup 2 \
        --steps 4 $bf16)
      echo "{\"round\": $r, \"peer\": \"pytorch\", \"threads\": $t, \"line\": \"$line\"}" | tee -a "$out"
    done
  done
  for p in fp32 bf16; do
    line=$(java --add-modules jdk.incubator.vector -Xmx8g -XX:MaxDirectMemorySize=16g -Dflora.openblas.core=detect \
      -jar "$jar" bench --model deit-small --device cpu --train-batch 32 --warmup-steps 2 --train-steps 4 \
      --infer-batch 1 --latency-calls 1 --batches 1 --precision "$p" --json 2>/dev/null | tail -1)
    echo "{\"round\": $r, \"peer\": \"flora-$p\", \"bench\": $line}" | tee -a "$out"
  done
done
