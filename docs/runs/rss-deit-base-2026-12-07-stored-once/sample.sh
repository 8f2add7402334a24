#!/usr/bin/env bash
# usage: sample.sh NAME JAR PRECISION -> prints NAME P peak_kib last_kib
cd /tmp/rss
java --add-modules jdk.incubator.vector -Xmx4g -XX:MaxDirectMemorySize=16g -Dflora.openblas.core=detect -jar $2 bench --model deit-base --device cpu --train-steps 0 --infer-batch 1 --latency-calls 50 --batches 1 --precision $3 --json > s-$1-$3.json 2> s-$1-$3.err &
pid=$!
peak=0; : > samples-$1-$3.txt
while kill -0 $pid 2>/dev/null; do
  r=$(awk '/VmRSS/ {print $2}' /proc/$pid/status 2>/dev/null)
  if [[ -n $r ]]; then echo $r >> samples-$1-$3.txt; (( r > peak )) && peak=$r; fi
  sleep 0.1
done
# the steady state: the median of the samples between 60 % and 90 % of the process's life (the latency calls)
steady=$(python3 -c "import sys; v=[int(l) for l in open('samples-$1-$3.txt')]; w=sorted(v[int(.6*len(v)):int(.9*len(v))]); print(w[len(w)//2])")
echo "$1 $3 peak_kib $peak steady_kib $steady samples $(wc -l < samples-$1-$3.txt)"
