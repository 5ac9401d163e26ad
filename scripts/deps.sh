#!/usr/bin/env bash
# Installs what GateGuard needs to build, test and run its demo on Debian 12:
# OpenCV 4.6 (libopencv-dev) with its model files (opencv-data), Mosquitto,
# pkg-config, fuse3 (the outbox's power-cut test mounts a FUSE file system),
# PostgreSQL (gatewatch's store tests start a throwaway server),
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
[ -f /usr/include/opencv4/opencv2/face.hpp ] || need+=(libopencv-contrib-dev) # vision/facerec's LBPH
command -v npm >/dev/null 2>&1 || need+=(npm) # fetches the face descriptor's weights
command -v fusermount3 >/dev/null 2>&1 || need+=(fuse3)      # gate/outbox's power-cut test (FUSE)
[ -x /usr/bin/chromium ] || need+=(chromium) # the browser tests (tests/browser, make test-display)
fc-list :lang=zh 2>/dev/null | grep -q . || need+=(fonts-noto-cjk) # the lane display in Chinese
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need+=(postgresql) # gatewatch's PostgreSQL store tests (pgtest)
command -v jq >/dev/null 2>&1 || need+=(jq) # make demo reads gatewatch's API
command -v curl >/dev/null 2>&1 || need+=(curl) # make demo
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

# The face descriptor's weights: @vladmandic/face-api at a pinned version
# (MIT), installed with npm into a cache outside the repository and checked
# against pinned SHA-256 sums; vision/facerec/convert refuses other files.
faceapi_version=1.7.15
faceapi_cache="${GATEGUARD_FACEAPI_CACHE:-$HOME/.cache/gateguard/face-api-$faceapi_version}"
faceapi_model="$faceapi_cache/node_modules/@vladmandic/face-api/model"
faceapi_sums="cbaffa501b0b9275a12b63357a6843e7e30c054e1c9151e1a5f879b26e32986b  face_recognition_model-weights_manifest.json
b413e420d6840b2775fba32008db6f3cddb07d485967fb42cfcf379c16a8c589  face_recognition_model.bin"
if ! (cd "$faceapi_model" 2>/dev/null && echo "$faceapi_sums" | sha256sum --quiet -c - >/dev/null 2>&1); then
  echo "deps: installing @vladmandic/face-api@$faceapi_version into $faceapi_cache"
  mkdir -p "$faceapi_cache"
  rm -rf "$faceapi_cache/node_modules/@vladmandic/face-api" # a damaged copy is fetched again
  npm install --prefix "$faceapi_cache" --no-audit --no-fund --ignore-scripts --no-save "@vladmandic/face-api@$faceapi_version" >/dev/null
  (cd "$faceapi_model" && echo "$faceapi_sums" | sha256sum --quiet -c -) || {
    echo "deps: face-api $faceapi_version model files do not match their pinned sha256" >&2; exit 1; }
fi
echo "deps: ok (OpenCV $(pkg-config --modversion opencv4), $(/usr/sbin/mosquitto -h 2>/dev/null | head -1 || true))"
