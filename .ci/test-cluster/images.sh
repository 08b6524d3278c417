# shellcheck shell=bash
# The node's images, from Debian packages, packed as OCI archives into $IMAGES, no registry: pause, MariaDB, and a
# replica of sqlflow/sqlflow:mysql. Sourced by test-cluster.sh (after build.sh: pause comes from its source package).

IMAGES=$CACHE/images
readonly MARIADB_IMAGE=localhost/sqlflow-playground-test/mariadb:10.11
# A replica of sqlflow/sqlflow:mysql (see build_replica): what the playground's default entrypoint runs against here.
readonly REPLICA_IMAGE=localhost/sqlflow-playground-test/sqlflow-mysql-replica:10.11
readonly REPLICA_DIR=$SCRIPT_DIR/sqlflow-mysql-replica
readonly PAUSE_IMAGE=localhost/sqlflow-playground-test/pause:3.4
# shellcheck disable=SC2034 # node.sh's build_node installs them
readonly IMAGE_NEEDS=(debootstrap:debootstrap gcc:gcc /usr/lib/x86_64-linux-gnu/libc.a:libc6-dev)
readonly IN_CHROOT=(env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin DEBIAN_FRONTEND=noninteractive)
readonly IMAGE_PATH=PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

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

# slim_rootfs ROOTFS [PATH...]: drops what an image needs no copy of (apt's archives and lists, documentation, the
# database files and logs the package installation made, the no-services policy), and PATHs.
slim_rootfs() {
  local r=$1; shift
  chroot "$r" apt-get clean
  rm -rf "$r/var/lib/apt/lists/"* "$r/usr/share/doc/"* "$r/usr/share/man/"* "$r/var/lib/mysql/"* \
    "$r/usr/sbin/policy-rc.d" "$r/var/log/"*.log "$@"
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
  [[ -f $orig ]] || fetch_source
  tar -xzf "$orig" -C "$work/pause" --wildcards --strip-components=4 '*/build/pause/linux/pause.c'
  gcc -Os -static -o "$work/pause/pause" "$work/pause/pause.c"
  strip "$work/pause/pause"
  rm "$work/pause/pause.c"
  oci_archive "$work/pause" "$PAUSE_IMAGE" "$IMAGES/pause.oci.tar" '["/pause"]' '[]' '{}'

  log "building the MariaDB image and the replica: debootstrap bookworm from $mirror, then mariadb-server (a few minutes)"
  run_logged "$work/debootstrap.log" "debootstrap failed" \
    debootstrap --variant=minbase bookworm "$work/rootfs" "$mirror"
  # No service starts inside the chroot.
  printf '#!/bin/sh\nexit 101\n' >"$work/rootfs/usr/sbin/policy-rc.d"
  chmod +x "$work/rootfs/usr/sbin/policy-rc.d"
  run_logged "$work/apt.log" "installing mariadb-server in the image failed" \
    chroot "$work/rootfs" "${IN_CHROOT[@]}" apt-get install -y -q --no-install-recommends mariadb-server mariadb-client
  # The replica starts as a copy, before apt's lists go: it installs one more package.
  cp -a "$work/rootfs" "$work/replica"
  local version
  # shellcheck disable=SC2016
  version=$(chroot "$work/rootfs" dpkg-query -W -f='${Version}' mariadb-server)
  slim_rootfs "$work/rootfs"
  install -m 0755 "$SCRIPT_DIR/mariadb-image/docker-entrypoint.sh" "$work/rootfs/usr/local/bin/docker-entrypoint.sh"
  # What the entrypoint and the playground's readiness probe run.
  local tool
  for tool in /bin/sh /usr/bin/mysql /usr/sbin/mariadbd /usr/bin/mariadb-install-db; do
    [[ -x $work/rootfs$tool ]] || die "the MariaDB image lacks $tool"
  done
  oci_archive "$work/rootfs" "$MARIADB_IMAGE" "$IMAGES/mariadb.oci.tar" '["/usr/local/bin/docker-entrypoint.sh"]' \
    "[\"$IMAGE_PATH\",\"LANG=C.UTF-8\"]" '{"3306/tcp":{}}'
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
  run_logged "$r.apt.log" "installing busybox in the replica failed" \
    chroot "$r" "${IN_CHROOT[@]}" apt-get install -y -q --no-install-recommends busybox
  run_logged "$r.apt.log" "removing bash from the replica failed" \
    chroot "$r" "${IN_CHROOT[@]}" dpkg --purge --force-remove-essential --force-depends bash
  # dash provides /bin/sh, and its own removal scripts need a /bin/sh: dpkg cannot purge it, so its binary goes by
  # hand and /bin/sh becomes BusyBox.
  rm -f "$r/bin/dash"
  ln -sfn busybox "$r/bin/sh"
  slim_rootfs "$r" "$r/etc/mysql" "$r/run/mysqld"
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
    "[\"$IMAGE_PATH\",\"MYSQL_PORT=3306\"]" '{"3306/tcp":{}}' '["/start.bash"]' '{"/var/lib/mysql":{}}'
}
