#!/usr/bin/env bash
# rss.sh OUT BIN ARGS...: runs BIN ARGS, samples its memory from
# /proc/PID/status every 100 ms while it runs, and writes one line to OUT:
#   rss_mb=S anon_mb=A file_mb=F hwm_mb=H samples=N
# rss_mb/anon_mb/file_mb are the steady state (the median of the samples in
# the second half of the run: startup and model loading are over by then),
# hwm_mb is the peak (VmHWM, read on the last sample). Its exit status is
# BIN's. make mem runs it through scripts/demo.sh (GATEGUARD_BIN), so it
# measures the daemon on the demo scenario with a real broker. MEM_SMAPS=FILE
# (optional) copies /proc/PID/smaps to FILE every 3 s, so FILE holds the
# last copy before the daemon exited (scripts/smaps.sh summarises it).
set -uo pipefail
out=${1:?usage: rss.sh OUT BIN ARGS...}
shift
samples=$(mktemp)
trap 'rm -f "$samples"' EXIT

"$@" &
pid=$!
hwm=0
while kill -0 "$pid" 2>/dev/null; do
  # VmRSS RssAnon RssFile VmHWM, in kB.
  line=$(awk '/^(VmRSS|RssAnon|RssFile|VmHWM):/ {v[$1]=$2}
    END {if (v["VmRSS:"] != "") print v["VmRSS:"], v["RssAnon:"], v["RssFile:"], v["VmHWM:"]}' \
    "/proc/$pid/status" 2>/dev/null) || true
  if [ -n "$line" ]; then
    echo "$line" >> "$samples"
    hwm=${line##* }
    if [ -n "${MEM_SMAPS:-}" ] && [ $(($(wc -l < "$samples") % 30)) -eq 1 ]; then
      cp "/proc/$pid/smaps" "$MEM_SMAPS.tmp" 2>/dev/null && mv "$MEM_SMAPS.tmp" "$MEM_SMAPS"
    fi
  fi
  sleep 0.1
done
wait "$pid"
status=$?

n=$(wc -l < "$samples")
if [ "$n" -eq 0 ]; then
  echo "rss_mb=unknown (no samples) status=$status" > "$out"
  exit "$status"
fi
# Median of each column over the second half of the samples.
median() { tail -n $(((n + 1) / 2)) "$samples" | awk -v c="$1" '{print $c}' | sort -n |
  awk '{a[NR]=$1} END {printf "%.1f", a[int((NR+1)/2)]/1024}'; }
printf 'rss_mb=%s anon_mb=%s file_mb=%s hwm_mb=%.1f samples=%d\n' \
  "$(median 1)" "$(median 2)" "$(median 3)" "$(echo "$hwm" | awk '{print $1/1024}')" "$n" > "$out"
exit "$status"
