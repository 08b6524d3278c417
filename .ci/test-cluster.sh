#!/usr/bin/env bash
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
# Pinned: a mirror only carries bookworm's current revision. If a later update
# replaces it, point PLAYGROUND_DEBIAN_MIRROR at a snapshot archive of Debian from before that update.
readonly DEB_VERSION=1.20.5+really1.20.2-1.1+deb12u1
readonly SRC_TREE=kubernetes-1.20.5+really1.20.2
# One `make` builds every binary either tier needs, so a cache is always of one build, one fix.
# No kube-proxy and no kubectl: no test needs a Service's virtual IP, and the script talks to the API with curl.
readonly BINARIES=(kube-apiserver kube-controller-manager kubelet kube-scheduler)

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

# Usable only if built by this script's build (BUILD-INFO records the reflect2 fix and what was built):
# binaries made some other way are rebuilt, all of them in one make.
have_binaries() {
  local b
  [[ -f $BIN/BUILD-INFO ]] && grep -q '^reflect2 1\.0\.2' "$BIN/BUILD-INFO" || return 1
  for b in "${BINARIES[@]}"; do
    [[ -x $BIN/$b ]] && grep -qE "^binaries( .*)? $b( |\$)" "$BIN/BUILD-INFO" || return 1
  done
}

# The mirror this machine's apt already uses: the first non-security archive, deb822 or one-line format. No
# fallback to a named host: without either, the build stops and says which variable to set.
debian_mirror() {
  if [[ -n ${PLAYGROUND_DEBIAN_MIRROR:-} ]]; then echo "$PLAYGROUND_DEBIAN_MIRROR"; return; fi
  local found
  # `|| true`: either format may be absent, which sed reports as an error.
  found=$( { sed -n 's/^URIs: *//p' /etc/apt/sources.list.d/*.sources || true
             sed -n 's/^deb \(\[[^]]*\] \)\{0,1\}\([^ ]*\) .*/\2/p' /etc/apt/sources.list /etc/apt/sources.list.d/*.list || true
           } 2>/dev/null | tr ' ' '\n' | awk 'NF && !/-security/ && !f { print; f = 1 }')
  [[ -n $found ]] || die "apt on this machine names no Debian archive (/etc/apt/sources.list, sources.list.d): set PLAYGROUND_DEBIAN_MIRROR to a Debian mirror URL"
  echo "$found"
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
    if node_enabled; then build_node; fi
    return
  fi

  mkdir -p "$BIN" "$CACHE/src"
  # Two concurrent builds would share the source dir and each burn minutes of CPU.
  exec {lock}>"$CACHE/.build.lock"
  flock "$lock"
  if have_binaries; then
    log "another build just finished: reusing $BIN"
    if node_enabled; then build_node; fi
    return
  fi

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
      make WHAT="${BINARIES[*]/#/cmd/}")

  local b
  for b in "${BINARIES[@]}"; do
    # Copy then rename, so an interrupted copy never looks like a usable binary.
    install -m 0755 "$src/$SRC_TREE/_output/bin/$b" "$BIN/.$b.tmp"
    mv -f "$BIN/.$b.tmp" "$BIN/$b"
  done
  # _output alone is about 2 GB (Go build cache); the extracted tree is re-made by every
  # build anyway. The downloaded source archives stay, so a rebuild needs no download.
  rm -rf "${src:?}/$SRC_TREE"
  printf 'kubernetes source %s\nreflect2 %s (Debian golang-github-modern-go-reflect2-dev)\n%s\nbinaries %s\n' "$DEB_VERSION" \
    "$(dpkg-query -W -f='${Version}' golang-github-modern-go-reflect2-dev)" "$(/usr/lib/go/bin/go version)" \
    "${BINARIES[*]}" >"$BIN/BUILD-INFO.tmp"
  mv -f "$BIN/BUILD-INFO.tmp" "$BIN/BUILD-INFO"
  log "built into $BIN ($("$BIN/kube-apiserver" --version))"
  if node_enabled; then build_node; fi
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
# With the node, every process goes into the tier's cgroup (CGROUP_PROCS) before it execs.
launch() {
  local name=$1; shift
  if [[ -n ${CGROUP_PROCS:-} ]]; then
    # shellcheck disable=SC2016
    setsid sh -c 'for f in $0; do echo $$ >"$f"; done; exec "$@"' "$CGROUP_PROCS" "$@" </dev/null >"$DIR/logs/$name.log" 2>&1 &
  else
    setsid "$@" </dev/null >"$DIR/logs/$name.log" 2>&1 &
  fi
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
  # Whoever sources env later must not find a cluster that is gone.
  rm -f "$DIR/env"
  if [[ -n $(cgroup_pids) ]]; then log "node tier $(node_memory)"; fi
  for c in "${NODE_COMPONENTS[@]}" "${COMPONENTS[@]}"; do stop_one "$c"; done
  node_restore
}

