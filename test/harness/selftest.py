#!/usr/bin/env python3
"""End-to-end check of the harness itself (run with the harness venv python).

    ~/.cache/floe/venv/bin/python test/harness/selftest.py [--quick]

Needs a running SeaweedFS (seaweed.sh start). It
  1. writes tables of many types with pyiceberg through the REST catalog and
     through a SqlCatalog on sqlite + a local file warehouse,
  2. reads them with pyiceberg, DuckDB (ATTACH and iceberg_scan) and Spark and
     checks that all print the same canonical lines, equal to the golden
     lines below,
  3. (unless --quick) writes position deletes and equality deletes with Spark
     (make_fixture.py) and checks what each reader makes of them,
  4. checks that SeaweedFS rejects a wrong secret on S3 and on the catalog.
Prints 'N passed, N failed' at the end; exit status 1 on any failure.
"""
from __future__ import annotations

import argparse
import datetime as dt
import decimal
import os
import shutil
import subprocess
import sys
import tempfile
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
READERS = os.path.join(HERE, "readers")
sys.path.insert(0, READERS)

from common import CatalogArgs, seaweed_env  # noqa: E402

PY = sys.executable
NS = "harness_selftest"
results: list[tuple[str, bool, str]] = []


def check(name: str, ok: bool, detail: str = "") -> None:
    results.append((name, ok, detail))
    print(f"{'ok  ' if ok else 'FAIL'} {name}" + (f"\n     {detail}" if detail and not ok else ""), flush=True)


def run(args: list[str], timeout: int = 300) -> tuple[int, str, str]:
    p = subprocess.run(args, capture_output=True, text=True, timeout=timeout)
    return p.returncode, p.stdout, p.stderr


def reader(engine: str, cat: list[str], tables: list[str], extra: list[str] | None = None) -> tuple[int, str, str]:
    args = [PY, os.path.join(READERS, f"{engine}_read.py"), *cat, "--skip-unsupported"]
    for t in tables:
        args += ["--table", t]
    return run(args + (extra or []))


# ------------------------------------------------------------------ data ---

def types_schema(with_time: bool):
    from pyiceberg.schema import Schema
    from pyiceberg.types import (BinaryType, BooleanType, DateType, DecimalType, DoubleType,
                                 FixedType, FloatType, IntegerType, LongType, NestedField,
                                 StringType, TimestampType, TimestamptzType, TimeType, UUIDType)
    fields = [
        NestedField(1, "id", LongType(), required=True),
        NestedField(2, "b", BooleanType()),
        NestedField(3, "i", IntegerType()),
        NestedField(4, "f", FloatType()),
        NestedField(5, "d", DoubleType()),
        NestedField(6, "dec", DecimalType(10, 2)),
        NestedField(7, "dec38", DecimalType(38, 10)),
        NestedField(8, "dt", DateType()),
        NestedField(10, "ts", TimestampType()),
        NestedField(11, "tstz", TimestamptzType()),
        NestedField(12, "s", StringType()),
        NestedField(13, "fx", FixedType(4)),
        NestedField(14, "bin", BinaryType()),
        NestedField(15, "u", UUIDType()),
    ]
    if with_time:
        fields.append(NestedField(9, "tm", TimeType()))
    return Schema(*fields)


