#!/usr/bin/env bash
# The peer harness: the same ViT in PyTorch CPU, ONNX Runtime for Java and flora-j, measured
# in one go on one machine (run it idle), printed as a table of ratios.
#   training img/s at batch 128: PyTorch (best of 1 and 2 threads) vs flora-j, the same work on
#   both sides (forward, label-smoothed loss, backward, AdamW; no augmentation, no clipping) and
#   the same 60 untimed and 40 timed steps (flora bench's defaults)
#   inference latency at batch 1 and throughput at batch 256: all three
# OpenBLAS kernels: a machine may pin them with OPENBLAS_CORETYPE (ours pins AVX2 "Haswell"
# kernels on an AVX-512 CPU). PyTorch calls OpenBLAS too, so it runs both with the environment
# as given and with the pin removed, and its best counts; flora-j runs with
# -Dflora.openblas.core=detect (OpenBLAS's own choice); ONNX Runtime uses its own kernels (MLAS).
# Usage: tools/peers/compare.sh [MODEL.safetensors]   (default: the bundled vit-fmnist)
# Needs Debian's python3-torch and libopenblas0-pthread, and Maven (downloads ONNX Runtime).
set -euo pipefail
cd "$(dirname "$0")/../.."
model=${1:-src/main/resources/dev/flora/models/vit-fmnist.safetensors}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
py=/usr/bin/python3
threads=$(nproc)

echo "machine: $(nproc) cores, $(lscpu | sed -n 's/^Model name: *//p'), $(date -u +%Y-%m-%d)" >&2
. tools/peers/probe.sh # probe WHEN: are both cores working?
best() { # best value of field $2 (max, or min with -min) in the JSON lines of file $1
  $py -c "import json,sys; v=[json.loads(l)[sys.argv[2]] for l in open(sys.argv[1])]; print(min(v) if sys.argv[3]=='min' else max(v))" "$@"
}

# the benchmarks jar (probe, ONNX Runtime peer) first, so that the probe also covers PyTorch's runs
(mvn -q -B -Ppeers -pl benchmarks -am -DskipTests package) >&2
probe "before PyTorch"
# PyTorch: training and inference, 1 and all threads, OpenBLAS as given and unpinned; export ONNX once
for pin in given unpinned; do
  envcmd=(env); [[ $pin == unpinned ]] && envcmd=(env -u OPENBLAS_CORETYPE)
  for t in 1 "$threads"; do
    line=$("${envcmd[@]}" $py tools/peers/pytorch_train.py --threads "$t" --bare --warmup 60 --steps 40)
    echo "PyTorch, OpenBLAS $pin (OPENBLAS_CORETYPE=$("${envcmd[@]}" sh -c 'echo ${OPENBLAS_CORETYPE:-unset}')): $line" >&2
    sed -E 's/.*: ([0-9.]+) img\/s/{"train_img_per_s": \1}/' <<<"$line" >> "$tmp/pt-train"
    "${envcmd[@]}" $py tools/peers/pytorch_infer.py --model "$model" --threads "$t" --onnx "$tmp/model.onnx" \
      | tee -a "$tmp/pt-infer" >&2
  done
done
# ONNX Runtime for Java
probe "after PyTorch, before ONNX Runtime and flora-j"
for t in 1 "$threads"; do
  java -cp benchmarks/target/benchmarks.jar dev.flora.bench.OrtPeer "$tmp/model.onnx" "$t" 1 28 | tee -a "$tmp/ort" >&2
done
# flora-j
FLORA_JAVA_OPTS="-Xmx4g -XX:MaxDirectMemorySize=16g -Dflora.openblas.core=detect" \
  ./flora bench --model "$model" --json 2>/dev/null > "$tmp/flora"
echo "flora-j, OpenBLAS detect: $(cat "$tmp/flora")" >&2
probe "after flora-j"
echo "flora-j, OpenBLAS as given (not in the table): $(./flora bench --model "$model" --json 2>/dev/null)" >&2

pt_train=$(best "$tmp/pt-train" train_img_per_s max)
pt_b1=$(best "$tmp/pt-infer" infer_b1_ms min)
pt_b256=$(best "$tmp/pt-infer" infer_b256_img_per_s max)
ort_b1=$(best "$tmp/ort" infer_b1_ms min)
ort_b256=$(best "$tmp/ort" infer_b256_img_per_s max)
fj_train=$(best "$tmp/flora" train_img_per_s max)
fj_b1=$(best "$tmp/flora" infer_b1_ms min)
fj_b256=$(best "$tmp/flora" infer_b256_img_per_s max)
awk -v pt="$pt_train" -v pb1="$pt_b1" -v pb="$pt_b256" -v ob1="$ort_b1" -v ob="$ort_b256" \
    -v ft="$fj_train" -v fb1="$fj_b1" -v fb="$fj_b256" 'BEGIN {
  printf "| figure | PyTorch CPU (best threads) | ONNX Runtime (best threads) | flora-j | flora-j vs PyTorch | flora-j vs ONNX Runtime |\n"
  printf "|---|---:|---:|---:|---:|---:|\n"
  printf "| training, batch 128 (img/s) | %.1f | - | %.1f | %.2fx | - |\n", pt, ft, ft / pt
  printf "| inference, batch 1 (ms, median) | %.3f | %.3f | %.3f | %.2fx | %.2fx |\n", pb1, ob1, fb1, pb1 / fb1, ob1 / fb1
  printf "| inference, batch 256 (img/s) | %.1f | %.1f | %.1f | %.2fx | %.2fx |\n", pb, ob, fb, fb / pb, fb / ob
}'
