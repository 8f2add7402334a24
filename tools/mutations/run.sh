#!/usr/bin/env bash
# Mutation check: do the tests catch the kernel and op bugs the README says they catch?
#
#   tools/mutations/run.sh [ID ...]      all mutations in mutations.tsv, or the ones named
#
# For each mutation: in a scratch clone of this repository at HEAD (one clone, reset between
# mutations, removed on exit), the original text must occur exactly once in the file; it is
# replaced, only the mutation's tests run (mvn -o, never install), and the result is
#   caught   some selected test failed (their names are printed)
#   MISSED   every selected test passed
#   error    the pattern was not found exactly once, the build failed or crashed without a
#            failing test, no test ran, the run timed out, or the unmutated code already
#            fails the same tests (baseline, run first for every test selection used)
# Exit status 0 only when every mutation was caught. Not part of the default build or CI.
# Uncommitted changes of the working tree are not seen (the clone is of HEAD); mutations.tsv
# is read from next to this script (or MUT_TABLE). Environment: MUT_TIMEOUT (seconds per mvn run, default 900),
# MUT_KEEP=1 keeps the scratch clone and its logs.
set -uo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(git -C "$here" rev-parse --show-toplevel)"
table="${MUT_TABLE:-$here/mutations.tsv}"
limit="${MUT_TIMEOUT:-900}"

