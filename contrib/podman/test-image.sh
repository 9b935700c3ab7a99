#!/usr/bin/env bash
# Builds the small local image that coop's container tests run (localhost/coop-bb:1) from the
# busybox-static package's binary, since no registry is reachable from where they run:
#   apt-get install -y podman busybox-static && contrib/podman/test-image.sh
# An operator can check a node's podman the same way: coop submit --container localhost/coop-bb:1 -- id
set -euo pipefail
image="${1:-localhost/coop-bb:1}"
busybox=/bin/busybox
[ -x "$busybox" ] || { echo "no $busybox: apt-get install busybox-static" >&2; exit 1; }
root="$(mktemp -d)"
trap 'rm -rf "$root"' EXIT
mkdir -p "$root/bin" "$root/etc" "$root/tmp" "$root/proc" "$root/sys" "$root/dev"
cp "$busybox" "$root/bin/busybox"
for applet in $("$root/bin/busybox" --list); do
    [ "$applet" = busybox ] || ln -s busybox "$root/bin/$applet"
done
echo 'root:x:0:0:root:/:/bin/sh' > "$root/etc/passwd"
echo 'root:x:0:' > "$root/etc/group"
chmod 1777 "$root/tmp"
tar -C "$root" -cf "$root.tar" .
podman import --change 'ENV PATH=/bin' "$root.tar" "$image" >/dev/null
rm -f "$root.tar"
echo "imported $image"
