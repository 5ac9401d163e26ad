#!/usr/bin/env bash
# pi-build.sh ARCH OUT: cross-builds cmd/gateguard for Raspberry Pi OS
# (bookworm) with cgo, against the Debian sysroot that scripts/pi-sysroot.sh
# unpacks in bin/sysroot-ARCH, with Debian's cross compilers:
#   arm64  GOARCH=arm64          aarch64-linux-gnu-gcc    (Pi 4 and 5)
#   armhf  GOARCH=arm GOARM=7    arm-linux-gnueabihf-gcc  (armv7)
# The OpenCV flags are the native build's (gocv's customenv tag): the
# Makefile passes them in GATEGUARD_CV_CPPFLAGS, GATEGUARD_CV_CXXFLAGS and
# GATEGUARD_CV_LDFLAGS, and VERSION for -X main.version. Run it through
# `make pi-build-arm64` / `make pi-build-armhf`.
set -euo pipefail
cd "$(dirname "$0")/.."

arch=${1:?usage: pi-build.sh arm64|armhf OUT}
out=${2:?usage: pi-build.sh arm64|armhf OUT}
: "${GATEGUARD_CV_LDFLAGS:?pi-build: run through make (GATEGUARD_CV_* unset)}"
case "$arch" in
  arm64) triplet=aarch64-linux-gnu; goarch=arm64; goarm= ;;
  armhf) triplet=arm-linux-gnueabihf; goarch=arm; goarm=7 ;;
  *) echo "pi-build: unknown arch $arch (want arm64 or armhf)" >&2; exit 2 ;;
esac
sysroot=$(realpath "bin/sysroot-$arch")
[ -f "$sysroot/.gateguard-sysroot" ] || { echo "pi-build: no sysroot in $sysroot (scripts/pi-sysroot.sh $arch)" >&2; exit 1; }
lib="$sysroot/usr/lib/$triplet"

export CGO_ENABLED=1 GOOS=linux GOARCH=$goarch GOARM=$goarm
export CC=$triplet-gcc CXX=$triplet-g++
# zxing's .pc file, read from the sysroot with its paths prefixed.
export PKG_CONFIG_SYSROOT_DIR=$sysroot PKG_CONFIG_LIBDIR=$lib/pkgconfig:$sysroot/usr/share/pkgconfig
# The native -I/usr/... directories, moved into the sysroot; they come
# before vision/'s own #cgo -I lines, so the sysroot's headers win.
# -rpath-link lets ld find the libraries' own dependencies.
cppflags=$(echo "${GATEGUARD_CV_CPPFLAGS:-}" | sed "s#-I/#-I$sysroot/#g")
export CGO_CPPFLAGS="--sysroot=$sysroot $cppflags"
export CGO_CFLAGS="--sysroot=$sysroot ${GATEGUARD_CV_CFLAGS:--O2 -g}"
export CGO_CXXFLAGS="--sysroot=$sysroot ${GATEGUARD_CV_CXXFLAGS:--O2 -g}"
export CGO_LDFLAGS="--sysroot=$sysroot -Wl,-rpath-link=$lib:$sysroot/lib/$triplet $GATEGUARD_CV_LDFLAGS"

mkdir -p "$(dirname "$out")"
echo "pi-build: $arch ($CC, GOARCH=$goarch${goarm:+ GOARM=$goarm}) -> $out"
go build -tags customenv -ldflags "-X main.version=${VERSION:-dev}" -o "$out" ./cmd/gateguard