def types_rows(with_time: bool) -> dict:
    utc = dt.timezone.utc
    rows = {
        "id": [1, 2, 3, 4],
        "b": [True, False, None, True],
        "i": [-2147483648, 2147483647, 0, None],
        "f": [1.1, float("nan"), float("inf"), -0.5],
        "d": [0.1, float("-inf"), 1e300, None],
        "dec": [decimal.Decimal("12.50"), decimal.Decimal("-0.01"), None, decimal.Decimal("0.00")],
        "dec38": [decimal.Decimal("1234567890123456789012345678.0123456789"), decimal.Decimal("0E-10"),
                  None, decimal.Decimal("-1.5")],
        "dt": [dt.date(2024, 2, 29), dt.date(1970, 1, 1), dt.date(1, 1, 1), None],
        "ts": [dt.datetime(2024, 1, 2, 3, 4, 5, 678901), dt.datetime(1969, 12, 31, 23, 59, 59), None,
               dt.datetime(2000, 1, 1)],
        "tstz": [dt.datetime(2024, 1, 2, 3, 4, 5, 678901, tzinfo=utc),
                 dt.datetime(2024, 6, 1, 12, 0, tzinfo=dt.timezone(dt.timedelta(hours=2))), None,
                 dt.datetime(1970, 1, 1, tzinfo=utc)],
        "s": ["héllo", "", None, "quote\"and\\back\nnl ☃ 𝄞"],
        "fx": [b"\x00\x01\x02\x03", b"abcd", None, b"\xff\xfe\xfd\xfc"],
        "bin": [b"", b"\x00\xff", None, b"binary"],
        "u": [uuid.UUID("123e4567-e89b-12d3-a456-426614174000").bytes,
              uuid.UUID("FFFFFFFF-0000-0000-0000-000000000001").bytes, None,
              uuid.UUID("00000000-0000-0000-0000-000000000000").bytes],
    }
    if with_time:
        rows["tm"] = [dt.time(0, 0), dt.time(23, 59, 59, 999999), dt.time(12, 30, 0, 5), None]
    return rows


GOLDEN_NT = [
    '{"b":false,"bin":"00ff","d":"-Infinity","dec":"-0.01","dec38":"0.0000000000","dt":"1970-01-01","f":"NaN","fx":"61626364","i":2147483647,"id":2,"s":"","ts":"1969-12-31T23:59:59.000000","tstz":"2024-06-01T10:00:00.000000Z","u":"ffffffff-0000-0000-0000-000000000001"}',  # noqa: E501
    '{"b":null,"bin":null,"d":1e+300,"dec":null,"dec38":null,"dt":"0001-01-01","f":"Infinity","fx":null,"i":0,"id":3,"s":null,"ts":null,"tstz":null,"u":null}',  # noqa: E501
    '{"b":true,"bin":"","d":0.1,"dec":"12.50","dec38":"1234567890123456789012345678.0123456789","dt":"2024-02-29","f":1.100000023841858,"fx":"00010203","i":-2147483648,"id":1,"s":"héllo","ts":"2024-01-02T03:04:05.678901","tstz":"2024-01-02T03:04:05.678901Z","u":"123e4567-e89b-12d3-a456-426614174000"}',  # noqa: E501
    '{"b":true,"bin":"62696e617279","d":null,"dec":"0.00","dec38":"-1.5000000000","dt":null,"f":-0.5,"fx":"fffefdfc","i":null,"id":4,"s":"quote\\"and\\\\back\\nnl ☃ 𝄞","ts":"2000-01-01T00:00:00.000000","tstz":"1970-01-01T00:00:00.000000Z","u":"00000000-0000-0000-0000-000000000000"}',  # noqa: E501
]
GOLDEN_TIME = {1: "00:00:00.000000", 2: "23:59:59.999999", 3: "12:30:00.000005", 4: None}


def golden(with_time: bool) -> list[str]:
    import json
    out = []
    for line in GOLDEN_NT:
        obj = json.loads(line)
        if with_time:
            obj["tm"] = GOLDEN_TIME[obj["id"]]
        out.append(json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False))
    return sorted(out)


def write_types(cat) -> None:
    import pyarrow as pa
    cat.create_namespace_if_not_exists(NS)
    for name, with_time in (("types", True), ("types_nt", False)):
        ident = f"{NS}.{name}"
        if cat.table_exists(ident):
            cat.drop_table(ident)
        t = cat.create_table(ident, schema=types_schema(with_time))
        rows = types_rows(with_time)
        arrow_schema = t.schema().as_arrow()
        # two appends -> two data files / snapshots
        t.append(pa.Table.from_pydict({k: v[:2] for k, v in rows.items()}, schema=arrow_schema))
        t.append(pa.Table.from_pydict({k: v[2:] for k, v in rows.items()}, schema=arrow_schema))


def body(out: str, table: str) -> list[str] | str:
    """Lines printed under '# table' (or the unsupported marker)."""
    lines, cur = [], None
    for line in out.splitlines():
        if line.startswith("# unsupported:") and cur == table:
            return "unsupported"
        if line.startswith("# "):
            cur = line[2:]
            continue
        if cur == table:
            lines.append(line)
    return lines


