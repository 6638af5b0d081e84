"""Query times of floe tables, for native-bench/merge-on-write.bench.ts (SQL catalog) and
native-bench/maintenance.bench.ts (the harness's REST catalog).

    mow_queries.py --catalog sql --sql-uri sqlite:////tmp/c.db --warehouse file:///tmp/wh \
        --table bench.equality --table bench.position --point-id 12345 [--engine duckdb|spark] [--runs 5]
    mow_queries.py --catalog rest --table ns.t --table ns.t_compacted [--engine duckdb|spark] [--runs 7]

For each table: a full scan (count and sum over every row) and, with --point-id, a point query (one key),
each run --runs times in one session after one warm-up, the tables in turn (round-robin, so a noisy
machine's drift falls on every table alike); prints one JSON line per (engine, table) with the
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


def interleaved(queries, runs):
    """Median ms of each query, run round-robin (one of each per round) after a warm-up of each, so drift of
    a noisy machine falls on every table alike."""
    for q in queries:
        q()
    times = [[] for _ in queries]
    for _ in range(runs):
        for i, q in enumerate(queries):
            t0 = time.perf_counter()
            q()
            times[i].append((time.perf_counter() - t0) * 1000)
    return [statistics.median(t) for t in times]


def report(engine, tables, fulls, points, runs):
    heads = [f()[0] for f in fulls]
    full_ms = interleaved(fulls, runs)
    point_ms = interleaved(points, runs) if points else None
    for i, t in enumerate(tables):
        out = {"engine": engine, "table": t, "rows": heads[i][0], "sum": heads[i][1], "full_scan_ms": round(full_ms[i], 1)}
        if point_ms is not None:
            out["point_ms"] = round(point_ms[i], 1)
        print(json.dumps(out), flush=True)


def main():
    p = parser(__doc__)
    p.add_argument("--engine", action="append", choices=("duckdb", "spark"))
    p.add_argument("--point-id", type=int)
    p.add_argument("--runs", type=int, default=5)
    p.add_argument("--duckdb-runs", type=int, help="DuckDB's rounds (default --runs): its scans of small tables take"
                   " ~10 ms, where more rounds are needed for a stable median")
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
        fulls, points = [], []
        for t in cargs.tables:
            loc = local_path(sqlite_metadata_location(cargs, t)) if cargs.kind == "sql" else pyi.load_table(t).metadata_location
            src = f"iceberg_scan('{loc}')"
            fulls.append(lambda src=src: con.sql(f"SELECT count(*), sum(score) FROM {src}").fetchall())
            points.append(lambda src=src: con.sql(f"SELECT * FROM {src} WHERE id = {ns.point_id}").fetchall())
        report("duckdb", cargs.tables, fulls, points if ns.point_id is not None else None, ns.duckdb_runs or ns.runs)
    if "spark" in engines:
        from spark_common import session

        spark = session(cargs, app="floe-mow-bench")
        try:
            fulls, points = [], []
            for t in cargs.tables:
                nsp, name = split_table(t)
                full_name = "cat." + ".".join(nsp + [name])
                fulls.append(lambda n=full_name: spark.sql(f"SELECT count(*), sum(score) FROM {n}").collect())
                points.append(lambda n=full_name: spark.sql(f"SELECT * FROM {n} WHERE id = {ns.point_id}").collect())
            report("spark", cargs.tables, fulls, points if ns.point_id is not None else None, ns.runs)
        finally:
            spark.stop()


if __name__ == "__main__":
    main()
