#!/usr/bin/env bash
# DeiT-S inference at batch 1 and 32, fp32 and bf16, dense and the svd-energy subnet at half the
# FLOPs, each round once with oneDNN free to use AMX (the default on this machine) and once capped
# at AVX512_CORE_BF16 (ONEDNN_MAX_CPU_ISA), as on a CPU with AVX512-BF16 but no AMX (Cooper
# Lake, Zen 4), the eight configurations alternating in every round. Run from the repository root
# after `mvn -B -o install -DskipTests` (./flora runs src/target/flora.jar).
# Usage: docs/runs/bf16-no-amx-2026-12-08/run.sh OUT_DIR
set -euo pipefail
out=${1:?OUT_DIR}
mkdir -p "$out"
ISAS="default AVX512_CORE_BF16" ROUNDS=${ROUNDS:-3} tools/speed/deit_precision_subnet.sh "$out" | tee "$out/summary.txt"
