"""Query times of floe tables on a SQL (sqlite) catalog, for native-bench/merge-on-write.bench.ts.

    mow_queries.py --catalog sql --sql-uri sqlite:////tmp/c.db --warehouse file:///tmp/wh \
        --table bench.equality --table bench.position --point-id 12345 [--engine duckdb|spark] [--runs 5]

For each table: a full scan (count and sum over every row) and a point query (one key), each run --runs
times in one session after one warm-up; prints one JSON line per (engine, table) with median milliseconds.
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
    p.add_argument("--point-id", type=int, required=True)
    p.add_argument("--runs", type=int, default=5)
    ns = p.parse_args()
    cargs = catalog_args(ns)
    engines = ns.engine or ["duckdb", "spark"]
    if "duckdb" in engines:
        import duckdb_ext
        from duckdb_read import local_path, sqlite_metadata_location

        con = duckdb_ext.connect()
        for t in cargs.tables:
            src = f"iceberg_scan('{local_path(sqlite_metadata_location(cargs, t))}')"
            full = lambda: con.sql(f"SELECT count(*), sum(score) FROM {src}").fetchall()  # noqa: E731
            point = lambda: con.sql(f"SELECT * FROM {src} WHERE id = {ns.point_id}").fetchall()  # noqa: E731
            rows = full()[0][0]
            print(json.dumps({"engine": "duckdb", "table": t, "rows": rows, "full_scan_ms": round(timed(full, ns.runs), 1),
                              "point_ms": round(timed(point, ns.runs), 1)}), flush=True)
    if "spark" in engines:
        from spark_common import session

        spark = session(cargs, app="floe-mow-bench")
        try:
            for t in cargs.tables:
                nsp, name = split_table(t)
                full_name = "cat." + ".".join(nsp + [name])
                full = lambda: spark.sql(f"SELECT count(*), sum(score) FROM {full_name}").collect()  # noqa: E731
                point = lambda: spark.sql(f"SELECT * FROM {full_name} WHERE id = {ns.point_id}").collect()  # noqa: E731
                rows = full()[0][0]
                print(json.dumps({"engine": "spark", "table": t, "rows": rows, "full_scan_ms": round(timed(full, ns.runs), 1),
                                  "point_ms": round(timed(point, ns.runs), 1)}), flush=True)
        finally:
            spark.stop()


if __name__ == "__main__":
    main()
