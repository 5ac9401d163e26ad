#!/usr/bin/env bash
# make demo-mosquitto: starts a local Mosquitto on a free loopback port, subscribes to the
# gate's topics, and runs the daemon on simulated hardware through the demo
# scenario. Each decision is logged as it happens ("admitted"/"denied" with the
# reasons); each MQTT message a subscriber receives is printed as "mqtt> TOPIC PAYLOAD".
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${GATEGUARD_BIN:-bin/gateguard}
config=${DEMO_CONFIG:-configs/demo.yaml}
scenario=${DEMO_SCENARIO:-configs/scenarios/demo.yaml}
# shellcheck source=scripts/lib.sh
. scripts/lib.sh
port=$(free_port)

cat > "$work/mosquitto.conf" <<CONF
listener $port 127.0.0.1
allow_anonymous true
persistence false
# 128 KiB, as configs/mosquitto.conf: twice the largest command (65536 bytes).
max_packet_size 131072
log_dest file $work/mosquitto.log
CONF
/usr/sbin/mosquitto -c "$work/mosquitto.conf" & pids+=($!)
for _ in $(seq 1 100); do port_busy "$port" && break; sleep 0.1; done
port_busy "$port" || { echo "demo: mosquitto did not start" >&2; cat "$work/mosquitto.log" >&2; exit 1; }
echo "demo: mosquitto listening on 127.0.0.1:$port"

sed "s#^\(\s*broker:\).*#\1 tcp://127.0.0.1:$port#" "$config" > "$work/gateguard.yaml"
# Paths in the config are relative to it: bring the demo's pass key along.
[ -d "$(dirname "$config")/demo" ] && cp -r "$(dirname "$config")/demo" "$work/demo"
mosquitto_sub -h 127.0.0.1 -p "$port" -q 1 -v -t 'gateguard/#' > >(sed -u 's/^/mqtt> /') & pids+=($!)

status=0
# The lane display (docs/display.md): open the printed address in a browser.
display=${DEMO_DISPLAY:-127.0.0.1:8088}
"$bin" simulate -c "$work/gateguard.yaml" -display "$display" -pace "${DEMO_PACE:-1s}" "$scenario" || status=$?

# Face verification (configs/scenarios/faces.yaml): an enrolled person, her
# pass shown by someone else (face_mismatch), her photo held up. It needs
# YuNet's landmarks; the model comes with the shared test data.
face_config=${DEMO_FACES_CONFIG:-configs/demo-faces.yaml}
face_model=${DEMO_FACE_MODEL:-../shared/testdata/models/yunet/yunet_120x160.onnx}
if [ "$status" = 0 ] && [ -f "$face_model" ]; then
  echo "demo: face verification (configs/scenarios/faces.yaml)"
  # The work copy's relative paths resolve from $work: make the models'
  # absolute; the templates file stays in $work.
  descriptor=$(realpath -m bin/models/faceapi-recognition.onnx)
  sed -e "s#^\(\s*broker:\).*#\1 tcp://127.0.0.1:$port#" \
      -e "s#^\(\s*face_model:\).*#\1 $(realpath "$face_model")#" \
      -e "s#^\(\s*model:\).*#\1 $descriptor#" "$face_config" > "$work/faces.yaml"
  "$bin" simulate -c "$work/faces.yaml" configs/scenarios/faces.yaml || status=$?
elif [ "$status" = 0 ]; then
  echo "demo: face verification skipped: no YuNet model at $face_model (set DEMO_FACE_MODEL)"
fi
sleep 1 # let the subscriber print the last messages before it is stopped
exit $status
