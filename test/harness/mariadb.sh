#!/usr/bin/env bash
# A private MariaDB server (Debian's mariadb-server, installed by install.sh)
# for the floe CDC tests: its own data directory, loopback TCP and a socket
# under $FLOE_HARNESS_DIR, row-based binlog for Debezium. Not the
# distribution's service.
#
#   mariadb.sh start        initialise the data directory once, start (no-op if
#                           running), wait until it answers, bounded by
#                           $FLOE_MARIADB_START_TIMEOUT (default 60 s); (re)creates
#                           the test user and the Debezium user
#   mariadb.sh stop         stop by PID (pidfile), TERM then KILL after 30 s
#   mariadb.sh status       exit 0 and print "running <pid>" if up, else exit 1
#   mariadb.sh env          print `export` lines: eval "$(mariadb.sh env)"
#   mariadb.sh reset        stop and delete all data under $FLOE_HARNESS_DIR/mariadb
#   mariadb.sh sql "SQL"    run SQL as root through the socket (no argument:
#                           SQL from stdin); tab-separated output with a header
#   mariadb.sh client ARGS  the mariadb client as root through the socket, e.g.
#                           mariadb.sh client -N shop -e 'select count(*) from t'
#
# Environment (defaults in brackets):
#   FLOE_HARNESS_DIR [/tmp/floe-harness]   data, socket, pidfile, log
#   FLOE_MARIADB_PORT [3307]                TCP on 127.0.0.1
#   FLOE_MARIADB_USER [floe] FLOE_MARIADB_PASSWORD [floe]      all privileges
#   FLOE_MARIADB_DEBEZIUM_USER [debezium] FLOE_MARIADB_DEBEZIUM_PASSWORD [dbz]
#       SELECT, RELOAD, SHOW DATABASES, REPLICATION SLAVE, REPLICATION CLIENT
#       (= BINLOG MONITOR), LOCK TABLES on *.*
#   FLOE_MARIADB_SERVER_ID [1]              server_id (Debezium's
#                                           database.server.id must differ)
#   FLOE_MARIADB_OPTS []                    extra mariadbd options
#
# Server: binlog on (log_bin, binlog_format=ROW, binlog_row_image=FULL, GTIDs
# are always on in MariaDB), time_zone +00:00, utf8mb4, 64 MiB buffer pool,
# performance_schema off, skip-name-resolve.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=lib.sh
. "$HERE/lib.sh"

DIR="${FLOE_HARNESS_DIR:-/tmp/floe-harness}"
DATA="$DIR/mariadb"
SOCK="$DIR/mariadb.sock"
PIDFILE="$DIR/mariadb.pid"
LOG="$DIR/mariadb.log"

HOST=127.0.0.1
PORT="${FLOE_MARIADB_PORT:-3307}"
USER_="${FLOE_MARIADB_USER:-floe}"
PASS="${FLOE_MARIADB_PASSWORD:-floe}"
DBZ_USER="${FLOE_MARIADB_DEBEZIUM_USER:-debezium}"
DBZ_PASS="${FLOE_MARIADB_DEBEZIUM_PASSWORD:-dbz}"
SERVER_ID="${FLOE_MARIADB_SERVER_ID:-1}"
START_TIMEOUT="${FLOE_MARIADB_START_TIMEOUT:-60}"

PATH="$PATH:/usr/sbin:/usr/bin"
log() { echo "[mariadb] $*" >&2; }

running_pid() { floe_pid_alive "$PIDFILE" "mariadbd .*--datadir=$DATA( |$)"; }

client() { mariadb --no-defaults --protocol=socket --socket="$SOCK" -uroot "$@"; }

