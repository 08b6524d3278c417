#!/usr/bin/env bash
# A real Kubernetes API for the real-API test tier: etcd, kube-apiserver and
# kube-controller-manager 1.20.2 on 127.0.0.1, RBAC on, with an audit log.
#
# Why this and not the fabric8 mock server: the mock server has no RBAC, no name
# validation and no garbage collection, so it cannot prove the Role or the owner
# references. Why built from Debian's source package: it carries a full vendor/ tree,
# so the build needs nothing from the network beyond a Debian mirror.
#
# There is no kubelet: pods stay Pending, and tests that need a running pod set its
# status themselves. Kubernetes 1.20 has no batch/v1 CronJob (only batch/v1beta1).
#
#   test-cluster.sh build    install packages, build the binaries once (about 8 min on 2 cores)
#   test-cluster.sh start    (re)start the cluster, write $PLAYGROUND_K8S_DIR/env
#   test-cluster.sh stop     stop it (idempotent)
#   test-cluster.sh status   exit 0 when all three processes run
#
# Settings (environment):
#   PLAYGROUND_K8S_CACHE   binaries and sources   (default /var/cache/sqlflow-playground/k8s-1.20.2)
#   PLAYGROUND_K8S_DIR     runtime dir, wiped by start (default /tmp/sqlflow-playground-k8s)
#   PLAYGROUND_K8S_API_PORT, PLAYGROUND_K8S_ETCD_PORT, PLAYGROUND_K8S_ETCD_PEER_PORT
#   PLAYGROUND_K8S_START_TIMEOUT  seconds to wait for readiness (default 120)
#   PLAYGROUND_DEBIAN_MIRROR      Debian mirror for the source package (default: the one apt uses)
set -euo pipefail

readonly K8S_VERSION=1.20.2
# Pinned: the mirror only carries bookworm's current revision. If a later update
# replaces it, point PLAYGROUND_DEBIAN_MIRROR at snapshot.debian.org/archive/debian/<date>.
readonly DEB_VERSION=1.20.5+really1.20.2-1.1+deb12u1
readonly SRC_TREE=kubernetes-1.20.5+really1.20.2
readonly BINARIES=(kube-apiserver kube-controller-manager)

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
# Stop order: the controller manager first (it only talks to the API server), etcd last.
readonly COMPONENTS=(controller-manager apiserver etcd)

