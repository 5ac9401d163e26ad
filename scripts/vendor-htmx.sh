#!/usr/bin/env bash
# Vendors htmx for the console (gate/central/console/assets): installs the
# pinned htmx.org with npm into a temporary folder, copies its
# dist/htmx.min.js into the embedded assets and checks the copy against the
# SHA-256 recorded in htmx.min.js.sha256. The console serves this file
# itself; no page loads anything from a CDN. Run with HTMX_UPDATE=1 after
# changing the version to record the new sum.
set -euo pipefail
cd "$(dirname "$0")/.."
version=2.0.11
assets=gate/central/console/assets
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
npm install --prefix "$work" --no-audit --no-fund --ignore-scripts --no-save "htmx.org@$version" >/dev/null
src="$work/node_modules/htmx.org/dist/htmx.min.js"
got=$(sha256sum "$src" | cut -d' ' -f1)
if [ "${HTMX_UPDATE:-}" = 1 ]; then
  echo "$got  htmx.min.js (htmx.org@$version)" > "$assets/htmx.min.js.sha256"
fi
want=$(cut -d' ' -f1 "$assets/htmx.min.js.sha256")
if [ "$got" != "$want" ]; then
  echo "vendor-htmx: htmx.org@$version dist/htmx.min.js is $got, want $want (htmx.min.js.sha256)" >&2
  exit 1
fi
cp "$src" "$assets/htmx.min.js.tmp" && mv "$assets/htmx.min.js.tmp" "$assets/htmx.min.js"
echo "vendor-htmx: htmx.org@$version $got"
