#!/usr/bin/env bash
# Packs what a GPU machine without Java needs to run tools/gpu/bench.sh into .carry/gpu.tar.xz
# (git-ignored; name it in the device tool's `carry`): a jlink'd JRE and the benchmarks jar
# without the native libraries the GPU benchmarks never load (NPP, cuFFT, cuDNN, oneDNN's 90 MB CPU library, ...), stored
# uncompressed and xz'd as a whole, about 22 MB of the 64 MiB a device call carries. There:
#   mkdir -p /tmp/flora && tar xJf .carry/gpu.tar.xz -C /tmp/flora &&
#   JAVA=/tmp/flora/jre/bin/java FLORA_JAR=/tmp/flora/benchmarks.jar tools/gpu/bench.sh $OUT
# (with LD_LIBRARY_PATH pointing at the machine's CUDA 13 libraries if they are not on its path).
set -euo pipefail
cd "$(dirname "$0")/../.."
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mvn -q -B -pl benchmarks -am -DskipTests package
cp benchmarks/target/benchmarks.jar "$work/full.jar"
zip -q -d "$work/full.jar" 'lib/libJNvPTXCompiler*' 'lib/libJNvrtc*' \
  'org/bytedeco/cuda/linux-x86_64/libjninpp*' 'org/bytedeco/cuda/linux-x86_64/libjnicufft*' \
  'org/bytedeco/cuda/linux-x86_64/libjnicurand*' 'org/bytedeco/cuda/linux-x86_64/libjnicusparse*' \
  'org/bytedeco/cuda/linux-x86_64/libjnicupti*' 'org/bytedeco/cuda/linux-x86_64/libjninccl*' \
  'org/bytedeco/cuda/linux-x86_64/libjnicudnn*' 'org/bytedeco/cuda/linux-x86_64/libjninvjpeg*' \
  'org/bytedeco/cuda/linux-x86_64/libjninvcomp*' 'org/bytedeco/cuda/linux-x86_64/libjnicufile*' \
  'org/bytedeco/cuda/linux-x86_64/libjninvblas*' 'org/bytedeco/cuda/linux-x86_64/libjninvml*' \
  'org/bytedeco/cuda/linux-x86_64/libjninvrtc*' 'org/bytedeco/openblas/linux-x86_64/libjniopenblas_full.so' \
  'org/bytedeco/openblas/global/openblas_full*' 'org/bytedeco/openblas/presets/openblas_full*' \
  'org/bytedeco/dnnl/linux-x86_64/*'
mkdir "$work/classes" && (cd "$work/classes" && unzip -q ../full.jar && zip -q -0 -r ../benchmarks.jar .)
jlink --add-modules java.base,jdk.unsupported,java.logging,jdk.management,jdk.incubator.vector --strip-debug --no-header-files --no-man-pages \
  --output "$work/jre"
strip --strip-unneeded "$work/jre/lib/server/libjvm.so"
mkdir -p .carry
tar cf - -C "$work" jre benchmarks.jar | xz -T0 -9 > .carry/gpu.tar.xz
echo ".carry/gpu.tar.xz: $(du -m .carry/gpu.tar.xz | cut -f1) MiB (a device call carries at most 64 MiB with the working tree)"
