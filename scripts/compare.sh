#!/usr/bin/env bash
# The side-by-side comparison (`npm run bench:compare`): floe, Flink SQL and the Iceberg Kafka Connect sink on the
# same broker, topics, catalog and machine. Installs what it needs (harness, peers, a chart venv; all cached),
# starts a private Kafka and SeaweedFS on their own ports (beside any test harness), runs floe's stage ceilings
# on the same messages, then native-bench/compare.bench.ts, and writes native-bench/results/<date>.md, .json
# and .png. EVENTS (default 400000) sets each workload's full size (every system also runs a quarter of it, for the
# steady-state cost per event); SYSTEMS (default floe,flink,kafka-connect).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
EVENTS="${EVENTS:-400000}"
SYSTEMS="${SYSTEMS:-floe,flink,kafka-connect}"
T0=$(date +%s)

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi
npm run --silent build
command -v jq >/dev/null || apt-get install -y -q jq >/dev/null # the peers' scripts read JSON with jq
bash test/harness/install.sh >/dev/null
for peer in ${SYSTEMS//,/ }; do
  [ "$peer" = floe ] || bash "native-bench/peers/$peer/install.sh"
done
CHART_VENV="${FLOE_CACHE:-$HOME/.cache/floe}/chart-venv"
if [ ! -x "$CHART_VENV/bin/python" ] || ! "$CHART_VENV/bin/python" -c 'import matplotlib' 2>/dev/null; then
  python3 -m venv "$CHART_VENV"
  "$CHART_VENV/bin/pip" install --quiet matplotlib==3.9.4
fi
echo "[compare] installs done in $(( $(date +%s) - T0 )) s" >&2

export FLOE_HARNESS_DIR="/tmp/floe-compare-$$"
export FLOE_KAFKA_PORT=29092 FLOE_KAFKA_CONTROLLER_PORT=29093 FLOE_KAFKA_SASL_PORT=29094
export FLOE_S3_PORT=28333 FLOE_REST_PORT=28181 FLOE_SEAWEED_MASTER_PORT=29333 FLOE_SEAWEED_VOLUME_PORT=29340
export FLOE_SEAWEED_FILER_PORT=28888 FLOE_SEAWEED_ADMIN_PORT=23666 FLOE_CONNECT_PORT=28083
cleanup() {
  bash test/harness/kafka.sh stop >/dev/null 2>&1 || true
  bash test/harness/seaweed.sh stop >/dev/null 2>&1 || true
  rm -rf "$FLOE_HARNESS_DIR"
}
trap cleanup EXIT
bash test/harness/kafka.sh start
bash test/harness/seaweed.sh start
eval "$(bash test/harness/kafka.sh env)"
eval "$(bash test/harness/seaweed.sh env)"

date_="$(date -u +%Y-%m-%d)"
out="native-bench/results/$date_.md"
stages="$FLOE_HARNESS_DIR/stages.json"
node dist/native-bench/stages.bench.js 200000 schema --json 2>/dev/null > "$stages" || echo "[compare] stage ceilings failed; the results will say so" >&2
export BENCH_STAGES_JSON="$stages"
export BENCH_MACHINE="$(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), Node $(node --version), $(java -version 2>&1 | head -1)"
status=0
node dist/native-bench/compare.bench.js --events "$EVENTS" --systems "$SYSTEMS" --out "$out" || status=$?
if [ -f "${out%.md}.json" ]; then
  "$CHART_VENV/bin/python" native-bench/chart.py "${out%.md}.json" "${out%.md}.png"
  echo "[compare] chart ${out%.md}.png" >&2
fi
echo "[compare] total $(( $(date +%s) - T0 )) s" >&2
exit "$status"
