#!/usr/bin/env bash
# The playground benchmark, one command: bash bench/run.sh [options]
#   builds functions/target/sqlflow-playground.jar when it is missing or older than the sources,
#   then runs bench/Bench.java (JDK only, no build step), which starts the server in local mode
#   in a temporary directory, measures it over mutual TLS, prints a table and writes
#   bench/results/latest.json.  bash bench/run.sh --help lists the options; --quick is a smoke run.
set -euo pipefail
cd "$(dirname "$0")/.."

jar=functions/target/sqlflow-playground.jar
if [[ ! -f $jar ]] || [[ -n $(find functions/src/main pom.xml functions/pom.xml -newer "$jar" -type f -print -quit) ]]; then
  echo "bench: building $jar" >&2
  ./mvnw -B -q -o -DskipTests package 2>/dev/null || ./mvnw -B -q -DskipTests package
fi

# The load generator's own JVM: small heap, serial GC, small stacks (64+ threads), so it leaves the cores
# to the server as far as a load generator on the same machine can.
exec java -Xss256k -Xmx1g -XX:+UseSerialGC bench/Bench.java "$@"
