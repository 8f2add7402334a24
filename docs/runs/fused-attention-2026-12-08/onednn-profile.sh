#!/usr/bin/env bash
# Median time per call of each oneDNN primitive (kind, shape) in an OpProfile run, from
# ONEDNN_VERBOSE=1: what a forward spends in each product, softmax, reorder and layer norm.
# Usage: onednn-profile.sh BENCHMARKS_JAR MODEL BATCH ITERS fp32|bf16 > OUT.txt
#   MODEL: deit-small, deit-tiny or a .safetensors file (e.g. an svd-energy subnet)
set -euo pipefail
jar=$1 model=$2 batch=$3 iters=$4 precision=$5
ONEDNN_VERBOSE=1 java --add-modules jdk.incubator.vector -Xmx4g -XX:MaxDirectMemorySize=16g -cp "$jar" \
  dev.flora.bench.OpProfile "$model" "$batch" "$iters" infer "$precision" 2>/dev/null \
  | grep '^onednn_verbose' | grep ',exec,' \
  | awk -F, '$6=="matmul"||$6=="softmax"||$6=="reorder"||$6=="layer_normalization" {print $6","$(NF-1)" "$NF}' \
  | sort -k1,1 -k2,2n \
  | awk '{a[$1]=a[$1]" "$2} END {for (k in a) {n=split(a[k],v," "); s=0; for(i=1;i<=n;i++) s+=v[i];
      printf "%-45s calls %5d  median %.3f ms  sum %.1f ms\n", k, n, v[int((n+1)/2)], s}}' \
  | sort -k8 -rn
