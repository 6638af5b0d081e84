#!/usr/bin/env bash
# floe's own benchmark, for regressions (`npm run bench`, under 5 minutes on the 2-core machine): builds, starts
# a private Kafka from the harness jars (its own directory and ports, beside any test harness), then on the
# default CDC workload (3 tables of 13 columns: ids, 20-60 character strings, ints, decimals, doubles, booleans,
# timestamps, a nullable column; 30/60/10 % inserts/updates/deletes; Zipf(1) keys; FLOE_BENCH_WORKLOAD=shop
# for the demo's tables)
#   1. the stage ceilings (native-bench/stages.bench.ts), without and with the schema block, and the Kafka fetch
#      both ways: floe's node-rdkafka source against the Fetch protocol spoken in TypeScript
#      (native-bench/fetch-protocol.bench.ts, the measured next step for the fetch);
#   2. floe end to end from filled topics to the last snapshot (native-bench/pipeline.bench.ts), both ways;
#   3. a CPU profile of the schema run split by stage (native-bench/profile-split.ts);
#   4. a steady produce rate (STEADY_RATE events/s for STEADY_SECONDS, default 5000 for 60 s): commit cycle
#      latency p50/p99, files and bytes per commit, freshness as a query sees it (native-bench/steady.bench.ts);
# and writes native-bench/results/<date>-floe.md. EVENTS (default 200000) sets the workload size.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
EVENTS="${EVENTS:-200000}"

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi
npm run --silent build
bash test/harness/install.sh >/dev/null

export FLOE_HARNESS_DIR="/tmp/floe-bench-$$"
export FLOE_KAFKA_PORT="${FLOE_BENCH_KAFKA_PORT:-19092}" FLOE_KAFKA_CONTROLLER_PORT=$((${FLOE_BENCH_KAFKA_PORT:-19092} + 1)) FLOE_KAFKA_SASL_PORT=$((${FLOE_BENCH_KAFKA_PORT:-19092} + 2))
cleanup() {
  bash test/harness/kafka.sh stop >/dev/null 2>&1 || true
  rm -rf "$FLOE_HARNESS_DIR"
}
trap cleanup EXIT
bash test/harness/kafka.sh start
eval "$(bash test/harness/kafka.sh env)"

quiet() { grep -v -e 'NodeVersionSupportWarning' -e 'node >=22' -e 'versions published' -e 'To continue receiving' -e 'security updates' -e 'a.co/' -e 'trace-warnings' -e '^$' || true; }
out="native-bench/results/$(date -u +%Y-%m-%d)-floe.md"
mkdir -p native-bench/results
{
  echo "# floe benchmark, $(date -u +%Y-%m-%dT%H:%MZ)"
  echo
  echo "Machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), Node $(node --version), $(git rev-parse --short HEAD 2>/dev/null || echo '?')."
  echo "Command: \`npm run bench\` (EVENTS=$EVENTS). Medians where repeated; the machine is noisy."
  echo
  echo "## Stage ceilings (CPU µs per event)"
  echo
  for mode in noschema schema; do
    node dist/native-bench/stages.bench.js "$EVENTS" "$mode" 2>&1 | quiet
    echo
  done
  echo "## Kafka fetch: node-rdkafka against one Buffer per Fetch response"
  echo
  for mode in noschema schema; do
    echo "With$([ "$mode" = noschema ] && echo "out") the schema block:"
    echo
    flag=$([ "$mode" = noschema ] && echo "--noschema" || true)
    # shellcheck disable=SC2086
    node dist/native-bench/workload.js --prefix "fetch$mode" --events "$EVENTS" --mix cdc $flag --out "$FLOE_HARNESS_DIR/fetch-$mode" >/dev/null 2>&1
    node dist/native-bench/fetch-protocol.bench.js "fetch$mode.bench.t0,fetch$mode.bench.t1,fetch$mode.bench.t2" "$EVENTS" 2>&1
    echo
  done
  echo "## End to end: Kafka (filled topics) → floe → local warehouse"
  echo
  echo '```json'
  for mode in noschema schema; do
    node dist/native-bench/pipeline.bench.js "$EVENTS" "$mode" local 2>&1 | quiet
  done
  echo '```'
  echo
  echo "## Where the main thread's time goes (CPU profile of the schema run, by stage)"
  echo
  prof="$FLOE_HARNESS_DIR/profile"
  node --cpu-prof --cpu-prof-dir="$prof" dist/native-bench/pipeline.bench.js "$EVENTS" schema local >/dev/null 2>&1
  node dist/native-bench/profile-split.js "$(ls -S "$prof"/*.cpuprofile | head -1)" "$EVENTS" 2>&1 | quiet
  echo
  echo "## Under a steady produce rate (commit latency, files per commit, freshness)"
  echo
  node dist/native-bench/steady.bench.js "${STEADY_RATE:-5000}" "${STEADY_SECONDS:-60}" local 2>&1 | quiet
} | tee "$out"
echo "[bench] wrote $out"
