#!/usr/bin/env bash
# Fuzzes every parser with Jazzer (coverage-guided, libFuzzer-based) for SECONDS each.
#   tools/fuzz.sh [SECONDS] [FILTER]     e.g. tools/fuzz.sh 600, tools/fuzz.sh 60 image
# The default build only replays the committed inputs; this runs each fuzz test with JAZZER_FUZZ=1.
# A finding stops that target and is written by Jazzer beside its seeds
# (src/test/resources/.../<Class>Inputs/<method>/crash-*): commit it with the fix, and it replays as a test.
# The corpus Jazzer grows is kept in <module>/.cifuzz-corpus/ (not committed) and reused by the next run.
# Per-target logs go to target/fuzz/; the last lines printed are the executions and outcome per target.
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
)
mkdir -p target/fuzz
summary=()
status=0
for t in "${targets[@]}"; do
  module=${t%% *}
  test=${t#* }
  [[ -n $filter && $test != *"$filter"* ]] && continue
  name=${test##*.}
  log=target/fuzz/${name/\#/.}.log
  also=()
  [[ $module == src ]] && also=(-am)
  echo "fuzzing $test for ${seconds}s (log: $log)"
  JAZZER_FUZZ=1 JAZZER_MAX_DURATION=${seconds}s \
    JAZZER_INSTRUMENTATION_INCLUDES='dev.flora.**:com.fasterxml.jackson.**:org.yaml.**:com.twelvemonkeys.**' \
    mvn -B -o -pl "$module" "${also[@]}" verify -Djazzer.hooks=true -Dtest="$test" \
    -Dsurefire.failIfNoSpecifiedTests=false >"$log" 2>&1
  rc=$?
  runs=$(grep -aoE '^#[0-9]+[[:space:]]+DONE' "$log" | tail -1 | grep -oE '[0-9]+' || true)
  [[ -z $runs ]] && runs=$(grep -aoE '^#[0-9]+' "$log" | tail -1 | tr -d '#' || true)
  if [[ $rc -eq 0 ]]; then
    outcome="no finding"
  else
    outcome="FINDING or failure, see $log: $(grep -aE 'FuzzTestFinding|BUILD FAILURE' "$log" | head -1 | cut -c1-200)"
    status=1
  fi
  summary+=("$test: ${runs:-?} executions in ${seconds}s, $outcome")
done
printf '%s\n' "${summary[@]}"
exit $status
