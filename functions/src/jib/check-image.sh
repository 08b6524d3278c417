#!/usr/bin/env bash
# Checks an image tarball written by `jib:buildTar` (default functions/target/jib-image.tar) against
# what functions/pom.xml and knative/ rely on: a numeric non-root user, the JVM flags, the main
# class, the ports, PORT, and the application classes in the layers. Needs tar and jq.
#
#   functions/src/jib/check-image.sh [IMAGE.tar]
set -euo pipefail

image=${1:-functions/target/jib-image.tar}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
tar -xf "$image" -C "$work"

config="$work/$(jq -r '.[0].Config' "$work/manifest.json")"
failures=0
check() { # description, jq filter that must yield true
  if jq -e "$2" "$config" >/dev/null; then
    echo "ok   $1"
  else
    echo "FAIL $1"
    failures=$((failures + 1))
  fi
}

check "user is numeric and not root" '.config.User | test("^[1-9][0-9]*(:[0-9]+)?$")'
check "user is 65532:65532" '.config.User == "65532:65532"'
check "entrypoint starts java" '.config.Entrypoint[0] == "java"'
check "entrypoint runs org.sqlflow.playground.PlaygroundApplication" '.config.Entrypoint[-1] == "org.sqlflow.playground.PlaygroundApplication"'
for flag in -XX:MaxRAMPercentage=60 -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -XX:+ExitOnOutOfMemoryError; do
  check "entrypoint has $flag" ".config.Entrypoint | index([\"$flag\"]) != null"
done
check "no command arguments by default" '(.config.Cmd // []) == []'
check "ports 8080 and 8081 exposed" '.config.ExposedPorts | has("8080/tcp") and has("8081/tcp")'
check "env PORT=8080" '.config.Env | index(["PORT=8080"]) != null'
check "env MALLOC_ARENA_MAX=2" '.config.Env | index(["MALLOC_ARENA_MAX=2"]) != null'
check "env LANG=C.UTF-8" '.config.Env | index(["LANG=C.UTF-8"]) != null'
check "env has a PATH" '.config.Env | map(startswith("PATH=")) | any'
check "linux image" '.os == "linux"'

# The application's classes and libraries, somewhere in the layers.
: > "$work/files"
for layer in $(jq -r '.[0].Layers[]' "$work/manifest.json"); do
  tar -tzf "$work/$layer" >> "$work/files" 2>/dev/null || tar -tf "$work/$layer" >> "$work/files"
done
for path in app/classes/org/sqlflow/playground/PlaygroundApplication.class app/jib-classpath-file app/jib-main-class-file; do
  if grep -qx "\(\./\)\?$path" "$work/files"; then echo "ok   layer has /$path"; else echo "FAIL layer has /$path"; failures=$((failures + 1)); fi
done
if grep -q '^\(\./\)\?app/libs/spring-boot-[0-9].*\.jar$' "$work/files"; then echo "ok   layer has /app/libs/spring-boot-*.jar"; else echo "FAIL layer has /app/libs/spring-boot-*.jar"; failures=$((failures + 1)); fi

echo "image $(jq -r '.[0].RepoTags[0] // "(untagged)"' "$work/manifest.json"): $(du -h "$image" | cut -f1) as a tarball," \
  "$(jq '.[0].Layers | length' "$work/manifest.json") layers, user $(jq -r .config.User "$config")"
echo "entrypoint: $(jq -r '.config.Entrypoint | join(" ")' "$config")"
if [ "$failures" -gt 0 ]; then
  echo "$failures check(s) failed" >&2
  exit 1
fi
