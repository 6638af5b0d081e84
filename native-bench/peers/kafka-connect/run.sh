#!/usr/bin/env bash
# Benchmark peer: Apache Iceberg's Kafka Connect sink (iceberg-kafka-connect
# 1.11.0) on a Kafka Connect 3.9 standalone worker loads a Debezium workload
# (native-bench/workload.ts, JsonConverter with schemas) into Iceberg tables
# of the REST catalog, then stops. Called by the benchmark orchestrator.
#
# Environment in:
#   BENCH_WORKLOAD         workload.json (topics, db/table names, events)
#   BENCH_KAFKA_BOOTSTRAP  Kafka bootstrap servers
#   BENCH_NAMESPACE        Iceberg namespace (created if missing; must not
#                          already hold the workload's tables with rows)
#   BENCH_WORK_DIR         scratch: worker state, connector config, logs
#   BENCH_TIMEOUT_S [900]  whole run, startup included
#   FLOE_REST_URI, FLOE_REST_WAREHOUSE, FLOE_REST_SIGNING_NAME, FLOE_S3_ENDPOINT,
#   FLOE_S3_REGION, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY   catalog and S3
#   FLOE_CONNECT_PORT [8083] worker REST listener (127.0.0.1)
#   KC_TASKS [2] KC_COMMIT_INTERVAL_MS [10000] KC_POLL_S [1]   knobs for experiments
#
# Process tree: the worker is started by test/harness/connect.sh with setsid
# (its own session, reparented to init once connect.sh returns), so it is NOT
# a descendant of this script: its PID is appended to $BENCH_WORK_DIR/pids
# as soon as connect.sh has launched it, for the orchestrator's CPU/RSS sampling.
#
# Done when the current snapshots of the workload's tables hold `events`
# rows in total (their `total-records`, read from the REST catalog). Output:
# progress on stderr, worker log in $BENCH_WORK_DIR/connect.log, and as the
# last stdout line one JSON object describing the run.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
HARNESS="$(cd "$HERE/../../../test/harness" && pwd)"
# shellcheck source=../../../test/harness/lib.sh
. "$HARNESS/lib.sh"

T0=$(date +%s.%N)
log() { echo "[kafka-connect $(floe_elapsed "$T0")s] $*" >&2; }
die() { log "ERROR: $*"; exit 1; }

: "${BENCH_WORKLOAD:?}" "${BENCH_KAFKA_BOOTSTRAP:?}" "${BENCH_NAMESPACE:?}" "${BENCH_WORK_DIR:?}"
: "${FLOE_REST_URI:?}" "${FLOE_S3_ENDPOINT:?}" "${AWS_ACCESS_KEY_ID:?}" "${AWS_SECRET_ACCESS_KEY:?}"
TIMEOUT_S="${BENCH_TIMEOUT_S:-900}"
DEADLINE=$((SECONDS + TIMEOUT_S))
TASKS="${KC_TASKS:-2}"
COMMIT_MS="${KC_COMMIT_INTERVAL_MS:-10000}"
POLL_S="${KC_POLL_S:-1}"
NS="$BENCH_NAMESPACE"
REGION="${FLOE_REST_SIGNING_REGION:-${FLOE_S3_REGION:-us-east-1}}"
SIGNING_NAME="${FLOE_REST_SIGNING_NAME:-s3tables}"
WAREHOUSE="${FLOE_REST_WAREHOUSE:-s3://floe-warehouse}"
PLUGINS="${FLOE_BENCH_CONNECT_PLUGINS:-$FLOE_CACHE/bench-connect-plugins}"
ICEBERG_VERSION=1.11.0
CONNECTOR="iceberg-sink-$NS"
CONTROL_TOPIC="control-iceberg-$NS" # one control topic per connector (Iceberg docs)

mkdir -p "$BENCH_WORK_DIR"
W="$(cd "$BENCH_WORK_DIR" && pwd)"
[ -f "$PLUGINS/iceberg-kafka-connect/iceberg-kafka-connect-$ICEBERG_VERSION.jar" ] ||
  die "Iceberg sink plugin missing in $PLUGINS: run native-bench/peers/kafka-connect/install.sh"

