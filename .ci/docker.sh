#!/usr/bin/env bash
# Makes sure the Docker test environment answers, starting what is missing; fast when all is up.
#   - Debian's docker.io, docker-registry, openssh-server (for the ssh:// engine tests), debootstrap
#   - dockerd (overlay2, no iptables, no bridge: containers use --network host), log in $DOCKERD_LOG
#   - a registry on 127.0.0.1:5000 (Debian's distribution registry), data in $REGISTRY_DIR
#   - the base image local/python3:bookworm (Debian minbase + python3 + python3-venv; no Docker Hub
#     here), built once with debootstrap and `docker import`, reused while it exists.
# tests/docker_env.py holds the pytest fixtures that use all of this.
set -euo pipefail

DOCKERD_LOG=${DOCKERD_LOG:-/var/log/flowyml-ci-dockerd.log}
REGISTRY_DIR=${REGISTRY_DIR:-/var/lib/flowyml-ci-registry}
REGISTRY_LOG=${REGISTRY_LOG:-/var/log/flowyml-ci-registry.log}
BASE_IMAGE=local/python3:bookworm

need_apt=()
command -v dockerd >/dev/null 2>&1 || need_apt+=(docker.io)
command -v docker-registry >/dev/null 2>&1 || need_apt+=(docker-registry)
[ -x /usr/sbin/sshd ] || need_apt+=(openssh-server)
command -v debootstrap >/dev/null 2>&1 || [ -x /usr/sbin/debootstrap ] || need_apt+=(debootstrap)
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "installing ${need_apt[*]}"
  flock /tmp/apt.lock apt-get update -qq
  DEBIAN_FRONTEND=noninteractive flock /tmp/apt.lock apt-get install -y -qq "${need_apt[@]}"
fi

wait_for() {  # wait_for NAME SECONDS CMD...: retry CMD every 0.5 s
  local name=$1 seconds=$2; shift 2
  for _ in $(seq 1 $((seconds * 2))); do
    if "$@" >/dev/null 2>&1; then echo "$name is up"; return 0; fi
    sleep 0.5
  done
  echo "$name did not come up" >&2
  return 1
}

if ! docker info >/dev/null 2>&1; then
  echo "starting dockerd (log: $DOCKERD_LOG)"
  mkdir -p "$(dirname "$DOCKERD_LOG")"
  # A dockerd killed with the previous session leaves its pid file behind.
  if [ -f /var/run/docker.pid ] && ! kill -0 "$(cat /var/run/docker.pid)" 2>/dev/null; then
    rm -f /var/run/docker.pid
  fi
  setsid nohup dockerd --storage-driver=overlay2 --iptables=false --bridge=none \
    >>"$DOCKERD_LOG" 2>&1 </dev/null &
  if ! wait_for dockerd 60 docker info; then tail -n 20 "$DOCKERD_LOG" >&2; exit 1; fi
fi

registry_up() { curl -fsS -m 2 -o /dev/null http://127.0.0.1:5000/v2/ 2>/dev/null; }
if ! registry_up; then
  echo "starting the registry on 127.0.0.1:5000 (data: $REGISTRY_DIR, log: $REGISTRY_LOG)"
  mkdir -p "$REGISTRY_DIR"
  cat >"$REGISTRY_DIR/config.yml" <<EOF
version: 0.1
log:
  level: warn
storage:
  filesystem:
    rootdirectory: $REGISTRY_DIR/data
  delete:
    enabled: true
http:
  addr: 127.0.0.1:5000
EOF
  setsid nohup docker-registry serve "$REGISTRY_DIR/config.yml" >>"$REGISTRY_LOG" 2>&1 </dev/null &
  if ! wait_for registry 30 registry_up; then tail -n 20 "$REGISTRY_LOG" >&2; exit 1; fi
fi

debian_mirror() {  # the first Debian archive URI apt is configured with (deb822 or one-line form)
  local uri
  uri=$(grep -hsE '^URIs:' /etc/apt/sources.list.d/*.sources | awk '{print $2}' \
    | grep -v -- '-security' | head -n1 || true)
  if [ -z "$uri" ]; then
    uri=$(grep -hsE '^deb ' /etc/apt/sources.list /etc/apt/sources.list.d/*.list \
      | grep -v -- '-security' | sed -E 's/^deb (\[[^]]*\] )?//' | awk '{print $1}' | head -n1 || true)
  fi
  [ -n "$uri" ] || { echo "no Debian mirror in /etc/apt/sources.list(.d). To fix: configure apt." >&2; return 1; }
  echo "$uri"
}

if ! docker image inspect "$BASE_IMAGE" >/dev/null 2>&1; then
  mirror=$(debian_mirror)
  root=$(mktemp -d /var/tmp/flowyml-debootstrap.XXXXXX)
  trap 'rm -rf "$root"' EXIT
  echo "building $BASE_IMAGE with debootstrap from $mirror (about a minute)"
  debootstrap --variant=minbase --include=python3,python3-venv bookworm "$root" "$mirror" \
    >"$root.log" 2>&1 || { tail -n 20 "$root.log" >&2; exit 1; }
  rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/*
  tar -C "$root" -c . | docker import - "$BASE_IMAGE" >/dev/null
  rm -f "$root.log"
  echo "$BASE_IMAGE built"
fi
