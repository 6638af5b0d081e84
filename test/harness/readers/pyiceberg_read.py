#!/usr/bin/env python3
"""Print Iceberg tables as canonical JSON lines, read with pyiceberg.

    pyiceberg_read.py --catalog rest --table ns.t [--table ns.u ...]
    pyiceberg_read.py --catalog sql --sql-uri sqlite:////tmp/c.db \
        --warehouse file:///tmp/wh --table ns.t

pyiceberg applies position deletes; it refuses equality deletes
(NotImplementedError), reported here as unsupported (exit 3, or a
'# unsupported:' line with --skip-unsupported).
"""
from __future__ import annotations

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import canonical  # noqa: E402
from common import Unsupported, catalog_args, parser, run_tables  # noqa: E402


def main() -> None:
    ns = parser(__doc__).parse_args()
    cargs = catalog_args(ns)
    from pyiceberg.catalog import load_catalog

    cat = load_catalog(cargs.name, **cargs.pyiceberg_properties())

    def read_one(ident: str) -> list[str]:
        table = cat.load_table(ident)
        try:
            arrow = (table.scan(row_filter=ns.where) if ns.where else table.scan()).to_arrow()
        except NotImplementedError as e:
            raise Unsupported(str(e)) from e
        except ValueError as e:
            if "equality delete" in str(e):
                raise Unsupported(str(e)) from e
            raise
        return canonical.arrow_lines(arrow)

    run_tables(cargs, ns.skip_unsupported, read_one)


if __name__ == "__main__":
    main()
