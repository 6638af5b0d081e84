#!/usr/bin/env bash
# Benchmark entry point for the Flink SQL peer (README.md: versions, choices).
# In : BENCH_WORKLOAD BENCH_KAFKA_BOOTSTRAP BENCH_NAMESPACE BENCH_WORK_DIR
#      [BENCH_TIMEOUT_S=900] + catalog env (FLOE_REST_URI FLOE_REST_WAREHOUSE
#      FLOE_S3_ENDPOINT FLOE_S3_REGION AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY
#      FLOE_REST_SIGNING_NAME)
# Out: last stdout line = one JSON object; everything else on stderr / in
#      $BENCH_WORK_DIR/log. Exit 0 only if every table got all the data.
# Every process stays a child of this script (python -> gateway JVM), so the
# orchestrator's CPU/RSS accounting of the process tree sees all of it.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
: "${BENCH_WORKLOAD:?}" "${BENCH_KAFKA_BOOTSTRAP:?}" "${BENCH_NAMESPACE:?}" "${BENCH_WORK_DIR:?}"
: "${FLOE_REST_URI:?}" "${FLOE_REST_WAREHOUSE:?}" "${FLOE_S3_ENDPOINT:?}"
: "${AWS_ACCESS_KEY_ID:?}" "${AWS_SECRET_ACCESS_KEY:?}"
TIMEOUT_S="${BENCH_TIMEOUT_S:-900}"
M2="${FLOE_M2:-$HOME/.m2/repository}"

bash "$HERE/install.sh" >&2   # no-op after the first run (stamps)
VENV="${FLOE_CACHE:-$HOME/.cache/floe}/flink-venv"

mkdir -p "$BENCH_WORK_DIR"
BENCH_WORK_DIR="$(cd "$BENCH_WORK_DIR" && pwd)"  # absolute: used in file:// URIs
export BENCH_WORK_DIR
mkdir -p "$BENCH_WORK_DIR/log" "$BENCH_WORK_DIR/tmp"
rm -f "$BENCH_WORK_DIR/result.json"

# Connector/Iceberg/Hadoop jars go on the gateway JVM's system classpath
# (PyFlink appends $HADOOP_CLASSPATH): no user-code classloader juggling.
cp=""
while read -r art; do
  case "$art" in ''|'#'*) continue ;; esac
  IFS=: read -r g a v <<<"$art"
  cp="$cp:$M2/${g//.//}/$a/$v/$a-$v.jar"
done <"$HERE/jars.txt"
export HADOOP_CLASSPATH="${cp#:}"
export FLINK_LOG_DIR="$BENCH_WORK_DIR/log"      # PyFlink defaults to its site-packages dir
export JVM_ARGS="-Xmx2g -Duser.timezone=UTC"    # bounded heap for the MiniCluster JVM
export TMPDIR="$BENCH_WORK_DIR/tmp"
export FLOE_S3_REGION="${FLOE_S3_REGION:-us-east-1}" AWS_REGION="${FLOE_S3_REGION:-us-east-1}"

# timeout (coreutils) runs python as its child; on expiry it sends TERM to its
# process group, which includes PyFlink's gateway JVM (a child of python), and
# KILL 30 s later. On success job.py stops and reaps the JVM itself.
rc=0
timeout -k 30 "$TIMEOUT_S" "$VENV/bin/python" "$HERE/job.py" \
  >"$BENCH_WORK_DIR/log/job.out" 2>&1 || rc=$?
# job progress + any traceback; the log4j INFO chatter stays in the log files
grep -v ' INFO \|^WARNING' "$BENCH_WORK_DIR/log/job.out" | tail -n 40 >&2 || true
if [ "$rc" = 124 ]; then
  echo "[flink] ERROR: job did not finish within ${TIMEOUT_S}s (see $BENCH_WORK_DIR/log)" >&2
  exit 1
fi
if [ "$rc" != 0 ] || [ ! -s "$BENCH_WORK_DIR/result.json" ]; then
  echo "[flink] ERROR: job failed (exit $rc); logs in $BENCH_WORK_DIR/log" >&2
  exit 1
fi
cat "$BENCH_WORK_DIR/result.json"
