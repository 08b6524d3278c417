#!/usr/bin/env bash
# Builds a base image for Jib from Debian packages alone: no registry, no Docker daemon.
#
#   functions/src/jib/build-base-image.sh [OUTPUT.tar]
#   ./mvnw -B -pl functions compile jib:buildTar -Djib.from.image=tar://$PWD/OUTPUT.tar
#
# The result is Debian 12 (bookworm) with openjdk-17-jre-headless (the same Debian JRE that
# gcr.io/distroless/java17-debian12, the pom's default base, is made of) plus a "nonroot" user
# 65532, packed as a one-layer tarball in the `docker save` format, which Jib reads through a
# tar:// base image reference (and `docker load` reads too). About 275 MB uncompressed, about
# 100 MB once Jib compresses the layer; building it takes minutes, mostly downloading packages.
#
# Needs: mmdebstrap (Debian package), root (mmdebstrap can also use user namespaces; untested
# here), and a Debian mirror with its security archive: by default the ones this machine's apt uses
# (/etc/apt/sources.list and sources.list.d, deb822 or one-line), else DEBIAN_MIRROR and
# DEBIAN_SECURITY_MIRROR; without either the script stops and names the variable to set.
# SOURCE_DATE_EPOCH fixes the timestamps, so that the same mirror state gives the same tarball.
#
# Size: no apt, no documentation except copyright files, no man pages, no translations. The
# Essential:yes set (a shell, coreutils, dpkg) stays: the JRE's maintainer scripts need it, and a
# shell in the image helps debugging (`kubectl debug` is the alternative for a distroless base).
set -euo pipefail

out=$(realpath -m "${1:-functions/target/base-image/debian12-jre17.tar}")
suite=bookworm

# "URI suite" of every archive this machine's apt uses, deb822 (.sources) and one-line (.list) format.
apt_archives() {
  local f
  for f in /etc/apt/sources.list.d/*.sources; do
    [[ -f $f ]] || continue
    awk 'BEGIN { RS = ""; FS = "\n" }
         { t = u = s = ""
           for (i = 1; i <= NF; i++) {
             if ($i ~ /^Types:/) t = $i; if ($i ~ /^URIs:/) u = $i; if ($i ~ /^Suites:/) s = $i }
           if (t !~ /(^|[ \t])deb([ \t]|$)/) next
           sub(/^URIs:[ \t]*/, "", u); sub(/^Suites:[ \t]*/, "", s)
           n = split(u, us, /[ \t]+/); m = split(s, ss, /[ \t]+/)
           for (a = 1; a <= n; a++) for (b = 1; b <= m; b++) print us[a], ss[b] }' "$f"
  done
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [[ -f $f ]] || continue
    sed -n 's/^deb \(\[[^]]*\] \)\{0,1\}\([^ ]*\) \([^ ]*\).*/\2 \3/p' "$f"
  done
}

archives=$(apt_archives)
mirror=${DEBIAN_MIRROR:-$(awk '$2 !~ /-security$/ { print $1; exit }' <<<"$archives")}
security=${DEBIAN_SECURITY_MIRROR:-$(awk '$2 ~ /-security$/ { print $1; exit }' <<<"$archives")}
[[ -n $mirror ]] || { echo "apt on this machine names no Debian archive: set DEBIAN_MIRROR to a Debian mirror URL" >&2; exit 1; }
[[ -n $security ]] || { echo "apt on this machine names no Debian security archive: set DEBIAN_SECURITY_MIRROR to its URL" >&2; exit 1; }
tag=${BASE_IMAGE_TAG:-sqlflow-playground-base:debian12-jre17}
arch=$(dpkg --print-architecture)

command -v mmdebstrap >/dev/null || { echo "mmdebstrap is missing: apt-get install mmdebstrap" >&2; exit 1; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
started=$(date +%s)

# One root file system layer. /dev stays empty: the container runtime provides it, and device
# nodes in a layer break unprivileged unpacking. The JRE's update-alternatives call needs
# /usr/share/man/man1 to exist even though no man page is installed. The merged-usr hook lays out
# /bin -> usr/bin directly, so that the usrmerge converter and the Perl it needs (50 MB) stay out.
mmdebstrap --variant=essential --architectures="$arch" \
  --hook-dir=/usr/share/mmdebstrap/hooks/merged-usr \
  --include=openjdk-17-jre-headless \
  --dpkgopt='path-exclude=/usr/share/doc/*' \
  --dpkgopt='path-include=/usr/share/doc/*/copyright' \
  --dpkgopt='path-exclude=/usr/share/man/*' \
  --dpkgopt='path-exclude=/usr/share/info/*' \
  --dpkgopt='path-exclude=/usr/share/locale/*' \
  --dpkgopt='path-exclude=/usr/share/lintian/*' \
  --essential-hook='mkdir -p "$1/usr/share/man/man1"' \
  --customize-hook='echo "nonroot:x:65532:65532:nonroot:/home/nonroot:/usr/sbin/nologin" >> "$1/etc/passwd"' \
  --customize-hook='echo "nonroot:x:65532:" >> "$1/etc/group"' \
  --customize-hook='install -d -o 65532 -g 65532 -m 0750 "$1/home/nonroot"' \
  --customize-hook='rm -f "$1/etc/resolv.conf" "$1/etc/hostname" "$1"/var/cache/debconf/*-old "$1"/var/lib/dpkg/*-old' \
  --customize-hook='find "$1/var/log" -type f -delete' \
  --skip=output/dev \
  "$suite" "$work/layer.tar" \
  "deb $mirror $suite main" \
  "deb $mirror $suite-updates main" \
  "deb $security $suite-security main"

# A docker-save tarball: manifest.json, the image config (named by its digest), one layer.
layer_sha=$(sha256sum "$work/layer.tar" | cut -d' ' -f1)
mkdir "$work/$layer_sha"
mv "$work/layer.tar" "$work/$layer_sha/layer.tar"
created=$(date -u -d "@${SOURCE_DATE_EPOCH:-$(date +%s)}" +%Y-%m-%dT%H:%M:%SZ)
java_home=/usr/lib/jvm/java-17-openjdk-$arch
cat > "$work/config.json" <<JSON
{"architecture":"$arch","os":"linux","created":"$created",
 "config":{"Env":["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin","JAVA_HOME=$java_home","LANG=C.UTF-8"],
           "User":"65532:65532","WorkingDir":"/home/nonroot","Entrypoint":["$java_home/bin/java"],"Cmd":["-version"]},
 "rootfs":{"type":"layers","diff_ids":["sha256:$layer_sha"]},
 "history":[{"created":"$created","created_by":"build-base-image.sh: mmdebstrap --variant=essential $suite openjdk-17-jre-headless"}]}
JSON
config_sha=$(sha256sum "$work/config.json" | cut -d' ' -f1)
mv "$work/config.json" "$work/$config_sha.json"
printf '[{"Config":"%s.json","RepoTags":["%s"],"Layers":["%s/layer.tar"]}]\n' \
  "$config_sha" "$tag" "$layer_sha" > "$work/manifest.json"

mkdir -p "$(dirname "$out")"
tar --sort=name --owner=0 --group=0 --numeric-owner --mtime="@${SOURCE_DATE_EPOCH:-0}" \
  -C "$work" -cf "$out.partial" manifest.json "$config_sha.json" "$layer_sha/layer.tar"
mv "$out.partial" "$out"

echo "base image $tag ($arch): $out"
echo "  size $(du -h "$out" | cut -f1), built in $(( $(date +%s) - started )) s"
echo "  use: -Djib.from.image=tar://$out"
