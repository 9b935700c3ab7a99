#!/bin/sh
# Builds the Debian package coop_VERSION_all.deb from the shaded jar; bench/pom.xml runs it in
# the package phase. Without dpkg-deb it says so and builds nothing, so that the jar still builds
# where there is no dpkg.
#   build.sh JAR VERSION OUT_DIR JAVA
set -eu
jar=$1
version=$2
out=$3
java=$4

if ! command -v dpkg-deb >/dev/null 2>&1; then
  echo "coop Debian package: skipped, dpkg-deb is not installed (on Debian or Ubuntu: apt-get install dpkg)"
  exit 0
fi
here=$(cd "$(dirname "$0")" && pwd)

# Debian sorts ~ before everything, so 0.1.0~SNAPSHOT comes before the release 0.1.0.
deb_version=$(printf '%s' "$version" | tr - '~')
stage=$out/deb
rm -rf "$stage"
for d in DEBIAN usr/bin usr/share/coop usr/share/doc/coop etc/coop lib/systemd/system; do
  install -d -m 0755 "$stage/$d"
done
install -m 0644 "$jar" "$stage/usr/share/coop/coop.jar"
install -m 0755 "$here/coop" "$stage/usr/bin/coop"
install -m 0644 "$here/agent.conf" "$stage/etc/coop/agent.conf"
install -m 0644 "$here/../../LICENSE" "$stage/usr/share/doc/coop/copyright"
# The unit from the same code as `coop agent --print-systemd-unit` (coop.cli.SystemdUnit).
"$java" -cp "$jar" coop.cli.SystemdUnit >"$stage/lib/systemd/system/coop-agent.service"
chmod 0644 "$stage/lib/systemd/system/coop-agent.service"
for script in postinst prerm postrm; do
  install -m 0755 "$here/$script" "$stage/DEBIAN/$script"
done
printf '/etc/coop/agent.conf\n' >"$stage/DEBIAN/conffiles"
chmod 0644 "$stage/DEBIAN/conffiles"
size=$(du -sk --exclude=DEBIAN "$stage" | cut -f1)
cat >"$stage/DEBIAN/control" <<CONTROL
Package: coop
Version: $deb_version
Architecture: all
Section: admin
Priority: optional
Maintainer: coop maintainers <coop@localhost>
Installed-Size: $size
Depends: default-jre-headless (>= 2:1.17) | java17-runtime-headless, adduser
Recommends: runc
Description: cooperative GPU scheduler: command and node agent
 coop shares GPU machines between the accounts of a cooperative, under the
 policy its members vote. This package installs the coop command and the
 coop-agent service, which lends this machine's GPUs to the cooperative's
 scheduler; configure it in /etc/coop/agent.conf.
CONTROL
chmod 0644 "$stage/DEBIAN/control"
# gzip rather than dpkg-deb's default xz: the jar is compressed already, and xz takes some
# ten times longer to save another 2 %.
dpkg-deb --root-owner-group -Zgzip --build "$stage" "$out/coop_${deb_version}_all.deb"
rm -rf "$stage"
