#!/usr/bin/env bash
# End-to-end check of the CDC harness: Kafka (KRaft) + console tools,
# MariaDB, Kafka Connect + Debezium MariaDB connector. Uses its own harness
# directory and its own ports (so it can run beside a running harness), stops
# everything by PID at the end and checks that no process of it is left.
#
#   bash test/harness/cdc-selftest.sh        (~40 s; needs install.sh first)
#   FLOE_SELFTEST_KEEP=1 ...                 keep the directory (logs) afterwards
#
# Ports (defaults): Kafka 19092 / controller 19093, MariaDB 13307, Connect 18083.
set -uo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
export FLOE_HARNESS_DIR; FLOE_HARNESS_DIR="$(mktemp -d /tmp/floe-cdc-selftest.XXXXXX)"
export FLOE_KAFKA_PORT="${FLOE_SELFTEST_KAFKA_PORT:-19092}"
export FLOE_KAFKA_CONTROLLER_PORT="${FLOE_SELFTEST_KAFKA_CONTROLLER_PORT:-19093}"
export FLOE_MARIADB_PORT="${FLOE_SELFTEST_MARIADB_PORT:-13307}"
export FLOE_CONNECT_PORT="${FLOE_SELFTEST_CONNECT_PORT:-18083}"
export FLOE_KAFKA_BOOTSTRAP="127.0.0.1:$FLOE_KAFKA_PORT"
export FLOE_CDC_TOPIC_PREFIX=selftest FLOE_CDC_DATABASES=shop FLOE_CDC_CONNECTOR_NAME=selftest-mariadb
unset FLOE_CDC_TABLES FLOE_CDC_SNAPSHOT_MODE FLOE_CDC_SCHEMA_HISTORY_TOPIC FLOE_CONNECT_SCHEMAS_ENABLE

# shellcheck source=lib.sh
. "$HERE/lib.sh"
K="$HERE/kafka.sh" M="$HERE/mariadb.sh" C="$HERE/connect.sh"
pass=0 fail=0
ok() { echo "ok   - $*"; pass=$((pass + 1)); }
ko() { echo "FAIL - $*"; fail=$((fail + 1)); }
check() { local d="$1"; shift; if "$@"; then ok "$d"; else ko "$d"; fi; }
timed() { # NAME CMD... : run, print wall time
  local t0 rc; t0=$(date +%s.%N)
  "$@"; rc=$?
  awk -v a="$t0" -v b="$(date +%s.%N)" -v n="$(basename "$2") $3" 'BEGIN{printf "# %-24s %5.1fs\n", n, b-a}'
  return $rc
}

pids=()
cleanup() {
  bash "$C" stop 2>/dev/null; bash "$K" stop 2>/dev/null; bash "$M" stop 2>/dev/null
  [ -n "${FLOE_SELFTEST_KEEP:-}" ] && echo "# kept $FLOE_HARNESS_DIR" || rm -rf "$FLOE_HARNESS_DIR"
}
trap cleanup EXIT

echo "# harness dir $FLOE_HARNESS_DIR"
# ------------------------------------------------------------------ kafka ---
timed bash "$K" start || { ko "kafka start"; exit 1; }
pids+=("$(cat "$FLOE_HARNESS_DIR/kafka.pid")")
check "kafka create-topic" timed bash "$K" create-topic smoke 2
printf 'k1\tv1\nk2\tv2\n' | bash "$K" produce smoke $'\t'
got=$(bash "$K" consume smoke 2 10000 | sort)
check "kafka produce/consume keyed records" test "$got" = $'k1\tv1\nk2\tv2'

# ---------------------------------------------------------------- mariadb ---
timed bash "$M" start || { ko "mariadb start"; exit 1; }
pids+=("$(cat "$FLOE_HARNESS_DIR/mariadb.pid")")
bash "$M" sql "
CREATE DATABASE shop;
CREATE TABLE shop.customers (id INT PRIMARY KEY, name VARCHAR(100) NOT NULL, email VARCHAR(200),
  created_at DATETIME(3) NOT NULL DEFAULT '2024-06-01 10:00:00.000');
CREATE TABLE shop.orders (order_id BIGINT NOT NULL, line INT NOT NULL, amount DECIMAL(12,2) NOT NULL,
  status ENUM('new','paid','shipped') NOT NULL DEFAULT 'new', PRIMARY KEY (order_id, line));
INSERT INTO shop.customers (id, name, email) VALUES (1, 'Ada', 'ada@example.com'), (2, 'Bob', NULL);
INSERT INTO shop.orders VALUES (100, 1, 12.50, 'new'), (100, 2, 3.25, 'paid');"
check "mariadb test user over TCP" test "$(mariadb --no-defaults -h127.0.0.1 -P"$FLOE_MARIADB_PORT" -ufloe -pfloe -N -e 'SELECT COUNT(*) FROM shop.orders')" = 2

# ---------------------------------------------------------------- connect ---
timed bash "$C" start "$HERE/debezium-mariadb.properties.template" || { ko "connect start"; tail -n 40 "$FLOE_HARNESS_DIR/connect.log"; exit 1; }
pids+=("$(cat "$FLOE_HARNESS_DIR/connect.pid")")
check "connect status RUNNING" bash -c "bash '$C' status selftest-mariadb | grep -q 'selftest-mariadb: RUNNING RUNNING'"
bash "$M" sql "
INSERT INTO shop.customers (id, name, email) VALUES (3, 'Cy', 'cy@example.com');
UPDATE shop.customers SET email = 'bob@example.com' WHERE id = 2;
DELETE FROM shop.customers WHERE id = 1;
INSERT INTO shop.orders VALUES (101, 1, 99.99, 'new');
UPDATE shop.orders SET status = 'shipped' WHERE order_id = 100 AND line = 2;
DELETE FROM shop.orders WHERE order_id = 100 AND line = 1;"

