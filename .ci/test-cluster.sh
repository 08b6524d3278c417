#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# A real Kubernetes API for the real-API test tier: etcd, kube-apiserver and
# kube-controller-manager 1.20.2 on 127.0.0.1, RBAC on, with an audit log.
#
# Why this and not the fabric8 mock server: the mock server has no RBAC, no name
# validation and no garbage collection, so it cannot prove the Role or the owner
# references. Why built from Debian's source package: it carries a full vendor/ tree,
# so the build needs nothing from the network beyond a Debian mirror.
#
# Without a node there is no kubelet: pods stay Pending, and tests that need a running pod set
# its status themselves. With PLAYGROUND_K8S_NODE=true (root only) a real node joins: kubelet,
# kube-scheduler, Debian's containerd, runc and CNI plugins, and a MariaDB image built here from
# Debian packages, so database pods really run (see "node tier" below for what it does to the host).
# Kubernetes 1.20 has no batch/v1 CronJob (only batch/v1beta1).
#
#   test-cluster.sh build    install packages, build the binaries once (one make, about 14 min on 2 idle cores),
#                            with the node: also the pause and MariaDB images (a few minutes)
#   test-cluster.sh start    (re)start the cluster, write $PLAYGROUND_K8S_DIR/env
#   test-cluster.sh stop     stop it (idempotent); with the node: restore the host and fail unless it is clean
#   test-cluster.sh status   exit 0 when all processes run
#
# This file is the front door: the settings below and the four commands. The parts live in test-cluster/:
# common.sh (messages, packages, processes), build.sh (the binaries), images.sh (the node's images),
# apiserver.sh (certificates, etcd, API server, controller manager, env file) and node.sh (containerd, kubelet,
# scheduler, and the host's record and restore).
#
# Settings (environment):
#   PLAYGROUND_K8S_CACHE   binaries and sources   (default /var/cache/sqlflow-playground/k8s-1.20.2)
#   PLAYGROUND_K8S_DIR     runtime dir, wiped by start (default /tmp/sqlflow-playground-k8s)
#   PLAYGROUND_K8S_API_PORT, PLAYGROUND_K8S_ETCD_PORT, PLAYGROUND_K8S_ETCD_PEER_PORT
#   PLAYGROUND_K8S_START_TIMEOUT  seconds to wait for readiness (default 120)
#   PLAYGROUND_K8S_NODE           true: build and start the node tier as well (default false)
#   PLAYGROUND_K8S_POD_SUBNET, PLAYGROUND_K8S_BRIDGE, PLAYGROUND_K8S_KUBELET_PORT, PLAYGROUND_K8S_NODE_MEMORY
#                                 the node's pod range (a /24 of 198.18.0.0/15, default 198.18.0.0/24), bridge
#                                 (default sfpg0), kubelet port (default 10250) and memory limit (default 1536M)
#   PLAYGROUND_DEBIAN_MIRROR      Debian mirror for the source package and the node's images (default: the one this
#                                 machine's apt uses; without one, build stops and names this variable)
set -euo pipefail

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
readonly K8S_VERSION=1.20.2

CACHE=${PLAYGROUND_K8S_CACHE:-/var/cache/sqlflow-playground/k8s-$K8S_VERSION}
BIN=$CACHE/bin
DIR=${PLAYGROUND_K8S_DIR:-/tmp/sqlflow-playground-k8s}
API_PORT=${PLAYGROUND_K8S_API_PORT:-16443}
# Not etcd's default ports, so a developer's own etcd (or a second cluster) does not collide.
ETCD_PORT=${PLAYGROUND_K8S_ETCD_PORT:-23791}
ETCD_PEER_PORT=${PLAYGROUND_K8S_ETCD_PEER_PORT:-23801}
START_TIMEOUT=${PLAYGROUND_K8S_START_TIMEOUT:-120}
STOP_TIMEOUT=10
API_URL=https://127.0.0.1:$API_PORT
NODE=${PLAYGROUND_K8S_NODE:-false}
# 198.18.0.0/15 is reserved for benchmarking (RFC 2544): never routed on the internet and not a LAN range, so
# pod addresses cannot shadow a real network (100.64/10 can: carrier-grade NAT and VPNs use it). A /24 of it;
# the host end of the bridge is .1.
NODE_POD_SUBNET=${PLAYGROUND_K8S_POD_SUBNET:-198.18.0.0/24}
NODE_BRIDGE=${PLAYGROUND_K8S_BRIDGE:-sfpg0}
KUBELET_PORT=${PLAYGROUND_K8S_KUBELET_PORT:-10250}
NODE_MEMORY_LIMIT=${PLAYGROUND_K8S_NODE_MEMORY:-1536M}
DEBIAN_MIRROR=${PLAYGROUND_DEBIAN_MIRROR:-}

