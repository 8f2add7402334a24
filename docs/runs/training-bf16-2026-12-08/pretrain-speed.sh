#!/usr/bin/env bash
# The vit-fmnist pretrain loop (flora pretrain's defaults: the bundled backbone's recipe on the
# full Fashion-MNIST), one epoch per run, fp32 and --precision bf16 alternating, ROUNDS rounds
# (default 2); prints each run's img/s from its metrics.csv.
# Usage: pretrain-speed.sh FLORA_JAR OUT.txt
set -euo pipefail
jar=$1 out=$2
tmp=$(mktemp -d)
: > "$out"
for r in $(seq "${ROUNDS:-2}"); do
  for p in fp32 bf16; do
    java --add-modules jdk.incubator.vector -Xmx4g -XX:MaxDirectMemorySize=16g -jar "$jar" pretrain \
      --precision "$p" --device cpu --out "$tmp/$p-$r" --epochs-this-run 1 > "$tmp/$p-$r.log" 2>&1
    echo "round $r $p $(tail -1 "$tmp/$p-$r/metrics.csv")" | tee -a "$out"
  done
done
rm -rf "$tmp"
