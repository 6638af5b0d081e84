#!/usr/bin/env bash
# The test command (`npm test`): installs what the tests need (npm packages, the harness: Python venv with
# Spark/DuckDB/pyiceberg/SeaweedFS, Maven jars), starts the services once, runs every test with node's test
# runner, and stops the services by PID. Idempotent; downloads are cached outside the repository.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

t0=$(date +%s)
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi
npm run --silent build
npm run --silent lint

bash test/harness/install.sh
export FLOE_HARNESS_DIR="${FLOE_HARNESS_DIR:-/tmp/floe-harness-$$}"
cleanup() {
  bash test/harness/connect.sh stop || true
  bash test/harness/mariadb.sh stop || true
  bash test/harness/kafka.sh stop || true
  bash test/harness/seaweed.sh stop || true
}
trap cleanup EXIT
bash test/harness/seaweed.sh start
bash test/harness/kafka.sh start
bash test/harness/mariadb.sh start
eval "$(bash test/harness/seaweed.sh env)"
eval "$(bash test/harness/kafka.sh env)"
eval "$(bash test/harness/mariadb.sh env)"
echo "[test] setup took $(( $(date +%s) - t0 ))s"

mapfile -t files < <(find dist/test -name '*.test.js' | sort)
node --test --test-concurrency=2 --test-timeout=900000 "${files[@]}"
