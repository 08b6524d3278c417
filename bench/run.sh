#!/usr/bin/env bash
# The playground benchmark, one command: bash bench/run.sh [options]
#   builds functions/target/sqlflow-playground.jar and the bench module when missing or older than the sources,
#   then runs org.sqlflow.playground.bench.Bench (JVM flags: bench/jvm.config), which starts the server in local
#   mode in a temporary directory, measures it over mutual TLS, prints a table and writes
#   bench/results/latest.json.  bash bench/run.sh --help lists the options; --quick is a smoke run;
#   --table generates bench/README.md's tables again from the results files.
#
#   When the real-API test tier can run here (.ci/test-cluster.sh finds its built binaries), the benchmark
#   also starts a private kube-apiserver + etcd of its own (own directory and ports, never the test suite's),
#   stops that cluster's controller manager (it would make a ReplicaSet for each of 100,000 roots), measures
#   (a), (c) and the large sweeps against it, counting API calls in its audit log, and stops it at the end.
#   --no-real-api skips that; --kube-env=FILE uses an API server you started yourself instead.
set -euo pipefail
cd "$(dirname "$0")/.."

jar=functions/target/sqlflow-playground.jar
classes=bench/target/bench.jar
classpath=bench/target/classpath.txt
if [[ ! -f $jar || ! -f $classes || ! -f $classpath ]] || [[ -n $(find functions/src/main bench/src/main pom.xml \
    functions/pom.xml bench/pom.xml -newer "$classes" -type f -print -quit) ]]; then
  echo "bench: building $jar and $classes" >&2
  ./mvnw -B -q -o -DskipTests -pl bench -am package 2>/dev/null || ./mvnw -B -q -DskipTests -pl bench -am package
  touch "$classes" # Maven leaves an unchanged jar as it was: the stamp of this build
fi
bench() { # main class, arguments
  # shellcheck disable=SC2046 # one flag per word
  java $(sed 's/#.*//' bench/jvm.config) -cp "$classes:$(cat "$classpath")" "$@"
}

if [[ " $* " == *" --help "* ]]; then
  sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'
  bench org.sqlflow.playground.bench.Bench --help
  exit
fi
if [[ " $* " == *" --table "* ]]; then
  bench org.sqlflow.playground.bench.ReadmeTable bench/README.md
  exit
fi

args=()
real=auto
for a in "$@"; do
  case $a in
    --no-real-api) real=no; continue ;;
    --kube-env=*) real=given ;;
  esac
  args+=("$a")
done
if [[ $real == auto ]]; then
  # A directory of this run's own: test-cluster.sh start first stops whatever runs from its directory, so a
  # shared one would let two benchmark runs on one machine stop each other's API server.
  export PLAYGROUND_K8S_DIR=${BENCH_K8S_DIR:-$(mktemp -d "${TMPDIR:-/tmp}/sqlflow-playground-bench-k8s.XXXXXX")}
  # Ports: the first free triple from 36443/43791/43801 on (other clusters may run on this machine).
  in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
  for off in 0 10 20 30 40 50; do
    api=$((${BENCH_K8S_API_PORT:-36443} + off)) etcd=$((${BENCH_K8S_ETCD_PORT:-43791} + off))
    peer=$((${BENCH_K8S_ETCD_PEER_PORT:-43801} + off))
    if ! in_use $api && ! in_use $etcd && ! in_use $peer; then break; fi
  done
  export PLAYGROUND_K8S_API_PORT=$api PLAYGROUND_K8S_ETCD_PORT=$etcd PLAYGROUND_K8S_ETCD_PEER_PORT=$peer
  if bash .ci/test-cluster.sh start >"$PLAYGROUND_K8S_DIR.log" 2>&1; then
    trap 'bash .ci/test-cluster.sh stop >/dev/null 2>&1 || true; [[ -n ${BENCH_K8S_DIR:-} ]] || rm -rf "$PLAYGROUND_K8S_DIR"' EXIT
    if [[ -f $PLAYGROUND_K8S_DIR/controller-manager.pid ]]; then
      kill "$(cat "$PLAYGROUND_K8S_DIR/controller-manager.pid")" 2>/dev/null || true
      rm -f "$PLAYGROUND_K8S_DIR/controller-manager.pid"
    fi
    args+=("--kube-env=$PLAYGROUND_K8S_DIR/env")
    echo "bench: private API server for the real-API part at https://127.0.0.1:$PLAYGROUND_K8S_API_PORT" >&2
  else
    echo "bench: no real API server (.ci/test-cluster.sh start failed, see $PLAYGROUND_K8S_DIR.log):" \
      "local mode only" >&2
  fi
fi

bench org.sqlflow.playground.bench.Bench "${args[@]}"