# 2 snapshot reads + c + u + d + tombstone per table
summary() { # FILE -> "r r c u d tombstone"
  python3 - "$1" <<'PY'
import json, sys
ops = []
for line in open(sys.argv[1]):
    k, _, v = line.rstrip("\n").partition("\t")
    ops.append("tombstone" if v == "null" else json.loads(v)["payload"]["op"])
print(" ".join(ops))
PY
}
for t in customers orders; do
  f="$FLOE_HARNESS_DIR/$t.events"
  deadline=$((SECONDS + 60))
  while :; do
    bash "$K" consume "selftest.shop.$t" 6 5000 >"$f" 2>/dev/null
    [ "$(wc -l <"$f")" -ge 6 ] || [ $SECONDS -ge $deadline ] && break
  done
  check "debezium events selftest.shop.$t: r r c u d tombstone" test "$(summary "$f")" = "r r c u d tombstone"
done
python3 - "$FLOE_HARNESS_DIR/customers.events" <<'PY'
import json, sys
lines = open(sys.argv[1]).read().splitlines()
k, _, v = [l for l in lines if '"op":"u"' in l][0].partition("\t")
p = json.loads(v)["payload"]
print("# sample key  :", json.dumps(json.loads(k)["payload"]))
print("# sample value:", json.dumps({x: p[x] for x in ("op", "before", "after")}))
print("# source      :", json.dumps(p["source"])[:300])
PY
check "decimal as Connect Decimal bytes, enum as string" python3 - "$FLOE_HARNESS_DIR/orders.events" <<'PY'
import base64, json, sys
from decimal import Decimal
ev = [json.loads(l.split("\t", 1)[1]) for l in open(sys.argv[1])]
v = [e for e in ev if e and e["payload"]["op"] == "r" and e["payload"]["after"]["line"] == 1][0]
f = {x["field"]: x for x in v["schema"]["fields"][1]["fields"]}
a = v["payload"]["after"]
assert f["amount"]["name"] == "org.apache.kafka.connect.data.Decimal", f["amount"]
assert Decimal(int.from_bytes(base64.b64decode(a["amount"]), "big", signed=True)).scaleb(-2) == Decimal("12.50"), v
assert f["status"]["name"] == "io.debezium.data.Enum" and a["status"] == "new", v
PY
check "datetime as Connect Timestamp (time.precision.mode=connect)" python3 - "$FLOE_HARNESS_DIR/customers.events" <<'PY'
import json, sys
v = json.loads(open(sys.argv[1]).readline().split("\t", 1)[1])
f = {x["field"]: x for x in v["schema"]["fields"][1]["fields"]}
assert f["created_at"]["name"] == "org.apache.kafka.connect.data.Timestamp", f["created_at"]
assert v["payload"]["after"]["created_at"] == 1717236000000, v["payload"]["after"]
PY

# worker restart: resumes from the offsets file, no second snapshot
timed bash "$C" stop
bash "$M" sql "UPDATE shop.orders SET amount = 100.00 WHERE order_id = 101;"
timed bash "$C" start "$HERE/debezium-mariadb.properties.template" || ko "connect restart"
got=$(bash "$K" consume selftest.shop.orders 7 10000 | tail -n +7 | cut -f2 |
  python3 -c 'import json,sys; p=json.loads(sys.stdin.read())["payload"]; print(p["op"], p["source"]["snapshot"])' 2>/dev/null)
check "restart resumes from offsets (change made while stopped: u, no new snapshot)" test "$got" = "u false"

# a second connector on the running worker, through the REST API
timed bash "$C" add "$HERE/debezium-mariadb.properties.template" name=selftest-nodata \
  topic.prefix=selftest2 snapshot.mode=no_data database.server.id=10000001 \
  schema.history.internal.kafka.topic=selftest2.schema-changes >/dev/null 2>&1
check "connect add (REST) + status" bash -c "bash '$C' status | grep -q 'selftest-nodata: RUNNING RUNNING'"
bash "$M" sql "INSERT INTO shop.customers (id, name) VALUES (4, 'Di');"
sleep 1
got=$(bash "$K" consume selftest2.shop.customers 1 15000 | cut -f2 | python3 -c 'import json,sys; print(json.loads(sys.stdin.read())["payload"]["op"])' 2>/dev/null)
check "no_data connector streams only new changes" test "$got" = c

# ------------------------------------------------------------------- stop ---
timed bash "$C" stop
timed bash "$K" stop
timed bash "$M" stop
for p in "${pids[@]}"; do
  check "pid $p gone" eval "! floe_pid_live $p"
done
left=$(python3 - <<'PY'
import os
d, me = os.environ["FLOE_HARNESS_DIR"].encode(), os.getpid()
for p in os.listdir("/proc"):
    if p.isdigit() and int(p) != me:
        try:
            if d in open("/proc/%s/cmdline" % p, "rb").read():
                print(p)
        except OSError:
            pass
PY
)
check "no process left with $FLOE_HARNESS_DIR in its command line${left:+ (left: $left)}" test -z "$left"
echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
