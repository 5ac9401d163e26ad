#!/usr/bin/env bash
# make demo: gatewatch with its embedded broker (the NATS server's MQTT
# listener, SQLite in a temporary data folder) and two simulated gates, each
# admitted with `gatewatch gate add` and run through the demo scenario at the
# same time: lane-1 of the demo site and lane-1 of a second site (the demo's
# signed passes name lane-1 as their only gate). Each gate's decisions are printed as
# they happen ("[lane-1] ... msg=admitted ..."); at the end, for each gate,
# every decision it logged is printed beside the event as gatewatch stored it
# (matched by event id), then its alerts with their thermal snapshots (each
# gate has a durable outbox, so the fever and spoof pictures reach gatewatch)
# and the gate table gatewatch keeps.
set -euo pipefail
cd "$(dirname "$0")/.."
gg=${GATEGUARD_BIN:-bin/gateguard}
gw=${GATEWATCH_BIN:-bin/gatewatch}
config=${DEMO_CONFIG:-configs/demo.yaml}
scenario=${DEMO_SCENARIO:-configs/scenarios/demo.yaml}
site=$(sed -n 's/^site: *//p' "$config")
gates=("$site/lane-1" "demo-annex/lane-1") # site/gate
# shellcheck source=scripts/lib.sh
. scripts/lib.sh
mqtt_port=$(free_port)
api_port=$(free_port)
[ "$mqtt_port" != "$api_port" ] || api_port=$(free_port)
GATEWATCH_DEMO_TOKEN=$(head -c 24 /dev/urandom | base64 | tr -d '/+=')
export GATEWATCH_DEMO_TOKEN

cat > "$work/gatewatch.yaml" <<CONF
# gatewatch for the demo: embedded broker, SQLite in $work/gatewatch.
site: $site
data_dir: $work/gatewatch
log: {level: warn}
broker: {enabled: true, listen: '127.0.0.1:$mqtt_port'}
api: {listen: '127.0.0.1:$api_port', token_env: GATEWATCH_DEMO_TOKEN}
CONF

# Paths in the gate config are relative to it: bring the demo's pass key along.
[ -d "$(dirname "$config")/demo" ] && cp -r "$(dirname "$config")/demo" "$work/demo"
# file names: site/gate -> site_gate
f() { echo "${1//\//_}"; }
# The demo config without its site, gate and mqtt keys, which gate add prints.
awk '/^(site|gate):/ {next} /^mqtt:/ {skip=1; next} skip && /^[^ #]/ {skip=0} !skip' "$config" > "$work/base.yaml"
for g in "${gates[@]}"; do
  # A durable outbox per gate: fever and spoof snapshots travel in it too.
  sed "s#^outbox:#outbox:\n  path: $work/$(f "$g").outbox.db#" "$work/base.yaml" > "$work/$(f "$g").base.yaml"
  "$gw" gate add -c "$work/gatewatch.yaml" -site "${g%/*}" -broker "tcp://127.0.0.1:$mqtt_port" \
    -o "$work/$(f "$g").password" "${g#*/}" > "$work/$(f "$g").mqtt"
  cat "$work/$(f "$g").base.yaml" "$work/$(f "$g").mqtt" > "$work/$(f "$g").yaml"
done
echo "demo: \`gatewatch gate add -site ${gates[0]%/*} ${gates[0]#*/}\` printed:"
sed 's/^/  | /' "$work/$(f "${gates[0]}").mqtt"

"$gw" run -c "$work/gatewatch.yaml" 2> "$work/gatewatch.log" & pids+=($!)
for _ in $(seq 1 100); do port_busy "$api_port" && break; sleep 0.1; done
port_busy "$api_port" || { echo "demo: gatewatch did not start" >&2; cat "$work/gatewatch.log" >&2; exit 1; }
echo "demo: gatewatch running: embedded broker on 127.0.0.1:$mqtt_port, API on 127.0.0.1:$api_port"

