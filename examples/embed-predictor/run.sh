#!/usr/bin/env bash
# Builds flora-api the way a JVM service gets it (installed into a local Maven repository, taken
# as one dependency), then builds and runs this example and checks what it prints: three lines
# of Fashion-MNIST label and percentage, highest first, and no CLI, plotting or YAML library on
# the example's classpath.
#
# usage: run.sh [IMAGE]
#   MAVEN_REPO  local repository to install into and build from (default: Maven's, ~/.m2/repository).
#               Engineers sharing ~/.m2 point it at a private copy: cp -r ~/.m2/repository /tmp/m2 &&
#               MAVEN_REPO=/tmp/m2 MVN_FLAGS=-o examples/embed-predictor/run.sh
#   MVN_FLAGS   extra Maven flags (e.g. -o for offline)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
mvn=(mvn -B ${MVN_FLAGS:-})
if [ -n "${MAVEN_REPO:-}" ]; then
  mvn+=("-Dmaven.repo.local=$MAVEN_REPO")
fi

echo "embed-predictor: installing flora-parent, flora-engine and flora-api${MAVEN_REPO:+ into $MAVEN_REPO}"
"${mvn[@]}" -q -f "$root/pom.xml" -pl api -am install -DskipTests
echo "embed-predictor: building the example"
cpfile="$here/target/classpath.txt"
# the exec plugin, not the dependency plugin: flora-j's own build already needs it, so it is there offline
"${mvn[@]}" -q -f "$here/pom.xml" compile exec:exec -Dexec.executable=echo -Dexec.args=%classpath \
  -Dexec.outputFile="$cpfile"

# the point of flora-api: a service pulls none of the application's libraries
if tr ':' '\n' <"$cpfile" | grep -E '/(picocli|progressbar|xchart|jackson-dataformat-yaml|snakeyaml|flora-app)[-/]'; then
  echo "embed-predictor: FAIL: flora-api brings the libraries above onto a service's classpath" >&2
  exit 1
fi

out="$here/target/output.txt"
java -cp "$(cat "$cpfile")" com.example.embed.Main "$@" >"$out"
cat "$out"
labels='T-shirt/top|Trouser|Pullover|Dress|Coat|Sandal|Shirt|Sneaker|Bag|Ankle boot'
if [ "$(grep -cE "^($labels)	[0-9]+\.[0-9]%$" "$out")" != 3 ] || [ "$(wc -l <"$out")" != 3 ]; then
  echo "embed-predictor: FAIL: expected three lines 'label<TAB>percent' on stdout, got the above" >&2
  exit 1
fi
if ! cut -f2 "$out" | tr -d % | sort -g -r -c 2>/dev/null; then
  echo "embed-predictor: FAIL: the top-3 is not in descending order" >&2
  exit 1
fi
echo "embed-predictor: ok"
