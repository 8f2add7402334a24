#!/usr/bin/env bash
# Input pipeline against torchvision: decode + timm eval transform at 224 of the same JPEG folder,
# flora-j (InputPipelineBench) and ImageFolder + DataLoader (torchvision_input.py), each on 2
# and on 1 core, alternated over ROUNDS rounds so that a change in machine load hits both.
# Usage: tools/peers/input_pipeline.sh [DIR] [ROUNDS]   (default /tmp/input-bench, 2 rounds;
# the folder is written by make_input_folder.py when missing). Needs benchmarks/target/benchmarks.jar
# (mvn -B -o -pl benchmarks -am package -DskipTests) and Debian's python3-torchvision.
set -euo pipefail
cd "$(dirname "$0")/../.."
dir=${1:-/tmp/input-bench}
rounds=${2:-2}
py=/usr/bin/python3
[ -d "$dir" ] || $py tools/peers/make_input_folder.py "$dir" 400
echo "machine: $(nproc) cores, $(lscpu | sed -n 's/^Model name: *//p'), $(date -u +%Y-%m-%dT%H:%MZ)"
for r in $(seq "$rounds"); do
  for n in 2 1; do
    echo "round $r, $n: load $(cut -d' ' -f1-3 /proc/loadavg)"
    java -cp benchmarks/target/benchmarks.jar dev.flora.bench.InputPipelineBench "$dir" "$n" 5
    $py tools/peers/torchvision_input.py "$dir" 5 "$n"
  done
done