api() { curl -fsS -H "Authorization: Bearer $GATEWATCH_DEMO_TOKEN" "http://127.0.0.1:$api_port$1"; }

status=0
sims=()
# The first gate serves its lane display (docs/display.md): open the printed
# address in a browser; its scenario is paced so that each prompt can be seen.
display=${DEMO_DISPLAY:-127.0.0.1:8088}
for g in "${gates[@]}"; do
  extra=()
  [ "$g" = "${gates[0]}" ] && extra=(-display "$display" -pace "${DEMO_PACE:-1s}")
  ("$gg" simulate -c "$work/$(f "$g").yaml" "${extra[@]}" "$scenario" 2>&1 | tee "$work/$(f "$g").log" | sed -u "s#^#[$g] #") & sims+=($!)
done
for p in "${sims[@]}"; do wait "$p" || status=$?; done

# The gates drained their outboxes before exiting; give gatewatch's last
# commit a moment, then read the log back.
sleep 1
for g in "${gates[@]}"; do
  echo
  echo "== $g: the gate's decision  |  gatewatch's stored event (seq kind decision holder reasons)"
  api "/api/events?site=${g%/*}&gate=${g#*/}&limit=1000" |
    jq -r '.events[] | [.id, (.seq|tostring), .kind, .decision, (.holder // "-"), ((.reasons // []) | join(",") | if . == "" then "-" else . end)] | @tsv' \
    > "$work/$(f "$g").stored"
  awk -F'\t' '
    # val returns a logfmt value, quoted or not; "-" when empty or absent.
    function val(k,   v) {
      if (match($0, " " k "=\"[^\"]*\"")) v = substr($0, RSTART + length(k) + 3, RLENGTH - length(k) - 4)
      else if (match($0, " " k "=[^ ]+")) v = substr($0, RSTART + length(k) + 2, RLENGTH - length(k) - 2)
      return v == "" ? "-" : v
    }
    NR == FNR { stored[$1] = "seq=" $2 " " $3 " " $4 " " $5 " " $6; next }
    /msg=(admitted|denied)/ {
      match($0, /msg=[a-z]+/); d = substr($0, RSTART + 4, RLENGTH - 4)
      id = ""; if (match($0, /attempt=[^ ]+/)) id = substr($0, RSTART + 8, RLENGTH - 8)
      h = val("holder"); r = val("reasons"); gsub(/, /, ",", r)
      s = (id in stored) ? stored[id] : "NOT STORED"
      printf "  %-8s %-8s %-38s |  %s\n", d, h, r, s; n++; if (id in stored) ok++
    }
    END { printf "  %d decisions, %d stored by gatewatch\n", n, ok }' "$work/$(f "$g").stored" "$work/$(f "$g").log"
  echo "  gatewatch stored $(wc -l < "$work/$(f "$g").stored") events for $g in all (entries, passages, mode changes)"
done
echo
echo "== gatewatch's alerts (a fever or spoof alert links its thermal snapshot by hash)"
api "/api/alerts?limit=100" | jq -r '.alerts[] | [.site + "/" + .gate, .type, (.holder // "-"), (.snapshot // "-"), (.has_image | tostring)] | @tsv' |
  while IFS=$'\t' read -r g type holder snap img; do
    what="no snapshot"
    if [ "$img" = true ]; then
      what="snapshot ${snap:0:16}… stored, $(api "/api/snapshots/$snap" | wc -c) bytes of PNG"
    elif [ "$snap" != - ]; then
      what="snapshot ${snap:0:16}… (no image)"
    fi
    printf "  %-18s %-11s %-6s %s\n" "$g" "$type" "$holder" "$what"
  done
echo
echo "== gatewatch's gate table"
api /api/gates | jq -r '.gates[] | "  \(.site)/\(.gate): \(.availability) mode=\(.mode // "-") outbox_depth=\(.outbox_depth) max_seq=\(.max_seq) missing=\(.missing) duplicates=\(.duplicates)"'
exit $status
