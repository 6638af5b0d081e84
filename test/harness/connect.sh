#!/usr/bin/env bash
# Kafka Connect (standalone worker, Kafka 3.9 jars) with the Debezium MariaDB
# connector plugin, for the floe CDC tests, REST on loopback only. Needs
# kafka.sh start (and mariadb.sh start for the Debezium connector).
#
#   connect.sh start FILE [key=value ...]
#                       start the worker with the connector of FILE (a
#                       .properties file, or a template such as
#                       debezium-mariadb.properties.template whose @NAME@
#                       placeholders are filled from the environment); the
#                       key=value pairs override FILE's (key= removes one).
#                       If the worker is running, the connector is added (or
#                       its config replaced) through the REST API instead.
#                       Waits until the connector and its tasks are RUNNING
#                       and, for Debezium, until the task logged "Starting
#                       streaming" (snapshot done: changes made after start
#                       returns arrive as c/u/d, not as snapshot reads),
#                       bounded by $FLOE_CONNECT_START_TIMEOUT (default 120 s).
#   connect.sh add FILE [key=value ...]   same, worker must be running
#   connect.sh render FILE [key=value ...] print the rendered properties
#   connect.sh wait NAME                  wait until NAME and its tasks are RUNNING
#   connect.sh delete NAME                remove a connector (its offsets stay)
#   connect.sh stop     stop by PID (pidfile), TERM then KILL after 30 s
#   connect.sh status [NAME]              exit 0 and print "running <pid>" and
#                       each connector's state (GET /connectors/NAME/status), else exit 1
#   connect.sh env      print `export` lines: eval "$(connect.sh env)"
#   connect.sh reset    stop and delete worker state (source offsets) under
#                       $FLOE_HARNESS_DIR/connect (topics in Kafka stay)
#
# Environment (defaults in brackets):
#   FLOE_HARNESS_DIR [/tmp/floe-harness]     worker.properties, offsets, pidfile, log
#   FLOE_CONNECT_PORT [8083]                  REST listener on 127.0.0.1
#   FLOE_KAFKA_BOOTSTRAP [127.0.0.1:$FLOE_KAFKA_PORT or 9092]
#   FLOE_CONNECT_SCHEMAS_ENABLE [true]        JsonConverter schemas.enable for
#                                             keys and values ({"schema":..,"payload":..})
#   FLOE_CONNECT_HEAP_OPTS [-Xms128m -Xmx768m] FLOE_CONNECT_JVM_OPTS [-XX:+UseSerialGC]
#   FLOE_CONNECT_WORKER_PROPS []              extra worker properties, one key=value a line
#   FLOE_CONNECT_WAIT_STREAMING [1]           0: start/add return once RUNNING
#   (template placeholders: see debezium-mariadb.properties.template)
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=lib.sh
. "$HERE/lib.sh"

DIR="${FLOE_HARNESS_DIR:-/tmp/floe-harness}"
STATE="$DIR/connect"
WORKER="$STATE/worker.properties"
PIDFILE="$DIR/connect.pid"
LOG="$DIR/connect.log"
OUT="$DIR/connect.out"

HOST=127.0.0.1
PORT="${FLOE_CONNECT_PORT:-8083}"
URL="http://$HOST:$PORT"
BOOTSTRAP="${FLOE_KAFKA_BOOTSTRAP:-127.0.0.1:${FLOE_KAFKA_PORT:-9092}}"
SCHEMAS="${FLOE_CONNECT_SCHEMAS_ENABLE:-true}"
START_TIMEOUT="${FLOE_CONNECT_START_TIMEOUT:-120}"
HEAP_OPTS="${FLOE_CONNECT_HEAP_OPTS:--Xms128m -Xmx768m}"
JVM_OPTS="${FLOE_CONNECT_JVM_OPTS:--XX:+UseSerialGC}"

log() { echo "[connect] $*" >&2; }

running_pid() { floe_pid_alive "$PIDFILE" "ConnectStandalone $WORKER"; }

http() { # METHOD PATH [JSON] -> body on stdout, HTTP code in $HTTP_CODE_FILE
  local m="$1" p="$2" body="${3:-}"
  local args=(-s --max-time 30 -X "$m" -H 'Accept: application/json')
  [ -z "$body" ] || args+=(-H 'Content-Type: application/json' --data-binary "$body")
  curl "${args[@]}" -w '\n%{http_code}' "$URL$p"
}

