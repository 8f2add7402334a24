#!/usr/bin/env bash
# DeiT-S (224, random weights) inference: ONNX Runtime Java (1 and 2 threads) against flora-j fp32
# and bf16, ROUNDS rounds alternating, batch 1 latency and batch 32 throughput.
# Usage: [ARCH=deit-small] [THREADS="1 2"] run.sh MODEL.onnx FLORA_JAR BENCHMARKS_JAR OUT.jsonl
#   (MODEL.onnx exported from the same ARCH)
#   MODEL.onnx: /usr/bin/python3 tools/peers/pytorch_infer.py --arch deit-small --threads 2 --batch 2
#     --calls 3 --batches 1 --onnx MODEL.onnx; BENCHMARKS_JAR: mvn -Ppeers -pl benchmarks -am package
set -euo pipefail
onnx=$1 jar=$2 bench=$3 out=$4
: > "$out"
for r in $(seq "${ROUNDS:-3}"); do
  for t in ${THREADS:-1 2}; do
    line=$(java -cp "$bench" dev.flora.bench.OrtPeer "$onnx" "$t" 3 224 32 100 2>/dev/null | tail -1)
    echo "{\"round\": $r, \"arch\": \"${ARCH:-deit-small}\", \"peer\": \"ort\", \"threads\": $t, \"bench\": $line}" | tee -a "$out"
  done
  for p in fp32 bf16; do
    line=$(java --add-modules jdk.incubator.vector -Xmx4g -XX:MaxDirectMemorySize=16g -Dflora.openblas.core=detect \
      -jar "$jar" bench --model "${ARCH:-deit-small}" --device cpu --train-steps 0 --infer-batch 32 --latency-calls 100 \
      --batches 4 --precision "$p" --json 2>/dev/null | tail -1)
    echo "{\"round\": $r, \"arch\": \"${ARCH:-deit-small}\", \"peer\": \"flora-$p\", \"bench\": $line}" | tee -a "$out"
  done
done
