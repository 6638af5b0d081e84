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