# render FILE [key=value ...] -> properties on stdout
render() {
  local file="${1:?file}"; shift
  [ -f "$file" ] || { log "no such file: $file"; return 1; }
  local prefix="${FLOE_CDC_TOPIC_PREFIX:-cdc}" name="${FLOE_CDC_CONNECTOR_NAME:-floe-mariadb}"
  FLOE_R_CONNECTOR_NAME="$name" \
  FLOE_R_DB_HOST="${FLOE_MARIADB_HOST:-127.0.0.1}" \
  FLOE_R_DB_PORT="${FLOE_MARIADB_PORT:-3307}" \
  FLOE_R_DB_USER="${FLOE_MARIADB_DEBEZIUM_USER:-debezium}" \
  FLOE_R_DB_PASSWORD="${FLOE_MARIADB_DEBEZIUM_PASSWORD:-dbz}" \
  FLOE_R_SERVER_ID="${FLOE_CDC_SERVER_ID:-10000000}" \
  FLOE_R_TOPIC_PREFIX="$prefix" \
  FLOE_R_DATABASES="${FLOE_CDC_DATABASES:-shop}" \
  FLOE_R_TABLES="${FLOE_CDC_TABLES:-}" \
  FLOE_R_KAFKA_BOOTSTRAP="$BOOTSTRAP" \
  FLOE_R_SCHEMA_HISTORY_TOPIC="${FLOE_CDC_SCHEMA_HISTORY_TOPIC:-$prefix.schema-changes.$name}" \
  FLOE_R_SNAPSHOT_MODE="${FLOE_CDC_SNAPSHOT_MODE:-initial}" \
  python3 - "$file" "$@" <<'PY'
import os, re, sys
path, overrides = sys.argv[1], sys.argv[2:]
def sub(m):
    v = os.environ.get("FLOE_R_" + m.group(1))
    if v is None:
        sys.exit("unknown placeholder @%s@ in %s" % (m.group(1), path))
    return v
out, keys = [], {}
for line in open(path, encoding="utf-8").read().splitlines():
    s = line.strip()
    if not s or s[0] in "#!":
        out.append(line); continue
    line = re.sub(r"@([A-Z_]+)@", sub, line)
    k, _, v = line.partition("=")
    if not v.strip():
        continue  # empty value: leave the key out (connector default)
    keys[k.strip()] = len(out)
    out.append(line)
for o in overrides:
    k, eq, v = o.partition("=")
    if not eq:
        sys.exit("override must be key=value: %r" % o)
    k = k.strip()
    if k in keys:
        out[keys[k]] = None
    if v != "":
        keys[k] = len(out); out.append("%s=%s" % (k, v))
print("\n".join(l for l in out if l is not None))
PY
}

props_json() { # properties file -> {"name":..,"config":{..}} on stdout
  python3 - "$1" <<'PY'
import json, sys
cfg = {}
for line in open(sys.argv[1], encoding="utf-8"):
    s = line.strip()
    if not s or s[0] in "#!":
        continue
    k, _, v = s.partition("=")
    cfg[k.strip()] = v.strip()
print(json.dumps({"name": cfg.get("name", ""), "config": cfg}))
PY
}

prop() { sed -n "s/^[[:space:]]*$2[[:space:]]*=[[:space:]]*//p" "$1" | tail -n 1; }

# prepare FILE [k=v...] -> path of the rendered connector properties
prepare() {
  local file="$1"; shift
  mkdir -p "$STATE"
  local tmp="$STATE/.render.$$"
  render "$file" "$@" >"$tmp" || { rm -f "$tmp"; return 1; }
  local name; name=$(prop "$tmp" name)
  [ -n "$name" ] || { rm -f "$tmp"; log "$file has no name="; return 1; }
  mv "$tmp" "$STATE/connector-$name.properties"
  echo "$STATE/connector-$name.properties"
}

write_worker() {
  mkdir -p "$STATE"
  cat >"$WORKER" <<CFG
# generated by test/harness/connect.sh; rewritten at every start
bootstrap.servers=$BOOTSTRAP
key.converter=org.apache.kafka.connect.json.JsonConverter
value.converter=org.apache.kafka.connect.json.JsonConverter
key.converter.schemas.enable=$SCHEMAS
value.converter.schemas.enable=$SCHEMAS
offset.storage.file.filename=$STATE/offsets.dat
offset.flush.interval.ms=1000
plugin.path=$FLOE_CONNECT_PLUGINS
plugin.discovery=${FLOE_CONNECT_PLUGIN_DISCOVERY:-service_load}
listeners=http://$HOST:$PORT
rest.advertised.host.name=$HOST
rest.advertised.port=$PORT
task.shutdown.graceful.timeout.ms=10000
${FLOE_CONNECT_WORKER_PROPS:-}
CFG
}

