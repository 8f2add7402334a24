#!/usr/bin/env bash
# DeiT-S (224, random weights) fp32 inference: the linear layers on OpenBLAS against oneDNN's fp32
# matmul (-Dflora.cpu.fp32-inference), dense and its svd-energy subnet at target 0.5, next to ONNX
# Runtime Java (2 threads), batch 1 latency and batch 32 throughput, ROUNDS rounds alternating.
# Usage: run.sh FLORA_JAR BENCHMARKS_JAR MODEL.onnx SUBNET_MODEL OUT.jsonl
#   MODEL.onnx and BENCHMARKS_JAR: as in ../deit-ort-intel-2026-12-07/run.sh; SUBNET_MODEL:
#   ./flora allocate --method svd-energy --model deit-small --target 0.5 --out DIR
set -euo pipefail
jar=$1 bench=$2 onnx=$3 subnet=$4 out=$5
: > "$out"
for r in $(seq "${ROUNDS:-3}"); do
  line=$(java -cp "$bench" dev.flora.bench.OrtPeer "$onnx" 2 3 224 32 100 2>/dev/null | tail -1)
  echo "{\"round\": $r, \"peer\": \"ort\", \"threads\": 2, \"bench\": $line}" | tee -a "$out"
  for impl in openblas onednn; do
    for model in deit-small "$subnet"; do
      line=$(java --add-modules jdk.incubator.vector -Xmx4g -XX:MaxDirectMemorySize=16g -Dflora.openblas.core=detect \
        -Dflora.cpu.fp32-inference=$impl -jar "$jar" bench --model "$model" --device cpu --train-steps 0 \
        --infer-batch 32 --latency-calls 100 --batches 4 --json 2>/dev/null | tail -1)
      name=$([[ $model == deit-small ]] && echo dense || echo subnet)
      echo "{\"round\": $r, \"peer\": \"flora-$impl\", \"model\": \"$name\", \"bench\": $line}" | tee -a "$out"
    done
  done
done