# ---------------------------------------------------------------- checks ---

def check_types(label: str, cat_args: list[str], engines: list[tuple[str, list[str]]]) -> None:
    tables = [f"{NS}.types", f"{NS}.types_nt"]
    for engine, extra in engines:
        shown = [x for x in (extra or []) if not x.startswith("SELECT")]
        name = f"{label}: {engine}{' ' + ' '.join(shown) if shown else ''}"
        rc, out, err = reader(engine, cat_args, tables, extra)
        if rc != 0:
            check(name, False, err.strip().splitlines()[-1] if err.strip() else f"exit {rc}")
            continue
        if "--metrics" in (extra or []):
            check_metrics(name, out)
        nt = body(out, f"{NS}.types_nt")
        check(f"{name}: types_nt == golden", nt == golden(False), f"got {nt}")
        tm = body(out, f"{NS}.types")
        if engine == "spark":
            check(f"{name}: types (time column) reported unsupported", tm == "unsupported", f"got {tm}")
        else:
            check(f"{name}: types (with time) == golden", tm == golden(True), f"got {tm}")


def check_metrics(name: str, out: str) -> None:
    """spark --sql/--metrics: file pruning and metadata tables."""
    import json
    blocks: list[tuple[str, list[str]]] = []
    for line in out.splitlines():
        if line in ("# sql", "# metrics"):
            blocks.append((line[2:], []))
        elif line.startswith("# "):
            blocks.append(("table", []))
        elif blocks:
            blocks[-1][1].append(line)
    sqls = [b for k, b in blocks if k == "sql"]
    mets = [b for k, b in blocks if k == "metrics"]
    ok = len(sqls) == 2 and sqls[0] == ['{"id":4}'] and sqls[1] == ['{"n":2}']
    check(f"{name}: --sql results (filtered row, 2 snapshots)", ok, f"got {sqls}")
    m = json.loads(mets[0][0])["metrics"] if mets and mets[0] else {}
    check(f"{name}: --metrics shows pruning (1 of 2 data files read)",
          m.get("resultDataFiles") == 1 and m.get("skippedDataFiles") == 1, f"got {mets}")


def check_deletes(quick: bool) -> None:
    if quick:
        return
    fx = [PY, os.path.join(READERS, "make_fixture.py"), "--catalog", "rest"]
    rc, _, err = run(fx + [
        "--table", f"{NS}.posdel", "--replace",
        "--schema", "id bigint NOT NULL, v string, ts timestamp",
        "--prop", "write.delete.mode=merge-on-read", "--prop", "write.update.mode=merge-on-read",
        "--insert", "(1,'a',TIMESTAMP '2024-01-01 00:00:00'),(2,'b',NULL),(3,'c',TIMESTAMP '2024-01-01 10:00:00.123456')",
        "--insert", "(4,'d',NULL),(5,'e',NULL)",
        "--sql", f"DELETE FROM cat.{NS}.posdel WHERE id IN (2,4)",
        "--sql", f"UPDATE cat.{NS}.posdel SET v='C' WHERE id=3",
    ])
    check("make_fixture posdel (Spark, merge-on-read position deletes)", rc == 0, err[-500:])
    rc, _, err = run(fx + [
        "--table", f"{NS}.eqdel", "--replace",
        "--schema", "id bigint NOT NULL, k string, v string",
        "--insert", "(1,'a','x'),(2,'b','y'),(3,'c','z')", "--insert", "(4,'d','w')",
        "--eq-delete", '[{"id":2},{"id":4}]', "--eq-delete", '[{"k":"c"}]',
    ])
    check("make_fixture eqdel (Iceberg Java API equality deletes)", rc == 0, err[-500:])
    want_pos = [
        '{"id":1,"ts":"2024-01-01T00:00:00.000000Z","v":"a"}',
        '{"id":3,"ts":"2024-01-01T10:00:00.123456Z","v":"C"}',
        '{"id":5,"ts":null,"v":"e"}',
    ]
    want_eq = ['{"id":1,"k":"a","v":"x"}']
    for engine, extra in (("pyiceberg", []), ("duckdb", []), ("duckdb", ["--mode", "scan"]), ("spark", [])):
        rc, out, err = reader(engine, ["--catalog", "rest"], [f"{NS}.posdel", f"{NS}.eqdel"], extra)
        name = f"deletes: {engine}{' ' + ' '.join(extra) if extra else ''}"
        if rc != 0:
            check(name, False, err.strip().splitlines()[-1] if err.strip() else f"exit {rc}")
            continue
        check(f"{name}: position deletes applied", body(out, f"{NS}.posdel") == want_pos, out)
        eq = body(out, f"{NS}.eqdel")
        if engine == "pyiceberg":
            check(f"{name}: equality deletes reported unsupported", eq == "unsupported", f"got {eq}")
        else:
            check(f"{name}: equality deletes applied", eq == want_eq, f"got {eq}")


