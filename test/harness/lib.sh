# Shared settings for the floe test harness (sourced by the shell scripts).
# shellcheck shell=bash
FLOE_HARNESS_HOME="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
FLOE_CACHE="${FLOE_CACHE:-$HOME/.cache/floe}"
FLOE_VENV="${FLOE_VENV:-$FLOE_CACHE/venv}"
FLOE_M2="${FLOE_M2:-$HOME/.m2/repository}"

# group:artifact:version list (maven-artifacts.txt), resolved into ~/.m2 by
# install.sh and given to Spark as local jars (spark.jars).
mapfile -t FLOE_MAVEN_ARTIFACTS < <(grep -vE '^[[:space:]]*(#|$)' "$FLOE_HARNESS_HOME/maven-artifacts.txt")

floe_m2_path() { # G:A:V -> path of the jar in the local maven repository
  local g a v
  IFS=: read -r g a v <<<"$1"
  echo "$FLOE_M2/${g//.//}/$a/$v/$a-$v.jar"
}

floe_spark_jars() { # comma separated jar list for spark.jars
  local out="" a
  for a in "${FLOE_MAVEN_ARTIFACTS[@]}"; do
    out="${out:+$out,}$(floe_m2_path "$a")"
  done
  echo "$out"
}

floe_weed_bin() {
  if [ -n "${FLOE_WEED:-}" ]; then echo "$FLOE_WEED"; return; fi
  if [ -x "$FLOE_VENV/bin/weed" ]; then echo "$FLOE_VENV/bin/weed"; return; fi
  [ -x "$FLOE_VENV/bin/python" ] || return 0
  "$FLOE_VENV/bin/python" - 2>/dev/null <<'PYEOF' || true
import glob, os, sys, sysconfig
for d in {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}:
    for p in glob.glob(os.path.join(d, "seaweedfs*", "**", "weed"), recursive=True):
        if os.access(p, os.X_OK):
            print(p); sys.exit(0)
PYEOF
}

# ------------------------------------------------------------- CDC stack ---
# Kafka (KRaft), MariaDB and Kafka Connect + Debezium (kafka.sh, mariadb.sh,
# connect.sh). Jars: cdc-artifacts.txt, resolved by install.sh.
FLOE_CDC_CACHE="${FLOE_CDC_CACHE:-$FLOE_CACHE/cdc}"
FLOE_CONNECT_PLUGINS="${FLOE_CONNECT_PLUGINS:-$FLOE_CACHE/connect-plugins}"
FLOE_KAFKA_CLASSPATH_FILE="$FLOE_CDC_CACHE/kafka.classpath"

floe_cdc_sets() { # names of the sets in cdc-artifacts.txt, in order
  grep -vE '^[[:space:]]*(#|$)' "$FLOE_HARNESS_HOME/cdc-artifacts.txt" | awk '!s[$1]++ {print $1}'
}

floe_cdc_artifacts() { # SET -> its group:artifact:version lines
  grep -vE '^[[:space:]]*(#|$)' "$FLOE_HARNESS_HOME/cdc-artifacts.txt" | awk -v s="$1" '$1 == s {print $2}'
}

floe_cdc_version() { # group:artifact -> version listed in cdc-artifacts.txt
  grep -vE '^[[:space:]]*(#|$)' "$FLOE_HARNESS_HOME/cdc-artifacts.txt" |
    awk -v ga="$1" '{ n = split($2, p, ":"); if (p[1] ":" p[2] == ga) { print p[3]; exit } }'
}

floe_java() { # the java binary (JAVA_HOME first)
  if [ -n "${JAVA_HOME:-}" ] && [ -x "$JAVA_HOME/bin/java" ]; then echo "$JAVA_HOME/bin/java"; else command -v java; fi
}

floe_kafka_classpath() { # ':'-separated classpath of broker, tools and Connect worker
  if [ ! -s "$FLOE_KAFKA_CLASSPATH_FILE" ]; then
    echo "missing $FLOE_KAFKA_CLASSPATH_FILE: run test/harness/install.sh first" >&2
    return 1
  fi
  cat "$FLOE_KAFKA_CLASSPATH_FILE"
}

# floe_kafka_tool MAIN_CLASS ARGS... : run a Kafka command line tool from the
# jars (log4j WARN to stderr, small client heap, fast JVM start), killed after
# $FLOE_KAFKA_TOOL_TIMEOUT seconds (default 300).
floe_kafka_tool() {
  local main="$1"; shift
  local cp; cp="$(floe_kafka_classpath)" || return 1
  timeout -k 5 "${FLOE_KAFKA_TOOL_TIMEOUT:-300}" "$(floe_java)" -Xmx256m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Xshare:auto \
    -Dlog4j.configuration="file:$FLOE_HARNESS_HOME/log4j-tools.properties" \
    -cp "$cp" "$main" "$@"
}

# floe_port_busy HOST PORT : something listens there
floe_port_busy() { (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; }

# floe_pid_alive PIDFILE PATTERN : print the PID of the pidfile if that
# process is alive and its command line matches the (grep -E) pattern.
floe_pid_alive() {
  [ -f "$1" ] || return 1
  local pid; pid=$(cat "$1" 2>/dev/null || true)
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qE -- "$2" || return 1
  echo "$pid"
}

# floe_pid_live PID : the process exists and is not a zombie (a server we
# started with setsid is reparented to PID 1, which may reap it only later)
floe_pid_live() {
  local st
  st=$(sed -n 's/^[0-9]* (.*) \([A-Za-z]\) .*/\1/p' "/proc/$1/stat" 2>/dev/null) || return 1
  [ -n "$st" ] && [ "$st" != Z ] && [ "$st" != X ]
}

# floe_stop_pid NAME PID [SECONDS] : TERM, wait (bounded), then KILL
floe_stop_pid() {
  local name="$1" pid="$2" secs="${3:-20}" i
  kill -TERM "$pid" 2>/dev/null || true
  for i in $(seq 1 $((secs * 10))); do
    floe_pid_live "$pid" || break
    sleep 0.1
  done
  if floe_pid_live "$pid"; then
    echo "[$name] pid $pid did not stop after ${secs}s, sending KILL" >&2
    kill -KILL "$pid" 2>/dev/null || true
    sleep 0.5
  fi
}

# floe_stop_service NAME SECONDS : the common `stop` of a service script, which defines running_pid,
# PIDFILE and log: stop by the PID in the pidfile (TERM, bounded wait, KILL), then forget the pidfile.
floe_stop_service() {
  local name="$1" secs="$2" pid
  if ! pid=$(running_pid); then
    rm -f "$PIDFILE"
    log "not running"
    return 0
  fi
  floe_stop_pid "$name" "$pid" "$secs"
  rm -f "$PIDFILE"
  log "stopped (pid $pid)"
}

floe_elapsed() { # floe_elapsed T0 -> seconds since T0 (date +%s.%N)
  awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1f", b-a}'
}
