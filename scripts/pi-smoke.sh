#!/usr/bin/env bash
# make pi-smoke: proves the Raspberry Pi builds run. From a fresh Debian 12
# machine it installs the cross compilers and qemu-user-static, unpacks a
# sysroot per architecture (scripts/pi-sysroot.sh), cross-builds
# bin/gateguard-linux-arm64 and bin/gateguard-linux-armhf (scripts/pi-build.sh,
# through the Makefile's pi-build-ARCH targets) and runs each under qemu-user,
# called directly with -L SYSROOT (no binfmt needed):
#   gateguard version
#   gateguard selftest -c configs/demo.yaml   (only if the binary has it)
#   gateguard simulate -c configs/demo.yaml configs/scenarios/demo.yaml
#     through scripts/demo-mosquitto.sh (one gate, a host Mosquitto on a
#     loopback port; the face part is skipped: it needs the host-built model)
#     (qemu-user shares the host's network); every step must pass.
# The last line is the result, and contains "ok" only when both passed:
#   pi-smoke: ok (arm64, armhf)
#   pi-smoke: FAILED arm64=passed armhf=failed
set -uo pipefail
cd "$(dirname "$0")/.."
make=${MAKE:-make}
archs=${PI_ARCHS:-arm64 armhf}

# The cross compilers, qemu-user-static and file come from `make pi-deps`
# (scripts/deps.sh), which the pi-smoke target runs first.
for t in aarch64-linux-gnu-gcc arm-linux-gnueabihf-g++ qemu-aarch64-static qemu-arm-static file; do
  command -v "$t" >/dev/null 2>&1 || { echo "pi-smoke: FAILED ($t missing: run make pi-smoke, or make pi-deps)"; exit 1; }
done

# smoke ARCH: builds and runs one architecture; returns non-zero on any failure.
smoke() {
  local arch=$1 qemu bin sysroot wrap out
  case "$arch" in
    arm64) qemu=qemu-aarch64-static ;;
    armhf) qemu=qemu-arm-static ;;
    *) echo "pi-smoke: unknown arch $arch" >&2; return 1 ;;
  esac
  # The sysroot (scripts/pi-sysroot.sh) and the cross build.
  "$make" --no-print-directory "pi-build-$arch" || return 1
  bin=$PWD/bin/gateguard-linux-$arch
  sysroot=$PWD/bin/sysroot-$arch
  file "$bin" | sed "s#^$PWD/##"
  wrap=$(mktemp)
  printf '#!/bin/sh\nexec %s -L %s %s "$@"\n' "$qemu" "$sysroot" "$bin" > "$wrap"
  chmod +x "$wrap"

  # LD_BIND_NOW: the dynamic loader resolves every symbol up front, so a
  # library or symbol missing from the target shows here.
  echo "pi-smoke: $arch: gateguard version (LD_BIND_NOW=1)"
  out=$("$qemu" -E LD_BIND_NOW=1 -L "$sysroot" "$bin" version 2>&1) || { echo "$out"; echo "pi-smoke: $arch: version failed" >&2; rm -f "$wrap"; return 1; }
  echo "  $out"
  CHECK_LINK_RUN=$wrap scripts/check-link.sh "$bin" | sed "s/^/pi-smoke: $arch: /" || { rm -f "$wrap"; return 1; }

  if "$wrap" help 2>/dev/null | grep -qw selftest; then
    echo "pi-smoke: $arch: gateguard selftest -c configs/demo.yaml"
    "$wrap" selftest -c configs/demo.yaml || { echo "pi-smoke: $arch: selftest failed" >&2; rm -f "$wrap"; return 1; }
    echo "pi-smoke: $arch: selftest=passed"
  else
    echo "pi-smoke: $arch: selftest=skipped (not built yet: the binary has no selftest subcommand)"
  fi

  echo "pi-smoke: $arch: gateguard simulate (scripts/demo-mosquitto.sh)"
  out=$(GATEGUARD_BIN="$wrap" DEMO_FACE_MODEL=/nonexistent scripts/demo-mosquitto.sh 2>&1)
  local status=$?
  rm -f "$wrap"
  echo "$out" | grep -E '^scenario |level=ERROR' | head -20
  if [ "$status" -ne 0 ] || ! echo "$out" | grep -qE '^scenario "[^"]*": [0-9]+ passed, 0 failed$'; then
    echo "$out" | tail -30 >&2
    echo "pi-smoke: $arch: simulate failed (exit $status)" >&2
    return 1
  fi
  return 0
}

results=()
failed=0
for arch in $archs; do
  echo "=== pi-smoke: $arch"
  if smoke "$arch"; then
    results+=("$arch=passed")
  else
    results+=("$arch=failed")
    failed=1
  fi
done

if [ "$failed" -eq 0 ]; then
  echo "pi-smoke: ok (${archs// /, })"
else
  echo "pi-smoke: FAILED ${results[*]}"
  exit 1
fi