# shellcheck source=test-cluster/common.sh
source "$SCRIPT_DIR/test-cluster/common.sh"
# shellcheck source=test-cluster/build.sh
source "$SCRIPT_DIR/test-cluster/build.sh"
# shellcheck source=test-cluster/images.sh
source "$SCRIPT_DIR/test-cluster/images.sh"
# shellcheck source=test-cluster/apiserver.sh
source "$SCRIPT_DIR/test-cluster/apiserver.sh"
# shellcheck source=test-cluster/node.sh
source "$SCRIPT_DIR/test-cluster/node.sh"

build() {
  build_binaries
  if node_enabled; then build_node; fi
}

start() {
  have_binaries || die "no binaries in $BIN: run '$0 build' first"
  require "run '$0 build' first" "${RUNTIME_NEEDS[@]}"
  case $DIR in /?*) ;; *) die "PLAYGROUND_K8S_DIR must be an absolute path other than /, got '$DIR'" ;; esac

  stop
  if awk -v r="$DIR/" 'index($5, r) == 1 { found = 1 } END { exit !found }' /proc/self/mountinfo; then
    die "file systems are still mounted under $DIR: not deleting it"
  fi
  local port
  if node_enabled; then check_node_settings; fi
  for port in "$ETCD_PORT" "$ETCD_PEER_PORT" "$API_PORT"; do
    ! port_in_use "$port" || die "127.0.0.1:$port is in use (another cluster in another PLAYGROUND_K8S_DIR?)"
  done

  local t0
  t0=$(date +%s%N)
  rm -rf "$DIR"
  umask 077 # keys, tokens and etcd data are for this user only
  mkdir -p "$DIR/pki" "$DIR/etcd" "$DIR/logs"

  # A start that fails half-way stops what it started; the logs stay for diagnosis.
  STARTED=()
  trap 'if (($? != 0)); then log "start failed: stopping what was started"; stop; fi' EXIT
  DEADLINE=$((SECONDS + START_TIMEOUT))
  if node_enabled; then node_prepare; fi
  apiserver_start "$t0"
  if node_enabled; then node_start; fi

  write_env
  trap - EXIT
  log "ready after $(elapsed "$t0"): source $DIR/env"
}

stop() {
  local c
  # Whoever sources env later must not find a cluster that is gone.
  rm -f "$DIR/env"
  if [[ -n $(cgroup_pids) ]]; then log "node tier $(node_memory)"; fi
  for c in "${NODE_COMPONENTS[@]}" "${API_COMPONENTS[@]}"; do stop_one "$c"; done
  node_restore
}

status() {
  local c pid up=0 all=("${API_COMPONENTS[@]}")
  if [[ -d $HOST_RECORD ]]; then all+=("${NODE_COMPONENTS[@]}"); fi
  for c in "${all[@]}"; do
    if running "$c"; then
      pid=$(pid_of "$c"); up=$((up + 1))
      echo "$c: running (pid $pid)"
    else
      echo "$c: not running"
    fi
  done
  if running apiserver; then
    if api_ready; then echo "api: ready at $API_URL (source $DIR/env)"; else echo "api: not ready"; fi
  fi
  if [[ -d $HOST_RECORD ]]; then
    if running kubelet && node_ready; then echo "node: $NODE_NAME Ready"; else echo "node: not ready"; fi
    node_memory
  fi
  ((up == ${#all[@]})) || return 3
}

case ${1:-} in
  build | start | stop | status) "$1" ;;
  *) echo "usage: $0 build|start|stop|status" >&2; exit 2 ;;
esac