# ------------------------------------------------------------- workload ---
EVENTS=$(jq -r .events "$BENCH_WORKLOAD")
TOPICS=$(jq -r '[.tables[].topic] | join(",")' "$BENCH_WORKLOAD")
mapfile -t TABLES < <(jq -r '.tables[].table' "$BENCH_WORKLOAD")
[ "$EVENTS" -gt 0 ] && [ ${#TABLES[@]} -gt 0 ] || die "no events/tables in $BENCH_WORKLOAD"
# JsonConverter knows Kafka Connect's JSON schema type names only ("double",
# not the Java enum name "float64"): fail here rather than in a task later.
bad=$(jq -r '[.tables[].columns[]?.connect.type] | unique - ["boolean","int8","int16","int32","int64",
  "float","double","bytes","string","array","map","struct"] | join(",")' "$BENCH_WORKLOAD")
[ -z "$bad" ] || die "workload schema types JsonConverter cannot read: $bad (JsonConverter writes float64 as \"double\")"
[ "$(jq -r '.ops.u + .ops.d' "$BENCH_WORKLOAD")" = 0 ] ||
  log "WARNING: the workload has updates/deletes; Iceberg's sink 1.11 only appends (no CDC), rows will not match"

# ------------------------------------------------- REST catalog (SigV4) ---
# curl signs the requests itself (--aws-sigv4); the key pair goes through a
# private curl config file, not the command line.
CURLRC="$W/curl-sigv4.rc"
(umask 077; printf 'user = "%s:%s"\naws-sigv4 = "aws:amz:%s:%s"\nsilent\nmax-time = 20\n' \
  "$AWS_ACCESS_KEY_ID" "$AWS_SECRET_ACCESS_KEY" "$REGION" "$SIGNING_NAME" >"$CURLRC")
rest() { curl -K "$CURLRC" "$@"; }
PREFIX=$(rest "$FLOE_REST_URI/v1/config?warehouse=$WAREHOUSE" | jq -r '.overrides.prefix // empty') ||
  die "REST catalog $FLOE_REST_URI not reachable"
BASE="$FLOE_REST_URI/v1${PREFIX:+/$PREFIX}"

code=$(rest -o "$W/ns.json" -w '%{http_code}' -X POST -H 'Content-Type: application/json' \
  --data "{\"namespace\":[\"$NS\"],\"properties\":{}}" "$BASE/namespaces")
case "$code" in
  200) log "namespace $NS created" ;;
  409) log "namespace $NS exists" ;;
  *) die "create namespace $NS -> HTTP $code: $(cat "$W/ns.json")" ;;
esac

