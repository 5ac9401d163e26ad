#!/usr/bin/env bash
# Installs what GateGuard needs to build, test and run its demo on Debian 12:
# OpenCV 4.6 (libopencv-dev) with its model files (opencv-data), Mosquitto,
# pkg-config, fuse3 (the outbox's power-cut test mounts a FUSE file system),
# and the Go modules. Safe to run again: it installs only what is
# missing.
set -euo pipefail

need=()
pkg-config --exists opencv4 2>/dev/null || need+=(libopencv-dev)
[ -d /usr/share/opencv4/haarcascades ] || need+=(opencv-data)
command -v mosquitto >/dev/null 2>&1 || [ -x /usr/sbin/mosquitto ] || need+=(mosquitto)
command -v mosquitto_sub >/dev/null 2>&1 || need+=(mosquitto-clients)
command -v pkg-config >/dev/null 2>&1 || need+=(pkg-config)
command -v g++ >/dev/null 2>&1 || need+=(g++)
pkg-config --exists zxing 2>/dev/null || need+=(libzxing-dev) # vision/qr's second decoder
command -v fusermount3 >/dev/null 2>&1 || need+=(fuse3)      # gate/outbox's power-cut test (FUSE)
for extra in ${GATEGUARD_EXTRA_PACKAGES:-}; do
  dpkg -s "$extra" >/dev/null 2>&1 || need+=("$extra")
done

if [ ${#need[@]} -gt 0 ]; then
  echo "deps: installing ${need[*]}"
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${need[@]}"
fi

go mod download
echo "deps: ok (OpenCV $(pkg-config --modversion opencv4), $(/usr/sbin/mosquitto -h 2>/dev/null | head -1 || true))"
