#!/usr/bin/env bash
# SeaweedFS "weed mini" (S3 API + Iceberg REST catalog on S3 Tables) for the
# floe integration tests, on loopback only.
#
#   seaweed.sh start    start (no-op if already running), wait until S3 and
#                       the Iceberg REST catalog answer, bounded by
#                       $FLOE_SEAWEED_START_TIMEOUT (default 60 s)
#   seaweed.sh stop     stop by PID (pidfile), TERM then KILL after 20 s
#   seaweed.sh status   exit 0 and print "running <pid>" if up, else exit 1
#   seaweed.sh env      print `export` lines for clients: eval "$(seaweed.sh env)"
#   seaweed.sh reset    stop and delete all data under $FLOE_HARNESS_DIR/seaweed
#
# Everything is configurable through the environment (defaults in brackets):
#   FLOE_HARNESS_DIR [/tmp/floe-harness]   data, pidfile, log, IAM config
#   FLOE_S3_PORT [8333]  FLOE_REST_PORT [8181]
#   FLOE_SEAWEED_MASTER_PORT [9333] FLOE_SEAWEED_VOLUME_PORT [9340]
#   FLOE_SEAWEED_FILER_PORT [8888]  FLOE_SEAWEED_ADMIN_PORT [23646]
#     (gRPC ports are the HTTP port + 10000)
#   FLOE_S3_ACCESS_KEY [floe-admin] FLOE_S3_SECRET_KEY [floe-admin-secret-0123456789]
#   FLOE_S3_REGION [us-east-1]      FLOE_TABLE_BUCKET [floe-warehouse]
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=lib.sh
. "$HERE/lib.sh"

DIR="${FLOE_HARNESS_DIR:-/tmp/floe-harness}"
DATA="$DIR/seaweed"
PIDFILE="$DIR/weed.pid"
LOG="$DIR/weed.log"
IAM="$DIR/s3-identities.json"

HOST=127.0.0.1
S3_PORT="${FLOE_S3_PORT:-8333}"
REST_PORT="${FLOE_REST_PORT:-8181}"
MASTER_PORT="${FLOE_SEAWEED_MASTER_PORT:-9333}"
VOLUME_PORT="${FLOE_SEAWEED_VOLUME_PORT:-9340}"
FILER_PORT="${FLOE_SEAWEED_FILER_PORT:-8888}"
ADMIN_PORT="${FLOE_SEAWEED_ADMIN_PORT:-23646}"
ACCESS_KEY="${FLOE_S3_ACCESS_KEY:-floe-admin}"
SECRET_KEY="${FLOE_S3_SECRET_KEY:-floe-admin-secret-0123456789}"
REGION="${FLOE_S3_REGION:-us-east-1}"
BUCKET="${FLOE_TABLE_BUCKET:-floe-warehouse}"
START_TIMEOUT="${FLOE_SEAWEED_START_TIMEOUT:-60}"

S3_URL="http://$HOST:$S3_PORT"
REST_URL="http://$HOST:$REST_PORT"

log() { echo "[seaweed] $*" >&2; }

# PID from the pidfile, only if that process is alive and is our weed mini.
running_pid() {
  [ -f "$PIDFILE" ] || return 1
  local pid; pid=$(cat "$PIDFILE" 2>/dev/null || true)
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q "weed mini .*-dir=$DATA" || return 1
  echo "$pid"
}

port_busy() { (exec 3<>"/dev/tcp/$HOST/$1") 2>/dev/null; }

# signed requests with curl's built-in SigV4
s3_get() { curl -s -o /dev/null -w '%{http_code}' --max-time 5 \
  --aws-sigv4 "aws:amz:$REGION:s3" --user "$ACCESS_KEY:$SECRET_KEY" "$S3_URL$1"; }
rest_get() { curl -s -o /dev/null -w '%{http_code}' --max-time 5 \
  --aws-sigv4 "aws:amz:$REGION:s3tables" --user "$ACCESS_KEY:$SECRET_KEY" "$REST_URL$1"; }

write_iam() {
  # One admin identity; SeaweedFS then verifies SigV4 on S3 and on the
  # Iceberg REST catalog (unsigned or wrongly signed requests get 403).
  umask 077
  cat >"$IAM" <<EOF
{
  "identities": [
    {
      "name": "floe-admin",
      "credentials": [ { "accessKey": "$ACCESS_KEY", "secretKey": "$SECRET_KEY" } ],
      "actions": [ "Admin", "Read", "List", "Tagging", "Write" ]
    }
  ]
}
EOF
}

