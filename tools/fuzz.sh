#!/usr/bin/env bash
# Fuzzes every parser with Jazzer (coverage-guided, libFuzzer-based) for SECONDS each.
#   tools/fuzz.sh [SECONDS] [FILTER]     e.g. tools/fuzz.sh 600, tools/fuzz.sh 60 image
#   MIN_EXECUTIONS=100000 tools/fuzz.sh 300   runs each target again, SECONDS at a time, until its
#                                             executions add up to at least that many
# The default build only replays the committed inputs; this runs each fuzz test with JAZZER_FUZZ=1.
# A finding stops that target and is written by Jazzer beside its seeds
# (src/test/resources/.../<Class>Inputs/<method>/crash-*): commit it with the fix, and it replays as a test.
# The corpus Jazzer grows is kept in <module>/.cifuzz-corpus/ (not committed) and reused by the next run.
# Per-target logs go to target/fuzz/<Class>.<method>.<pass>.log; the last lines printed are the executions and outcome per target.
set -uo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
filter=${2:-}
targets=(
  "engine dev.flora.engine.io.SafeTensorsFuzzTest#openReadAndLoad"
  "src dev.flora.data.ParserFuzzTest#idx"
  "src dev.flora.data.ParserFuzzTest#cifar"
  "src dev.flora.data.ParserFuzzTest#image"
  "src dev.flora.config.ConfigFuzzTest#yaml"
  "src dev.flora.space.SpaceFuzzTest#searchSpaceJson"
  "src dev.flora.space.SpaceFuzzTest#architectureCode"
  "src dev.flora.latency.LatencyTableFuzzTest#table"
)
min_executions=${MIN_EXECUTIONS:-0}
mkdir -p target/fuzz
summary=()
status=0
for t in "${targets[@]}"; do
  module=${t%% *}
  test=${t#* }
  [[ -n $filter && $test != *"$filter"* ]] && continue
  name=${test##*.}
  also=()
  [[ $module == src ]] && also=(-am)
  total=0
  passes=0
  outcome="no finding"
  while :; do
    passes=$((passes + 1))
    log=target/fuzz/${name/\#/.}.$passes.log
    echo "fuzzing $test for ${seconds}s, pass $passes (log: $log)"
    JAZZER_FUZZ=1 JAZZER_MAX_DURATION=${seconds}s \
      JAZZER_INSTRUMENTATION_INCLUDES='dev.flora.**:com.fasterxml.jackson.**:org.yaml.**:com.twelvemonkeys.**' \
      mvn -B -o -pl "$module" "${also[@]}" verify -Djazzer.hooks=true -Dtest="$test" \
      -Dsurefire.failIfNoSpecifiedTests=false >"$log" 2>&1
    rc=$?
    runs=$(grep -aoE '^#[0-9]+[[:space:]]+DONE' "$log" | tail -1 | grep -oE '[0-9]+' || true)
    [[ -z $runs ]] && runs=$(grep -aoE '^#[0-9]+' "$log" | tail -1 | tr -d '#' || true)
    total=$((total + ${runs:-0}))
    if [[ $rc -ne 0 ]]; then
      outcome="FINDING or failure, see $log: $(grep -aE 'FuzzTestFinding|BUILD FAILURE' "$log" | head -1 | cut -c1-200)"
      status=1
      break
    fi
    [[ $total -ge $min_executions || -z $runs ]] && break
  done
  summary+=("$test: $total executions in $passes x ${seconds}s, $outcome")
done
printf '%s\n' "${summary[@]}"
exit $status
