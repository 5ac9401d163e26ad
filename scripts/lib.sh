# Sourced by the demo and measuring scripts (demo.sh, demo-mosquitto.sh,
# mem.sh): a work folder removed on exit together with the processes the
# script started (append their pids to pids), and free loopback ports.
work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

# port_busy PORT: something listens on 127.0.0.1:PORT.
port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# free_port prints a loopback port nothing listens on, or fails the script.
free_port() {
  for _ in $(seq 1 50); do
    local p=$((20000 + RANDOM % 40000))
    if ! port_busy "$p"; then echo "$p"; return; fi
  done
  echo "${0##*/}: no free port" >&2
  return 1
}