# connector_state NAME -> "RUNNING RUNNING" (connector, then each task), or
# "FAILED ..." / "MISSING"
connector_state() {
  local res code body
  res=$(http GET "/connectors/$1/status" 2>/dev/null) || { echo DOWN; return; }
  code=${res##*$'\n'}; body=${res%$'\n'*}
  [ "$code" = 200 ] || { echo MISSING; return; }
  python3 -c '
import json, sys
s = json.loads(sys.argv[1])
print(" ".join([s["connector"]["state"]] + [t["state"] for t in sorted(s.get("tasks", []), key=lambda t: t["id"])]))
' "$body"
}

cmd_wait() {
  local name="${1:?usage: connect.sh wait NAME}" deadline=$((SECONDS + START_TIMEOUT)) st=""
  while [ $SECONDS -lt $deadline ]; do
    if [ -f "$PIDFILE" ] && ! floe_pid_live "$(cat "$PIDFILE")"; then
      log "worker exited"; return 1
    fi
    st=$(connector_state "$name")
    case " $st " in
      *" FAILED "*)
        log "connector $name: $st"
        http GET "/connectors/$name/status" | sed '$d' | python3 -c '
import json, sys
s = json.load(sys.stdin)
for x in [s["connector"]] + s.get("tasks", []):
    if x.get("trace"): print(x["trace"][:3000], file=sys.stderr)' || true
        return 1 ;;
    esac
    # the connector and at least one task RUNNING, none in another state
    if [ "${st%% *}" = RUNNING ] && [ "$st" != RUNNING ] && ! grep -qvw RUNNING <<<"${st// /$'\n'}"; then
      return 0
    fi
    sleep 0.5
  done
  log "timeout waiting for connector $name (state: ${st:-none})"
  return 1
}

log_size() { stat -c %s "$LOG" 2>/dev/null || echo 0; }

# wait_streaming NAME PROPS LOG_OFFSET : for a Debezium connector, wait until
# its task logged "Starting streaming" after LOG_OFFSET, i.e. the initial
# snapshot (if any) is done and changes made from now on arrive as c/u/d
# events (FLOE_CONNECT_WAIT_STREAMING=0 skips this).
wait_streaming() {
  local name="$1" props="$2" off="$3" deadline=$((SECONDS + START_TIMEOUT))
  [ "${FLOE_CONNECT_WAIT_STREAMING:-1}" != 0 ] || return 0
  case "$(prop "$props" connector.class)" in io.debezium.*) ;; *) return 0 ;; esac
  while [ $SECONDS -lt $deadline ]; do
    if tail -c +$((off + 1)) "$LOG" 2>/dev/null | grep -qF "[$name|task-0] Starting streaming"; then
      return 0
    fi
    case " $(connector_state "$name") " in
      *" FAILED "*|" DOWN "|" MISSING ") cmd_wait "$name"; return 1 ;;
    esac
    sleep 0.25
  done
  log "timeout waiting for connector $name to start streaming"
  return 1
}

rest_up() { [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$URL/" || true)" = 200 ]; }

cmd_add() {
  local file="${1:?usage: connect.sh add FILE [key=value ...]}"; shift
  running_pid >/dev/null || { log "worker not running"; exit 1; }
  local props name res code off
  props=$(prepare "$file" "$@") || exit 1
  name=$(prop "$props" name)
  off=$(log_size)
  res=$(http PUT "/connectors/$name/config" "$(props_json "$props" | python3 -c 'import json,sys; print(json.dumps(json.load(sys.stdin)["config"]))')")
  code=${res##*$'\n'}
  case "$code" in
    200|201) log "connector $name submitted ($props)" ;;
    *) log "PUT /connectors/$name/config -> $code: ${res%$'\n'*}"; exit 1 ;;
  esac
  local t0; t0=$(date +%s.%N)
  cmd_wait "$name" || exit 1
  wait_streaming "$name" "$props" "$off" || exit 1
  log "connector $name RUNNING ($(floe_elapsed "$t0")s)"
}

