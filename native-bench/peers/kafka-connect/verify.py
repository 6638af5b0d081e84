#!/usr/bin/env python3
"""Check the tables the Iceberg Kafka Connect sink wrote against the workload's expected rows.

    verify.py WORKLOAD_DIR NAMESPACE [--engine duckdb|pyiceberg|spark]

Reads NAMESPACE.<table> for every table of WORKLOAD_DIR/workload.json with a
harness reader (test/harness/readers/<engine>_read.py, canonical JSON lines)
and compares every row with WORKLOAD_DIR/expected/<db>.<table>.jsonl, after
mapping the sink's types onto the expected encoding (bigints, decimals as
unscaled integers and timestamps as microseconds, all strings):
  amount     decimal(38,2) "13393.83"           -> "1339383"
  created_at long (MicroTimestamp, an int64)    -> str
  updated_at string (ZonedTimestamp, ISO-8601)  -> microseconds since the epoch
The `_cdc` struct added by DebeziumTransform is checked (op "I") and dropped.
Prints a summary; exit 0 only if every table matches exactly (no missing,
extra or duplicate rows).
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import subprocess
import sys
from collections import Counter

HERE = os.path.dirname(os.path.abspath(__file__))
READERS = os.path.normpath(os.path.join(HERE, "../../../test/harness/readers"))
EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)


def micros(iso: str) -> str:
    t = dt.datetime.fromisoformat(iso.replace("Z", "+00:00"))
    d = t - EPOCH
    return str((d.days * 86400 + d.seconds) * 1_000_000 + d.microseconds)


def normalize(row: dict, table: str, cdc_ops: Counter) -> dict:
    cdc = row.pop("_cdc", None) or {}
    cdc_ops[(cdc.get("op"), cdc.get("target", "").rsplit(".", 1)[-1] == table)] += 1
    out = dict(row)
    for k in ("id", "account_id", "created_at"):
        if out.get(k) is not None:
            out[k] = str(out[k])
    if out.get("amount") is not None:
        out["amount"] = str(int(out["amount"].replace(".", "")))
    if out.get("updated_at") is not None:
        out["updated_at"] = micros(out["updated_at"])
    return out


def as_float(row: dict) -> dict:
    """score is a double: 995 in the expected file is 995.0 in the table"""
    if isinstance(row.get("score"), (int, float)):
        row["score"] = float(row["score"])
    return row


def read(engine: str, idents: list[str]) -> dict[str, list[dict]]:
    args = [sys.executable, os.path.join(READERS, f"{engine}_read.py"), "--catalog", "rest"]
    for i in idents:
        args += ["--table", i]
    out = subprocess.run(args, check=True, capture_output=True, text=True).stdout
    tables: dict[str, list[dict]] = {}
    cur = None
    for line in out.splitlines():
        if line.startswith("# unsupported"):
            sys.exit(f"{engine} cannot read {cur}: {line}")
        if line.startswith("# "):
            cur = line[2:]
            tables[cur] = []
        elif line:
            tables[cur].append(json.loads(line))
    return tables


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("workload_dir")
    p.add_argument("namespace")
    p.add_argument("--engine", default="duckdb", choices=("duckdb", "pyiceberg", "spark"))
    a = p.parse_args()
    wl = json.load(open(os.path.join(a.workload_dir, "workload.json")))
    idents = [f"{a.namespace}.{t['table']}" for t in wl["tables"]]
    got = read(a.engine, idents)
    ok = True
    total = 0
    for t in wl["tables"]:
        ident = f"{a.namespace}.{t['table']}"
        exp_path = os.path.join(a.workload_dir, "expected", f"{t['db']}.{t['table']}.jsonl")
        expected = [as_float(json.loads(l)) for l in open(exp_path) if l.strip()]
        cdc_ops: Counter = Counter()
        rows = [as_float(normalize(r, t["table"], cdc_ops)) for r in got.get(ident, [])]
        total += len(rows)
        key = lambda r: json.dumps(r, sort_keys=True)  # noqa: E731
        have, want = Counter(map(key, rows)), Counter(map(key, expected))
        dup_ids = sum(c - 1 for c in Counter(r["id"] for r in rows).values() if c > 1)
        missing, extra = want - have, have - want
        match = not missing and not extra
        ok &= match and dup_ids == 0
        print(f"{ident}: {len(rows)} rows, expected {len(expected)}; duplicate ids {dup_ids}; "
              f"missing {sum(missing.values())}, unexpected {sum(extra.values())}; "
              f"_cdc (op, target ok): {dict(cdc_ops)} -> {'MATCH' if match else 'DIFFER'}")
        for label, c in (("missing", missing), ("unexpected", extra)):
            for r in list(c)[:2]:
                print(f"  {label}: {r}")
    print(f"{a.engine}: {total} rows in {len(idents)} tables, {'ALL MATCH' if ok else 'MISMATCH'}")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
