#!/usr/bin/env bash
# Thin entry point to the integration-test harness in test/harness/.
#
#   scripts/harness.sh install              # venv + jars (cached, idempotent)
#   scripts/harness.sh start|stop|status|env|reset   # SeaweedFS (seaweed.sh)
#   scripts/harness.sh read ENGINE ARGS...  # ENGINE: spark | duckdb | pyiceberg
#   scripts/harness.sh fixture ARGS...      # readers/make_fixture.py (Spark)
#   scripts/harness.sh selftest [--quick]   # end-to-end check of the harness
#   scripts/harness.sh python ARGS...       # the harness venv's python
set -euo pipefail
H="$(cd "$(dirname "${BASH_SOURCE[0]}")/../test/harness" && pwd)"
# shellcheck source=../test/harness/lib.sh
. "$H/lib.sh"
PY="$FLOE_VENV/bin/python"
cmd="${1:-}"; shift || true
case "$cmd" in
  install) exec bash "$H/install.sh" "$@" ;;
  start|stop|status|env|reset) exec bash "$H/seaweed.sh" "$cmd" ;;
  read)
    engine="${1:-}"; shift || true
    case "$engine" in
      spark|duckdb|pyiceberg) exec "$PY" "$H/readers/${engine}_read.py" "$@" ;;
      *) echo "usage: $0 read spark|duckdb|pyiceberg ARGS..." >&2; exit 2 ;;
    esac ;;
  fixture) exec "$PY" "$H/readers/make_fixture.py" "$@" ;;
  selftest) exec "$PY" "$H/selftest.py" "$@" ;;
  python) exec "$PY" "$@" ;;
  *) sed -n '2,9p' "$0" >&2; exit 2 ;;
esac
