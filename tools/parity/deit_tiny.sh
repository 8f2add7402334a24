#!/usr/bin/env bash
# DeiT-Tiny logit parity with PyTorch (docs/parity/deit.md). PyTorch (tools/fixtures/deit_parity.py)
# writes into a temp dir a DeiT-Tiny at 224 (patch 16, 197 tokens, 12 blocks, 192 wide, 3 heads,
# 1000 classes) with random weights at timm's init scale, as timm publishes checkpoints
# (__metadata__ {"format": "pt"} only, F32, ~23 MB), 8 random normalized images and its logits;
# flora-j loads the file from its shapes alone, runs the images (forward and infer) and prints
# its max relative error; the run fails (exit non-zero) above 1e-4
# (TimmParityTest#checkpointInTheParityDirectoryMatchesPyTorch).
# Usage: tools/parity/deit_tiny.sh [deit_parity.py flags, e.g. --distilled or --seed 1]
# Needs Debian's python3-torch and Maven (offline is fine).
set -euo pipefail
cd "$(dirname "$0")/../.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
echo "machine: $(nproc) cores, $(lscpu | sed -n 's/^Model name: *//p'), $(date -u +%Y-%m-%d)"
/usr/bin/python3 tools/fixtures/deit_parity.py "$tmp" "$@"
mvn -B -o -pl engine test -Dtest='TimmParityTest#checkpointInTheParityDirectoryMatchesPyTorch' \
  -Dsurefire.failIfNoSpecifiedTests=false -Dflora.parity.dir="$tmp" > "$tmp/mvn.log" 2>&1 || {
  grep -E '^parity |Tests run:|FAIL|ERROR' "$tmp/mvn.log" | head -40
  echo "parity check FAILED (or did not run); see the lines above" >&2
  exit 1
}
grep -E '^parity ' "$tmp/mvn.log"
grep -q 'Tests run: 1, Failures: 0, Errors: 0, Skipped: 0' "$tmp/mvn.log" || {
  echo "the parity test did not run (skipped?)" >&2
  exit 1
}
echo "parity OK (within 1e-4)"
