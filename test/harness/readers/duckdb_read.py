#!/usr/bin/env python3
"""Print Iceberg tables as canonical JSON lines, read with DuckDB's iceberg extension.

    duckdb_read.py --catalog rest --table ns.t [--mode attach|scan]
    duckdb_read.py --catalog sql --sql-uri sqlite:////tmp/c.db \
        --warehouse file:///tmp/wh --table ns.t

Extensions (iceberg, avro, httpfs) are loaded from the PyPI wheels
duckdb-extension-* (see duckdb_ext.py); DuckDB never downloads anything.

rest, --mode attach (default): ATTACH the SeaweedFS REST catalog. DuckDB
  authenticates with OAuth2 client_credentials (SeaweedFS turns the S3 access
  key / secret into a bearer token at /v1/oauth/tokens); data files are read
  through an S3 secret pointing at the SeaweedFS S3 endpoint.
rest, --mode scan: ask the catalog (plain HTTP via pyiceberg) for the current
  metadata location, then iceberg_scan() it.
sql: read metadata_location from the sqlite iceberg_tables table, then
  iceberg_scan() the local metadata file.
"""
from __future__ import annotations

import os
import sqlite3
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import canonical  # noqa: E402
import duckdb_ext  # noqa: E402
from common import CatalogArgs, catalog_args, die, parser, run_tables, split_table  # noqa: E402


def q(s: str) -> str:
    return "'" + s.replace("'", "''") + "'"


def qi(s: str) -> str:
    return '"' + s.replace('"', '""') + '"'


def s3_secret(con, cargs: CatalogArgs) -> None:
    ep = cargs.s3_endpoint
    use_ssl = ep.startswith("https://")
    host = ep.split("://", 1)[-1]
    con.execute(
        f"CREATE OR REPLACE SECRET floe_s3 (TYPE s3, KEY_ID {q(cargs.access_key)}, "
        f"SECRET {q(cargs.secret_key)}, REGION {q(cargs.region)}, ENDPOINT {q(host)}, "
        f"URL_STYLE 'path', USE_SSL {'true' if use_ssl else 'false'})"
    )


def sqlite_metadata_location(cargs: CatalogArgs, ident: str) -> str:
    ns, name = split_table(ident)
    con = sqlite3.connect(f"file:{cargs.sqlite_path}?mode=ro", uri=True)
    try:
        row = con.execute(
            "SELECT metadata_location FROM iceberg_tables "
            "WHERE catalog_name = ? AND table_namespace = ? AND table_name = ?",
            (cargs.name, ".".join(ns), name),
        ).fetchone()
    finally:
        con.close()
    if not row or not row[0]:
        die(f"table {ident} not found in {cargs.sqlite_path} (catalog_name {cargs.name!r})")
    return row[0]


def local_path(loc: str) -> str:
    if loc.startswith("file://"):
        loc = loc[len("file://"):]
        if not loc.startswith("/"):  # file://host/... is not used by pyiceberg
            die(f"unexpected metadata location {loc!r}")
    return loc


def to_arrow(rel):
    for name in ("to_arrow_table", "fetch_arrow_table", "arrow"):
        fn = getattr(rel, name, None)
        if fn is not None:
            t = fn()
            if hasattr(t, "read_all"):  # RecordBatchReader
                t = t.read_all()
            return t
    raise RuntimeError("no arrow export on this duckdb result")


def main() -> None:
    p = parser(__doc__)
    p.add_argument("--mode", choices=("attach", "scan"), default="attach",
                   help="rest only: ATTACH the catalog (default) or iceberg_scan the metadata file")
    ns = p.parse_args()
    cargs = catalog_args(ns)

    con = duckdb_ext.connect()
    con.execute("SET TimeZone = 'UTC'")
    # exports uuid as the arrow.uuid extension type (not a string / blob)
    con.execute("SET arrow_lossless_conversion = true")

    if cargs.kind == "rest":
        s3_secret(con, cargs)
        if ns.mode == "attach":
            con.execute(
                f"CREATE OR REPLACE SECRET floe_rest (TYPE iceberg, ENDPOINT {q(cargs.rest_uri)}, "
                f"CLIENT_ID {q(cargs.access_key)}, CLIENT_SECRET {q(cargs.secret_key)}, "
                f"OAUTH2_SERVER_URI {q(cargs.rest_uri + '/v1/oauth/tokens')})"
            )
            con.execute(
                f"ATTACH {q(cargs.rest_warehouse)} AS cat (TYPE iceberg, SECRET floe_rest, "
                f"ENDPOINT {q(cargs.rest_uri)}, READ_ONLY)"
            )
        else:
            from pyiceberg.catalog import load_catalog

            pyi = load_catalog(cargs.name, **cargs.pyiceberg_properties())

    def read_one(ident: str) -> list[str]:
        if cargs.kind == "sql":
            src = f"iceberg_scan({q(local_path(sqlite_metadata_location(cargs, ident)))})"
        elif ns.mode == "attach":
            nsp, name = split_table(ident)
            src = "cat." + ".".join(qi(x) for x in [".".join(nsp), name])
        else:
            src = f"iceberg_scan({q(pyi.load_table(ident).metadata_location)})"
        where = f" WHERE {ns.where}" if ns.where else ""
        return canonical.arrow_lines(to_arrow(con.sql(f"SELECT * FROM {src}{where}")))

    run_tables(cargs, ns.skip_unsupported, read_one)


if __name__ == "__main__":
    main()
