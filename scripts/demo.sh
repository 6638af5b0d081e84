#!/usr/bin/env bash
# `npm run demo`: installs npm packages if needed, builds, and runs `floe demo` on the embedded default
# (SQLite catalog + local warehouse in ./warehouse; no services).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi
npm run --silent build
exec node dist/src/cli/main.js demo "$@"
