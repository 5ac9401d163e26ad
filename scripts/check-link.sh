#!/usr/bin/env bash
# check-link.sh BIN: run by `make build` on the daemon it built (issue 12,
# memory). It fails when
#  - BIN does not load with every symbol bound (LD_BIND_NOW=1 BIN version):
#    a wrapper gocv or we call whose library is not linked;
#  - BIN needs libopencv_videoio or libopencv_imgcodecs at load time: on
#    Debian they bring ~220 libraries (~50 MB resident); videoio is loaded
#    by vision/videoio when a real camera is opened, and images are decoded
#    by vision/imagefile;
#  - the lazily loaded videoio does not work: selftest on the demo config
#    with its camera replaced by a recorded image sequence (six PPM frames
#    written here) must report the camera ok with frames of their size.
# CHECK_LINK_RUN=CMD runs the binary through CMD instead (pi-smoke: a
# qemu-user wrapper with the target's sysroot).
set -euo pipefail
cd "$(dirname "$0")/.."
bin=$(realpath "$1")
run=${CHECK_LINK_RUN:-$bin}
LD_BIND_NOW=1 "$run" version >/dev/null || { echo "check-link: $bin does not load (unresolved symbols?)" >&2; exit 1; }
if needed=$(readelf -d "$bin" | grep -E 'NEEDED.*libopencv_(videoio|imgcodecs)'); then
  echo "check-link: $bin links what it must load only on demand:" >&2
  echo "$needed" >&2
  exit 1
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir "$work/frames"
for i in 0 1 2 3 4 5; do
  { printf 'P6\n64 48\n255\n'; head -c $((64 * 48 * 3)) /dev/zero | tr '\0' "\\$((100 + i))"; } > "$work/frames/00$i.ppm"
done
[ -d configs/demo ] && cp -r configs/demo "$work/demo"
sed -e "s#^\(\s*source:\) simulated#\1 $work/frames/%03d.ppm#" -e 's#^\(\s*width:\) 640#\1 64#' -e 's#^\(\s*height:\) 480#\1 48#' \
  configs/demo.yaml > "$work/gateguard.yaml"
out=$("$run" selftest -c "$work/gateguard.yaml" 2>&1 || true)
if ! grep -qE '^camera .* ok +[0-9]+ frames of 64x48' <<<"$out"; then
  echo "check-link: the camera did not open through the lazily loaded videoio:" >&2
  echo "$out" >&2
  exit 1
fi
echo "check-link: ok (videoio and imgcodecs not linked; a recorded camera opens through videoio on demand)"
