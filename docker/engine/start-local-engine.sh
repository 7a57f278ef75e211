#!/usr/bin/env bash
# Starts a Docker engine on a machine that has docker.io installed but no engine running (CI, these dev
# machines): no iptables, vfs storage, the flags verified in ../shared/field-notes.md. Prints the DOCKER_HOST
# to use. Does nothing when an engine already answers on the socket.
#   docker/engine/start-local-engine.sh [socket]     (default /var/run/docker.sock)
set -euo pipefail

socket="${1:-/var/run/docker.sock}"
data_root="${KOMBIFY_DOCKER_DATA_ROOT:-/var/lib/kombify-docker}"
log_file="${KOMBIFY_DOCKER_LOG:-/var/log/kombify-dockerd.log}"

if docker -H "unix://$socket" info >/dev/null 2>&1; then
  echo "unix://$socket"
  exit 0
fi
if ! command -v dockerd >/dev/null; then
  echo "start-local-engine: dockerd is missing; install it with: apt-get install -y docker.io" >&2
  exit 1
fi

# Without iptables Docker installs no isolation between bridge networks; what keeps one tenant's network
# from reaching another's is then the kernel not forwarding between them.
sysctl -qw net.ipv4.ip_forward=0 || echo "start-local-engine: could not turn IP forwarding off; tenant networks may reach each other" >&2

mkdir -p "$data_root" "$(dirname "$log_file")"
# One /24 per tenant network from a private /16: room for 256 tenants' networks instead of Docker's ~30.
setsid dockerd \
  --data-root "$data_root" \
  --iptables=false --ip6tables=false --ip-forward=false --bridge=none \
  --storage-driver=vfs \
  --default-address-pool base=10.213.0.0/16,size=24 \
  -H "unix://$socket" \
  --pidfile "$data_root.pid" \
  >"$log_file" 2>&1 </dev/null &

for _ in $(seq 1 60); do
  if docker -H "unix://$socket" info >/dev/null 2>&1; then
    echo "unix://$socket"
    exit 0
  fi
  sleep 0.5
done
echo "start-local-engine: dockerd did not answer on $socket within 30 s; see $log_file" >&2
exit 1
