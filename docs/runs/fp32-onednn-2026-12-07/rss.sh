#!/usr/bin/env bash
# Peak resident memory (/usr/bin/time's maximum RSS) of DeiT-B batch-1 inference through flora bench:
# fp32 on OpenBLAS, fp32 on oneDNN (the default since fp32 inference moved there) and bf16.
# Usage: rss.sh FLORA_JAR OUT.txt
set -euo pipefail
jar=$1 out=$2
: > "$out"
for cfg in "fp32 openblas" "fp32 onednn" "bf16 onednn"; do
  set -- $cfg
  /usr/bin/time -f '%M' -o /tmp/rss.kib java --add-modules jdk.incubator.vector -Xmx4g -XX:MaxDirectMemorySize=16g \
    -Dflora.openblas.core=detect -Dflora.cpu.fp32-inference=$2 -jar "$jar" bench --model deit-base --device cpu \
    --train-steps 0 --infer-batch 1 --latency-calls 20 --batches 1 --precision $1 --json > /tmp/rss.json 2>/dev/null
  echo "$1 $2 peak_mib $(( $(cat /tmp/rss.kib) / 1024 )) $(cat /tmp/rss.json)" | tee -a "$out"
done
