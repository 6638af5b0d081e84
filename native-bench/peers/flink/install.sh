#!/usr/bin/env bash
# Idempotent installer for the Flink SQL benchmark peer.
#   venv  : ${FLOE_CACHE:-~/.cache/floe}/flink-venv   (pinned apache-flink)
#   pip   : $PIP_CACHE_DIR (default ~/.cache/pip)
#   jars  : ~/.m2/repository, used in place (list in jars.txt)
# A second run only checks stamp files and jar paths (well under a second).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
FLINK_VERSION=2.0.2   # must match the -2.0 suffix of the Iceberg/Kafka connector jars
CACHE="${FLOE_CACHE:-$HOME/.cache/floe}"
VENV="$CACHE/flink-venv"
M2="${FLOE_M2:-$HOME/.m2/repository}"
export PIP_CACHE_DIR="${PIP_CACHE_DIR:-$HOME/.cache/pip}"

# ---- python: a venv of its own, apache-flink pins its own pyarrow/numpy
stamp="$VENV/.flink-$FLINK_VERSION"
if [ ! -f "$stamp" ]; then
  echo "[flink-install] creating $VENV with apache-flink==$FLINK_VERSION" >&2
  "${FLOE_PYTHON:-python3}" -m venv "$VENV"
  "$VENV/bin/python" -m pip install --quiet --upgrade pip
  "$VENV/bin/python" -m pip install --quiet "apache-flink==$FLINK_VERSION"
  "$VENV/bin/python" -c 'import pyflink.table' # sanity
  rm -f "$VENV"/.flink-*
  touch "$stamp"
fi

# ---- jars: non-transitive, each one checked by path
m2_path() { # g:a:v -> path of the jar in the local repository
  local g a v; IFS=: read -r g a v <<<"$1"
  echo "$M2/${g//.//}/$a/$v/$a-$v.jar"
}
while read -r art; do
  case "$art" in ''|'#'*) continue ;; esac
  if [ ! -f "$(m2_path "$art")" ]; then
    echo "[flink-install] fetching $art" >&2
    # mvn -q still prints colour resets; keep its output only for a failure
    mvn -B -q -Dstyle.color=never org.apache.maven.plugins:maven-dependency-plugin:3.8.1:get \
      -Dartifact="$art" -Dtransitive=false >"$CACHE/flink-mvn.log" 2>&1 || cat "$CACHE/flink-mvn.log" >&2
    [ -f "$(m2_path "$art")" ] || { echo "[flink-install] ERROR: missing $(m2_path "$art")" >&2; exit 1; }
  fi
done <"$HERE/jars.txt"
