#!/usr/bin/env python3
"""Create an Iceberg table with Spark and fill it (fixtures written by "others").

    make_fixture.py --table ns.t --schema "id bigint NOT NULL, v string" \
        [--partitioned-by "bucket(4, id)"] [--prop k=v ...] [--replace] \
        [--insert "(1, 'a'), (2, 'b')" ...] [--sql "DELETE FROM cat.ns.t WHERE id = 1" ...]

Runs against the REST catalog by default (--catalog rest) or a sqlite JDBC
catalog (--catalog sql --sql-uri ... --warehouse ...; rows are written with
catalog_name 'cat' there, so read them back with --catalog-name cat).
The table is created with format-version 2 unless --prop overrides it; each
--insert is one INSERT INTO ... VALUES statement (one commit); --sql
statements run afterwards in order, with the catalog named `cat` (e.g. a
DELETE with 'write.delete.mode'='merge-on-read' writes position deletes).
Prints the table's metadata location on stdout at the end.
"""
from __future__ import annotations

import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from common import catalog_args, die, parser, split_table  # noqa: E402


def write_eq_delete(spark, ident: str, rows: list[dict]) -> None:
    """Write one Parquet equality delete file with Iceberg's generic writers and
    commit it with a RowDelta (Spark SQL itself never writes equality deletes)."""
    import uuid

    jvm = spark._jvm
    gw = spark.sparkContext._gateway
    ice = jvm.org.apache.iceberg
    table = jvm.org.apache.iceberg.spark.Spark3Util.loadIcebergTable(spark._jsparkSession, ident)
    schema = table.schema()
    cols = list(rows[0].keys())
    ids = gw.new_array(jvm.int, len(cols))
    names = jvm.java.util.ArrayList()
    for i, c in enumerate(cols):
        f = schema.findField(c)
        if f is None:
            die(f"no column {c} in {ident}")
        ids[i] = f.fieldId()
        names.add(c)
    del_schema = schema.select(names)
    factory = ice.data.GenericAppenderFactory(schema, table.spec(), ids, del_schema, None)
    out = table.io().newOutputFile(f"{table.location()}/data/eq-delete-{uuid.uuid4()}.parquet")
    enc = ice.encryption.EncryptedFiles.plainAsEncryptedOutput(out)
    writer = factory.newEqDeleteWriter(enc, ice.FileFormat.PARQUET, None)
    # Values go through a Spark DataFrame and SparkValueConverter so that they
    # reach the writer as proper Java objects (py4j would turn a Long into an
    # Integer on the way).
    from pyspark.sql.types import StructType

    spark_schema = StructType.fromJson(
        json.loads(jvm.org.apache.iceberg.spark.SparkSchemaUtil.convert(del_schema).json()))
    df = spark.createDataFrame([tuple(r[c] for c in cols) for r in rows], schema=spark_schema)
    jrows = df._jdf.collectAsList()
    conv = jvm.org.apache.iceberg.spark.SparkValueConverter
    for i in range(jrows.size()):
        writer.write(conv.convert(del_schema, jrows.get(i)))
    writer.close()
    table.newRowDelta().addDeletes(writer.toDeleteFile()).commit()


def main() -> None:
    p = parser(__doc__)
    p.add_argument("--schema", help="column list, Spark SQL DDL (required unless --existing)")
    p.add_argument("--existing", action="store_true",
                   help="the table exists (e.g. written by floe since): only run --insert / --sql / --eq-delete")
    p.add_argument("--partitioned-by", default="", help="PARTITIONED BY expression list")
    p.add_argument("--prop", action="append", default=[], help="table property k=v (repeatable)")
    p.add_argument("--replace", action="store_true", help="drop the table first if it exists")
    p.add_argument("--insert", action="append", default=[], help="VALUES list for one INSERT")
    p.add_argument("--sql", action="append", default=[], help="more SQL to run afterwards")
    p.add_argument("--eq-delete", action="append", default=[], metavar="JSON",
                   help='commit one equality delete file (Iceberg Java API, RowDelta) after the '
                        '--sql statements: a JSON list of objects, their keys are the equality '
                        'columns, e.g. \'[{"id": 2}, {"id": 4}]\' (repeatable, one commit each)')
    ns = p.parse_args()
    if len(ns.table) != 1:
        die("give exactly one --table")
    if ns.schema is None and not ns.existing:
        die("give --schema (or --existing)")
    cargs = catalog_args(ns)
    from spark_common import session

    spark = session(cargs, app="floe-make-fixture", writable=True)
    try:
        nsp, name = split_table(ns.table[0])
        nsq = ".".join(f"`{x}`" for x in nsp)
        full = f"cat.{nsq}.`{name}`"
        if not ns.existing:
            spark.sql(f"CREATE NAMESPACE IF NOT EXISTS cat.{nsq}")
            if ns.replace:
                spark.sql(f"DROP TABLE IF EXISTS {full} PURGE")
            props = {"format-version": "2"}
            for kv in ns.prop:
                k, _, v = kv.partition("=")
                props[k.strip()] = v.strip()
            tblprops = ", ".join(f"'{k}'='{v}'" for k, v in props.items())
            part = f" PARTITIONED BY ({ns.partitioned_by})" if ns.partitioned_by else ""
            spark.sql(f"CREATE TABLE {full} ({ns.schema}) USING iceberg{part} TBLPROPERTIES ({tblprops})")
        for values in ns.insert:
            spark.sql(f"INSERT INTO {full} VALUES {values}")
        for stmt in ns.sql:
            spark.sql(stmt).collect()
        for spec in ns.eq_delete:
            write_eq_delete(spark, f"cat.{'.'.join(nsp)}.{name}", json.loads(spec))
        loc = spark.sql(f"SELECT file FROM {full}.metadata_log_entries ORDER BY timestamp DESC LIMIT 1").collect()
        print(loc[0][0] if loc else "")
    finally:
        spark.stop()


if __name__ == "__main__":
    main()