cmd_start() {
  local pid
  if pid=$(running_pid); then
    log "already running (pid $pid)"
    wait_ready
    return 0
  fi
  rm -f "$PIDFILE"
  local weed; weed="$(floe_weed_bin)"
  if [ -z "$weed" ] || [ ! -x "$weed" ]; then
    log "weed binary not found: run test/harness/install.sh first"; exit 1
  fi
  local p
  for p in "$S3_PORT" "$REST_PORT" "$MASTER_PORT" "$VOLUME_PORT" "$FILER_PORT"; do
    if port_busy "$p"; then log "port $p on $HOST is already in use"; exit 1; fi
  done
  mkdir -p "$DATA"
  write_iam
  # Explicit ports everywhere: weed mini silently moves to other ports when
  # a default one is busy, unless the port was given on the command line.
  # The AWS_* / S3_* variables would make weed mini create an extra identity
  # or bucket, so they are removed from its environment.
  local t0; t0=$(date +%s.%N)
  env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY -u AWS_SESSION_TOKEN \
      -u S3_BUCKET -u S3_TABLE_BUCKET -u S3TABLES_DEFAULT_BUCKET \
    setsid "$weed" mini \
      -dir="$DATA" \
      -ip="$HOST" -ip.bind="$HOST" \
      -master.port="$MASTER_PORT" -master.port.grpc=$((MASTER_PORT + 10000)) \
      -volume.port="$VOLUME_PORT" -volume.port.grpc=$((VOLUME_PORT + 10000)) \
      -filer.port="$FILER_PORT" -filer.port.grpc=$((FILER_PORT + 10000)) \
      -s3.port="$S3_PORT" -s3.port.grpc=$((S3_PORT + 10000)) \
      -s3.port.iceberg="$REST_PORT" -s3.port.lance=0 \
      -admin.port="$ADMIN_PORT" -admin.port.grpc=$((ADMIN_PORT + 10000)) -admin.ui=false \
      -webdav=false \
      -master.telemetry=false \
      -master.volumeSizeLimitMB=64 \
      -s3.config="$IAM" \
      -tableBucket="$BUCKET" \
      </dev/null >"$LOG" 2>&1 &
  echo $! >"$PIDFILE"
  log "started weed mini pid $(cat "$PIDFILE"), log $LOG"
  if ! wait_ready; then
    log "not ready after ${START_TIMEOUT}s; last log lines:"
    tail -n 30 "$LOG" >&2 || true
    cmd_stop || true
    exit 1
  fi
  awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN{printf "[seaweed] ready in %.1fs\n", b-a}' >&2
}

master_volumes() { # number of volumes the master knows about
  curl -s --max-time 5 "http://$HOST:$MASTER_PORT/dir/status" 2>/dev/null \
    | grep -o '"Volumes":[0-9]*' | awk -F: '{n += $2} END {print n + 0}'
}

wait_ready() {
  local deadline=$((SECONDS + START_TIMEOUT)) s3 cfg ns vols want_vols
  # volumes already on disk (<collection>_<id>.dat or <id>.dat)
  want_vols=$(find "$DATA" -maxdepth 1 -name '*.dat' 2>/dev/null | wc -l)
  while [ $SECONDS -lt $deadline ]; do
    if [ -f "$PIDFILE" ] && ! kill -0 "$(cat "$PIDFILE")" 2>/dev/null; then
      log "weed exited during startup"; return 1
    fi
    s3=$(s3_get "/" || true)
    cfg=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$REST_URL/v1/config" || true)
    # the table bucket exists once the catalog can list its namespaces
    ns=$(rest_get "/v1/$BUCKET/namespaces" || true)
    # after a restart the master learns the existing volumes only from the
    # volume server's heartbeat; until then reads of old objects fail (500)
    vols=$(master_volumes)
    if [ "$s3" = 200 ] && [ "$cfg" = 200 ] && [ "$ns" = 200 ] && [ "$vols" -ge "$want_vols" ]; then
      return 0
    fi
    sleep 0.5
  done
  log "timeout: S3 / -> $s3, /v1/config -> $cfg, /v1/$BUCKET/namespaces -> $ns, volumes $vols/$want_vols"
  return 1
}

cmd_stop() {
  floe_stop_service seaweed 20
}

cmd_status() {
  local pid
  if pid=$(running_pid); then
    echo "running $pid"
    echo "s3 $S3_URL -> $(s3_get / || true), rest $REST_URL/v1/$BUCKET/namespaces -> $(rest_get "/v1/$BUCKET/namespaces" || true)"
  else
    echo "stopped"
    return 1
  fi
}

cmd_env() {
  cat <<EOF
export FLOE_HARNESS_DIR='$DIR'
export FLOE_S3_ENDPOINT='$S3_URL'
export FLOE_S3_REGION='$REGION'
export FLOE_S3_PATH_STYLE='true'
export AWS_ACCESS_KEY_ID='$ACCESS_KEY'
export AWS_SECRET_ACCESS_KEY='$SECRET_KEY'
export AWS_REGION='$REGION'
export AWS_DEFAULT_REGION='$REGION'
export FLOE_REST_URI='$REST_URL'
export FLOE_REST_WAREHOUSE='s3://$BUCKET'
export FLOE_REST_PREFIX='$BUCKET'
export FLOE_TABLE_BUCKET='$BUCKET'
export FLOE_REST_SIGV4='true'
export FLOE_REST_SIGNING_NAME='s3tables'
export FLOE_REST_SIGNING_REGION='$REGION'
export FLOE_REST_OAUTH2_URI='$REST_URL/v1/oauth/tokens'
EOF
}

case "${1:-}" in
  start) cmd_start ;;
  stop) cmd_stop ;;
  status) cmd_status ;;
  env) cmd_env ;;
  reset) cmd_stop; rm -rf "$DATA" "$IAM"; log "data removed" ;;
  *) echo "usage: $0 start|stop|status|env|reset" >&2; exit 2 ;;
esac
