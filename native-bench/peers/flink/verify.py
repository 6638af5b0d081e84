#!/usr/bin/env python3
"""Compare the Flink peer's Iceberg tables with the workload's expected rows.

    ~/.cache/floe/venv/bin/python verify.py WORKLOAD_JSON NAMESPACE

Reads every table with the harness DuckDB reader (test/harness/readers/
duckdb_read.py, REST catalog from the FLOE_* / AWS_* environment) and compares
ALL rows with expected/<db>.<table>.jsonl after normalising both sides to the
expected file's conventions: bigints as strings, amount as the unscaled integer
string (the peer stores the Connect Decimal bytes as binary, read back as hex),
created_at/updated_at as epoch-micros strings. Not part of run.sh (not timed).
"""
from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys

READER = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                      "../../../test/harness/readers/duckdb_read.py")
EPOCH = dt.datetime(1970, 1, 1)


def micros(s: str) -> str:
    naive = dt.datetime.strptime(s.rstrip("Z"), "%Y-%m-%dT%H:%M:%S.%f")
    d = naive - EPOCH
    return str((d.days * 86400 + d.seconds) * 1_000_000 + d.microseconds)


def norm_actual(row: dict, types: dict) -> dict:
    out = {}
    for k, v in row.items():
        t = types.get(k)
        if v is None:
            out[k] = None
        elif t == "binary":  # two's-complement big-endian unscaled decimal
            out[k] = str(int.from_bytes(bytes.fromhex(v), "big", signed=True))
        elif t in ("timestamp", "timestamptz"):
            out[k] = micros(v)
        elif t == "long":
            out[k] = str(v)
        else:
            out[k] = v
    return out


def main() -> None:
    wl_path, ns = sys.argv[1], sys.argv[2]
    wl = json.load(open(wl_path))
    ok = True
    for t in wl["tables"]:
        types = {}
        for c in t["columns"]:
            conn = c["connect"]
            types[c["name"]] = {
                "org.apache.kafka.connect.data.Decimal": "binary",
                "io.debezium.time.MicroTimestamp": "timestamp",
                "io.debezium.time.ZonedTimestamp": "timestamptz",
            }.get(conn.get("name"), "long" if conn["type"] == "int64" else conn["type"])
        out = subprocess.run([sys.executable, READER, "--catalog", "rest",
                              "--table", f"{ns}.{t['table']}"],
                             check=True, capture_output=True, text=True).stdout
        actual = {}
        for line in out.splitlines():
            if line.startswith("#") or not line:
                continue
            r = norm_actual(json.loads(line), types)
            actual[r["id"]] = r
        expected = {}
        with open(t["expectedFile"]) as f:
            for line in f:
                r = json.loads(line)
                expected[str(r["id"])] = r
        missing = expected.keys() - actual.keys()
        extra = actual.keys() - expected.keys()
        diff = [k for k in expected.keys() & actual.keys() if expected[k] != actual[k]]
        print(f"{t['table']}: actual {len(actual)} rows, expected {len(expected)}; "
              f"missing {len(missing)}, extra {len(extra)}, differing {len(diff)}")
        for k in diff[:3]:
            print("  expected", json.dumps(expected[k]), "\n  actual  ", json.dumps(actual[k]))
        ok = ok and not (missing or extra or diff)
    print("MATCH" if ok else "MISMATCH")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
