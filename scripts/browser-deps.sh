#!/usr/bin/env bash
# Sets up the browser tests (tests/browser): Debian's chromium (installed by
# scripts/deps.sh) and playwright-core at the version pinned in
# tests/browser/package-lock.json, installed with `npm ci`. No browser is
# ever downloaded: playwright-core drives /usr/bin/chromium.
set -euo pipefail
cd "$(dirname "$0")/../tests/browser"
[ -x /usr/bin/chromium ] || { echo "browser-deps: /usr/bin/chromium missing (scripts/deps.sh installs Debian's chromium)" >&2; exit 1; }
stamp=node_modules/.gateguard-lock
if ! cmp -s package-lock.json "$stamp" 2>/dev/null; then
  echo "browser-deps: npm ci in tests/browser"
  PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --ignore-scripts >/dev/null
  cp package-lock.json "$stamp"
fi
