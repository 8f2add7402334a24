#!/usr/bin/env bash
# The GPU benchmarks in one command, on a machine with an NVIDIA GPU (no Maven needed there):
#   1. the fused low-rank linear vs two cuBLAS GEMMs vs the dense GEMM, DeiT-S and DeiT-B module
#      shapes, ranks 0.125..0.75 of d, tokens 197, 197*8, 197*64, fp32 and tf32 (CSV + table);
#   2. a DeiT-S training step, flora-j vs PyTorch eager, at fp32 (TF32 off on both sides);
#   3. SVD of DeiT-B's 36 low-rank targets, cuSOLVER (flora-j) vs torch.linalg.svd.
# Usage: tools/gpu/bench.sh OUT_DIR
#   JAVA      the java to run (default: java; tools/gpu/pack.sh bundles a jlink'd one)
#   FLORA_JAR the benchmarks jar (default: benchmarks/target/benchmarks.jar)
#   PYTHON    a python with torch and timm for the peers (default: python3; unset PEERS=0 skips)
set -euo pipefail
out=${1:?usage: tools/gpu/bench.sh OUT_DIR}
here=$(cd "$(dirname "$0")" && pwd)
java=${JAVA:-java}
jar=${FLORA_JAR:-$here/../../benchmarks/target/benchmarks.jar}
py=${PYTHON:-python3}
mkdir -p "$out"
bench() { "$java" --add-modules jdk.incubator.vector -cp "$jar" dev.flora.bench.gpu.GpuBench "$@"; }
{
  echo "date: $(date -u +%Y-%m-%dT%H:%MZ)"
  nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader || true
} | tee "$out/machine.txt"

for p in fp32 tf32; do
  bench lowrank --precision "$p" --csv "$out/lowrank-$p.csv" | tee "$out/lowrank-$p.md"
done
bench train --model deit-s --batch 64 | tee "$out/train.jsonl"
bench svd --model deit-b | tee "$out/svd.jsonl"
if [ "${PEERS:-1}" != 0 ]; then
  "$py" "$here/pytorch_gpu.py" train --model deit-s --batch 64 | tee -a "$out/train.jsonl"
  "$py" "$here/pytorch_gpu.py" svd --model deit-b | tee -a "$out/svd.jsonl"
fi