def check_auth(env: dict) -> None:
    s3 = env["FLOE_S3_ENDPOINT"]
    rest = env["FLOE_REST_URI"]
    region = env.get("FLOE_S3_REGION", "us-east-1")
    ak, sk = env["AWS_ACCESS_KEY_ID"], env["AWS_SECRET_ACCESS_KEY"]
    bucket = env["FLOE_REST_WAREHOUSE"].replace("s3://", "").strip("/")

    def code(url: str, service: str, secret: str | None) -> str:
        args = ["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "--max-time", "10"]
        if secret is not None:
            args += ["--aws-sigv4", f"aws:amz:{region}:{service}", "--user", f"{ak}:{secret}"]
        return run(args + [url], timeout=20)[1]

    check("S3 accepts the right secret", code(f"{s3}/{bucket}?list-type=2", "s3", sk) == "200")
    check("S3 rejects a wrong secret (403)", code(f"{s3}/{bucket}?list-type=2", "s3", sk + "x") == "403")
    check("S3 rejects unsigned requests (403)", code(f"{s3}/{bucket}?list-type=2", "s3", None) == "403")
    ns_url = f"{rest}/v1/{bucket}/namespaces"
    check("REST catalog accepts SigV4 with the right secret", code(ns_url, "s3tables", sk) == "200")
    check("REST catalog rejects a wrong secret (403)", code(ns_url, "s3tables", sk + "x") == "403")
    check("REST catalog rejects unsigned requests (403)", code(ns_url, "s3tables", None) == "403")
    tok = run(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "--max-time", "10",
               "-d", f"grant_type=client_credentials&client_id={ak}&client_secret={sk}x",
               f"{rest}/v1/oauth/tokens"], timeout=20)[1]
    check("REST OAuth2 token endpoint rejects a wrong secret (401)", tok == "401")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quick", action="store_true", help="skip the Spark-written delete fixtures")
    ns = ap.parse_args()
    from pyiceberg.catalog import load_catalog

    env = seaweed_env()
    rest_args = CatalogArgs(kind="rest", name="floe", tables=[], env=env)
    write_types(load_catalog("floe", **rest_args.pyiceberg_properties()))
    check("pyiceberg wrote types tables through the REST catalog", True)
    check_types("rest", ["--catalog", "rest"],
                [("pyiceberg", []), ("duckdb", []), ("duckdb", ["--mode", "scan"]),
                 ("spark", ["--sql", f"SELECT id FROM cat.{NS}.types_nt WHERE id = 4",
                            "--sql", f"SELECT count(*) AS n FROM cat.{NS}.types_nt.snapshots",
                            "--metrics"])])

    tmp = tempfile.mkdtemp(prefix="floe-selftest-sql-")
    try:
        uri, wh = f"sqlite:///{tmp}/catalog.db", f"file://{tmp}/warehouse"
        os.makedirs(f"{tmp}/warehouse")
        sql = CatalogArgs(kind="sql", name="floe", tables=[], sql_uri=uri, warehouse=wh)
        write_types(load_catalog("floe", **sql.pyiceberg_properties()))
        check("pyiceberg wrote types tables through a SqlCatalog on sqlite", True)
        check_types("sql", ["--catalog", "sql", "--sql-uri", uri, "--warehouse", wh],
                    [("pyiceberg", []), ("duckdb", []), ("spark", [])])
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    check_deletes(ns.quick)
    check_auth(env)

    failed = sum(1 for _, ok, _ in results if not ok)
    print(f"{len(results) - failed} passed, {failed} failed")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