cmd_start() {
  local file="${1:?usage: connect.sh start FILE [key=value ...]}"; shift
  local pid
  # Tests running side by side may both ask for a worker: the first starts it, the others add their
  # connector to it (the lock is released when this script exits; the worker does not inherit it).
  mkdir -p "$DIR"
  exec 9>"$DIR/connect.lock"
  flock -w "$START_TIMEOUT" 9 || { log "timed out waiting for $DIR/connect.lock"; exit 1; }
  if pid=$(running_pid); then
    log "worker already running (pid $pid): adding the connector through REST"
    cmd_add "$file" "$@"
    return
  fi
  rm -f "$PIDFILE"
  local java cp props name
  java="$(floe_java)" || { log "java not found"; exit 1; }
  cp="$(floe_kafka_classpath)" || exit 1
  [ -d "$FLOE_CONNECT_PLUGINS" ] || { log "no plugin dir $FLOE_CONNECT_PLUGINS: run test/harness/install.sh"; exit 1; }
  if floe_port_busy "$HOST" "$PORT"; then log "port $PORT on $HOST is already in use"; exit 1; fi
  if ! floe_port_busy "${BOOTSTRAP%:*}" "${BOOTSTRAP##*:}"; then
    log "Kafka is not listening on $BOOTSTRAP (kafka.sh start)"; exit 1
  fi
  props=$(prepare "$file" "$@") || exit 1
  name=$(prop "$props" name)
  write_worker
  local t0 off; t0=$(date +%s.%N); off=$(log_size)
  # shellcheck disable=SC2086
  setsid "$java" $HEAP_OPTS $JVM_OPTS -Djava.awt.headless=true \
    -Dfloe.log.file="$LOG" -Dlog4j.configuration="file:$HERE/log4j.properties" \
    -cp "$cp" org.apache.kafka.connect.cli.ConnectStandalone "$WORKER" "$props" \
    </dev/null >>"$OUT" 2>&1 9>&- &
  echo $! >"$PIDFILE"
  log "started worker pid $(cat "$PIDFILE"), log $LOG, connector $name ($props)"
  local deadline=$((SECONDS + START_TIMEOUT))
  until rest_up; do
    if ! floe_pid_live "$(cat "$PIDFILE")" || [ $SECONDS -ge $deadline ]; then
      log "worker REST API not up on $URL; last log lines:"
      tail -n 30 "$LOG" "$OUT" >&2 || true
      cmd_stop || true
      exit 1
    fi
    sleep 0.5
  done
  log "REST API up in $(floe_elapsed "$t0")s on $URL"
  if ! cmd_wait "$name" || ! wait_streaming "$name" "$props" "$off"; then
    tail -n 30 "$LOG" >&2 || true
    cmd_stop || true
    exit 1
  fi
  log "connector $name RUNNING in $(floe_elapsed "$t0")s"
}

cmd_delete() {
  local name="${1:?usage: connect.sh delete NAME}" res
  res=$(http DELETE "/connectors/$name")
  case "${res##*$'\n'}" in
    204|200) log "connector $name deleted" ;;
    *) log "DELETE /connectors/$name -> ${res##*$'\n'}: ${res%$'\n'*}"; return 1 ;;
  esac
}

cmd_stop() {
  floe_stop_service connect 30
}

cmd_status() {
  local pid n names
  if ! pid=$(running_pid); then
    echo "stopped"
    return 1
  fi
  echo "running $pid"
  if [ $# -gt 0 ]; then
    names="$*"
  else
    names=$(http GET /connectors | sed '$d' | python3 -c 'import json,sys; print(" ".join(json.load(sys.stdin)))' 2>/dev/null || true)
  fi
  for n in $names; do
    echo "connector $n: $(connector_state "$n")"
  done
}

cmd_env() {
  cat <<ENV
export FLOE_HARNESS_DIR='$DIR'
export FLOE_CONNECT_URL='$URL'
export FLOE_KAFKA_BOOTSTRAP='$BOOTSTRAP'
ENV
}

case "${1:-}" in
  start) shift; cmd_start "$@" ;;
  add) shift; cmd_add "$@" ;;
  render) shift; render "$@" ;;
  wait) shift; cmd_wait "$@" ;;
  delete) shift; cmd_delete "$@" ;;
  stop) cmd_stop ;;
  status) shift; cmd_status "$@" ;;
  env) cmd_env ;;
  reset) cmd_stop; rm -rf "$STATE" "$LOG" "$OUT"; log "worker state removed" ;;
  *) awk 'NR > 1 && /^#/ { print; next } NR > 1 { exit }' "$0" >&2; exit 2 ;;
esac
