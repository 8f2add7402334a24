#!/usr/bin/env bash
# Crash test of a long stage: tools/crashtest.sh STAGE N [SEED]
#
# STAGE is pretrain, supernet, filter, search, compress or ablation, with settings small enough
# that an uninterrupted run takes seconds. The script runs the stage once uninterrupted (the
# reference), then again in another directory, killing it with kill -9 N times and continuing it
# (--resume, or the same command for compress and ablation, which continue on their own) until
# an invocation ends by itself. Half the kills wait for a temporary file of an atomic write to
# appear in the run directory and land inside that write (-Dflora.crashtest.writeDelayMs keeps
# each write's temporary file there for a while); the others land at a random moment. It then
# checks that
#   - the results equal the reference's (tensors of the model files, the results files),
#   - no temporary file of a write is left anywhere in the run directory,
#   - nothing was left in the JVM's temporary directory (java.io.tmpdir, a directory of its own
#     here so that other users' files do not blur the listing before and after).
# Exit 0 when all hold. Work files go to $CRASHTEST_DIR (default: a fresh directory under
# target/); one line per kill and a summary line go to stdout.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
stage=${1:?usage: tools/crashtest.sh STAGE N [SEED]}
kills=${2:?usage: tools/crashtest.sh STAGE N [SEED]}
seed=${3:-$$}
RANDOM=$seed

jar="$here/src/target/flora.jar"
if [[ ! -f "$jar" ]]; then
  (cd "$here" && mvn -q -B -o -DskipTests -pl src -am package) >&2
fi
work=${CRASHTEST_DIR:-"$here/target/crashtest/$stage-$seed"}
rm -rf "$work"
mkdir -p "$work"
backbone="$here/src/test/resources/golden/timm_vit_tiny_fmnist.safetensors"
# the stage's own temporary directory: what it leaves there is visible, not hidden among other users' files
tmpdir="$work/tmp"
mkdir -p "$tmpdir"
java_opts=(--add-modules jdk.incubator.vector -Xmx2g -Djava.io.tmpdir="$tmpdir")

flora() { # flora ARGS...: one uninterrupted invocation
  java "${java_opts[@]}" -jar "$jar" "$@"
}

# The stage's fresh command into $1, its resume command, and the files to compare.
tiny_search=(--population 6 --top-k 2 --mutations 2 --crossovers 2 --generations 5 --val-limit 100 --seed 5)
fresh() {
  local out=$1
  case $stage in
    pretrain) echo pretrain --data fmnist-subset --out "$out" --epochs 6 --embed-dim 16 --depth 1 --num-heads 2 \
                --patch-size 7 --mlp-ratio 1 --train-limit 512 --batch-size 64 --seed 3 ;;
    supernet) echo supernet --model "$backbone" --data fmnist-subset --out "$out" --epochs 3 --train-limit 256 \
                --batch-size 64 --lr 2e-4 ;;
    filter)   echo filter --model "$backbone" --data fmnist-subset --out "$out" --set proxy_fraction=0.05 \
                --set score_fraction=0.2 --set top_k=5 ;;
    search)   echo search --supernet "$work/prereq/supernet.safetensors" --data fmnist-subset --out "$out" \
                "${tiny_search[@]}" ;;
    compress) echo compress --model "$backbone" --data fmnist-subset --out "$out" --supernet-epochs 1 \
                --set supernet.train_limit=256 --set supernet.batch_size=64 --set search.population=6 \
                --set search.top_k=2 --set search.mutations=2 --set search.crossovers=2 \
                --set search.generations=3 --set search.val_limit=100 ;;
    ablation) echo ablation --model "$backbone" --data fmnist-subset --out "$out" --targets 0.6,0.75 \
                --set filter.proxy_fraction=0.05 --set filter.score_fraction=0.2 --set filter.top_k=4 \
                --set supernet.epochs=1 --set supernet.train_limit=256 --set search.population=6 \
                --set search.generations=2 --set search.mutations=2 --set search.crossovers=2 \
                --set search.top_k=2 --set search.val_limit=100 ;;
    *) echo "crashtest: unknown stage $stage (pretrain, supernet, filter, search, compress, ablation)" >&2; exit 2 ;;
  esac
}
next() { # the command that continues the run in $1 from what is on disk
  local out=$1
  case $stage in
    pretrain|supernet) [[ -f "$out/checkpoint.safetensors" ]] && { echo "$stage --out $out --resume"; return; } ;;
    filter) [[ -f "$out/config.yaml" ]] && { echo "$stage --out $out --resume"; return; } ;;
    search) [[ -f "$out/search_state.json" ]] && { echo "$stage --out $out --resume"; return; } ;;
  esac
  fresh "$out"
}
results() {
  case $stage in
    pretrain) echo model.safetensors ;;
    supernet) echo supernet.safetensors ;;
    filter)   echo search_space.json ;;
    search)   echo best.txt evaluated.csv search_state.json ;;
    compress) echo flora.safetensors uniform.safetensors results.json pareto.csv ;;
    ablation) echo ablation.csv ablation.json ;;
  esac
}
calc() { awk "BEGIN { print $* }"; }
temps() { find "$1" -name '.*.[0-9]*.tmp' 2>/dev/null | sort || true; }
listing() { ls -A "$tmpdir" | sort; }

