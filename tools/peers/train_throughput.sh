#!/usr/bin/env bash
# Training throughput of vit-fmnist at batch 128, flora-j against PyTorch CPU, in one go on
# one machine (run it idle). PyTorch is tried at 1 and 2 threads, with the environment's
# OPENBLAS_CORETYPE and without it, and its best is the reference; flora-j runs with
# -Dflora.openblas.core=detect (see compare.sh).
# Needs Debian's python3-torch and libopenblas0-pthread.
set -euo pipefail
cd "$(dirname "$0")/../.."
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
best=0
for pin in given unpinned; do
  envcmd=(env); [[ $pin == unpinned ]] && envcmd=(env -u OPENBLAS_CORETYPE)
  for t in 1 2; do
    line=$("${envcmd[@]}" /usr/bin/python3 tools/peers/pytorch_train.py --threads "$t" --steps 40)
    echo "OpenBLAS $pin: $line"
    ips=$(sed -E 's/.*: ([0-9.]+) img\/s/\1/' <<<"$line")
    best=$(awk -v a="$best" -v b="$ips" 'BEGIN {print (b > a ? b : a)}')
  done
done
# two epochs of the bundled subset (42 steps each); the second epoch's rate is steady state
FLORA_JAVA_OPTS="-Xmx4g -XX:MaxDirectMemorySize=16g -Dflora.openblas.core=detect" \
  ./flora pretrain --data fmnist-subset --epochs 2 --batch-size 128 --out "$out/run" > "$out/log"
ours=$(grep -E '^epoch 2/2:' "$out/log" | sed -E 's/.* ([0-9.]+) img\/s.*/\1/')
echo "flora-j: $ours img/s (epoch 2 of 2 on the bundled subset, batch 128)"
awk -v a="$ours" -v b="$best" 'BEGIN {printf "ratio flora-j / best PyTorch: %.2fx\n", a / b}'
