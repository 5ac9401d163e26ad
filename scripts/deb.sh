#!/usr/bin/env bash
# deb.sh ARCH BINARY OUTDIR [VERSION]: packages a gateguard binary as a
# Debian package with dpkg-deb, for Debian 12 / Raspberry Pi OS bookworm:
#   /usr/bin/gateguard
#   /lib/systemd/system/gateguard.service      (configs/gateguard.service)
#   /etc/gateguard/gateguard.yaml              (configs/raspberrypi.yaml; a conffile:
#                                               dpkg keeps local changes across upgrades)
#   /usr/share/doc/gateguard/                  install.md, examples/ (demo, mosquitto)
#   /var/lib/gateguard/                        the state folder (owned by gateguard)
# postinst creates the system user gateguard and adds it to the device
# groups gpio, i2c, spi and video (creating those that are missing). The
# Depends line maps the binary's NEEDED libraries to bookworm's packages.
# Writes OUTDIR/gateguard_VERSION_ARCH.deb and prints its path. Run through
# `make deb` (amd64, arm64, armhf).
set -euo pipefail
cd "$(dirname "$0")/.."

arch=${1:?usage: deb.sh amd64|arm64|armhf BINARY OUTDIR [VERSION]}
bin=${2:?usage: deb.sh ARCH BINARY OUTDIR [VERSION]}
out=${3:?usage: deb.sh ARCH BINARY OUTDIR [VERSION]}
version=${4:-${VERSION:-$(git describe --tags --always --dirty 2>/dev/null || echo dev)}}
case "$arch" in amd64|arm64|armhf) ;; *) echo "deb: unknown architecture $arch (want amd64, arm64 or armhf)" >&2; exit 2 ;; esac
[ -x "$bin" ] || { echo "deb: $bin is not an executable" >&2; exit 1; }
# The binary must be for the package's architecture.
machine=$(readelf -h "$bin" 2>/dev/null | sed -n 's/^ *Machine: *//p')
case "$arch:$machine" in
  "amd64:Advanced Micro Devices X86-64"|arm64:AArch64|armhf:ARM) ;;
  *) echo "deb: $bin is built for '${machine:-unknown}', not $arch" >&2; exit 1 ;;
esac
# A release version (1.2.3) is kept; anything else (a bare commit id, "dev")
# becomes 0~git<it>, which sorts below every release.
version=${version#v}
[[ "$version" =~ ^[0-9]+\.[0-9] ]] || version="0~git${version}"
version=${version//-/+}

# depends maps each NEEDED soname of the binary to its bookworm package.
depends() {
  local so pkgs=()
  for so in $(readelf -d "$bin" 2>/dev/null | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p'); do
    case "$so" in
      libopencv_wechat_qrcode.so.*|libopencv_face.so.*|libopencv_xfeatures2d.so.*) pkgs+=(libopencv-contrib406) ;;
      libopencv_*.so.406) so=${so#libopencv_}; so=${so%.so.406}; pkgs+=("libopencv-${so//_/-}406") ;;
      libZXing.so.2) pkgs+=(libzxing2) ;;
      libstdc++.so.6) pkgs+=(libstdc++6) ;;
      libgcc_s.so.1) pkgs+=(libgcc-s1) ;;
      libc.so.6|libm.so.6|libpthread.so.0|libdl.so.2|ld-linux*) pkgs+=(libc6) ;;
      *) echo "deb: no bookworm package known for $so (NEEDED by $bin)" >&2; return 1 ;;
    esac
  done
  # libopencv_videoio is not NEEDED: vision/videoio loads it with dlopen
  # when a real camera is opened (it brings imgcodecs with it).
  pkgs+=(adduser opencv-data libopencv-videoio406)
  printf '%s\n' "${pkgs[@]}" | sort -u | paste -sd, | sed 's/,/, /g'
}
deps=$(depends)

root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
chmod 0755 "$root"
install -D -m 0755 "$bin" "$root/usr/bin/gateguard"
install -D -m 0644 configs/gateguard.service "$root/lib/systemd/system/gateguard.service"
install -D -m 0640 configs/raspberrypi.yaml "$root/etc/gateguard/gateguard.yaml"
install -d -m 0750 "$root/var/lib/gateguard"
doc=$root/usr/share/doc/gateguard
install -d "$doc/examples"
[ -f docs/install.md ] && install -m 0644 docs/install.md "$doc/install.md"
install -m 0644 configs/demo.yaml configs/raspberrypi.yaml configs/mosquitto.conf configs/mosquitto-tls.conf \
  configs/mosquitto-acl.conf "$doc/examples/"
cp -r configs/demo "$doc/examples/demo"
chmod -R u=rwX,go=rX "$doc"

mkdir -p "$root/DEBIAN"
size=$(du -sk --exclude=DEBIAN "$root" | cut -f1)
cat > "$root/DEBIAN/control" <<EOF
Package: gateguard
Version: $version
Architecture: $arch
Maintainer: GateGuard maintainers <gateguard@localhost>
Installed-Size: $size
Depends: $deps
Section: misc
Priority: optional
Homepage: https://github.com/gateguard/gateguard
Description: edge gate controller: thermal screening, QR credentials, turnstile relay
 GateGuard reads a thermal camera and a face camera, verifies the QR
 credential a person shows, measures skin temperature, drives the turnstile
 relay over GPIO and reports every entry and fever alert to an MQTT broker.
 Run "gateguard selftest -c /etc/gateguard/gateguard.yaml" after wiring.
EOF
echo /etc/gateguard/gateguard.yaml > "$root/DEBIAN/conffiles"

cat > "$root/DEBIAN/postinst" <<'EOF'
#!/bin/sh
# gateguard postinst: the service user and its device groups.
set -e
if [ "$1" = configure ]; then
  if ! getent passwd gateguard >/dev/null; then
    adduser --system --group --home /var/lib/gateguard --no-create-home \
      --gecos "GateGuard gate controller" gateguard
  fi
  for g in gpio i2c spi video; do
    getent group "$g" >/dev/null || addgroup --system "$g"
    adduser gateguard "$g" >/dev/null
  done
  chown gateguard:gateguard /var/lib/gateguard
  chmod 0750 /var/lib/gateguard
  chgrp gateguard /etc/gateguard /etc/gateguard/gateguard.yaml
  chmod 0750 /etc/gateguard
  if [ -d /run/systemd/system ]; then
    systemctl daemon-reload || true
    if [ -n "$2" ]; then
      # An upgrade: restart a running daemon on the new binary.
      systemctl try-restart gateguard.service || true
    else
      echo "gateguard: edit /etc/gateguard/gateguard.yaml, run"
      echo "  gateguard selftest -c /etc/gateguard/gateguard.yaml"
      echo "then: systemctl enable --now gateguard"
    fi
  fi
fi
exit 0
EOF
cat > "$root/DEBIAN/prerm" <<'EOF'
#!/bin/sh
# gateguard prerm: stop the daemon before its removal (the relay goes to
# its safe state); an upgrade restarts it from postinst.
set -e
if [ "$1" = remove ] && [ -d /run/systemd/system ]; then
  systemctl stop gateguard.service || true
  systemctl disable gateguard.service || true
fi
exit 0
EOF
chmod 0755 "$root/DEBIAN/postinst" "$root/DEBIAN/prerm"

mkdir -p "$out"
deb="$out/gateguard_${version}_${arch}.deb"
dpkg-deb --root-owner-group -Zxz --build "$root" "$deb" >/dev/null
echo "$deb"