if [[ $stage == search ]]; then
  echo "crashtest: training the supernet the search runs on"
  flora supernet --model "$backbone" --data fmnist-subset --out "$work/prereq" --epochs 1 --train-limit 256 \
    --batch-size 64 > "$work/prereq.log" 2>&1
fi
t0=$(date +%s.%N)
# shellcheck disable=SC2046
flora $(fresh "$work/ref") > "$work/ref.log" 2>&1 || { echo "crashtest: reference run failed, see $work/ref.log"; exit 1; }
ref_s=$(calc "$(date +%s.%N) - $t0")
echo "crashtest: $stage reference run took ${ref_s}s (seed $seed)"
# what a first run leaves in the temporary directory for later ones (JCuda extracts its native
# library under a fixed name and reuses it) is listed, not counted; the kills must add nothing
before=$(listing)
[[ -n $before ]] && echo "crashtest: a first run leaves in java.io.tmpdir, reused by later runs: $(echo $before)"

run="$work/run"
done_kills=0 in_write=0 invocations=0 ended=""
while [[ -z $ended ]]; do
  cmd=$(next "$run")
  invocations=$((invocations + 1))
  if (( done_kills >= kills )); then
    # shellcheck disable=SC2086
    flora $cmd >> "$work/run.log" 2>&1 || { echo "crashtest: final invocation failed: $cmd (see $work/run.log)"; exit 1; }
    ended=yes
    break
  fi
  old=$(temps "$run")
  # java itself in the background (not a function's subshell), so that kill -9 hits the JVM
  # shellcheck disable=SC2086
  java "${java_opts[@]}" -Dflora.crashtest.writeDelayMs=300 -jar "$jar" $cmd >> "$work/run.log" 2>&1 &
  pid=$!
  mode=random
  if (( RANDOM % 2 )); then
    # inside the m-th write of this invocation (a temporary file that was not there before)
    m=$((1 + RANDOM % 4))
    mode="write $m"
    limit=$(calc "$ref_s * 3 + 10")
    start=$(date +%s.%N)
    seen=""
    while kill -0 "$pid" 2>/dev/null; do
      new=$(comm -13 <(echo "$old") <(temps "$run"))
      seen=$(printf '%s\n%s\n' "$seen" "$new" | sed '/^$/d' | sort -u)
      [[ -n $new && $(echo "$seen" | wc -l) -ge $m ]] && break
      sleep 0.05
      if (( $(calc "($(date +%s.%N) - $start > $limit) ? 1 : 0") )); then break; fi
    done
  else
    # within a JVM start (seconds on a busy machine) or after it, by about 1/N of the run on
    # average, so that N kills fit in one run
    sleep "$(calc "1 + ($RANDOM % 1000) / 1000 * (4 + 2 * $ref_s / $kills)")"
  fi
  inside=$([[ -n $(comm -13 <(echo "$old") <(temps "$run")) ]] && echo yes || echo no)
  if kill -9 "$pid" 2>/dev/null; then
    wait "$pid" 2>/dev/null || true
    done_kills=$((done_kills + 1))
    [[ $inside == yes ]] && in_write=$((in_write + 1))
    echo "kill $done_kills/$kills ($mode): inside a write: $inside; left: $(temps "$run" | xargs -r -n1 basename | tr '\n' ' ')"
  else
    if wait "$pid"; then ended=yes; else echo "crashtest: $cmd failed (see $work/run.log)"; exit 1; fi
  fi
done

status=0
echo "crashtest: $done_kills kills ($in_write inside a write), $invocations invocations; comparing with the reference"
# shellcheck disable=SC2046
python3 "$here/tools/crashtest/compare.py" "$work/ref" "$run" $(results) || status=1
left=$(temps "$run")
if [[ -n $left ]]; then echo "crashtest: temporary files left: $left"; status=1; else echo "  none  temporary files left in the run directory"; fi
after=$(listing)
extra=$(comm -13 <(echo "$before") <(echo "$after") | grep -v '^hsperfdata' || true)
if [[ -n $extra ]]; then echo "crashtest: new in $tmpdir: $extra"; status=1; else echo "  none  new files in $tmpdir"; fi
echo "crashtest: $stage $([[ $status == 0 ]] && echo PASS || echo FAIL): $done_kills kills, $in_write inside writes, resumed == uninterrupted: $([[ $status == 0 ]] && echo yes || echo see above)"
exit $status