# the mutations: id, modules, tests, file, original, replacement, description (tab-separated;
# in original and replacement \n is a newline, \t a tab, \\ a backslash)
declare -a ids=() mods=() sels=() files=() origs=() repls=() descs=()
while IFS=$'\t' read -r id m s f o r d; do
    [[ -z "$id" || "$id" == \#* ]] && continue
    ids+=("$id"); mods+=("$m"); sels+=("$s"); files+=("$f"); origs+=("$o"); repls+=("$r"); descs+=("$d")
done < "$table"

# which to run
declare -a todo=()
if [ $# -eq 0 ]; then
    todo=("${!ids[@]}")
else
    for want in "$@"; do
        found=""
        for i in "${!ids[@]}"; do [ "${ids[$i]}" = "$want" ] && found="$i"; done
        [ -z "$found" ] && { echo "unknown mutation: $want" >&2; exit 2; }
        todo+=("$found")
    done
fi

tmp="$(mktemp -d /tmp/flora-mutations.XXXXXX)"
if [ "${MUT_KEEP:-0}" = 1 ]; then
    trap 'echo "kept $tmp"' EXIT
else
    trap 'rm -rf "$tmp"' EXIT
fi
trap 'exit 130' INT TERM
work="$tmp/repo"
git clone -q --local --no-hardlinks "$repo" "$work" || { echo "error: cannot clone $repo" >&2; exit 2; }
git -C "$work" checkout -q --detach "$(git -C "$repo" rev-parse HEAD)"
echo "commit $(git -C "$work" rev-parse --short HEAD) ($(git -C "$work" log -1 --format=%s | cut -c1-70))"
[ -n "$(git -C "$repo" status --porcelain --untracked-files=no)" ] && echo "note: the working tree has uncommitted changes; they are not tested"

# edit FILE ORIGINAL REPLACEMENT: replaces the one occurrence; prints the count when it is not one
edit() {
    python3 - "$@" <<'EOF'
import re, sys
path, old, new = sys.argv[1:]
unescape = lambda s: re.sub(r'\\(\\|n|t)', lambda m: {'\\': '\\', 'n': '\n', 't': '\t'}[m.group(1)], s)
old, new = unescape(old), unescape(new)
text = open(path, encoding='utf-8').read()
n = text.count(old)
if n != 1:
    print(n)
    sys.exit(1)
open(path, 'w', encoding='utf-8').write(text.replace(old, new))
EOF
}

# failing MODULES: the failed or errored test cases of the last run, as Class.method, one a line
failing() {
    local m
    for m in ${1//,/ }; do
        cat "$work/$m"/target/surefire-reports/TEST-*.xml 2>/dev/null
    done | awk '
        /<testcase / {
            c = $0; sub(/.*classname="/, "", c); sub(/".*/, "", c); sub(/.*\./, "", c)
            n = $0; sub(/.*<testcase name="/, "", n); sub(/".*/, "", n); sub(/\(.*/, "", n)
        }
        /<(failure|error)[ >]/ { print c "." n }' | sort -u
}

# tests_run MODULES: how many test cases the last run reported
tests_run() {
    local m
    for m in ${1//,/ }; do
        cat "$work/$m"/target/surefire-reports/TEST-*.xml 2>/dev/null
    done | grep -o '<testsuite [^>]*tests="[0-9]*"' | sed 's/.*tests="//; s/"//' | awk '{ s += $1 } END { print s + 0 }'
}

# run_tests MODULES TESTS LOG: the selected tests of those modules; the exit status of mvn
run_tests() {
    local m
    for m in ${1//,/ }; do rm -rf "$work/$m/target/surefire-reports"; done
    (cd "$work" && timeout -k 30 "$limit" mvn -B -o -q -pl "$1" -am -Dtest="$2" \
        -Dsurefire.failIfNoSpecifiedTests=false test) > "$3" 2>&1
}

# the baseline: every test selection used, on the unmutated code
declare -A base=()
echo "baseline (unmutated):"
for i in "${todo[@]}"; do
    key="${mods[$i]} ${sels[$i]}"
    [ -n "${base[$key]+x}" ] && continue
    t0=$SECONDS
    run_tests "${mods[$i]}" "${sels[$i]}" "$tmp/baseline.log"
    rc=$?
    n="$(tests_run "${mods[$i]}")"
    if [ $rc -eq 0 ] && [ "$n" -gt 0 ]; then
        base[$key]=ok
        echo "  ok ($n tests, $((SECONDS - t0)) s): -pl ${mods[$i]} -Dtest=${sels[$i]}"
    else
        f="$(failing "${mods[$i]}" | paste -sd, -)"
        base[$key]="fails unmutated (rc $rc, $n tests${f:+: $f})"
        echo "  FAILS ($n tests, rc $rc, $((SECONDS - t0)) s): -pl ${mods[$i]} -Dtest=${sels[$i]}${f:+: $f}"
        tail -n 20 "$tmp/baseline.log" | sed 's/^/    | /'
    fi
done

caught=0 missed=0 errors=0
declare -a rows=()
k=0
for i in "${todo[@]}"; do
    k=$((k + 1))
    id="${ids[$i]}"
    t0=$SECONDS
    git -C "$work" checkout -q -- . && git -C "$work" clean -qfd -- ':!*/target' > /dev/null
    key="${mods[$i]} ${sels[$i]}"
    if [ "${base[$key]}" != ok ]; then
        result=error; detail="baseline ${base[$key]}"
    elif [ ! -f "$work/${files[$i]}" ]; then
        result=error; detail="pattern not found (no file ${files[$i]})"
    elif ! count="$(edit "$work/${files[$i]}" "${origs[$i]}" "${repls[$i]}")"; then
        result=error
        if [ "$count" = 0 ]; then detail="pattern not found"; else detail="pattern found ${count:-?} times, not once"; fi
    else
        run_tests "${mods[$i]}" "${sels[$i]}" "$tmp/$id.log"
        rc=$?
        n="$(tests_run "${mods[$i]}")"
        f="$(failing "${mods[$i]}" | paste -sd, - | sed 's/,/, /g')"
        if [ $rc -eq 0 ] && [ "$n" -gt 0 ]; then
            result=MISSED; detail="all $n tests passed"
        elif [ $rc -ne 0 ] && [ -n "$f" ]; then
            result=caught; detail="$f"
        elif [ $rc -eq 124 ] || [ $rc -eq 137 ]; then
            result=error; detail="timed out after $limit s"
        elif [ $rc -eq 0 ]; then
            result=error; detail="no tests ran"
        else
            result=error; detail="mvn failed (rc $rc) without a failing test: $(grep -m1 -E 'ERROR|error:' "$tmp/$id.log" | cut -c1-160)"
        fi
        [ "$result" = error ] && tail -n 15 "$tmp/$id.log" | sed 's/^/    | /'
    fi
    s=$((SECONDS - t0))
    case "$result" in caught) caught=$((caught + 1)) ;; MISSED) missed=$((missed + 1)) ;; *) errors=$((errors + 1)) ;; esac
    [ "$result" = error ] && detail="error: $detail"
    echo "[$k/${#todo[@]}] $id: $result (${s} s) $detail"
    rows+=("| \`$id\` | \`${files[$i]##*/}\` | ${descs[$i]} | \`${sels[$i]}\` | **$result** | $s | $detail |")
done

echo
echo "| mutation | file | what it breaks | tests (-Dtest) | result | s | failing tests |"
echo "|---|---|---|---|---|---|---|"
printf '%s\n' "${rows[@]}"
echo
echo "$caught caught, $missed missed, $errors errors"
[ $missed -eq 0 ] && [ $errors -eq 0 ]
