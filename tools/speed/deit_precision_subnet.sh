#!/usr/bin/env bash
# DeiT-S inference (random weights) at batch 1 and batch 32, fp32 against bf16 and dense against
# a FLORA-style subnet at half the FLOPs (svd-energy allocation at target 0.5), ROUNDS rounds
# (default 4) with the four configurations alternating in each, so that the machine's drift
# falls on all of them alike. fp32 runs on OpenBLAS's own kernel pick for this CPU
# (-Dflora.openblas.core=detect). Prints per configuration the median over the rounds and the
# ratios; the raw JSON lines go to OUT_DIR/bench.jsonl.
# JARS="before=OLD.jar after=NEW.jar" compares builds instead of running ./flora: every round runs
# each jar in turn (an A/B of a change, side by side), and the summary is per jar.
# ISAS="default AVX512_CORE_BF16" runs every configuration once per oneDNN ISA cap in each round
# (ONEDNN_MAX_CPU_ISA; AVX512_CORE_BF16 takes AMX away, as on a CPU with AVX512-BF16 alone), and
# the summary is per jar and cap.
# Usage: [JARS="NAME=JAR ..."] [ISAS="default CAP ..."] tools/speed/deit_precision_subnet.sh [OUT_DIR]   (default runs/deit-precision-subnet)
set -euo pipefail
cd "$(dirname "$0")/../.."
out=${1:-runs/deit-precision-subnet}
rounds=${ROUNDS:-4}
mkdir -p "$out"
subnet="$out/deit-s-50"
[[ -f "$subnet/model.safetensors" ]] || ./flora allocate --method svd-energy --model deit-small --target 0.5 \
  --out "$subnet" >&2
export FLORA_JAVA_OPTS="-Xmx4g -XX:MaxDirectMemorySize=16g -Dflora.openblas.core=detect"
flora() { # flora JAR ARGS...: ./flora itself for the jar "-"
  local jar=$1; shift
  if [[ $jar == - ]]; then ./flora "$@"; else java --add-modules jdk.incubator.vector $FLORA_JAVA_OPTS -jar "$jar" "$@"; fi
}
: > "$out/bench.jsonl"
for r in $(seq "$rounds"); do
  for entry in ${JARS:-head=-}; do
    for isa in ${ISAS:-default}; do
      if [[ $isa == default ]]; then unset ONEDNN_MAX_CPU_ISA; else export ONEDNN_MAX_CPU_ISA=$isa; fi
      for model in deit-small "$subnet/model.safetensors"; do
        for p in fp32 bf16; do
          line=$(flora "${entry#*=}" bench --model "$model" --device cpu --train-steps 0 --infer-batch 32 \
            --latency-calls 60 --batches 4 --precision "$p" --json 2>/dev/null | tail -1)
          name=$([[ $model == deit-small ]] && echo dense || echo subnet)
          echo "{\"round\": $r, \"jar\": \"${entry%%=*}\", \"isa\": \"$isa\", \"model\": \"$name\", \"precision\": \"$p\", \"bench\": $line}" \
            | tee -a "$out/bench.jsonl"
        done
      done
    done
  done
done
unset ONEDNN_MAX_CPU_ISA
python3 - "$out/bench.jsonl" <<'PY'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
for jar, isa in dict.fromkeys((r["jar"], r.get("isa", "default")) for r in rows):
    med = {}
    print(f"== {jar}" + ("" if isa == "default" else f", ONEDNN_MAX_CPU_ISA={isa}"))
    for m in ("dense", "subnet"):
        for p in ("fp32", "bf16"):
            rs = [r["bench"] for r in rows if r["jar"] == jar and r.get("isa", "default") == isa and r["model"] == m and r["precision"] == p]
            med[m, p] = (statistics.median(x["infer_b1_ms"] for x in rs),
                         statistics.median(x["infer_b32_img_per_s"] for x in rs))
            print(f"{m:6s} {p}: b1 {med[m, p][0]:.1f} ms (runs {[round(x['infer_b1_ms'], 1) for x in rs]}), "
                  f"b32 {med[m, p][1]:.1f} img/s (runs {[round(x['infer_b32_img_per_s'], 1) for x in rs]})")
    for m in ("dense", "subnet"):
        print(f"bf16 over fp32, {m}: b1 {med[m, 'fp32'][0] / med[m, 'bf16'][0]:.2f}x, "
              f"b32 {med[m, 'bf16'][1] / med[m, 'fp32'][1]:.2f}x")
    for p in ("fp32", "bf16"):
        print(f"subnet over dense, {p}: b1 {med['dense', p][0] / med['subnet', p][0]:.2f}x, "
              f"b32 {med['subnet', p][1] / med['dense', p][1]:.2f}x")
PY