sq() { # single-quote for SQL string literals
  local s=${1//\\/\\\\}; printf "'%s'" "${s//\'/\'\'}"
}

cmd_start() {
  local pid
  if pid=$(running_pid); then
    log "already running (pid $pid)"
    wait_ready
    return 0
  fi
  rm -f "$PIDFILE"
  command -v mariadbd >/dev/null || { log "mariadbd not found: run test/harness/install.sh first"; exit 1; }
  if floe_port_busy "$HOST" "$PORT"; then log "port $PORT on $HOST is already in use"; exit 1; fi
  local t0; t0=$(date +%s.%N)
  mkdir -p "$DIR"
  if [ ! -d "$DATA/mysql" ]; then
    rm -rf "$DATA"
    mkdir -p "$DATA"
    # root@localhost: unix_socket authentication only (the OS user running this)
    mariadb-install-db --no-defaults --datadir="$DATA" --user="$(id -un)" \
      --auth-root-authentication-method=socket --skip-test-db --skip-name-resolve \
      >"$DIR/mariadb-install.log" 2>&1 || {
        log "mariadb-install-db failed:"; tail -n 20 "$DIR/mariadb-install.log" >&2; exit 1; }
    log "initialised $DATA ($(floe_elapsed "$t0")s)"
  fi
  rm -f "$SOCK"
  # shellcheck disable=SC2086
  setsid mariadbd --no-defaults \
    --datadir="$DATA" --user="$(id -un)" \
    --bind-address="$HOST" --port="$PORT" --socket="$SOCK" \
    --pid-file="$DATA/mariadbd.pid" --log-error="$LOG" \
    --server-id="$SERVER_ID" --log-bin=mariadb-bin \
    --binlog-format=ROW --binlog-row-image=FULL --binlog-expire-logs-seconds=604800 \
    --skip-name-resolve --default-time-zone=+00:00 \
    --character-set-server=utf8mb4 --collation-server=utf8mb4_general_ci \
    --innodb-buffer-pool-size=64M --innodb-log-file-size=48M \
    --performance-schema=OFF --max-connections=100 \
    ${FLOE_MARIADB_OPTS:-} \
    </dev/null >>"$LOG" 2>&1 &
  echo $! >"$PIDFILE"
  log "started pid $(cat "$PIDFILE"), log $LOG"
  if ! wait_ready; then
    log "not ready after ${START_TIMEOUT}s; last log lines:"
    tail -n 30 "$LOG" >&2 || true
    cmd_stop || true
    exit 1
  fi
  create_users
  log "ready in $(floe_elapsed "$t0")s on $HOST:$PORT"
}

create_users() {
  # not binlogged: Debezium should only see what the tests do
  client <<SQL
SET SESSION sql_log_bin = 0;
CREATE USER IF NOT EXISTS $(sq "$USER_")@'%' IDENTIFIED BY $(sq "$PASS");
ALTER USER $(sq "$USER_")@'%' IDENTIFIED BY $(sq "$PASS");
GRANT ALL PRIVILEGES ON *.* TO $(sq "$USER_")@'%' WITH GRANT OPTION;
CREATE USER IF NOT EXISTS $(sq "$DBZ_USER")@'%' IDENTIFIED BY $(sq "$DBZ_PASS");
ALTER USER $(sq "$DBZ_USER")@'%' IDENTIFIED BY $(sq "$DBZ_PASS");
GRANT SELECT, RELOAD, SHOW DATABASES, REPLICATION SLAVE, REPLICATION CLIENT, LOCK TABLES
  ON *.* TO $(sq "$DBZ_USER")@'%';
SQL
}

wait_ready() {
  local deadline=$((SECONDS + START_TIMEOUT))
  while [ $SECONDS -lt $deadline ]; do
    if [ -f "$PIDFILE" ] && ! floe_pid_live "$(cat "$PIDFILE")"; then
      log "mariadbd exited during startup"; return 1
    fi
    if [ -S "$SOCK" ] && client -N -e 'SELECT 1' >/dev/null 2>&1 && floe_port_busy "$HOST" "$PORT"; then
      return 0
    fi
    sleep 0.25
  done
  return 1
}

cmd_stop() {
  floe_stop_service mariadb 30
}

cmd_status() {
  local pid
  if pid=$(running_pid); then
    echo "running $pid"
    client -N -e "SELECT CONCAT('version ', VERSION(), ', binlog ', @@log_bin, ' ', @@binlog_format, ' ', @@binlog_row_image, ', gtid ', @@gtid_current_pos)" 2>/dev/null || true
  else
    echo "stopped"
    return 1
  fi
}

cmd_env() {
  cat <<ENV
export FLOE_HARNESS_DIR='$DIR'
export FLOE_MARIADB_HOST='$HOST'
export FLOE_MARIADB_PORT='$PORT'
export FLOE_MARIADB_USER='$USER_'
export FLOE_MARIADB_PASSWORD='$PASS'
export FLOE_MARIADB_DEBEZIUM_USER='$DBZ_USER'
export FLOE_MARIADB_DEBEZIUM_PASSWORD='$DBZ_PASS'
export FLOE_MARIADB_SOCKET='$SOCK'
ENV
}

cmd_sql() {
  running_pid >/dev/null || { log "not running"; exit 1; }
  if [ $# -gt 0 ]; then client --batch -e "$*"; else client --batch; fi
}

case "${1:-}" in
  start) cmd_start ;;
  stop) cmd_stop ;;
  status) cmd_status ;;
  env) cmd_env ;;
  reset) cmd_stop; rm -rf "$DATA" "$LOG" "$DIR/mariadb-install.log"; log "data removed" ;;
  sql) shift; cmd_sql "$@" ;;
  client) shift; client "$@" ;;
  *) awk 'NR > 1 && /^#/ { print; next } NR > 1 { exit }' "$0" >&2; exit 2 ;;
esac
