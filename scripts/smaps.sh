#!/usr/bin/env bash
# smaps.sh FILE [N]: summarises a /proc/PID/smaps copy (make mem with
# MEM_SMAPS=FILE): resident kB per mapped file, split by segment (text r-x,
# rodata r--, data rw- file-backed incl. relro, anon = private anonymous
# pages inside the file's mappings, e.g. copy-on-write .data/.got after
# relocation), the top N files (default 25), then the anonymous mappings
# ([heap], [stack], unnamed) by kind, and the totals.
set -euo pipefail
f=${1:?usage: smaps.sh FILE [N]}
n=${2:-25}
awk -v top="$n" '
  /^[0-9a-f]+-[0-9a-f]+ / {
    perm = $2; name = (NF >= 6) ? $6 : "[anon]"
    if (name ~ /^\//) { k = name; sub(/.*\//, "", k) } else k = name
    seg = (perm ~ /x/) ? "text" : (perm ~ /w/) ? "data" : "ro"
    next
  }
  /^Rss:/ { rss[k] += $2; bys[k, seg] += $2; tot += $2; if (k ~ /^\[/) anon += $2; else file += $2; next }
  /^Anonymous:/ { an[k] += $2; next }
  END {
    printf "%-40s %8s %8s %8s %8s %8s\n", "mapping", "rss_kB", "text", "ro", "data", "cow_anon"
    cmd = "sort -k2,2nr | head -" top
    for (k in rss) if (k !~ /^\[/ || k == "[anon]" || k == "[heap]" || k == "[stack]")
      printf "%-40s %8d %8d %8d %8d %8d\n", k, rss[k], bys[k,"text"], bys[k,"ro"], bys[k,"data"], an[k] | cmd
    close(cmd)
    nf = 0; for (k in rss) if (k !~ /^\[/) nf++
    printf "total rss %d kB (files %d kB in %d files, [anon]/[heap]/[stack] %d kB)\n", tot, file, nf, anon
    t = 0; d = 0; r = 0; c = 0
    for (k in rss) if (k !~ /^\[/) { t += bys[k,"text"]; r += bys[k,"ro"]; d += bys[k,"data"]; c += an[k] }
    printf "file-mapped: text %d kB, ro %d kB, data %d kB (of which private anon/COW %d kB)\n", t, r, d, c
  }' "$f"
