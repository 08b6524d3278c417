# shellcheck shell=bash
# What every part of test-cluster.sh uses: messages, packages, the Debian mirror, the cluster's processes, ports,
# mounts. Sourced by test-cluster.sh, which sets the settings (DIR, START_TIMEOUT, ...).

log() { printf 'test-cluster: %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

as_root() { if [[ $EUID -eq 0 ]]; then "$@"; else sudo "$@"; fi; }

# Runs a chatty command (openssl prints key generation progress); shows its output only on failure.
quiet() {
  local out
  out=$("$@" 2>&1) || { printf '%s\n' "$out" >&2; return 1; }
}

# run_logged LOG MESSAGE COMMAND...: for the long ones (debootstrap, apt in a chroot), whose whole output is too much
# even on failure: appends it to LOG, and on failure shows LOG's tail and dies with MESSAGE.
run_logged() {
  local logfile=$1 message=$2; shift 2
  "$@" >>"$logfile" 2>&1 || { tail -20 "$logfile" >&2; die "$message"; }
}

elapsed() { local ms=$((($(date +%s%N) - $1) / 1000000)); printf '%d.%03ds' $((ms / 1000)) $((ms % 1000)); }

# ---- packages: "check:package" pairs; the check is a command name or an absolute path

have() { if [[ $1 == /* ]]; then [[ -e $1 ]]; else command -v "$1" >/dev/null; fi; }

missing_packages() {
  local pair
  for pair in "$@"; do have "${pair%%:*}" || printf '%s\n' "${pair#*:}"; done
}

# install_missing UPDATE PAIR...: installs the packages whose check fails, with at most one apt-get update (and one
# even when nothing is missing if UPDATE is yes: a new source was added).
install_missing() {
  local update=$1; shift
  local -a pkgs
  mapfile -t pkgs < <(missing_packages "$@")
  ((${#pkgs[@]})) || [[ $update == yes ]] || return 0
  as_root apt-get update -qq
  if ((${#pkgs[@]})); then
    log "installing ${pkgs[*]}"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${pkgs[@]}" >/dev/null
  fi
}

# require HINT PAIR...: dies, naming the first missing check and HINT, unless every check passes.
require() {
  local hint=$1 pair; shift
  for pair in "$@"; do have "${pair%%:*}" || die "${pair%%:*} not found: $hint"; done
}

# The mirror this machine's apt already uses: the first non-security archive, deb822 or one-line format. No
# fallback to a named host: without either, the build stops and says which variable to set.
debian_mirror() {
  if [[ -n $DEBIAN_MIRROR ]]; then echo "$DEBIAN_MIRROR"; return; fi
  local found
  # `|| true`: either format may be absent, which sed reports as an error.
  found=$( { sed -n 's/^URIs: *//p' /etc/apt/sources.list.d/*.sources || true
             sed -n 's/^deb \(\[[^]]*\] \)\{0,1\}\([^ ]*\) .*/\2/p' /etc/apt/sources.list /etc/apt/sources.list.d/*.list || true
           } 2>/dev/null | tr ' ' '\n' | awk 'NF && !/-security/ && !f { print; f = 1 }')
  [[ -n $found ]] || die "apt on this machine names no Debian archive (/etc/apt/sources.list, sources.list.d): set PLAYGROUND_DEBIAN_MIRROR to a Debian mirror URL"
  echo "$found"
}

# ---- processes

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

# launch NAME COMMAND...: starts a component of the cluster, logging to $DIR/logs/NAME.log; start's checks watch it
# from then on (STARTED).
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
  STARTED+=("$name")
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

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# Unmounts everything at or below a directory, deepest first (none of our paths has a space, which
# mountinfo would escape).
unmount_under() {
  local root=${1%/} m
  while read -r m; do
    umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true
  done < <(awk -v r="$root" '$5 == r || index($5, r "/") == 1 { print $5 }' /proc/self/mountinfo | sort -r)
}
