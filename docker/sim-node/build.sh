#!/usr/bin/env bash
# Builds the image KombiSim runs as a simulated node: BusyBox for a shell and tools, Dropbear as its SSH server,
# both from this machine's Debian packages (busybox-static, dropbear-bin). No registry is needed: the root
# filesystem is assembled here and imported.
#   docker/sim-node/build.sh [image]      (default kombify/sim-node:1; DOCKER_HOST picks the engine)
set -euo pipefail

image="${1:-kombify/sim-node:1}"
busybox_bin=/bin/busybox
dropbear_bin=/usr/sbin/dropbear

for tool in "$busybox_bin" "$dropbear_bin"; do
  if [[ ! -x "$tool" ]]; then
    echo "sim-node: $tool is missing; install it with: apt-get install -y busybox-static dropbear-bin" >&2
    exit 1
  fi
done
if ! "$busybox_bin" --list >/dev/null 2>&1 || ldd "$busybox_bin" >/dev/null 2>&1; then
  echo "sim-node: $busybox_bin is not a static multi-call BusyBox; install it with: apt-get install -y busybox-static" >&2
  exit 1
fi

root="$(mktemp -d)"
trap 'rm -rf "$root"' EXIT
mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,etc/dropbear,root/.ssh,tmp,var/log,opt,dev,proc,sys,run}
chmod 1777 "$root/tmp"
chmod 700 "$root/root" "$root/root/.ssh"

cp "$busybox_bin" "$root/bin/busybox"
for applet in $("$busybox_bin" --list); do
  [[ "$applet" == busybox || -e "$root/bin/$applet" ]] || ln -s busybox "$root/bin/$applet"
done

cp "$dropbear_bin" "$root/usr/sbin/dropbear"
# Dropbear is linked dynamically: bring the exact libraries (and loader) it was built against.
for library in $(ldd "$dropbear_bin" | grep -o '/[^ ]*'); do
  cp --parents -L "$library" "$root"
done

printf 'root:x:0:0:root:/root:/bin/sh\n' >"$root/etc/passwd"
printf 'root::0:0:99999:7:::\n' >"$root/etc/shadow"
chmod 600 "$root/etc/shadow"
printf 'root:x:0:\n' >"$root/etc/group"
printf '/bin/sh\n' >"$root/etc/shells"
printf 'kombify-sim-node\n' >"$root/etc/hostname"

# -R: host keys made at first start, so every node has its own; -s: keys only, no passwords.
tar -C "$root" -c . | docker import \
  --change 'CMD ["/usr/sbin/dropbear", "-F", "-E", "-R", "-s", "-p", "22"]' \
  --change 'EXPOSE 22/tcp' \
  --change 'LABEL io.kombify.sim-node="1"' \
  - "$image" >/dev/null
echo "sim-node: built $image"
