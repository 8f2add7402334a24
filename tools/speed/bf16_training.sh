#!/usr/bin/env bash
# Mixed-precision (bf16) training against fp32 on the CPU, side by side in one run (run it idle):
#   1. JMH ViTBenchmark.trainStep128 (vit-fmnist, batch 128: forward, loss, backward, AdamW),
#      fp32 and bf16, with OpenBLAS's own kernel choice (-Dflora.openblas.core=detect) and, where
#      this environment pins OPENBLAS_CORETYPE, with that pin (the default of every command here);
#   2. the pretrain loop itself (data loading, augmentation, the step; its metrics.csv img/s
#      leaves validation out): one epoch of `flora pretrain` on the first $PRETRAIN_IMAGES
#      training images (default 25600), fp32 and bf16 interleaved, $ROUNDS rounds (default 2)
#      under the environment's default kernels and one round with detect;
#   3. DeiT-S (random weights) training img/s at batch 32, fp32 and bf16 (`flora bench`).
# Raw output under $RESULTS (default target/bf16-training).
# Usage: tools/speed/bf16_training.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
out=${RESULTS:-target/bf16-training}
rounds=${ROUNDS:-2}
images=${PRETRAIN_IMAGES:-25600}
rm -rf "$out"; mkdir -p "$out"
echo "machine: $(nproc) cores, $(lscpu | sed -n 's/^Model name: *//p'), $(date -u +%Y-%m-%dT%H:%MZ), load $(cut -d' ' -f1-3 /proc/loadavg)" \
  | tee "$out/machine.txt" >&2
./flora --version >/dev/null # builds once, before anything is timed
(mvn -q -B -pl benchmarks -am -DskipTests package) >&2

base="-Xmx4g -XX:MaxDirectMemorySize=16g"
detect="$base -Dflora.openblas.core=detect"

java -jar benchmarks/target/benchmarks.jar 'ViTBenchmark.trainStep128' -p precision=fp32,bf16 \
  -jvmArgsAppend -Dflora.openblas.core=detect 2>&1 | grep -E '^(Benchmark|ViTBenchmark)' \
  | sed 's/^/detect  /' | tee "$out/jmh-train-step.txt" >&2
if [[ -n "${OPENBLAS_CORETYPE:-}" ]]; then
  java -jar benchmarks/target/benchmarks.jar 'ViTBenchmark.trainStep128' -p precision=fp32,bf16 2>&1 \
    | grep -E '^ViTBenchmark' | sed "s/^/$OPENBLAS_CORETYPE /" | tee -a "$out/jmh-train-step.txt" >&2
fi

pretrain() { # KERNELS ROUND PRECISION
  local dir="$out/pretrain-$1-$3-$2" opts=$base
  [[ $1 == detect ]] && opts=$detect
  FLORA_JAVA_OPTS="$opts" ./flora pretrain --device cpu --precision "$3" --epochs 1 --warmup-epochs 0 \
    --train-limit "$images" --out "$dir" >/dev/null 2>&1
  echo "$1,$3,$2,$(sed -n 2p "$dir/metrics.csv")" | tee -a "$out/pretrain.csv" >&2
  rm -f "$dir"/*.safetensors
}
echo "kernels,precision,round,epoch,step,lr,train_loss,train_top1,img_per_s,epoch_seconds,val_loss,val_top1" \
  > "$out/pretrain.csv"
for round in $(seq "$rounds"); do
  for p in fp32 bf16; do pretrain default "$round" "$p"; done
done
for p in fp32 bf16; do pretrain detect 1 "$p"; done

for p in fp32 bf16; do
  FLORA_JAVA_OPTS="$detect" ./flora bench --model deit-small --device cpu --precision "$p" \
    --train-batch 32 --warmup-steps 4 --train-steps 6 --latency-calls 3 --infer-batch 32 --batches 1 --json \
    2>/dev/null | tee -a "$out/deit-small-bench.jsonl" >&2
done
echo "done: $(date -u +%H:%MZ), load $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$out/machine.txt" >&2
