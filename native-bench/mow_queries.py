"""Query times of floe tables, for native-bench/merge-on-write.bench.ts (SQL catalog) and
native-bench/maintenance.bench.ts (the harness's REST catalog).

    mow_queries.py --catalog sql --sql-uri sqlite:////tmp/c.db --warehouse file:///tmp/wh \
        --table bench.equality --table bench.position --point-id 12345 [--engine duckdb|spark] [--runs 5]
    mow_queries.py --catalog rest --table ns.t --table ns.t_compacted [--engine duckdb|spark] [--runs 7]

For each table: a full scan (count and sum over every row) and, with --point-id, a point query (one key),
each run --runs times in one session after one warm-up; prints one JSON line per (engine, table) with the
row count, the sum of score (to check the tables against each other) and median milliseconds. DuckDB reads
the current metadata file with iceberg_scan (the REST catalog is asked once per table, outside the timing).
"""
import json
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "test", "harness", "readers"))
from common import catalog_args, parser, split_table  # noqa: E402


def timed(run, runs):
    run()  # warm-up (metadata, file cache)
    out = []
    for _ in range(runs):
        t0 = time.perf_counter()
        run()
        out.append((time.perf_counter() - t0) * 1000)
    return statistics.median(out)


def main():
    p = parser(__doc__)
    p.add_argument("--engine", action="append", choices=("duckdb", "spark"))
    p.add_argument("--point-id", type=int)
    p.add_argument("--runs", type=int, default=5)
    ns = p.parse_args()
    cargs = catalog_args(ns)
    engines = ns.engine or ["duckdb", "spark"]
    if "duckdb" in engines:
        import duckdb_ext
        from duckdb_read import local_path, sqlite_metadata_location

        con = duckdb_ext.connect()
        if cargs.kind == "rest":
            from duckdb_read import s3_secret
            from pyiceberg.catalog import load_catalog

            s3_secret(con, cargs)
            pyi = load_catalog(cargs.name, **cargs.pyiceberg_properties())
        for t in cargs.tables:
            loc = local_path(sqlite_metadata_location(cargs, t)) if cargs.kind == "sql" else pyi.load_table(t).metadata_location
            src = f"iceberg_scan('{loc}')"
            full = lambda: con.sql(f"SELECT count(*), sum(score) FROM {src}").fetchall()  # noqa: E731
            point = lambda: con.sql(f"SELECT * FROM {src} WHERE id = {ns.point_id}").fetchall()  # noqa: E731
            rows, total = full()[0]
            out = {"engine": "duckdb", "table": t, "rows": rows, "sum": total, "full_scan_ms": round(timed(full, ns.runs), 1)}
            if ns.point_id is not None:
                out["point_ms"] = round(timed(point, ns.runs), 1)
            print(json.dumps(out), flush=True)
    if "spark" in engines:
        from spark_common import session

        spark = session(cargs, app="floe-mow-bench")
        try:
            for t in cargs.tables:
                nsp, name = split_table(t)
                full_name = "cat." + ".".join(nsp + [name])
                full = lambda: spark.sql(f"SELECT count(*), sum(score) FROM {full_name}").collect()  # noqa: E731
                point = lambda: spark.sql(f"SELECT * FROM {full_name} WHERE id = {ns.point_id}").collect()  # noqa: E731
                rows, total = full()[0]
                out = {"engine": "spark", "table": t, "rows": rows, "sum": total, "full_scan_ms": round(timed(full, ns.runs), 1)}
                if ns.point_id is not None:
                    out["point_ms"] = round(timed(point, ns.runs), 1)
                print(json.dumps(out), flush=True)
        finally:
            spark.stop()


if __name__ == "__main__":
    main()
