#!/usr/bin/env bash
# make mem: runs ONE gateguard daemon on simulated hardware through the demo
# scenario (configs/demo.yaml, configs/scenarios/demo.yaml, paced and with
# its lane display on, as the demo's first gate runs it) against a local
# Mosquitto on a free loopback port, under scripts/rss.sh, and prints its
# memory as the last line:
#   rss_mb=S anon_mb=A file_mb=F hwm_mb=H samples=N
# (steady-state medians and the peak; see scripts/rss.sh). It does not use
# scripts/demo.sh: that one runs gatewatch and two gates at once. BIN (first
# argument, default bin/gateguard) is the binary measured; MEM_ENV (e.g.
# "MALLOC_ARENA_MAX=8") is put in the daemon's environment to compare
# settings. MEM_SMAPS=FILE also writes the daemon's /proc/PID/smaps, taken in
# the second half of the run, to FILE. Exits non-zero if the scenario failed.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=$(realpath "${1:-bin/gateguard}")
config=${DEMO_CONFIG:-configs/demo.yaml}
scenario=${DEMO_SCENARIO:-configs/scenarios/demo.yaml}
# shellcheck source=scripts/lib.sh
. scripts/lib.sh
port=$(free_port)
display=127.0.0.1:$(free_port)
cat > "$work/mosquitto.conf" <<CONF
listener $port 127.0.0.1
allow_anonymous true
persistence false
max_packet_size 131072
log_dest stderr
CONF
/usr/sbin/mosquitto -c "$work/mosquitto.conf" 2> "$work/mosquitto.log" & pids+=($!)
for _ in $(seq 1 100); do port_busy "$port" && break; sleep 0.1; done
port_busy "$port" || { echo "mem: mosquitto did not start" >&2; cat "$work/mosquitto.log" >&2; exit 1; }

sed "s#^\(\s*broker:\).*#\1 tcp://127.0.0.1:$port#" "$config" > "$work/gateguard.yaml"
# Paths in the config are relative to it: bring the demo's pass key along.
[ -d "$(dirname "$config")/demo" ] && cp -r "$(dirname "$config")/demo" "$work/demo"

status=0
# shellcheck disable=SC2086 # MEM_ENV is a list of NAME=VALUE words
env ${MEM_ENV:-} MEM_SMAPS="${MEM_SMAPS:-}" scripts/rss.sh "$work/rss.txt" "$bin" simulate -c "$work/gateguard.yaml" \
  -display "$display" -pace "${DEMO_PACE:-1s}" "$scenario" > "$work/demo.log" 2>&1 || status=$?
grep -E '^scenario ' "$work/demo.log" || true
echo "mem: $(ldd "$bin" | grep -c 'libopencv_') OpenCV libraries, $(ldd "$bin" | wc -l) shared objects (ldd)${MEM_ENV:+, env $MEM_ENV}"
if [ "$status" -ne 0 ]; then
  tail -20 "$work/demo.log" >&2
  echo "mem: the scenario failed (exit $status)" >&2
  exit "$status"
fi
cat "$work/rss.txt"