log() { printf 'test-cluster: %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

as_root() { if [[ $EUID -eq 0 ]]; then "$@"; else sudo "$@"; fi; }

# Runs a chatty command (openssl prints key generation progress); shows its output only on failure.
quiet() {
  local out
  out=$("$@" 2>&1) || { printf '%s\n' "$out" >&2; return 1; }
}

# ---------------------------------------------------------------------------------------------
# build

# "check:package" pairs; the check is a command name or an absolute path.
readonly RUNTIME_NEEDS=(etcd:etcd-server openssl:openssl curl:curl)
# Debian's Go (1.19) is used on purpose, whatever `go` is first on PATH: newer Go releases
# do not build Kubernetes 1.20. rsync is needed by the code generators `make` runs first.
readonly REFLECT2=/usr/share/gocode/src/github.com/modern-go/reflect2
readonly BUILD_NEEDS=(/usr/lib/go/bin/go:golang-go make:make dpkg-source:dpkg-dev rsync:rsync
  /etc/ssl/certs/ca-certificates.crt:ca-certificates "$REFLECT2/reflect2.go:golang-github-modern-go-reflect2-dev")

have() { if [[ $1 == /* ]]; then [[ -e $1 ]]; else command -v "$1" >/dev/null; fi; }

missing_packages() {
  local pair
  for pair in "$@"; do have "${pair%%:*}" || printf '%s\n' "${pair#*:}"; done
}

have_binaries() {
  local b
  for b in "${BINARIES[@]}"; do [[ -x $BIN/$b ]] || return 1; done
}

# The mirror this machine's apt already uses: the first non-security archive, deb822 or one-line format.
debian_mirror() {
  if [[ -n ${PLAYGROUND_DEBIAN_MIRROR:-} ]]; then echo "$PLAYGROUND_DEBIAN_MIRROR"; return; fi
  local found
  # `|| true`: either format may be absent, which sed reports as an error.
  found=$( { sed -n 's/^URIs: *//p' /etc/apt/sources.list.d/*.sources || true
             sed -n 's/^deb \(\[[^]]*\] \)\{0,1\}\([^ ]*\) .*/\2/p' /etc/apt/sources.list /etc/apt/sources.list.d/*.list || true
           } 2>/dev/null | tr ' ' '\n' | awk 'NF && !/-security/ && !f { print; f = 1 }')
  echo "${found:-http://deb.debian.org/debian}"
}

# Adds a deb-src entry for bookworm unless apt already knows the pinned source package
# (apt-cache reads the local lists, so this costs no download).
add_deb_src() {
  if apt-cache showsrc kubernetes 2>/dev/null | grep -qx "Version: $DEB_VERSION"; then return; fi
  local mirror keyring=/usr/share/keyrings/debian-archive-keyring.gpg
  mirror=$(debian_mirror)
  [[ -e $keyring ]] || die "$keyring not found: the build needs a Debian machine (or prebuilt binaries in $BIN)"
  log "adding a deb-src entry for bookworm ($mirror)"
  printf 'Types: deb-src\nURIs: %s\nSuites: bookworm\nComponents: main\nSigned-By: %s\n' "$mirror" "$keyring" \
    | as_root tee /etc/apt/sources.list.d/sqlflow-playground-src.sources >/dev/null
  APT_UPDATE=yes
}

# Installs what is missing, with at most one apt-get update.
apt_install() {
  local update=$1; shift
  local pkgs=("$@")
  ((${#pkgs[@]})) || [[ $update == yes ]] || return 0
  as_root apt-get update -qq
  if ((${#pkgs[@]})); then
    log "installing ${pkgs[*]}"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${pkgs[@]}" >/dev/null
  fi
}

build() {
  local -a pkgs
  if have_binaries; then
    # Cheap path (every CI run with a warm cache): no apt at all unless something is missing.
    mapfile -t pkgs < <(missing_packages "${RUNTIME_NEEDS[@]}")
    apt_install no "${pkgs[@]}"
    log "reusing $BIN ($("$BIN/kube-apiserver" --version))"
    [[ -f $BIN/BUILD-INFO ]] || log "WARNING: $BIN was not built by this script and may lack the reflect2 fix" \
      "(API server crash on pretty/YAML responses); to rebuild: rm $BIN/kube-apiserver && $0 build"
    return
  fi

  mkdir -p "$BIN" "$CACHE/src"
  # Two concurrent builds would share the source dir and each burn minutes of CPU.
  exec {lock}>"$CACHE/.build.lock"
  flock "$lock"
  if have_binaries; then log "another build just finished: reusing $BIN"; return; fi

  APT_UPDATE=no
  add_deb_src
  mapfile -t pkgs < <(missing_packages "${RUNTIME_NEEDS[@]}" "${BUILD_NEEDS[@]}")
  apt_install "$APT_UPDATE" "${pkgs[@]}"

  local src=$CACHE/src
  log "fetching kubernetes=$DEB_VERSION source into $src"
  (cd "$src" && apt-get source --download-only "kubernetes=$DEB_VERSION")
  rm -rf "${src:?}/$SRC_TREE"
  # dpkg-source warns it cannot verify the .dsc signature: expected, apt already checked
  # every file's hash against the signed archive index.
  (cd "$src" && dpkg-source -x "kubernetes_$DEB_VERSION.dsc" >/dev/null)
  # The vendored reflect2 1.0.1 corrupts memory when built with Go >= 1.18: the API server
  # dies (SIGSEGV in mapiterinit) on the first pretty-printed or YAML response holding a map,
  # e.g. any `curl` of a list (the API server pretty-prints for curl's User-Agent). 1.0.2 has
  # the fix and the same API; Debian packages it.
  rsync -a --delete --exclude=go.mod "$REFLECT2/" "$src/$SRC_TREE/vendor/github.com/modern-go/reflect2/"

  log "building ${BINARIES[*]} (several minutes)"
  # Kubernetes 1.20 builds in GOPATH mode from vendor/ (its scripts set GO111MODULE=off);
  # GOPROXY=off makes any attempt to reach the network fail loudly instead of hanging.
  # CGO_ENABLED=0 gives static binaries that need no C toolchain. HOME keeps Go's stray
  # caches inside the tree, which is deleted below.
  (cd "$src/$SRC_TREE" &&
    env -u GOFLAGS -u GOROOT PATH="/usr/lib/go/bin:$PATH" GOPROXY=off CGO_ENABLED=0 HOME="$src/$SRC_TREE/.home" \
      make WHAT="cmd/kube-apiserver cmd/kube-controller-manager")

  local b
  for b in "${BINARIES[@]}"; do
    # Copy then rename, so an interrupted copy never looks like a usable binary.
    install -m 0755 "$src/$SRC_TREE/_output/bin/$b" "$BIN/.$b.tmp"
    mv -f "$BIN/.$b.tmp" "$BIN/$b"
  done
  # _output alone is about 2 GB (Go build cache); the extracted tree is re-made by every
  # build anyway. The downloaded source archives stay, so a rebuild needs no download.
  rm -rf "${src:?}/$SRC_TREE"
  printf 'kubernetes source %s\nreflect2 %s (Debian golang-github-modern-go-reflect2-dev)\n%s\n' "$DEB_VERSION" \
    "$(dpkg-query -W -f='${Version}' golang-github-modern-go-reflect2-dev)" "$(/usr/lib/go/bin/go version)" >"$BIN/BUILD-INFO"
  log "built into $BIN ($("$BIN/kube-apiserver" --version))"
}

# ---------------------------------------------------------------------------------------------
# processes

# A PID from a PID file is ours only if that process still runs with this runtime dir in its
# command line: PIDs get reused, and we must never signal a stranger.
ours() {
  local pid=$1
  [[ $pid =~ ^[0-9]+$ && -r /proc/$pid/cmdline ]] || return 1
  # A killed child of ours stays a zombie until its parent reaps it: it counts as gone.
  [[ $(awk '/^State:/ { print $2 }' "/proc/$pid/status" 2>/dev/null) != Z ]] || return 1
  tr '\0' '\n' 2>/dev/null <"/proc/$pid/cmdline" | grep -qF -- "$DIR/"
}

pid_of() { [[ -f $DIR/$1.pid ]] && cat "$DIR/$1.pid"; }

running() { local pid; pid=$(pid_of "$1") && ours "$pid"; }

# setsid: the processes must outlive this script and not receive the terminal's Ctrl-C
# or a CI step's process-group kill meant for the script that called `start`.
launch() {
  local name=$1; shift
  setsid "$@" </dev/null >"$DIR/logs/$name.log" 2>&1 &
  echo $! >"$DIR/$name.pid"
}

stop_one() {
  local name=$1 pid i
  pid=$(pid_of "$name") || return 0
  if ours "$pid"; then
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < STOP_TIMEOUT * 10; i++)); do ours "$pid" || break; sleep 0.1; done
    if ours "$pid"; then
      log "$name (pid $pid) ignored TERM for ${STOP_TIMEOUT}s: killing it"
      kill -KILL "$pid" 2>/dev/null || true
      for ((i = 0; i < 50; i++)); do ours "$pid" || break; sleep 0.1; done
      ! ours "$pid" || die "$name (pid $pid) survived KILL"
    fi
    log "stopped $name (pid $pid)"
  fi
  rm -f "$DIR/$name.pid"
}

stop() {
  local c
  for c in "${COMPONENTS[@]}"; do stop_one "$c"; done
  # Whoever sources env later must not find a cluster that is gone.
  rm -f "$DIR/env"
}

status() {
  local c pid up=0
  for c in "${COMPONENTS[@]}"; do
    if running "$c"; then
      pid=$(pid_of "$c"); up=$((up + 1))
      echo "$c: running (pid $pid)"
    else
      echo "$c: not running"
    fi
  done
  if running apiserver; then
    if api_get /readyz >/dev/null; then echo "api: ready at $API_URL (source $DIR/env)"; else echo "api: not ready"; fi
  fi
  ((up == ${#COMPONENTS[@]})) || return 3
}

# ---------------------------------------------------------------------------------------------
# start

# Own User-Agent: the API server pretty-prints for curl's, which binaries built without the
# reflect2 fix (see build) do not survive.
api_get() {
  curl -sf --max-time 5 -A sqlflow-playground-test-cluster --cacert "$DIR/pki/ca.crt" --cert "$DIR/pki/admin.crt" --key "$DIR/pki/admin.key" \
    "$API_URL$1"
}

api_ready() { api_get /readyz >/dev/null; }

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

make_pki() {
  local p=$DIR/pki
  quiet openssl req -x509 -new -newkey rsa:2048 -nodes -days 365 -keyout "$p/ca.key" -out "$p/ca.crt" \
    -subj /CN=sqlflow-playground-test-ca \
    -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign
  # The in-cluster names cost nothing and keep the certificate valid if a node is added later.
  issue apiserver /CN=kube-apiserver 'extendedKeyUsage=serverAuth
subjectAltName=IP:127.0.0.1,DNS:localhost,IP:10.0.0.1,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local'
  # The group system:masters bypasses RBAC: the tests' own setup, never the code under test.
  issue admin /O=system:masters/CN=playground-admin extendedKeyUsage=clientAuth
  # The controller manager gets its own identity rather than admin, so the audit log can leave it
  # out and admin entries there come only from the tests. RBAC bootstraps this user's role.
  issue controller-manager /CN=system:kube-controller-manager extendedKeyUsage=clientAuth
  # Service account tokens: signed by the controller manager and the API server, checked by the API server.
  quiet openssl genrsa -out "$p/sa.key" 2048
  quiet openssl rsa -in "$p/sa.key" -pubout -out "$p/sa.pub"
}

issue() {
  local name=$1 subject=$2 ext=$3 p=$DIR/pki
  printf '%s\n' "$ext" >"$p/$name.ext"
  quiet openssl req -new -newkey rsa:2048 -nodes -keyout "$p/$name.key" -out "$p/$name.csr" -subj "$subject"
  quiet openssl x509 -req -days 365 -in "$p/$name.csr" -CA "$p/ca.crt" -CAkey "$p/ca.key" -CAcreateserial \
    -extfile "$p/$name.ext" -out "$p/$name.crt"
  rm -f "$p/$name.csr" "$p/$name.ext"
}

write_kubeconfig() {
  local file=$1 user=$2
  cat >"$file" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: playground-test
  cluster:
    server: $API_URL
    certificate-authority: $DIR/pki/ca.crt
users:
- name: $user
  user:
    client-certificate: $DIR/pki/$user.crt
    client-key: $DIR/pki/$user.key
contexts:
- name: playground-test
  context: {cluster: playground-test, user: $user, namespace: default}
current-context: playground-test
EOF
}

# The audit log is how tests see which requests the code made as its service account, and
# which RBAC refused (responseStatus.code 403). One line per request (no RequestReceived
# stage), Metadata level (never bodies, so no Secret data), and silence for the cluster's
# own chatter. In blocking mode (the log backend's default) a line is written before the
# response is sent, so a test can read it right after its request returns.
write_audit_policy() {
  cat >"$DIR/audit-policy.yaml" <<'EOF'
apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: ["RequestReceived"]
rules:
- level: None
  nonResourceURLs: ["/healthz*", "/livez*", "/readyz*"]
- level: None
  users: ["system:apiserver", "system:kube-controller-manager"]
- level: None
  # --use-service-account-credentials: each controller acts as a service account in kube-system.
  userGroups: ["system:serviceaccounts:kube-system"]
- level: Metadata
EOF
}

write_env() {
  {
    echo "# Written by test-cluster.sh start. Use: source $DIR/env"
    printf 'export %s=%q\n' \
      KUBECONFIG "$DIR/kubeconfig" \
      PLAYGROUND_K8S_DIR "$DIR" \
      PLAYGROUND_K8S_API_URL "$API_URL" \
      PLAYGROUND_K8S_CA_FILE "$DIR/pki/ca.crt" \
      PLAYGROUND_K8S_AUDIT_LOG "$DIR/logs/audit.log" \
      PLAYGROUND_K8S_VERSION "$K8S_VERSION"
  } >"$DIR/env"
}

# The first fatal message says more than the tail, which for a Go crash is a goroutine dump.
show_log() {
  local f=$DIR/logs/$1.log
  grep -m1 -A8 -E '^(panic:|fatal error:|unexpected fault)|^F[0-9]{4} ' "$f" >&2 || tail -n 30 "$f" >&2
}

# Fails fast, with the log, when a component dies instead of waiting out the timeout.
check_alive() {
  local c
  for c in "$@"; do
    running "$c" || { show_log "$c"; die "$c exited during start (log: $DIR/logs/$c.log)"; }
  done
}

# wait_until DESCRIPTION LOG COMMAND...: polls COMMAND until it succeeds, bounded by the deadline.
wait_until() {
  local what=$1 logname=$2; shift 2
  until "$@"; do
    check_alive "${STARTED[@]}"
    if ((SECONDS >= DEADLINE)); then
      show_log "$logname"
      die "$what not reached within ${START_TIMEOUT}s (log: $DIR/logs/$logname.log)"
    fi
    sleep 0.2
  done
}

default_sa_token_exists() {
  api_get '/api/v1/namespaces/default/secrets?fieldSelector=type%3Dkubernetes.io%2Fservice-account-token' |
    grep -q '"kubernetes.io/service-account.name": *"default"'
}

start() {
  have_binaries || die "no binaries in $BIN: run '$0 build' first"
  local pair
  for pair in "${RUNTIME_NEEDS[@]}"; do have "${pair%%:*}" || die "${pair%%:*} not found: run '$0 build' first"; done
  case $DIR in /?*) ;; *) die "PLAYGROUND_K8S_DIR must be an absolute path other than /, got '$DIR'" ;; esac

  stop
  local port
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

  make_pki
  write_audit_policy
  write_kubeconfig "$DIR/kubeconfig" admin
  write_kubeconfig "$DIR/controller-manager.kubeconfig" controller-manager

  # Plain HTTP on loopback: etcd is reachable only from this machine, and only the API server uses it.
  launch etcd etcd --name=playground --data-dir="$DIR/etcd" --logger=zap --log-outputs=stderr \
    --listen-client-urls="http://127.0.0.1:$ETCD_PORT" --advertise-client-urls="http://127.0.0.1:$ETCD_PORT" \
    --listen-peer-urls="http://127.0.0.1:$ETCD_PEER_PORT" \
    --initial-advertise-peer-urls="http://127.0.0.1:$ETCD_PEER_PORT" \
    --initial-cluster="playground=http://127.0.0.1:$ETCD_PEER_PORT"
  STARTED+=(etcd)

  # --insecure-port=0: 1.20 still opens an unauthenticated port 8080 by default.
  # --endpoint-reconciler-type=none: nothing could reach the `kubernetes` Service's endpoint anyway.
  # --service-cluster-ip-range: only an API field here (Service IPs), routed nowhere.
  launch apiserver "$BIN/kube-apiserver" \
    --etcd-servers="http://127.0.0.1:$ETCD_PORT" \
    --bind-address=127.0.0.1 --advertise-address=127.0.0.1 --secure-port="$API_PORT" --insecure-port=0 \
    --cert-dir="$DIR/pki" --tls-cert-file="$DIR/pki/apiserver.crt" --tls-private-key-file="$DIR/pki/apiserver.key" \
    --client-ca-file="$DIR/pki/ca.crt" --anonymous-auth=false --authorization-mode=RBAC \
    --service-account-key-file="$DIR/pki/sa.pub" --service-account-signing-key-file="$DIR/pki/sa.key" \
    --service-account-issuer=https://kubernetes.default.svc.cluster.local \
    --api-audiences=https://kubernetes.default.svc.cluster.local \
    --service-cluster-ip-range=10.0.0.0/24 --endpoint-reconciler-type=none \
    --audit-policy-file="$DIR/audit-policy.yaml" --audit-log-path="$DIR/logs/audit.log" \
    --audit-log-format=json --audit-log-maxage=1 --audit-log-maxbackup=1 --audit-log-maxsize=100
  STARTED+=(apiserver)
  wait_until "API server readiness (/readyz)" apiserver api_ready
  log "API server ready after $(elapsed "$t0")"

  # Garbage collection (owner references), the ServiceAccount and token controllers, and the
  # Deployment/ReplicaSet controllers. Ports 0: it serves nothing, it only watches the API.
  launch controller-manager "$BIN/kube-controller-manager" \
    --kubeconfig="$DIR/controller-manager.kubeconfig" --controllers='*' --use-service-account-credentials=true \
    --root-ca-file="$DIR/pki/ca.crt" --service-account-private-key-file="$DIR/pki/sa.key" \
    --leader-elect=false --port=0 --secure-port=0
  STARTED+=(controller-manager)
  # The default ServiceAccount's token Secret needs both the ServiceAccount and the token controller.
  wait_until "token Secret of ServiceAccount default/default" controller-manager default_sa_token_exists

  write_env
  trap - EXIT
  log "ready after $(elapsed "$t0"): source $DIR/env"
}

elapsed() { local ms=$((($(date +%s%N) - $1) / 1000000)); printf '%d.%03ds' $((ms / 1000)) $((ms % 1000)); }

case ${1:-} in
  build | start | stop | status) "$1" ;;
  *) echo "usage: $0 build|start|stop|status" >&2; exit 2 ;;
esac
