# shellcheck shell=bash
# The API tier: certificates, etcd, kube-apiserver with its audit log, kube-controller-manager, and the env file that
# tells the tests where they are. Sourced by test-cluster.sh.

# Stop order: the controller manager first (it only talks to the API server), etcd last.
# shellcheck disable=SC2034 # test-cluster.sh's stop and status use it
readonly API_COMPONENTS=(controller-manager apiserver etcd)

# api PATH [CURL_ARG...]: a request as admin.
# Own User-Agent: the API server pretty-prints for curl's, which binaries built without the
# reflect2 fix (see build.sh) do not survive.
api() {
  local path=$1; shift
  curl -sf -A sqlflow-playground-test-cluster --cacert "$DIR/pki/ca.crt" --cert "$DIR/pki/admin.crt" \
    --key "$DIR/pki/admin.key" "$@" "$API_URL$path"
}

api_get() { api "$1" --max-time 5; }

# The body comes from stdin.
api_post() { api "$1" --max-time 10 -H 'Content-Type: application/json' -X POST --data-binary @-; }

api_ready() { api_get /readyz >/dev/null; }

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

# issue NAME SUBJECT EXTENSIONS: a key and a certificate signed by the cluster's CA, in $DIR/pki.
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

default_sa_token_exists() {
  api_get '/api/v1/namespaces/default/secrets?fieldSelector=type%3Dkubernetes.io%2Fservice-account-token' |
    grep -q '"kubernetes.io/service-account.name": *"default"'
}

# apiserver_start T0: etcd, the API server and the controller manager, ready (T0: when start began, for its log).
apiserver_start() {
  local t0=$1
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
  # The default ServiceAccount's token Secret needs both the ServiceAccount and the token controller.
  wait_until "token Secret of ServiceAccount default/default" controller-manager default_sa_token_exists
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
