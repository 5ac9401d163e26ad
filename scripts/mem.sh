#!/usr/bin/env bash
# make mem: runs the demo (scripts/demo.sh: a local Mosquitto and the daemon
# on simulated hardware through configs/scenarios/demo.yaml) with the daemon
# under scripts/rss.sh, and prints its memory as the last line:
#   rss_mb=S anon_mb=A file_mb=F hwm_mb=H samples=N
# (steady-state medians and the peak; see scripts/rss.sh). BIN (default
# bin/gateguard) is the binary measured. Exits non-zero if the demo failed.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=$(realpath "${1:-bin/gateguard}")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cat > "$work/gateguard" <<WRAP
#!/usr/bin/env bash
exec "$PWD/scripts/rss.sh" "$work/rss.txt" "$bin" "\$@"
WRAP
chmod +x "$work/gateguard"
status=0
GATEGUARD_BIN="$work/gateguard" scripts/demo.sh > "$work/demo.log" 2>&1 || status=$?
grep -E '^scenario ' "$work/demo.log" || true
echo "mem: $(ldd "$bin" | grep -c 'libopencv_') OpenCV libraries, $(ldd "$bin" | wc -l) shared objects loaded (ldd)"
if [ "$status" -ne 0 ]; then
  tail -20 "$work/demo.log" >&2
  echo "mem: the demo failed (exit $status)" >&2
  exit "$status"
fi
cat "$work/rss.txt"
