# shellcheck shell=bash
# The node tier: a real kubelet, containerd and scheduler, so that database pods really run (root only). Sourced by
# test-cluster.sh (after images.sh and apiserver.sh: it runs their images and uses their certificates).
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
NODE_DIR=$DIR/node
HOST_RECORD=$DIR/node-host # the host as it was before the node changed it
# shellcheck disable=SC2034 # test-cluster.sh's stop and status use it
readonly NODE_COMPONENTS=(kubelet scheduler containerd)
readonly NODE_NEEDS=(containerd:containerd ctr:containerd runc:runc /usr/lib/cni/bridge:containernetworking-plugins
  iptables-save:iptables ip:iproute2 sysctl:procps)
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

# What the node needs beyond the API tier: its packages and images.
build_node() {
  install_missing no "${NODE_NEEDS[@]}" "${IMAGE_NEEDS[@]}"
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

# What record_host writes and check_host compares: "file:function:what it is called".
readonly HOST_STATE=(sysctl:sysctls_now:sysctls iptables:iptables_now:iptables mounts:mounts_now:mounts
  "paths:host_paths_now:host paths" "links:links_now:network interfaces")

record_host() {
  local s file now
  mkdir -p "$HOST_RECORD"
  for s in "${HOST_STATE[@]}"; do IFS=: read -r file now _ <<<"$s"; "$now" >"$HOST_RECORD/$file"; done
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
  # shellcheck disable=SC2034 # common.sh's launch reads it
  CGROUP_PROCS=$(cgroup_hierarchies | sed "s|\$|$cg/cgroup.procs|" | tr '\n' ' ')
}

# ---- start

# Before the API tier starts, so that its processes join the tier's cgroup.
node_prepare() {
  ((EUID == 0)) || die "the node tier needs root (kubelet, containerd, network namespaces); without PLAYGROUND_K8S_NODE the API tier runs alone"
  check_node_settings
  local other
  require "run 'PLAYGROUND_K8S_NODE=true $0 build'" "${NODE_NEEDS[@]}"
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

node_ready() {
  api_get "/api/v1/nodes/$NODE_NAME" | tr -d ' \n' | grep -q '"type":"Ready","status":"True"'
}

containerd_up() { ctr --address "$NODE_DIR/containerd.sock" version >/dev/null 2>&1; }

# After the API tier is ready: containerd, the scheduler and the kubelet, until the node is Ready.
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
  # No image is ever pulled (they are imported below): a pull would go to a proxy on a closed loopback port,
  # never to a registry.
  launch containerd env HTTPS_PROXY=http://127.0.0.1:9 HTTP_PROXY=http://127.0.0.1:9 NO_PROXY= \
    containerd --config "$NODE_DIR/containerd/config.toml"
  wait_until "containerd" containerd containerd_up
  for img in pause mariadb replica; do
    quiet ctr --address "$NODE_DIR/containerd.sock" -n k8s.io images import "$IMAGES/$img.oci.tar"
  done
  # Ports 0: it serves nothing, it only watches the API.
  launch scheduler "$BIN/kube-scheduler" --kubeconfig="$DIR/scheduler.kubeconfig" --leader-elect=false \
    --port=0 --secure-port=0
  launch kubelet "$BIN/kubelet" --config="$NODE_DIR/kubelet-config.yaml" --kubeconfig="$DIR/node.kubeconfig" \
    --container-runtime=remote --container-runtime-endpoint="unix://$NODE_DIR/containerd.sock" \
    --root-dir="$NODE_DIR/kubelet" --cert-dir="$NODE_DIR/kubelet-pki" --volume-plugin-dir="$NODE_DIR/volume-plugins" \
    --hostname-override="$NODE_NAME" --node-ip="$NODE_HOST_IP" --pod-infra-container-image="$PAUSE_IMAGE" \
    --cgroup-root="$NODE_CGROUP" --register-with-taints="$NODE_TAINT"
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
  local bad=() diff cg h s file now what
  [[ -z $(cgroup_pids) ]] || bad+=("processes still in the tier's cgroup: $(cgroup_pids | tr '\n' ' ')")
  if [[ -f $HOST_RECORD/cgroup ]]; then
    cg=$(cat "$HOST_RECORD/cgroup")
    while read -r h; do [[ ! -d $h$cg ]] || bad+=("cgroup $h$cg still exists"); done < <(all_cgroup_hierarchies)
    if [[ -f $HOST_RECORD/cgroups-made ]]; then
      while read -r h; do [[ ! -d $h ]] || bad+=("cgroup $h still exists"); done <"$HOST_RECORD/cgroups-made"
    fi
  fi
  for s in "${HOST_STATE[@]}"; do
    IFS=: read -r file now what <<<"$s"
    if [[ -f $HOST_RECORD/$file ]]; then
      diff=$(diff "$HOST_RECORD/$file" <("$now")) || bad+=("$what differ: $diff")
    fi
  done
  if ((${#bad[@]})); then
    local b
    for b in "${bad[@]}"; do log "HOST NOT CLEAN: $b"; done
    die "the node tier left the host changed (record kept in $HOST_RECORD; the next stop or start tries again)"
  fi
  rm -rf "$HOST_RECORD"
  log "host clean: cgroups, sysctls, iptables, mounts, network interfaces and paths are as before the node started"
}
