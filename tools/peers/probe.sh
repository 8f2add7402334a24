# Sourced by the peer harnesses. This VM sometimes runs two threads little faster than one, for
# minutes at a time (docs/perf/2026-11-24-pytorch-onnx-cpu.md). probe WHEN times a single
# image's 50x512x128 GEMM split over both threads and on one thread and prints both to stderr:
# about 1.5x apart when the two cores work, about 1x when they do not.
probe() {
  local t
  for t in 2 1; do
    java -jar benchmarks/target/benchmarks.jar 'GemmBenchmark.linear$' -wi 1 -w 1 -i 3 -r 1 -f 1 \
      -jvmArgsAppend "-Dflora.openblas.core=detect -Dflora.threads=$t" 2>/dev/null \
      | awk -v t="$t" -v when="$1" '/^GemmBenchmark.linear/ {printf "probe (%s), %s thread(s): %s us\n", when, t, $5}' >&2
  done
}
