#!/usr/bin/env bash
# Load test of the embedding API: tools/loadtest.sh MODEL THREADS SECONDS [WORKERS]
# THREADS threads call one VitPredictor (WORKERS replicas, default 2) on MODEL (a bundled name,
# a preset such as deit-tiny, or a file) for SECONDS; prints throughput, p50/p99/p99.9 latency,
# RSS at start, during and end, whether every answer is bit-identical to the single-threaded one,
# and close()'s behaviour (see dev.flora.bench.PredictorLoadTest). Builds the benchmarks jar
# when it is missing.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
jar="$here/benchmarks/target/benchmarks.jar"
if [[ ! -f "$jar" ]]; then
  (cd "$here" && mvn -q -B -o -DskipTests -pl benchmarks -am package) >&2
fi
exec java --add-modules jdk.incubator.vector -Xmx4g -cp "$jar" dev.flora.bench.PredictorLoadTest "$@"