status() {
  local c pid up=0 all=("${COMPONENTS[@]}")
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
    if api_get /readyz >/dev/null; then echo "api: ready at $API_URL (source $DIR/env)"; else echo "api: not ready"; fi
  fi
  if [[ -d $HOST_RECORD ]]; then
    if running kubelet && node_ready; then echo "node: $NODE_NAME Ready"; else echo "node: not ready"; fi
    node_memory
  fi
  ((up == ${#all[@]})) || return 3
}

# ---------------------------------------------------------------------------------------------
# node tier: a real kubelet, containerd and scheduler, so that database pods really run (root only)
#
# Everything the node changes on the host is recorded before it is changed, restored by `stop` (also after a
# failed or killed run: `start` stops first), then checked: `stop` fails when the host is not as it was.
#   cgroups   every process of the tier (the API tier's too) and every pod lives under one cgroup, made below
#             the memory cgroup of whoever runs `start` (kubelet --cgroup-root), with a memory limit
#   sysctls   the kubelet sets vm.overcommit_memory, vm.panic_on_oom, kernel.panic, kernel.panic_on_oops and
#             kernel.keys.*: restored from the record
#   network   one bridge made here, with the host end of the pod range; pods get no default route, nothing
#             masquerades or forwards: pods reach this host and each other, nothing else. No kube-proxy, so no
#             iptables rules at all (checked against the record)
#   mounts    only under $DIR (containerd's state, network namespaces, the kubelet's root)
#   paths     containerd, CNI and the kubelet hard-code /run/containerd, /var/lib/cni, /var/log/pods and
#             /var/log/containers: what they add there is removed
readonly NODE_NAME=playground-node
# The node takes only pods of namespaces that tolerate this taint, by the namespace annotation
# scheduler.alpha.kubernetes.io/defaultTolerations (admission plugin PodTolerationRestriction) that the node tier's
# tests set: the real-API tier's pods (images it never runs) stay Pending as without a node, and the product's pod
# spec stays as it is.
readonly NODE_TAINT=sqlflow-playground.org/node-tier=true:NoSchedule
NODE=${PLAYGROUND_K8S_NODE:-false}
# 198.18.0.0/15 is reserved for benchmarking (RFC 2544): never routed on the internet and not a LAN range, so
# pod addresses cannot shadow a real network (100.64/10 can: carrier-grade NAT and VPNs use it). A /24 of it;
# the host end of the bridge is .1.
NODE_POD_SUBNET=${PLAYGROUND_K8S_POD_SUBNET:-198.18.0.0/24}
NODE_BRIDGE=${PLAYGROUND_K8S_BRIDGE:-sfpg0}
KUBELET_PORT=${PLAYGROUND_K8S_KUBELET_PORT:-10250}
NODE_MEMORY_LIMIT=${PLAYGROUND_K8S_NODE_MEMORY:-1536M}
NODE_DIR=$DIR/node
HOST_RECORD=$DIR/node-host # the host as it was before the node changed it
IMAGES=$CACHE/images
readonly MARIADB_IMAGE=localhost/sqlflow-playground-test/mariadb:10.11
# A replica of sqlflow/sqlflow:mysql (see build_images): what the playground's default entrypoint runs against here.
readonly REPLICA_IMAGE=localhost/sqlflow-playground-test/sqlflow-mysql-replica:10.11
readonly REPLICA_DIR=$SCRIPT_DIR/sqlflow-mysql-replica
readonly PAUSE_IMAGE=localhost/sqlflow-playground-test/pause:3.4
readonly NODE_COMPONENTS=(kubelet scheduler containerd)
readonly NODE_NEEDS=(containerd:containerd ctr:containerd runc:runc /usr/lib/cni/bridge:containernetworking-plugins
  iptables-save:iptables ip:iproute2 sysctl:procps)
readonly IMAGE_NEEDS=(debootstrap:debootstrap gcc:gcc /usr/lib/x86_64-linux-gnu/libc.a:libc6-dev)
readonly HOST_SYSCTLS=(vm.overcommit_memory vm.panic_on_oom kernel.panic kernel.panic_on_oops kernel.keys.root_maxkeys
  kernel.keys.root_maxbytes net.ipv4.ip_forward net.ipv4.conf.all.forwarding net.ipv4.conf.all.route_localnet
  net.ipv6.conf.all.forwarding net.bridge.bridge-nf-call-iptables net.bridge.bridge-nf-call-ip6tables)
readonly HOST_PATHS=(/run/containerd /var/lib/cni /var/log/pods /var/log/containers /var/lib/kubelet /var/lib/containerd
  /etc/cni /opt/cni)

node_enabled() { [[ $NODE == true || $NODE == 1 || $NODE == yes ]]; }

pod_prefix() { echo "${NODE_POD_SUBNET%.*}"; }
NODE_HOST_IP=$(pod_prefix).1

check_node_settings() {
  [[ $NODE_POD_SUBNET =~ ^198\.1[89]\.[0-9]{1,3}\.0/24$ ]] ||
    die "PLAYGROUND_K8S_POD_SUBNET must be a /24 inside 198.18.0.0/15 (reserved for testing), got '$NODE_POD_SUBNET'"
  [[ $NODE_BRIDGE =~ ^[a-z0-9]{1,15}$ ]] || die "PLAYGROUND_K8S_BRIDGE must be a short interface name, got '$NODE_BRIDGE'"
}

# ---- the images: from Debian packages, packed as OCI archives, no registry

image_recipe() {
  # A new entrypoint, replica file or recipe makes new images.
  { echo "recipe 3: debootstrap minbase bookworm + mariadb-server mariadb-client; static pause from $DEB_VERSION;"
    echo "replica: + busybox as /bin/sh, bash purged, dash removed, Alpine's my.cnf"
    cat "$SCRIPT_DIR/mariadb-image/docker-entrypoint.sh"
    find "$REPLICA_DIR" -type f | LC_ALL=C sort | xargs cat; } | sha256sum | cut -c1-16
}

have_images() {
  [[ -f $IMAGES/mariadb.oci.tar && -f $IMAGES/replica.oci.tar && -f $IMAGES/pause.oci.tar && -f $IMAGES/IMAGE-INFO ]] &&
    grep -qx "recipe $(image_recipe)" "$IMAGES/IMAGE-INFO"
}

# oci_archive ROOTFS NAME OUT ENTRYPOINT_JSON ENV_JSON PORTS_JSON [CMD_JSON VOLUMES_JSON]: a one-layer OCI image
# archive of a directory.
oci_archive() {
  local rootfs=$1 name=$2 out=$3 entrypoint=$4 env=$5 ports=$6 cmd=${7:-null} volumes=${8:-null} w
  w=$(mktemp -d "$IMAGES/oci.XXXXXX")
  mkdir -p "$w/blobs/sha256"
  # The directory becomes the image's "/": debootstrap makes it 0700, which no non-root user could traverse.
  chmod 0755 "$rootfs"
  tar -C "$rootfs" --numeric-owner --xattrs -cf "$w/layer.tar" .
  local diff layer layer_size config config_size manifest manifest_size
  diff=$(sha256sum "$w/layer.tar" | cut -d' ' -f1)
  gzip -1 "$w/layer.tar"
  layer=$(sha256sum "$w/layer.tar.gz" | cut -d' ' -f1)
  layer_size=$(stat -c %s "$w/layer.tar.gz")
  mv "$w/layer.tar.gz" "$w/blobs/sha256/$layer"
  printf '{"architecture":"amd64","os":"linux","config":{"Entrypoint":%s,"Cmd":%s,"Env":%s,"ExposedPorts":%s,"Volumes":%s,"WorkingDir":"/"},"rootfs":{"type":"layers","diff_ids":["sha256:%s"]}}' \
    "$entrypoint" "$cmd" "$env" "$ports" "$volumes" "$diff" >"$w/config.json"
  config=$(sha256sum "$w/config.json" | cut -d' ' -f1)
  config_size=$(stat -c %s "$w/config.json")
  mv "$w/config.json" "$w/blobs/sha256/$config"
  printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:%s","size":%s},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"sha256:%s","size":%s}]}' \
    "$config" "$config_size" "$layer" "$layer_size" >"$w/manifest.json"
  manifest=$(sha256sum "$w/manifest.json" | cut -d' ' -f1)
  manifest_size=$(stat -c %s "$w/manifest.json")
  mv "$w/manifest.json" "$w/blobs/sha256/$manifest"
  printf '{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:%s","size":%s,"annotations":{"io.containerd.image.name":"%s","org.opencontainers.image.ref.name":"%s"}}]}' \
    "$manifest" "$manifest_size" "$name" "${name##*:}" >"$w/index.json"
  echo '{"imageLayoutVersion":"1.0.0"}' >"$w/oci-layout"
  tar -C "$w" -cf "$out.tmp" oci-layout index.json blobs
  mv -f "$out.tmp" "$out"
  rm -rf "$w"
}

# Unmounts everything at or below a directory, deepest first (none of our paths has a space, which
# mountinfo would escape).
unmount_under() {
  local root=${1%/} m
  while read -r m; do
    umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true
  done < <(awk -v r="$root" '$5 == r || index($5, r "/") == 1 { print $5 }' /proc/self/mountinfo | sort -r)
}

build_images() {
  if have_images; then log "reusing the node's images in $IMAGES"; return; fi
  ((EUID == 0)) || die "building the node's images needs root (debootstrap, chroot)"
  mkdir -p "$IMAGES"
  exec {ilock}>"$IMAGES/.build.lock"
  flock "$ilock"
  if have_images; then log "another build just made the images: reusing $IMAGES"; return; fi
  local work=$IMAGES/work mirror t0 src=$CACHE/src orig
  t0=$(date +%s%N)
  mirror=$(debian_mirror)
  unmount_under "$work"
  rm -rf "$work"
  mkdir -p "$work/pause" "$src"
  trap 'unmount_under "'"$work"'"; rm -rf "'"$work"'"' EXIT

  # The pause container, compiled from the binaries' source package.
  orig=$src/kubernetes_${DEB_VERSION%-*}.orig.tar.gz
  [[ -f $orig ]] || (cd "$src" && apt-get source --download-only "kubernetes=$DEB_VERSION")
  tar -xzf "$orig" -C "$work/pause" --wildcards --strip-components=4 '*/build/pause/linux/pause.c'
  gcc -Os -static -o "$work/pause/pause" "$work/pause/pause.c"
  strip "$work/pause/pause"
  rm "$work/pause/pause.c"
  oci_archive "$work/pause" "$PAUSE_IMAGE" "$IMAGES/pause.oci.tar" '["/pause"]' '[]' '{}'

  log "building the MariaDB image and the replica: debootstrap bookworm from $mirror, then mariadb-server (a few minutes)"
  debootstrap --variant=minbase bookworm "$work/rootfs" "$mirror" >"$work/debootstrap.log" 2>&1 ||
    { tail -20 "$work/debootstrap.log" >&2; die "debootstrap failed"; }
  # No service starts inside the chroot.
  printf '#!/bin/sh\nexit 101\n' >"$work/rootfs/usr/sbin/policy-rc.d"
  chmod +x "$work/rootfs/usr/sbin/policy-rc.d"
  chroot "$work/rootfs" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin DEBIAN_FRONTEND=noninteractive \
    apt-get install -y -q --no-install-recommends mariadb-server mariadb-client >"$work/apt.log" 2>&1 ||
    { tail -20 "$work/apt.log" >&2; die "installing mariadb-server in the image failed"; }
  # The replica starts as a copy, before apt's lists go: it installs one more package.
  cp -a "$work/rootfs" "$work/replica"
  chroot "$work/rootfs" apt-get clean
  local version
  # shellcheck disable=SC2016
  version=$(chroot "$work/rootfs" dpkg-query -W -f='${Version}' mariadb-server)
  rm -rf "$work/rootfs/var/lib/apt/lists/"* "$work/rootfs/usr/share/doc/"* "$work/rootfs/usr/share/man/"* \
    "$work/rootfs/var/lib/mysql/"* "$work/rootfs/usr/sbin/policy-rc.d" "$work/rootfs/var/log/"*.log
  install -m 0755 "$SCRIPT_DIR/mariadb-image/docker-entrypoint.sh" "$work/rootfs/usr/local/bin/docker-entrypoint.sh"
  # What the entrypoint and the playground's readiness probe run.
  local tool
  for tool in /bin/sh /usr/bin/mysql /usr/sbin/mariadbd /usr/bin/mariadb-install-db; do
    [[ -x $work/rootfs$tool ]] || die "the MariaDB image lacks $tool"
  done
  oci_archive "$work/rootfs" "$MARIADB_IMAGE" "$IMAGES/mariadb.oci.tar" '["/usr/local/bin/docker-entrypoint.sh"]' \
    '["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin","LANG=C.UTF-8"]' '{"3306/tcp":{}}'
  build_replica "$work/replica"
  printf 'recipe %s\nmariadb-server %s\n' "$(image_recipe)" "$version" >"$IMAGES/IMAGE-INFO"
  unmount_under "$work"
  rm -rf "$work"
  trap - EXIT
  log "images built in $(elapsed "$t0"): $MARIADB_IMAGE (MariaDB $version, $(du -h "$IMAGES/mariadb.oci.tar" | cut -f1)), $REPLICA_IMAGE ($(du -h "$IMAGES/replica.oci.tar" | cut -f1)), $PAUSE_IMAGE"
}

# The replica of sqlflow/sqlflow:mysql, the default image, from a copy of the MariaDB image's root before its clean-up.
# What it follows (SQLFlow's docker/mysql/Dockerfile and start.bash, sql-machine-learning/sqlflow at commit 7074db85,
# 2020-09-24; Alpine's mariadb package, alpinelinux/aports main/mariadb/APKBUILD):
#   - Alpine 3.12 with `apk add mysql mysql-client` (MariaDB 10.4; here Debian's 10.11) and no bash: /bin/sh is
#     BusyBox ash. Here bash is purged (Essential, hence --force-remove-essential), dash's binary removed and
#     Debian's busybox is /bin/sh. The commands an entrypoint may use are the ones both have: mysql_install_db, mysqld,
#     mysql, mysqladmin (checked below, run by that ash).
#   - Alpine's server configuration: /etc/my.cnf includes /etc/my.cnf.d, whose mariadb-server.cnf says
#     skip-networking (hence upstream's --skip-networking=0); the socket is /run/mysqld/mysqld.sock, and nothing
#     makes /run/mysqld (Alpine's init script would). Debian's /etc/mysql goes, so these are all the server reads.
#   - ENV MYSQL_PORT=3306, VOLUME /var/lib/mysql, EXPOSE 3306, CMD ["/start.bash"], no /docker-entrypoint-initdb.d.
#   - /start.bash and /datasets/*.sql: written here (sqlflow-mysql-replica/), from the description of upstream's,
#     with a few rows of iris, create_model_db (sqlflow_models) and a last dataset that takes at least 10 s.
build_replica() {
  local r=$1 tool
  local -a in_chroot=(env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin DEBIAN_FRONTEND=noninteractive)
  chroot "$r" "${in_chroot[@]}" apt-get install -y -q --no-install-recommends busybox >"$r.apt.log" 2>&1 ||
    { tail -20 "$r.apt.log" >&2; die "installing busybox in the replica failed"; }
  chroot "$r" "${in_chroot[@]}" dpkg --purge --force-remove-essential --force-depends bash >>"$r.apt.log" 2>&1 ||
    { tail -20 "$r.apt.log" >&2; die "removing bash from the replica failed"; }
  # dash provides /bin/sh, and its own removal scripts need a /bin/sh: dpkg cannot purge it, so its binary goes by
  # hand and /bin/sh becomes BusyBox.
  rm -f "$r/bin/dash"
  ln -sfn busybox "$r/bin/sh"
  chroot "$r" /bin/sh -c 'apt-get clean'
  rm -rf "$r/var/lib/apt/lists/"* "$r/usr/share/doc/"* "$r/usr/share/man/"* "$r/var/lib/mysql/"* \
    "$r/usr/sbin/policy-rc.d" "$r/var/log/"*.log "$r/etc/mysql" "$r/run/mysqld"
  install -m 0644 "$REPLICA_DIR/my.cnf" "$r/etc/my.cnf"
  install -D -m 0644 "$REPLICA_DIR/mariadb-server.cnf" "$r/etc/my.cnf.d/mariadb-server.cnf"
  install -m 0755 "$REPLICA_DIR/start.bash" "$r/start.bash"
  install -d -m 0755 "$r/datasets"
  install -m 0644 "$REPLICA_DIR"/datasets/*.sql "$r/datasets/"
  for tool in /bin/bash /usr/bin/bash /bin/dash /usr/bin/dash; do
    [[ ! -e $r$tool ]] || die "the replica still has $tool"
  done
  [[ $(readlink "$r/bin/sh") == busybox ]] || die "the replica's /bin/sh is not BusyBox"
  # shellcheck disable=SC2016
  chroot "$r" /bin/sh -c 'for c in mysql_install_db mysqld mysql mysqladmin; do command -v "$c" >/dev/null || exit 1; done' ||
    die "the replica lacks one of mysql_install_db, mysqld, mysql, mysqladmin"
  oci_archive "$r" "$REPLICA_IMAGE" "$IMAGES/replica.oci.tar" null \
    '["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin","MYSQL_PORT=3306"]' '{"3306/tcp":{}}' \
    '["/start.bash"]' '{"/var/lib/mysql":{}}'
}

build_node() {
  local -a pkgs
  mapfile -t pkgs < <(missing_packages "${NODE_NEEDS[@]}" "${IMAGE_NEEDS[@]}")
  apt_install no "${pkgs[@]}"
  build_images
}

# ---- the host record

# The v1 hierarchies the tier's processes join; runc also makes the pods' cgroups in the v2 one of a hybrid
# machine, so clean-up and the check cover that too.
cgroup_hierarchies() { awk '$3 == "cgroup" { print $2 }' /proc/mounts; }
all_cgroup_hierarchies() { awk '$3 == "cgroup" || $3 == "cgroup2" { print $2 }' /proc/mounts; }

# The tier's processes: everything in its cgroup tree.
cgroup_pids() {
  local cg
  cg=$(cat "$HOST_RECORD/cgroup" 2>/dev/null) || return 0
  [[ -d /sys/fs/cgroup/pids$cg ]] || return 0
  find "/sys/fs/cgroup/pids$cg" -name cgroup.procs -exec cat {} + 2>/dev/null | sort -un
}

iptables_now() {
  local t
  for t in iptables ip6tables; do
    command -v "$t-save" >/dev/null || continue
    "$t-save" 2>/dev/null | sed -e '/^#/d' -e 's/ \[[0-9]*:[0-9]*\]$//' -e "s/^/$t /"
  done
}

mounts_now() { awk '{ print $5 }' /proc/self/mountinfo | sort; }

sysctls_now() {
  local k
  for k in "${HOST_SYSCTLS[@]}"; do
    if [[ -e /proc/sys/${k//.//} ]]; then echo "$k=$(sysctl -n "$k")"; fi
  done
}

host_paths_now() {
  local p
  for p in "${HOST_PATHS[@]}"; do
    if [[ -e $p ]]; then find "$p" | sort; else echo "absent $p"; fi
  done
}

links_now() { ip -o link show | awk -F': ' '{ print $2 }' | sed 's/@.*//' | sort; }

record_host() {
  mkdir -p "$HOST_RECORD"
  sysctls_now >"$HOST_RECORD/sysctl"
  iptables_now >"$HOST_RECORD/iptables"
  mounts_now >"$HOST_RECORD/mounts"
  host_paths_now >"$HOST_RECORD/paths"
  links_now >"$HOST_RECORD/links"
}

# Another node tier (another PLAYGROUND_K8S_DIR) would restore the host to a state that includes ours.
other_node_tier() {
  local d
  while read -r d; do
    [[ -s $d/cgroup.procs ]] && { echo "${d#/sys/fs/cgroup/pids}"; return 0; }
  done < <(find /sys/fs/cgroup/pids -maxdepth 4 -type d -name 'sqlflow-playground-test.*' 2>/dev/null)
  return 1
}

make_cgroup() {
  local base cg h level path
  base=$(awk -F: '$2 == "memory" { print $3 }' /proc/self/cgroup)
  cg=${base%/}/sqlflow-playground-test.$(basename "$DIR")
  echo "$cg" >"$HOST_RECORD/cgroup"
  : >"$HOST_RECORD/cgroups-made"
  while read -r h; do
    path=
    for level in ${cg//\// }; do
      path=$path/$level
      [[ -d $h$path ]] && continue
      mkdir "$h$path"
      echo "$h$path" >>"$HOST_RECORD/cgroups-made"
      if [[ -f $h$path/cpuset.cpus ]]; then
        cat "$(dirname "$h$path")/cpuset.cpus" >"$h$path/cpuset.cpus"
        cat "$(dirname "$h$path")/cpuset.mems" >"$h$path/cpuset.mems"
      fi
    done
  done < <(all_cgroup_hierarchies)
  echo "$NODE_MEMORY_LIMIT" >"/sys/fs/cgroup/memory$cg/memory.limit_in_bytes"
  NODE_CGROUP=$cg
  # launch() puts each process of the tier into the cgroup of every hierarchy.
  CGROUP_PROCS=$(cgroup_hierarchies | sed "s|\$|$cg/cgroup.procs|" | tr '\n' ' ')
}

node_prepare() {
  ((EUID == 0)) || die "the node tier needs root (kubelet, containerd, network namespaces); without PLAYGROUND_K8S_NODE the API tier runs alone"
  check_node_settings
  local pair other
  for pair in "${NODE_NEEDS[@]}"; do have "${pair%%:*}" || die "${pair%%:*} not found: run 'PLAYGROUND_K8S_NODE=true $0 build'"; done
  have_images || die "no node images in $IMAGES: run 'PLAYGROUND_K8S_NODE=true $0 build'"
  [[ -z $(awk -F: '$2 == "" && $3 != "/" { print }' /proc/self/cgroup) ]] ||
    die "this machine runs cgroup v2 only; the node tier supports cgroup v1 (as kubelet 1.20's cgroupfs driver does best)"
  if other=$(other_node_tier); then die "another node tier runs on this machine (cgroup $other)"; fi
  ! ip link show "$NODE_BRIDGE" >/dev/null 2>&1 || die "network interface $NODE_BRIDGE exists and is not ours"
  if ip -o addr show | grep -qF " inet $(pod_prefix)."; then die "$NODE_POD_SUBNET is in use on this machine"; fi

  record_host
  make_cgroup
  mkdir -p "$NODE_DIR"/{containerd,kubelet,kubelet-pki,volume-plugins,cni/net.d,cni/ipam,runc}
  # The bridge is made here, not by the CNI plugin: with our address on it and isGateway false, the plugin
  # neither turns IP forwarding on nor gives pods a default route.
  echo "$NODE_BRIDGE" >"$HOST_RECORD/bridge"
  ip link add "$NODE_BRIDGE" type bridge
  ip addr add "$NODE_HOST_IP/24" dev "$NODE_BRIDGE"
  ip link set "$NODE_BRIDGE" up
  write_node_config
}

write_node_config() {
  local p
  p=$(pod_prefix)
  cat >"$NODE_DIR/cni/net.d/10-playground.conflist" <<CONF
{"cniVersion": "0.4.0", "name": "sqlflow-playground-test", "plugins": [
  {"type": "bridge", "bridge": "$NODE_BRIDGE", "isGateway": false, "isDefaultGateway": false, "ipMasq": false,
   "hairpinMode": false,
   "ipam": {"type": "host-local", "dataDir": "$NODE_DIR/cni/ipam",
            "ranges": [[{"subnet": "$NODE_POD_SUBNET", "rangeStart": "$p.10", "rangeEnd": "$p.250"}]]}}
]}
CONF
  cat >"$NODE_DIR/containerd/config.toml" <<CONF
version = 2
root = "$NODE_DIR/containerd/root"
state = "$NODE_DIR/containerd/state"
disabled_plugins = ["io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.aufs",
  "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper"]
[grpc]
  address = "$NODE_DIR/containerd.sock"
[ttrpc]
  address = "$NODE_DIR/containerd.sock.ttrpc"
[debug]
  address = ""
  level = "warn"
[metrics]
  address = ""
# Unused (the CRI plugin runs pods with runc v2), but containerd 1.6 needs it loaded; not in /run/containerd.
[plugins."io.containerd.runtime.v1.linux"]
  runtime_root = "$NODE_DIR/runc-v1"
[plugins."io.containerd.internal.v1.opt"]
  path = "$NODE_DIR/containerd/opt"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "$PAUSE_IMAGE"
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  enable_selinux = false
  disable_apparmor = true
  restrict_oom_score_adj = true
  netns_mounts_under_state_dir = true
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
        Root = "$NODE_DIR/runc"
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "$NODE_DIR/cni/net.d"
    max_conf_num = 1
CONF
  # Pods resolve no names (the database needs none): without a nameserver no DNS query leaves a pod.
  echo "options ndots:1" >"$NODE_DIR/resolv.conf"
  cat >"$NODE_DIR/kubelet-config.yaml" <<CONF
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
address: $NODE_HOST_IP
port: $KUBELET_PORT
readOnlyPort: 0
healthzPort: 0
authentication:
  anonymous: {enabled: false}
  webhook: {enabled: false}
  x509: {clientCAFile: $DIR/pki/ca.crt}
authorization: {mode: AlwaysAllow}
cgroupDriver: cgroupfs
cgroupRoot: $NODE_CGROUP
cgroupsPerQOS: true
failSwapOn: false
makeIPTablesUtilChains: false
clusterDomain: cluster.local
resolvConf: $NODE_DIR/resolv.conf
evictionHard: {memory.available: "100Mi", nodefs.available: "1%", imagefs.available: "1%", nodefs.inodesFree: "1%"}
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
serializeImagePulls: false
maxPods: 20
CONF
}

api_post() {
  curl -sf --max-time 10 -A sqlflow-playground-test-cluster --cacert "$DIR/pki/ca.crt" --cert "$DIR/pki/admin.crt" \
    --key "$DIR/pki/admin.key" -H 'Content-Type: application/json' -X POST --data-binary @- "$API_URL$1"
}

node_ready() {
  api_get "/api/v1/nodes/$NODE_NAME" | tr -d ' \n' | grep -q '"type":"Ready","status":"True"'
}

containerd_up() { ctr --address "$NODE_DIR/containerd.sock" version >/dev/null 2>&1; }

node_start() {
  local t0 img
  t0=$(date +%s%N)
  # The node's identity (group system:nodes, bound below to the built-in role system:node) and the scheduler's.
  issue node "/O=system:nodes/CN=system:node:$NODE_NAME" extendedKeyUsage=clientAuth
  issue scheduler /CN=system:kube-scheduler extendedKeyUsage=clientAuth
  write_kubeconfig "$DIR/node.kubeconfig" node
  write_kubeconfig "$DIR/scheduler.kubeconfig" scheduler
  printf '{"apiVersion":"rbac.authorization.k8s.io/v1","kind":"ClusterRoleBinding","metadata":{"name":"sqlflow-playground-test-nodes"},"roleRef":{"apiGroup":"rbac.authorization.k8s.io","kind":"ClusterRole","name":"system:node"},"subjects":[{"apiGroup":"rbac.authorization.k8s.io","kind":"Group","name":"system:nodes"}]}' |
    api_post /apis/rbac.authorization.k8s.io/v1/clusterrolebindings >/dev/null

  # Not start's umask 077: containerd and the kubelet make the pods' root file systems, /etc/hosts and
  # volumes with it, and a database that drops to its own user could not read or traverse them.
  umask 022
  # No image is ever pulled (they are imported above): a pull would go to a proxy on a closed loopback port,
  # never to a registry.
  launch containerd env HTTPS_PROXY=http://127.0.0.1:9 HTTP_PROXY=http://127.0.0.1:9 NO_PROXY= \
    containerd --config "$NODE_DIR/containerd/config.toml"
  STARTED+=(containerd)
  wait_until "containerd" containerd containerd_up
  for img in pause mariadb replica; do
    quiet ctr --address "$NODE_DIR/containerd.sock" -n k8s.io images import "$IMAGES/$img.oci.tar"
  done
  # Ports 0: it serves nothing, it only watches the API.
  launch scheduler "$BIN/kube-scheduler" --kubeconfig="$DIR/scheduler.kubeconfig" --leader-elect=false \
    --port=0 --secure-port=0
  STARTED+=(scheduler)
  launch kubelet "$BIN/kubelet" --config="$NODE_DIR/kubelet-config.yaml" --kubeconfig="$DIR/node.kubeconfig" \
    --container-runtime=remote --container-runtime-endpoint="unix://$NODE_DIR/containerd.sock" \
    --root-dir="$NODE_DIR/kubelet" --cert-dir="$NODE_DIR/kubelet-pki" --volume-plugin-dir="$NODE_DIR/volume-plugins" \
    --hostname-override="$NODE_NAME" --node-ip="$NODE_HOST_IP" --pod-infra-container-image="$PAUSE_IMAGE" \
    --cgroup-root="$NODE_CGROUP" --register-with-taints="$NODE_TAINT"
  STARTED+=(kubelet)
  umask 077
  wait_until "node $NODE_NAME Ready" kubelet node_ready
  log "node $NODE_NAME Ready after $(elapsed "$t0") (pods in $NODE_POD_SUBNET, cgroup $NODE_CGROUP)"
}

node_memory() {
  local cg m
  cg=$(cat "$HOST_RECORD/cgroup" 2>/dev/null) || return 0
  m=/sys/fs/cgroup/memory$cg
  [[ -f $m/memory.max_usage_in_bytes ]] || return 0
  printf 'memory: now %d MiB (rss %d MiB), peak %d MiB of a %d MiB limit, limit reached %d times\n' \
    $(($(cat "$m/memory.usage_in_bytes") >> 20)) $(($(awk '$1 == "total_rss" { print $2 }' "$m/memory.stat") >> 20)) \
    $(($(cat "$m/memory.max_usage_in_bytes") >> 20)) $(($(cat "$m/memory.limit_in_bytes") >> 20)) "$(cat "$m/memory.failcnt")"
}

# ---- stop: restore the host, then check it

# After stop() has stopped the tier's processes by their PID files.
node_restore() {
  [[ -d $HOST_RECORD ]] || return 0
  local pids i kv
  # What is left (containerd's shims, the pods' processes, anything else started in the tier) lives in the
  # tier's cgroup.
  for ((i = 0; i < 100; i++)); do
    pids=$(cgroup_pids | grep -vx -e "$$" -e "$BASHPID" || true)
    [[ -n $pids ]] || break
    # shellcheck disable=SC2086
    kill -KILL $pids 2>/dev/null || true
    sleep 0.1
  done
  # Network namespaces, the pods' root file systems and shm, the kubelet's bind mount of its root: all under $DIR.
  unmount_under "$DIR"
  if [[ -f $HOST_RECORD/bridge ]]; then ip link del "$(cat "$HOST_RECORD/bridge")" 2>/dev/null || true; fi
  restore_iptables
  if [[ -f $HOST_RECORD/sysctl ]]; then
    while read -r kv; do
      [[ $(sysctl -n "${kv%%=*}") == "${kv#*=}" ]] || sysctl -q -w "$kv" >/dev/null
    done <"$HOST_RECORD/sysctl"
  fi
  restore_paths
  remove_cgroups
  check_host
}

# Removes only chains named by the node's parts (KUBE-*, CNI-*) and the jumps to them; anything else that
# differs fails the check instead.
restore_iptables() {
  [[ -f $HOST_RECORD/iptables ]] || return 0
  local t table chain rule
  for t in iptables ip6tables; do
    command -v "$t" >/dev/null || continue
    for table in filter nat mangle raw; do
      while read -r rule; do
        grep -qxF "$t $rule" "$HOST_RECORD/iptables" && continue
        # shellcheck disable=SC2086
        "$t" -t "$table" -D ${rule#-A } 2>/dev/null || true
      done < <("$t-save" -t "$table" 2>/dev/null | grep -E '^-A .* -j (KUBE|CNI)-' || true)
      while read -r chain; do
        grep -q "^$t :$chain " "$HOST_RECORD/iptables" && continue
        "$t" -t "$table" -F "$chain" 2>/dev/null || true
        "$t" -t "$table" -X "$chain" 2>/dev/null || true
      done < <("$t-save" -t "$table" 2>/dev/null | sed -n 's/^:\(\(KUBE\|CNI\)-[^ ]*\) .*/\1/p')
    done
  done
}

restore_paths() {
  [[ -f $HOST_RECORD/paths ]] || return 0
  local p e
  for p in "${HOST_PATHS[@]}"; do
    if grep -qxF "absent $p" "$HOST_RECORD/paths"; then
      rm -rf "$p"
    elif [[ -e $p ]]; then
      while read -r e; do grep -qxF "$e" "$HOST_RECORD/paths" || rm -rf "$e"; done < <(find "$p" -mindepth 1 | sort -r)
    fi
  done
}

remove_cgroups() {
  [[ -f $HOST_RECORD/cgroup ]] || return 0
  local cg h d
  cg=$(cat "$HOST_RECORD/cgroup")
  while read -r h; do
    [[ -d $h$cg ]] || continue
    find "$h$cg" -depth -type d -exec rmdir {} \; 2>/dev/null || true
  done < <(all_cgroup_hierarchies)
  if [[ -f $HOST_RECORD/cgroups-made ]]; then
    while read -r d; do rmdir "$d" 2>/dev/null || true; done < <(tac "$HOST_RECORD/cgroups-made")
  fi
}

# The host as recorded before the node started, or a failure that says what differs.
check_host() {
  local bad=() diff cg h
  [[ -z $(cgroup_pids) ]] || bad+=("processes still in the tier's cgroup: $(cgroup_pids | tr '\n' ' ')")
  if [[ -f $HOST_RECORD/cgroup ]]; then
    cg=$(cat "$HOST_RECORD/cgroup")
    while read -r h; do [[ ! -d $h$cg ]] || bad+=("cgroup $h$cg still exists"); done < <(all_cgroup_hierarchies)
    if [[ -f $HOST_RECORD/cgroups-made ]]; then
      while read -r h; do [[ ! -d $h ]] || bad+=("cgroup $h still exists"); done <"$HOST_RECORD/cgroups-made"
    fi
  fi
  if [[ -f $HOST_RECORD/sysctl ]]; then diff=$(diff "$HOST_RECORD/sysctl" <(sysctls_now)) || bad+=("sysctls differ: $diff"); fi
  if [[ -f $HOST_RECORD/iptables ]]; then diff=$(diff "$HOST_RECORD/iptables" <(iptables_now)) || bad+=("iptables differ: $diff"); fi
  if [[ -f $HOST_RECORD/mounts ]]; then diff=$(diff "$HOST_RECORD/mounts" <(mounts_now)) || bad+=("mounts differ: $diff"); fi
  if [[ -f $HOST_RECORD/paths ]]; then diff=$(diff "$HOST_RECORD/paths" <(host_paths_now)) || bad+=("host paths differ: $diff"); fi
  if [[ -f $HOST_RECORD/links ]]; then diff=$(diff "$HOST_RECORD/links" <(links_now)) || bad+=("network interfaces differ: $diff"); fi
  if ((${#bad[@]})); then
    local b
    for b in "${bad[@]}"; do log "HOST NOT CLEAN: $b"; done
    die "the node tier left the host changed (record kept in $HOST_RECORD; the next stop or start tries again)"
  fi
  rm -rf "$HOST_RECORD"
  log "host clean: cgroups, sysctls, iptables, mounts, network interfaces and paths are as before the node started"
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
  # The node's kubelet and the scheduler, when the node tier runs.
  users: ["system:kube-scheduler"]
- level: None
  userGroups: ["system:nodes"]
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
    if node_enabled; then
      printf 'export %s=%q\n' \
        PLAYGROUND_K8S_NODE_NAME "$NODE_NAME" \
        PLAYGROUND_K8S_NODE_IMAGE "$MARIADB_IMAGE" \
        PLAYGROUND_K8S_NODE_REPLICA_IMAGE "$REPLICA_IMAGE" \
        PLAYGROUND_K8S_NODE_ROOT_DIR "$NODE_DIR/kubelet" \
        PLAYGROUND_K8S_POD_SUBNET "$NODE_POD_SUBNET" \
        PLAYGROUND_K8S_NODE_TAINT "$NODE_TAINT"
    fi
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
  # With the node: namespaces may carry default tolerations (see NODE_TAINT).
  local -a node_flags=()
  if node_enabled; then node_flags=(--enable-admission-plugins=PodTolerationRestriction); fi
  launch apiserver "$BIN/kube-apiserver" "${node_flags[@]}" \
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
  # The suite makes and deletes thousands of objects in minutes; at the default client budget (20 requests/s
  # per controller) the garbage and namespace collectors fall behind and a new pod waits its turn for seconds.
  launch controller-manager "$BIN/kube-controller-manager" \
    --kubeconfig="$DIR/controller-manager.kubeconfig" --controllers='*' --use-service-account-credentials=true \
    --kube-api-qps=200 --kube-api-burst=400 \
    --root-ca-file="$DIR/pki/ca.crt" --service-account-private-key-file="$DIR/pki/sa.key" \
    --leader-elect=false --port=0 --secure-port=0
  STARTED+=(controller-manager)
  # The default ServiceAccount's token Secret needs both the ServiceAccount and the token controller.
  wait_until "token Secret of ServiceAccount default/default" controller-manager default_sa_token_exists
  if node_enabled; then node_start; fi

  write_env
  trap - EXIT
  log "ready after $(elapsed "$t0"): source $DIR/env"
}

elapsed() { local ms=$((($(date +%s%N) - $1) / 1000000)); printf '%d.%03ds' $((ms / 1000)) $((ms % 1000)); }

case ${1:-} in
  build | start | stop | status) "$1" ;;
  *) echo "usage: $0 build|start|stop|status" >&2; exit 2 ;;
esac