# rows_total -> sum of total-records of the tables' current snapshots (a
# missing table counts 0); the loadTable responses stay in $W/table-*.json
rows_total() {
  local t code files=()
  for t in "${TABLES[@]}"; do
    code=$(rest -o "$W/table-$t.json" -w '%{http_code}' "$BASE/namespaces/$NS/tables/$t") || code=000
    case "$code" in
      200) files+=("$W/table-$t.json") ;;
      404) ;;
      *) log "loadTable $NS.$t -> HTTP $code"; echo -1; return ;;
    esac
  done
  [ ${#files[@]} -gt 0 ] || { echo 0; return; }
  jq -s 'map(.metadata as $m | ($m.snapshots // []) | map(select(."snapshot-id" == $m."current-snapshot-id"))
           | (.[0].summary."total-records" // "0") | tonumber) | add' "${files[@]}"
}
start_rows=$(rows_total)
[ "$start_rows" = 0 ] || die "tables of namespace $NS already hold $start_rows rows: use a fresh BENCH_NAMESPACE"

# --------------------------------------------------------- control topic ---
# The harness broker has auto.create.topics.enable=false; the sink's
# coordinator needs its control topic (1 partition, Iceberg docs).
FLOE_KAFKA_TOOL_TIMEOUT=120 floe_kafka_tool org.apache.kafka.tools.TopicCommand \
  --bootstrap-server "$BENCH_KAFKA_BOOTSTRAP" --create --if-not-exists \
  --topic "$CONTROL_TOPIC" --partitions 1 --replication-factor 1 >"$W/topic.log" 2>&1 ||
  { cat "$W/topic.log" >&2; die "could not create control topic $CONTROL_TOPIC"; }
log "control topic $CONTROL_TOPIC ready"

# ------------------------------------------------------------- connector ---
# Iceberg's DebeziumTransform (the sink's own SMT for Debezium, as in the
# Iceberg docs and the users' production config): record = the `after` row
# plus a `_cdc` struct (op, ts, offset, source, target, key), whose `target`
# ("<namespace>.<source table>") routes each record to its table
# (dynamic routing; the sink has no topic->table mapping, it routes by a
# value field only). Secrets come from the worker's environment through
# Kafka's EnvVarConfigProvider, so no file holds them.
PROPS="$W/iceberg-sink.properties"
cat >"$PROPS" <<EOF
name=$CONNECTOR
connector.class=org.apache.iceberg.connect.IcebergSinkConnector
tasks.max=$TASKS
topics=$TOPICS
transforms=dbz
transforms.dbz.type=org.apache.iceberg.connect.transforms.DebeziumTransform
transforms.dbz.cdc.target.pattern=$NS.{table}
iceberg.tables.dynamic-enabled=true
iceberg.tables.route-field=_cdc.target
iceberg.tables.auto-create-enabled=true
iceberg.tables.auto-create-props.format-version=2
iceberg.control.topic=$CONTROL_TOPIC
iceberg.control.commit.interval-ms=$COMMIT_MS
iceberg.catalog.type=rest
iceberg.catalog.uri=$FLOE_REST_URI
iceberg.catalog.warehouse=$WAREHOUSE
iceberg.catalog.rest.auth.type=sigv4
iceberg.catalog.rest.signing-name=$SIGNING_NAME
iceberg.catalog.rest.signing-region=$REGION
iceberg.catalog.rest.access-key-id=\${env:AWS_ACCESS_KEY_ID}
iceberg.catalog.rest.secret-access-key=\${env:AWS_SECRET_ACCESS_KEY}
iceberg.catalog.io-impl=org.apache.iceberg.aws.s3.S3FileIO
iceberg.catalog.s3.endpoint=$FLOE_S3_ENDPOINT
iceberg.catalog.s3.path-style-access=true
iceberg.catalog.s3.access-key-id=\${env:AWS_ACCESS_KEY_ID}
iceberg.catalog.s3.secret-access-key=\${env:AWS_SECRET_ACCESS_KEY}
iceberg.catalog.client.region=$REGION
EOF

# ---------------------------------------------------------------- worker ---
PIDFILE="$W/connect.pid" # written by connect.sh (FLOE_HARNESS_DIR=$W)
WORKER_PID=""
stop_worker() {
  local pid
  pid=$(floe_pid_alive "$PIDFILE" "ConnectStandalone") || return 0
  floe_stop_pid kafka-connect "$pid" 30
  rm -f "$PIDFILE"
}
CS_PID=""
trap 'stop_worker' EXIT
# on TERM/INT: stop connect.sh if it is still starting the worker, then the worker (EXIT trap)
trap '[ -z "$CS_PID" ] || kill "$CS_PID" 2>/dev/null || true; exit 143' TERM INT

# connect.sh: worker state, pidfile and log under $W; plugin.path = the
# bench plugin directory only (not the harness's Debezium plugins).
START_LEFT=$((DEADLINE - SECONDS))
[ "$START_LEFT" -gt 0 ] || die "timeout before the worker started"
t_launch=$(floe_elapsed "$T0")
FLOE_HARNESS_DIR="$W" FLOE_CONNECT_PLUGINS="$PLUGINS" FLOE_KAFKA_BOOTSTRAP="$BENCH_KAFKA_BOOTSTRAP" \
  FLOE_CONNECT_SCHEMAS_ENABLE=true FLOE_CONNECT_WAIT_STREAMING=0 \
  FLOE_CONNECT_START_TIMEOUT=$((START_LEFT < 120 ? START_LEFT : 120)) \
  FLOE_CONNECT_WORKER_PROPS=$'config.providers=env\nconfig.providers.env.class=org.apache.kafka.common.config.provider.EnvVarConfigProvider' \
  "$HARNESS/connect.sh" start "$PROPS" &
CS_PID=$! # in the background: `wait` returns at once on TERM, a foreground child would delay the trap
# hand the worker's PID to the orchestrator as soon as connect.sh has launched it
while [ ! -s "$PIDFILE" ] && kill -0 "$CS_PID" 2>/dev/null; do sleep 0.1; done
[ ! -s "$PIDFILE" ] || cat "$PIDFILE" >>"$W/pids"
wait "$CS_PID" || die "worker/connector did not start (log $W/connect.log)"
CS_PID=""
WORKER_PID=$(cat "$PIDFILE")
t_running=$(floe_elapsed "$T0")

# cpu_s PID -> user+sys CPU seconds of the process so far
cpu_s() { awk -v hz="$(getconf CLK_TCK)" '{ sub(/^.*\) /, ""); printf "%.2f", ($12 + $13) / hz }' "/proc/$1/stat"; }
cpu_running=$(cpu_s "$WORKER_PID")
log "connector RUNNING (worker pid $WORKER_PID, launched at ${t_launch}s, worker CPU so far ${cpu_running}s)"

# ------------------------------------------------------------------ wait ---
rows=0 t_first=""
while :; do
  floe_pid_live "$WORKER_PID" || { tail -n 40 "$W/connect.log" >&2; die "worker exited (log $W/connect.log)"; }
  state=$(curl -s --max-time 5 "http://127.0.0.1:${FLOE_CONNECT_PORT:-8083}/connectors/$CONNECTOR/status" |
    jq -r '[.connector.state] + [.tasks[].state] | join(" ")' 2>/dev/null || echo "?")
  case " $state " in *" FAILED "*)
    curl -s "http://127.0.0.1:${FLOE_CONNECT_PORT:-8083}/connectors/$CONNECTOR/status" | jq -r '.tasks[].trace // empty' | head -n 30 >&2
    die "connector failed: $state" ;;
  esac
  n=$(rows_total)
  if [ "$n" != "$rows" ]; then
    [ -n "$t_first" ] || [ "$n" -le 0 ] || t_first=$(floe_elapsed "$T0")
    rows=$n
    log "rows committed: $rows / $EVENTS"
  fi
  [ "$rows" -lt "$EVENTS" ] || break
  [ $SECONDS -lt $DEADLINE ] || die "timeout after ${TIMEOUT_S}s: $rows of $EVENTS rows committed"
  sleep "$POLL_S"
done
[ "$rows" = "$EVENTS" ] || die "tables hold $rows rows, more than the $EVENTS events (duplicates)"

t_done=$(floe_elapsed "$T0")
cpu_done=$(cpu_s "$WORKER_PID")
rss_kb=$(awk '/^VmHWM:/ {print $2}' "/proc/$WORKER_PID/status")
stop_worker
t_end=$(floe_elapsed "$T0")
log "done: $rows rows; worker CPU ${cpu_done}s (${cpu_running}s until RUNNING), peak RSS $((rss_kb / 1024)) MiB; first rows at ${t_first}s, all at ${t_done}s"
jq -n --arg a "$t_launch" --arg b "$t_running" --arg c "$t_first" --arg d "$t_done" --arg e "$t_end" \
  --arg f "$cpu_running" --arg g "$cpu_done" --arg h "$rss_kb" \
  '{launch_s: ($a|tonumber), running_s: ($b|tonumber), first_rows_s: ($c|tonumber), done_s: ($d|tonumber),
    end_s: ($e|tonumber), worker_cpu_until_running_s: ($f|tonumber), worker_cpu_until_done_s: ($g|tonumber),
    worker_peak_rss_kb: ($h|tonumber)}' >"$W/kafka-connect-stats.json"

