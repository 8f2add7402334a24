#!/usr/bin/env bash
# The native build, run by Maven (engine module, generate-resources) and by hand:
#   native/build.sh OUTPUT_CLASSES_DIR JAVA_HOME
# 1. libflora_emu.so: kernels/*.cu compiled by g++ against native/emu (the CUDA execution model on
#    the CPU) with the JNI bridge -> OUTPUT/dev/flora/engine/cuda/native/linux-x86_64/
# 2. with nvcc: per kernel file, PTX for compute_90 and an sm_90 cubin, and the list of its kernels
#    -> OUTPUT/dev/flora/engine/cuda/kernels/; the ptxas -v report -> target/native/ptxas.txt.
#    A compile error fails the build. Without nvcc the GPU modules are left out, with a warning.
# 3. target/native/racecheck: the kernels built with ThreadSanitizer and a driver that runs them
#    (RacecheckTest runs it).
# Outputs are rebuilt only when a source is newer than them.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
out="${1:?output classes directory}"
java_home="${2:?JAVA_HOME}"
[ -f "$java_home/include/jni.h" ] || java_home="$(dirname "$java_home")"  # a JRE inside a JDK
native_out="$out/dev/flora/engine/cuda/native/linux-x86_64"
module_out="$out/dev/flora/engine/cuda/kernels"
work="$root/engine/target/native"
mkdir -p "$native_out" "$module_out" "$work"

kernels=("$root"/kernels/*.cu)
emu=("$here"/emu/cuda_emu.cpp "$here"/emu/registry.cpp)
sources=("${kernels[@]}" "$root"/kernels/*.cuh "$here"/emu/*.h "$here"/emu/*.cpp "$here"/build.sh)

stale() { # stale TARGET: true when TARGET is missing or older than any source
  [ ! -e "$1" ] && return 0
  for s in "${sources[@]}"; do [ "$s" -nt "$1" ] && return 0; done
  return 1
}

cxx=(g++ -std=c++20 -pthread -I"$root" -include "$here/emu/cuda_emu.h" -include "$here/emu/registry.h")

lib="$native_out/libflora_emu.so"
if stale "$lib"; then
  echo "native: building $lib"
  "${cxx[@]}" -O2 -fPIC -shared -I"$java_home/include" -I"$java_home/include/linux" \
    -x c++ "${kernels[@]}" -x none "${emu[@]}" "$here/emu/jni_bridge.cpp" -o "$lib.tmp"
  mv "$lib.tmp" "$lib"
fi

race="$work/racecheck"
if stale "$race"; then
  echo "native: building $race (ThreadSanitizer)"
  "${cxx[@]}" -O1 -g -fsanitize=thread -x c++ "${kernels[@]}" -x none "${emu[@]}" "$here/emu/racecheck.cpp" \
    -o "$race.tmp"
  mv "$race.tmp" "$race"
fi

if command -v nvcc >/dev/null 2>&1; then
  report="$work/ptxas.txt"
  stamp="$module_out/.built"
  if stale "$stamp" || [ ! -f "$report" ]; then
    echo "native: nvcc (compute_90 PTX, sm_90 cubins)"
    : > "$report.tmp"
    for cu in "${kernels[@]}"; do
      name="$(basename "$cu" .cu)"
      nvcc -O3 -ptx -arch=compute_90 -I"$root/kernels" "$cu" -o "$module_out/$name.ptx"
      nvcc -O3 -cubin -arch=sm_90 -Xptxas -v -I"$root/kernels" "$cu" -o "$module_out/$name.sm_90.cubin" \
        2> >(sed "s|^|$name: |" >> "$report.tmp")
      sed -nE 's/^extern "C" __global__ void ([a-z0-9_]+)\(.*/\1/p' "$cu" > "$module_out/$name.kernels"
    done
    wait
    mv "$report.tmp" "$report"
    touch "$stamp"
  fi
else
  echo "native: WARNING: nvcc not found; this build has no GPU kernel modules (--device cuda unavailable)" >&2
fi
