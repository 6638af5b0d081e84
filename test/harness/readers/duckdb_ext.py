"""Locate and load DuckDB extensions shipped as PyPI wheels.

DuckDB cannot download extensions here, so the harness installs the wheels
``duckdb-extension-{iceberg,httpfs,avro}``; each carries
``duckdb_extension_<name>/extensions/v<duckdb version>/<name>.duckdb_extension``.
We LOAD those files by absolute path and switch off autoinstall / autoload so
DuckDB never tries the network.

``python duckdb_ext.py --check`` loads all of them and prints their paths.
"""
from __future__ import annotations

import glob
import importlib.util
import os
import sys

EXTENSIONS = ("httpfs", "avro", "iceberg")


def extension_path(name: str) -> str:
    import duckdb

    spec = importlib.util.find_spec(f"duckdb_extension_{name}")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError(f"python package duckdb-extension-{name} is not installed")
    base = list(spec.submodule_search_locations)[0]
    want = os.path.join(base, "extensions", f"v{duckdb.__version__}", f"{name}.duckdb_extension")
    if os.path.exists(want):
        return want
    found = sorted(glob.glob(os.path.join(base, "extensions", "*", f"{name}.duckdb_extension")))
    if not found:
        raise RuntimeError(f"no {name}.duckdb_extension under {base}")
    raise RuntimeError(
        f"{name} extension in {found[-1]} does not match duckdb {duckdb.__version__}"
    )


def connect(database: str = ":memory:"):
    """A DuckDB connection with httpfs, avro and iceberg loaded from the wheels."""
    import duckdb

    con = duckdb.connect(
        database,
        config={
            "autoinstall_known_extensions": False,
            "autoload_known_extensions": False,
            "allow_unsigned_extensions": False,
        },
    )
    for name in EXTENSIONS:
        con.execute(f"LOAD '{extension_path(name)}'")
    return con


if __name__ == "__main__":
    if "--check" in sys.argv:
        con = connect()
        rows = con.execute(
            "SELECT extension_name, loaded, extension_version FROM duckdb_extensions() "
            "WHERE extension_name IN ('httpfs','avro','iceberg') ORDER BY 1"
        ).fetchall()
        for r in rows:
            print(*r)
        if not all(r[1] for r in rows) or len(rows) != len(EXTENSIONS):
            sys.exit(1)
        for n in EXTENSIONS:
            print(n, extension_path(n))
