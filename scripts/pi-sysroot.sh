#!/usr/bin/env bash
# pi-sysroot.sh ARCH [DIR]: unpacks a Debian 12 (bookworm) sysroot for
# Raspberry Pi OS into DIR (default bin/sysroot-ARCH), ARCH being arm64
# (Pi 4 and 5, 64-bit) or armhf (armv7, 32-bit). The sysroot holds what the
# cross build links against and what qemu-user needs to run the binary:
# the runtime closure of the OpenCV modules GateGuard links (the Makefile's
# OPENCV_LIBS; gocv's own sources need a few more: highgui, calib3d...),
# zxing-cpp and the C/C++ runtime, plus the few -dev packages that give their
# headers and .so links.
#
# It uses a private apt state (its own package lists, an empty dpkg status,
# APT::Architecture=ARCH) so the host's dpkg is left alone: no
# `dpkg --add-architecture`, nothing installed on the host. Packages come
# from the host's own apt sources. Safe to run again: a stamp records the
# package set, and a complete sysroot is reused.
set -euo pipefail
cd "$(dirname "$0")/.."

arch=${1:?usage: pi-sysroot.sh arm64|armhf [DIR]}
case "$arch" in
  arm64) triplet=aarch64-linux-gnu ;;
  armhf) triplet=arm-linux-gnueabihf ;;
  *) echo "pi-sysroot: unknown arch $arch (want arm64 or armhf)" >&2; exit 2 ;;
esac
sysroot=${2:-bin/sysroot-$arch}
state=bin/apt-$arch

# Runtime packages: apt resolves their whole dependency closure.
runtime=(libc6 libstdc++6 libgcc-s1
  libopencv-core406 libopencv-imgproc406 libopencv-imgcodecs406 libopencv-videoio406
  libopencv-highgui406 libopencv-objdetect406 libopencv-dnn406 libopencv-calib3d406
  libopencv-features2d406 libopencv-flann406 libopencv-video406 libopencv-photo406
  libopencv-contrib406 libzxing2)
# Headers and .so links only (opencv2/opencv.hpp, which gocv includes, wants
# ml and stitching too): downloaded without their dependencies (which
# would drag in every -dev package OpenCV was built against, VTK included).
headers=(libc6-dev linux-libc-dev libcrypt-dev libstdc++-12-dev libgcc-12-dev
  libopencv-core-dev libopencv-imgproc-dev libopencv-imgcodecs-dev libopencv-videoio-dev
  libopencv-highgui-dev libopencv-objdetect-dev libopencv-dnn-dev libopencv-calib3d-dev
  libopencv-features2d-dev libopencv-flann-dev libopencv-video-dev libopencv-photo-dev
  libopencv-ml-dev libopencv-stitching-dev libopencv-contrib-dev libzxing-dev)

want="$arch ${runtime[*]} | ${headers[*]}"
if [ -f "$sysroot/.gateguard-sysroot" ] && [ "$(cat "$sysroot/.gateguard-sysroot")" = "$want" ]; then
  echo "pi-sysroot: $sysroot is up to date"
  exit 0
fi

mkdir -p "$state/lists/partial" "$state/cache/archives/partial" "$state/debs"
: > "$state/status"
apt_opts=(-o "APT::Architecture=$arch" -o "APT::Architectures::=$arch"
  -o "Dir::State=$PWD/$state" -o "Dir::State::Lists=$PWD/$state/lists"
  -o "Dir::State::status=$PWD/$state/status" -o "Dir::Cache=$PWD/$state/cache"
  -o "Debug::NoLocking=1" -o "Acquire::Retries=3" -o "APT::Sandbox::User=$(id -un)" -o "APT::Install-Recommends=false" -o "APT::Get::AllowUnauthenticated=false")

echo "pi-sysroot: $arch package lists"
# A mirror mid-sync serves an index of the wrong size now and then: retry.
for try in 1 2 3 4; do
  apt-get "${apt_opts[@]}" -qq -o Acquire::Retries=3 update && break
  if [ "$try" -eq 4 ]; then
    # One broken index (seen: bookworm-security's armhf list, stale on a
    # mirror) need not stop the sysroot when the release's own list came:
    # apt then uses the point-release packages. Say so loudly.
    if ls "$state/lists/"*_dists_bookworm_main_binary-"${arch}"_Packages* >/dev/null 2>&1; then
      echo "pi-sysroot: WARNING: some $arch package lists failed to download; continuing with only these:" >&2
      echo "pi-sysroot: WARNING: $(cd "$state/lists" && ls -- *_Packages* | tr '\n' ' ')" >&2
      break
    fi
    echo "pi-sysroot: apt-get update failed for $arch" >&2
    exit 1
  fi
  echo "pi-sysroot: apt-get update failed, retrying in $((try * 10)) s" >&2
  sleep $((try * 10))
done
echo "pi-sysroot: $arch runtime closure of ${#runtime[@]} packages"
apt-get "${apt_opts[@]}" -qq -y --download-only install "${runtime[@]}" >/dev/null
echo "pi-sysroot: $arch ${#headers[@]} header packages"
(cd "$state/debs" && apt-get "${apt_opts[@]}" -qq download "${headers[@]}")

rm -rf "$sysroot.tmp"
mkdir -p "$sysroot.tmp"
n=0
for deb in "$state"/cache/archives/*.deb "$state"/debs/*.deb; do
  dpkg-deb -x "$deb" "$sysroot.tmp"
  n=$((n + 1))
done

# Absolute symlinks (libc's /lib/ld-linux-*.so, some .so links) would point
# into the host: make them relative to the sysroot.
while IFS= read -r link; do
  target=$(readlink "$link")
  rel=$(realpath -m --relative-to="$(dirname "$link")" "$sysroot.tmp$target")
  ln -sfn "$rel" "$link"
done < <(find "$sysroot.tmp" -type l -lname '/*')

# Debian's alternatives (BLAS, LAPACK) are links made by postinst scripts,
# which dpkg-deb -x does not run: link each library from its alternative's
# subdirectory into the main library directory unless it is already there.
libdir="$sysroot.tmp/usr/lib/$triplet"
for lib in "$libdir"/*/lib*.so.*; do
  [ -e "$lib" ] || continue
  base=$(basename "$lib")
  [ -e "$libdir/$base" ] || ln -s "${lib#"$libdir"/}" "$libdir/$base"
done

echo "$want" > "$sysroot.tmp/.gateguard-sysroot"
rm -rf "$sysroot"
mv "$sysroot.tmp" "$sysroot"
echo "pi-sysroot: $sysroot from $n packages ($(du -sh "$sysroot" | cut -f1))"
