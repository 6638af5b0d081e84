#!/usr/bin/env python3
"""Print Iceberg tables (and SQL results) as canonical JSON lines, read with Spark.

    spark_read.py --catalog rest --table ns.t [--table ns.u ...]
    spark_read.py --catalog sql --sql-uri sqlite:////tmp/c.db \
        --warehouse file:///tmp/wh --table ns.t
    spark_read.py --catalog rest --sql "SELECT * FROM cat.ns.t.snapshots" \
        --sql "SELECT count(*) AS n FROM cat.ns.t WHERE id > 10" --metrics

Spark 4.1 + Iceberg 1.11 (SparkCatalog named `cat`, type rest or jdbc on
sqlite). Spark applies position deletes, deletion vectors and equality
deletes natively.

Output: for each --table, '# ns.name' and its rows, sorted. Then for each
--sql, '# sql' and the result rows in the query's own order (use ORDER BY).
With --metrics each '# sql' block is followed by '# metrics' and one line per
Iceberg scan in the executed plan, e.g.
  {"metrics":{"resultDataFiles":1,"skippedDataFiles":3,...},"node":"BatchScan cat.ns.t"}
resultDataFiles is the number of data files the scan read after pruning.
"""
from __future__ import annotations

import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import canonical  # noqa: E402
from common import Unsupported, catalog_args, parser, run_tables, split_table  # noqa: E402


def scan_metrics(df) -> list[str]:
    """Driver-side metrics of every Iceberg BatchScan node of an executed plan."""
    plan = df._jdf.queryExecution().executedPlan()
    lines = []
    it = plan.collectLeaves().iterator()
    while it.hasNext():
        node = it.next()
        name = node.nodeName()
        if "BatchScan" not in name and "IcebergScan" not in name:
            continue
        metrics = {}
        mit = node.metrics().iterator()
        while mit.hasNext():
            kv = mit.next()
            metrics[str(kv._1())] = int(kv._2().value())
        desc = node.simpleString(200)
        lines.append(canonical.dumps({"node": desc.split("[", 1)[0].strip(), "metrics": metrics}))
    return lines


def main() -> None:
    p = parser(__doc__)
    p.add_argument("--sql", action="append", default=[],
                   help="SQL to run after the tables (repeatable); the catalog is named cat")
    p.add_argument("--metrics", action="store_true",
                   help="after each --sql result print '# metrics' with the Iceberg scan metrics")
    ns = p.parse_args()
    cargs = catalog_args(ns)

    t0 = time.time()
    from spark_common import session

    spark = session(cargs, app="floe-spark-read")
    sys.stderr.write(f"[spark_read] session ready in {time.time() - t0:.1f}s\n")

    def read_one(ident: str) -> list[str]:
        nsp, name = split_table(ident)
        full = "cat." + ".".join(f"`{x}`" for x in nsp + [name])
        try:
            # Iceberg's Spark integration refuses the whole table when it has
            # a `time` column ("Spark does not support time fields").
            df = spark.table(full)
            arrow = (df.where(ns.where) if ns.where else df).toArrow()
        except Exception as e:  # noqa: BLE001
            msg = str(e)
            if "does not support" in msg or "Cannot convert" in msg:
                raise Unsupported(msg.splitlines()[0]) from e
            raise
        return canonical.arrow_lines(arrow)

    try:
        run_tables(cargs, ns.skip_unsupported, read_one)
        for stmt in ns.sql:
            df = spark.sql(stmt)
            arrow = df.toArrow()
            lines = [canonical.dumps({f.name: canonical.value(r[f.name], f.type) for f in arrow.schema})
                     for r in arrow.to_pylist()]
            canonical.emit("sql", lines)
            if ns.metrics:
                canonical.emit("metrics", scan_metrics(df))
    finally:
        spark.stop()
    sys.stderr.write(f"[spark_read] total {time.time() - t0:.1f}s\n")


if __name__ == "__main__":
    main()
