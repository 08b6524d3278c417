# shellcheck shell=bash
# The Kubernetes binaries, built once into $BIN from Debian's source package. Sourced by test-cluster.sh.

# Pinned: a mirror only carries bookworm's current revision. If a later update
# replaces it, point PLAYGROUND_DEBIAN_MIRROR at a snapshot archive of Debian from before that update.
readonly DEB_VERSION=1.20.5+really1.20.2-1.1+deb12u1
readonly SRC_TREE=kubernetes-1.20.5+really1.20.2
# One `make` builds every binary either tier needs, so a cache is always of one build, one fix.
# No kube-proxy and no kubectl: no test needs a Service's virtual IP, and the script talks to the API with curl.
readonly BINARIES=(kube-apiserver kube-controller-manager kubelet kube-scheduler)

readonly RUNTIME_NEEDS=(etcd:etcd-server openssl:openssl curl:curl)
# Debian's Go (1.19) is used on purpose, whatever `go` is first on PATH: newer Go releases
# do not build Kubernetes 1.20. rsync is needed by the code generators `make` runs first.
readonly REFLECT2=/usr/share/gocode/src/github.com/modern-go/reflect2
readonly BUILD_NEEDS=(/usr/lib/go/bin/go:golang-go make:make dpkg-source:dpkg-dev rsync:rsync
  /etc/ssl/certs/ca-certificates.crt:ca-certificates "$REFLECT2/reflect2.go:golang-github-modern-go-reflect2-dev")

# Usable only if built by this script's build (BUILD-INFO records the reflect2 fix and what was built):
# binaries made some other way are rebuilt, all of them in one make.
have_binaries() {
  local b
  [[ -f $BIN/BUILD-INFO ]] && grep -q '^reflect2 1\.0\.2' "$BIN/BUILD-INFO" || return 1
  for b in "${BINARIES[@]}"; do
    [[ -x $BIN/$b ]] && grep -qE "^binaries( .*)? $b( |\$)" "$BIN/BUILD-INFO" || return 1
  done
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

# The source package's files into $CACHE/src (the pause image is compiled from it too).
fetch_source() { (cd "$CACHE/src" && apt-get source --download-only "kubernetes=$DEB_VERSION"); }

build_binaries() {
  if have_binaries; then
    # Cheap path (every CI run with a warm cache): no apt at all unless something is missing.
    install_missing no "${RUNTIME_NEEDS[@]}"
    log "reusing $BIN ($("$BIN/kube-apiserver" --version))"
    return
  fi

  mkdir -p "$BIN" "$CACHE/src"
  # Two concurrent builds would share the source dir and each burn minutes of CPU.
  exec {lock}>"$CACHE/.build.lock"
  flock "$lock"
  if have_binaries; then
    log "another build just finished: reusing $BIN"
    return
  fi

  APT_UPDATE=no
  add_deb_src
  install_missing "$APT_UPDATE" "${RUNTIME_NEEDS[@]}" "${BUILD_NEEDS[@]}"

  local src=$CACHE/src
  log "fetching kubernetes=$DEB_VERSION source into $src"
  fetch_source
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
}
