#!/usr/bin/env bash
# DeiT-S (224, random data) training step at batch 32: PyTorch 1.13 CPU (tools/peers/pytorch_train.py;
# fp32 at 1 thread and bf16 autocast at 2 threads, their best settings in every earlier run on this
# machine) against flora-j's jars (flora bench, fp32 and --precision bf16), ROUNDS rounds (default 3)
# alternating, each jar in turn within a round.
# Usage: JARS="name=FLORA_JAR ..." run.sh OUT.jsonl
set -euo pipefail
cd "$(dirname "$0")/../../.."
out=$1
: > "$out"
for r in $(seq "${ROUNDS:-3}"); do
  for cfg in "1 fp32" "2 bf16"; do
    set -- $cfg
    flag=""; [ "$2" = bf16 ] && flag=--bf16
    line=$(/usr/bin/python3 tools/peers/pytorch_train.py --arch deit-small --threads "$1" --batch 32 --warmup 2 \
      --steps 4 $flag)
    echo "{\"round\": $r, \"peer\": \"pytorch-$2\", \"threads\": $1, \"line\": \"$line\"}" | tee -a "$out"
  done
  for named in $JARS; do
    name=${named%%=*} jar=${named#*=}
    for p in ${PRECISIONS:-bf16 fp32}; do
      line=$(java --add-modules jdk.incubator.vector -Xmx8g -XX:MaxDirectMemorySize=16g -Dflora.openblas.core=detect \
        -jar "$jar" bench --model deit-small --device cpu --train-batch 32 --warmup-steps 2 --train-steps 4 \
        --infer-batch 1 --latency-calls 1 --batches 1 --precision "$p" --json 2>/dev/null | tail -1)
      echo "{\"round\": $r, \"peer\": \"flora-$name-$p\", \"bench\": $line}" | tee -a "$out"
    done
  done
done
