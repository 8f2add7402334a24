#!/usr/bin/env bash
# The DeiT peer harness: DeiT presets (224x224, random weights) in PyTorch CPU (Debian's 1.13,
# OpenBLAS), libtorch 2.7.1 through DJL (the official CPU build), ONNX Runtime for Java and
# flora-j, measured one after another on one machine (run it idle), printed as markdown tables.
#   per model (default deit-tiny deit-small): training img/s at batch $TRAIN_BATCH (default 32),
#   inference latency at batch 1 (median) and throughput at batch $INFER_BATCH (default 32);
#   each peer at 1 and all threads, its best counts; PyTorch also with OpenBLAS's pin removed
#   and under bf16 autocast; flora-j in fp32 and bf16.
#   then resident memory (peak RSS, /usr/bin/time) of batch-1 inference of $RSS_MODEL (default
#   deit-base): flora-j fp32 and bf16, ONNX Runtime, PyTorch.
# Training is the same work everywhere: forward, cross-entropy (label smoothing 0.1, except DJL's
# loss, which has none), backward, AdamW, on random images; no augmentation, no clipping.
# ONNX Runtime has no int8 peer here: its quantizer is Python-only (onnxruntime.quantization)
# and neither PyPI nor a Debian package of it is reachable from this machine.
# Usage: tools/peers/compare_deit.sh [MODEL...]
# Needs Debian's python3-torch, libopenblas0-pthread and time, and Maven (downloads ONNX Runtime
# and DJL's libtorch, 110 MB).
set -euo pipefail
cd "$(dirname "$0")/../.."
models=("$@")
[[ ${#models[@]} -gt 0 ]] || models=(deit-tiny deit-small)
train_batch=${TRAIN_BATCH:-32}
infer_batch=${INFER_BATCH:-32}
rss_model=${RSS_MODEL:-deit-base}
# raw JSON lines stay in $RESULTS (default target/deit-peers) after the run; the exported models go
tmp=${RESULTS:-target/deit-peers}
rm -rf "$tmp"; mkdir -p "$tmp"
tmp=$(realpath "$tmp") # Maven resolves -D paths against the module, not here
trap 'rm -f "$tmp"/*.onnx "$tmp"/*/model.*' EXIT
py=/usr/bin/python3
threads=$(nproc)
flora_opts="-Xmx4g -XX:MaxDirectMemorySize=16g -Dflora.openblas.core=detect"

echo "machine: $(nproc) cores, $(lscpu | sed -n 's/^Model name: *//p'), $(date -u +%Y-%m-%dT%H:%MZ), load $(cut -d' ' -f1-3 /proc/loadavg)" >&2
. tools/peers/probe.sh # probe WHEN: are both cores working?

(mvn -q -B -Ppeers,djl -pl benchmarks -am -DskipTests package) >&2
mvn -q -B -Pdjl -pl benchmarks dependency:build-classpath -Dmdep.includeScope=provided \
  -Dmdep.outputFile="$tmp/djl.cp" >&2
djl() { # THREADS MODEL.pt ...: DJL's PyTorch engine with THREADS intra-op threads
  java -Dai.djl.offline=true -Dai.djl.pytorch.num_threads="$1" -Dai.djl.pytorch.num_interop_threads=1 \
    -cp "benchmarks/target/classes:$(cat "$tmp/djl.cp")" dev.flora.bench.DjlPeer "${@:2}"
}
flora() { FLORA_JAVA_OPTS="$flora_opts" ./flora bench "$@" --json 2>/dev/null; }
pins=(given unpinned)
pinned() { if [[ $1 == unpinned ]]; then env -u OPENBLAS_CORETYPE "${@:2}"; else "${@:2}"; fi; }

for m in "${models[@]}"; do
  d="$tmp/$m"; mkdir -p "$d"
  echo "== $m" >&2
  probe "$m, start"
  for pin in "${pins[@]}"; do
    for t in 1 "$threads"; do
      export_args=(); [[ $pin == given && $t == 1 ]] && export_args=(--onnx "$d/model.onnx" --torchscript "$d/model.pt")
      pinned $pin $py tools/peers/pytorch_infer.py --arch "$m" --threads "$t" --batch "$infer_batch" \
        --calls 100 --batches 4 "${export_args[@]}" | tee -a "$d/pt-infer" >&2
      line=$(pinned $pin $py tools/peers/pytorch_train.py --arch "$m" --threads "$t" --batch "$train_batch" \
        --warmup 2 --steps 4)
      echo "PyTorch, OpenBLAS $pin: $line" >&2
      sed -E 's/.*: ([0-9.]+) img\/s/{"train_img_per_s": \1}/' <<<"$line" >> "$d/pt-train"
    done
    pinned $pin $py tools/peers/pytorch_infer.py --arch "$m" --threads "$threads" --batch "$infer_batch" \
      --calls 100 --batches 4 --bf16 | tee -a "$d/pt-bf16" >&2
  done
  for t in 1 "$threads"; do
    java -cp benchmarks/target/benchmarks.jar dev.flora.bench.OrtPeer "$d/model.onnx" "$t" 3 224 "$infer_batch" 100 \
      | tee -a "$d/ort" >&2
    djl "$t" "$d/model.pt" 3 224 "$train_batch" 100 4 2>>"$d/djl.log" | tee -a "$d/djl" >&2
  done
  flora --model "$m" --device cpu --train-batch "$train_batch" --warmup-steps 2 --train-steps 4 \
    --infer-batch "$infer_batch" --latency-calls 100 --batches 4 --precision fp32 | tee -a "$d/flora" >&2
  flora --model "$m" --device cpu --train-steps 0 --infer-batch "$infer_batch" --latency-calls 100 --batches 4 \
    --precision bf16 | tee -a "$d/flora-bf16" >&2
  probe "$m, end"
done

rss() { # peak resident set size in MiB of the command
  /usr/bin/time -f '%M' -o "$tmp/rss" "$@" >/dev/null 2>&1
  echo $(( $(cat "$tmp/rss") / 1024 ))
}
echo "== resident memory, $rss_model, batch 1" >&2
$py tools/peers/pytorch_infer.py --arch "$rss_model" --threads 1 --batch 1 --calls 3 --batches 1 \
  --onnx "$tmp/rss.onnx" >/dev/null
{
  echo "flora-j fp32 $(rss env FLORA_JAVA_OPTS="$flora_opts" ./flora bench --model "$rss_model" --device cpu \
    --train-steps 0 --infer-batch 1 --latency-calls 20 --batches 1 --precision fp32)"
  echo "flora-j bf16 $(rss env FLORA_JAVA_OPTS="$flora_opts" ./flora bench --model "$rss_model" --device cpu \
    --train-steps 0 --infer-batch 1 --latency-calls 20 --batches 1 --precision bf16)"
  echo "onnxruntime $(rss java -cp benchmarks/target/benchmarks.jar dev.flora.bench.OrtPeer "$tmp/rss.onnx" \
    "$threads" 3 224 1 20)"
  echo "pytorch $(rss $py tools/peers/pytorch_infer.py --arch "$rss_model" --threads "$threads" --batch 1 \
    --calls 20 --batches 1)"
} > "$tmp/rss-table"
cat "$tmp/rss-table" >&2

$py tools/peers/deit_table.py "$tmp" "$train_batch" "$infer_batch" "$rss_model" "${models[@]}" | tee "$tmp/tables.md"