# ---------------------------------------------------------------- result ---
# column types as the sink created them (first table; all have the same shape)
columns=$(jq -c 'def ty: if type == "string" then gsub(" "; "")
    else "struct<" + (.fields | map(.name + ":" + (.type | ty)) | join(",")) + ">" end;
  .metadata as $m | $m.schemas[] | select(."schema-id" == $m."current-schema-id")
  | .fields | map({key: .name, value: (.type | ty)}) | from_entries' "$W/table-${TABLES[0]}.json")
jq -cn --argjson columns "$columns" \
  --arg version "Kafka Connect $(floe_cdc_version org.apache.kafka:connect-runtime) + iceberg-kafka-connect $ICEBERG_VERSION" \
  --arg config "tasks.max=$TASKS, iceberg.control.commit.interval-ms=$COMMIT_MS, transform=org.apache.iceberg.connect.transforms.DebeziumTransform, dynamic routing on _cdc.target, auto-create format-version=2, JsonConverter schemas.enable=true, standalone worker ${FLOE_CONNECT_HEAP_OPTS:--Xms128m -Xmx768m} ${FLOE_CONNECT_JVM_OPTS:--XX:+UseSerialGC}" \
  --arg notes "append-only (the 1.11 sink has no CDC/upsert); exactly-once via the sink's coordinator (control topic + Kafka transactions); tables carry an extra _cdc struct column from DebeziumTransform; created_at stays long (io.debezium.time.MicroTimestamp is a plain int64 to the sink), updated_at stays string (ZonedTimestamp); worker RUNNING at ${t_running}s with ${cpu_running}s CPU; first rows visible at ${t_first}s, all ${EVENTS} at ${t_done}s; worker CPU ${cpu_done}s, peak RSS $((rss_kb / 1024)) MiB" \
  '{system: "kafka-connect-iceberg", version: $version, config: $config, columns: $columns, notes: $notes}'
