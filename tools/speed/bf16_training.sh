#!/usr/bin/env bash
# Mixed-precision (bf16) training against fp32 on the CPU, side by side in one run (run it idle):
#   1. `flora bench` training img/s of vit-fmnist at batch 128, fp32 and bf16 interleaved for
#      $ROUNDS rounds (default 2), with OpenBLAS's own kernel choice (-Dflora.openblas.core=detect)
#      and with this environment's OPENBLAS_CORETYPE pin where it sets one;
#   2. the pretrain loop itself (data loading, augmentation, the step, no validation): one epoch
#      of `flora pretrain` on the first $PRETRAIN_IMAGES training images (default 12800), fp32
#      and bf16 interleaved, the img/s its metrics.csv records;
#   3. DeiT-S (random weights) training img/s at batch 32, fp32 and bf16.
# Raw output: one JSON or CSV line per run under $RESULTS (default target/bf16-training).
# Usage: tools/speed/bf16_training.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
out=${RESULTS:-target/bf16-training}
rounds=${ROUNDS:-2}
images=${PRETRAIN_IMAGES:-12800}
rm -rf "$out"; mkdir -p "$out"
echo "machine: $(nproc) cores, $(lscpu | sed -n 's/^Model name: *//p'), $(date -u +%Y-%m-%dT%H:%MZ), load $(cut -d' ' -f1-3 /proc/loadavg)" \
  | tee "$out/machine.txt" >&2
./flora --version >/dev/null # builds once, before anything is timed

base="-Xmx4g -XX:MaxDirectMemorySize=16g"
kernels=(detect)
[[ -n "${OPENBLAS_CORETYPE:-}" ]] && kernels+=(pinned)
opts() { [[ $1 == detect ]] && echo "$base -Dflora.openblas.core=detect" || echo "$base"; }

for round in $(seq "$rounds"); do
  for k in "${kernels[@]}"; do
    for p in fp32 bf16; do
      FLORA_JAVA_OPTS="$(opts "$k")" ./flora bench --model vit-fmnist --device cpu --precision "$p" \
        --train-batch 128 --train-steps 40 --latency-calls 10 --batches 1 --json 2>/dev/null \
        | sed "s/^{/{\"round\":$round,\"openblas\":\"$k\",/" | tee -a "$out/vit-fmnist-bench.jsonl" >&2
    done
  done
done

for round in $(seq "$rounds"); do
  for p in fp32 bf16; do
    dir="$out/pretrain-$p-$round"
    ./flora pretrain --device cpu --precision "$p" --epochs 1 --warmup-epochs 0 --train-limit "$images" \
      --out "$dir" >/dev/null 2>&1
    echo "$p,$round,$(sed -n 2p "$dir/metrics.csv")" | tee -a "$out/pretrain.csv" >&2
    rm -f "$dir"/*.safetensors
  done
done

for p in fp32 bf16; do
  FLORA_JAVA_OPTS="$(opts detect)" ./flora bench --model deit-small --device cpu --precision "$p" \
    --train-batch 32 --warmup-steps 4 --train-steps 6 --latency-calls 3 --infer-batch 32 --batches 1 --json \
    2>/dev/null | tee -a "$out/deit-small-bench.jsonl" >&2
done
echo "done: $(date -u +%H:%MZ), load $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$out/machine.txt" >&2
