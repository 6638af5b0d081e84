"""Command line and catalog settings shared by the harness readers."""
from __future__ import annotations

import argparse
import os
import shlex
import subprocess
import sys
from dataclasses import dataclass, field

HARNESS = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# environment variables printed by seaweed.sh env
_REST_ENV = (
    "FLOE_S3_ENDPOINT", "FLOE_S3_REGION", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY",
    "FLOE_REST_URI", "FLOE_REST_WAREHOUSE", "FLOE_REST_SIGNING_NAME", "FLOE_REST_SIGV4",
    "FLOE_REST_SIGNING_REGION",
)


def die(msg: str, code: int = 2) -> None:
    sys.stderr.write(msg.rstrip() + "\n")
    sys.exit(code)


def seaweed_env() -> dict[str, str]:
    """Client settings: the process environment, completed from `seaweed.sh env`."""
    env = {k: os.environ[k] for k in _REST_ENV if os.environ.get(k)}
    if all(k in env for k in ("FLOE_REST_URI", "FLOE_S3_ENDPOINT", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")):
        return env
    out = subprocess.run(
        ["bash", os.path.join(HARNESS, "seaweed.sh"), "env"],
        check=True, capture_output=True, text=True, timeout=30,
    ).stdout
    defaults: dict[str, str] = {}
    for line in out.splitlines():
        line = line.strip()
        if line.startswith("export ") and "=" in line:
            k, v = line[len("export "):].split("=", 1)
            defaults[k] = shlex.split(v)[0] if v else ""
    return {**defaults, **env}


@dataclass
class CatalogArgs:
    kind: str  # "rest" | "sql"
    name: str
    tables: list[str]
    sql_uri: str | None = None
    warehouse: str | None = None
    env: dict[str, str] = field(default_factory=dict)

    # REST ------------------------------------------------------------
    @property
    def rest_uri(self) -> str:
        return self.env["FLOE_REST_URI"].rstrip("/")

    @property
    def rest_warehouse(self) -> str:
        return self.warehouse or self.env.get("FLOE_REST_WAREHOUSE", "s3://floe-warehouse")

    @property
    def region(self) -> str:
        return self.env.get("FLOE_REST_SIGNING_REGION") or self.env.get("FLOE_S3_REGION") or "us-east-1"

    @property
    def sigv4(self) -> bool:
        return self.env.get("FLOE_REST_SIGV4", "true").lower() == "true"

    @property
    def signing_name(self) -> str:
        return self.env.get("FLOE_REST_SIGNING_NAME", "s3tables")

    @property
    def s3_endpoint(self) -> str:
        return self.env["FLOE_S3_ENDPOINT"].rstrip("/")

    @property
    def access_key(self) -> str:
        return self.env["AWS_ACCESS_KEY_ID"]

    @property
    def secret_key(self) -> str:
        return self.env["AWS_SECRET_ACCESS_KEY"]

    # SQL (sqlite) -----------------------------------------------------
    @property
    def sqlite_path(self) -> str:
        uri = self.sql_uri or ""
        if not uri.startswith("sqlite:///"):
            die(f"--sql-uri must look like sqlite:////abs/path/catalog.db, got {uri!r}")
        return uri[len("sqlite:///"):]

    def pyiceberg_properties(self) -> dict[str, str]:
        if self.kind == "sql":
            return {"type": "sql", "uri": self.sql_uri, "warehouse": self.warehouse or ""}
        props = {
            "type": "rest",
            "uri": self.rest_uri,
            "warehouse": self.rest_warehouse,
            "s3.endpoint": self.s3_endpoint,
            "s3.access-key-id": self.access_key,
            "s3.secret-access-key": self.secret_key,
            "s3.region": self.region,
            "s3.path-style-access": "true",
        }
        if self.sigv4:
            props.update({
                "rest.sigv4-enabled": "true",
                "rest.signing-name": self.signing_name,
                "rest.signing-region": self.region,
                "client.access-key-id": self.access_key,
                "client.secret-access-key": self.secret_key,
                "client.region": self.region,
            })
        return props


def split_table(ident: str) -> tuple[list[str], str]:
    parts = ident.split(".")
    if len(parts) < 2 or not all(parts):
        die(f"--table must be namespace.name, got {ident!r}")
    return parts[:-1], parts[-1]


def parser(description: str) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--catalog", choices=("rest", "sql"), default="rest",
                   help="rest: the SeaweedFS Iceberg REST catalog (settings from the FLOE_* / AWS_* "
                        "environment, else from seaweed.sh env); sql: a pyiceberg SqlCatalog on sqlite")
    p.add_argument("--catalog-name", default="floe",
                   help="catalog_name in the sqlite iceberg_tables table (default floe)")
    p.add_argument("--sql-uri", help="sqlite:////abs/path/catalog.db (with --catalog sql)")
    p.add_argument("--warehouse",
                   help="file:///abs/path (with --catalog sql); for rest defaults to $FLOE_REST_WAREHOUSE")
    p.add_argument("--table", action="append", default=[], metavar="NS.NAME",
                   help="table to print (repeatable)")
    p.add_argument("--where", metavar="PREDICATE",
                   help="print only the rows matching this SQL predicate, e.g. \"qty = 7\" (given to the "
                        "engine's scan: Spark's filter, DuckDB's WHERE, pyiceberg's row_filter)")
    p.add_argument("--skip-unsupported", action="store_true",
                   help="print '# unsupported: <reason>' for a table this engine cannot read "
                        "correctly instead of failing (exit code 3)")
    return p


def catalog_args(ns: argparse.Namespace) -> CatalogArgs:
    if ns.catalog == "sql":
        if not ns.sql_uri or not ns.warehouse:
            die("--catalog sql needs --sql-uri and --warehouse")
        env: dict[str, str] = {}
    else:
        env = seaweed_env()
    return CatalogArgs(kind=ns.catalog, name=ns.catalog_name, tables=ns.table,
                       sql_uri=ns.sql_uri, warehouse=ns.warehouse, env=env)


class Unsupported(Exception):
    """The engine cannot read this table correctly."""


def run_tables(cargs: CatalogArgs, skip_unsupported: bool, read_one) -> None:
    """Call read_one(table) -> list of lines for each table and print them."""
    from canonical import emit

    for t in cargs.tables:
        try:
            lines = read_one(t)
        except Unsupported as e:
            if skip_unsupported:
                sys.stdout.write(f"# {t}\n# unsupported: {e}\n")
                sys.stdout.flush()
                continue
            die(f"unsupported: {t}: {e}", 3)
        emit(t, lines)
