"""SparkSession with an Iceberg catalog named `cat` for the harness scripts.

Jars come from ~/.m2 (resolved by install.sh, listed in maven-artifacts.txt)
and are passed as local jars (spark.jars), never spark.jars.packages.
"""
from __future__ import annotations

import atexit
import os
import shutil
import sqlite3
import tempfile

from common import HARNESS, CatalogArgs, die

M2 = os.environ.get("FLOE_M2", os.path.expanduser("~/.m2/repository"))


def jar_paths() -> list[str]:
    jars = []
    with open(os.path.join(HARNESS, "maven-artifacts.txt")) as f:
        for line in f:
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            g, a, v = line.split(":")
            path = os.path.join(M2, *g.split("."), a, v, f"{a}-{v}.jar")
            if not os.path.exists(path):
                die(f"missing {path}: run test/harness/install.sh")
            jars.append(path)
    return jars


def _jdbc_copy(cargs: CatalogArgs) -> str:
    """A private copy of the sqlite catalog whose rows carry catalog_name 'cat'.

    Iceberg's JdbcCatalog uses the Spark catalog name as catalog_name and has
    no setting to override it; the harness always names the Spark catalog
    `cat`, so a read-only copy is rewritten instead of the caller's file.
    """
    src = cargs.sqlite_path
    if not os.path.exists(src):
        die(f"no sqlite catalog at {src}")
    tmp = tempfile.mkdtemp(prefix="floe-spark-jdbc-")
    atexit.register(shutil.rmtree, tmp, True)
    dst = os.path.join(tmp, "catalog.db")
    s = sqlite3.connect(f"file:{src}?mode=ro", uri=True)
    d = sqlite3.connect(dst)
    s.backup(d)
    s.close()
    if cargs.name != "cat":
        for tbl in ("iceberg_tables", "iceberg_namespace_properties"):
            try:
                d.execute(f"DELETE FROM {tbl} WHERE catalog_name = 'cat'")
                d.execute(f"UPDATE {tbl} SET catalog_name = 'cat' WHERE catalog_name = ?", (cargs.name,))
            except sqlite3.OperationalError:
                pass  # table absent
    d.commit()
    d.close()
    return dst


def session(cargs: CatalogArgs, app: str = "floe-harness", writable: bool = False):
    from pyspark.sql import SparkSession

    jars = jar_paths()
    tmp = tempfile.mkdtemp(prefix="floe-spark-")
    atexit.register(shutil.rmtree, tmp, True)
    log4j = os.path.join(HARNESS, "readers", "log4j2.properties")
    java_opts = (f"-Dlog4j2.configurationFile=file:{log4j} -Duser.timezone=UTC "
                 + os.environ.get("FLOE_SPARK_JAVA_OPTS", "-XX:+UseSerialGC -XX:TieredStopAtLevel=1"))

    os.environ["SPARK_LOCAL_DIRS"] = tmp
    b = (
        SparkSession.builder.appName(app)
        .master("local[2]")
        .config("spark.jars", ",".join(jars))
        # the sqlite JDBC driver must be visible to java.sql.DriverManager
        .config("spark.driver.extraClassPath", ":".join(jars))
        .config("spark.driver.memory", "1g")
        .config("spark.driver.extraJavaOptions", java_opts)
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.sql.adaptive.enabled", "false")  # plain plans, scan metrics readable
        .config("spark.sql.warehouse.dir", os.path.join(tmp, "spark-warehouse"))
        .config("spark.sql.extensions",
                "org.apache.iceberg.spark.extensions.IcebergSparkSessionExtensions")
        .config("spark.sql.catalog.cat", "org.apache.iceberg.spark.SparkCatalog")
        .config("spark.sql.catalog.cat.cache-enabled", "false")
    )
    c = "spark.sql.catalog.cat."
    if cargs.kind == "rest":
        b = (
            b.config(c + "type", "rest")
            .config(c + "uri", cargs.rest_uri)
            .config(c + "warehouse", cargs.rest_warehouse)
            .config(c + "io-impl", "org.apache.iceberg.aws.s3.S3FileIO")
            .config(c + "s3.endpoint", cargs.s3_endpoint)
            .config(c + "s3.path-style-access", "true")
            .config(c + "s3.access-key-id", cargs.access_key)
            .config(c + "s3.secret-access-key", cargs.secret_key)
            .config(c + "client.region", cargs.region)
        )
        if cargs.sigv4:
            b = (
                b.config(c + "rest.auth.type", "sigv4")
                .config(c + "rest.signing-name", cargs.signing_name)
                .config(c + "rest.signing-region", cargs.region)
                .config(c + "rest.access-key-id", cargs.access_key)
                .config(c + "rest.secret-access-key", cargs.secret_key)
            )
    else:
        db = cargs.sqlite_path if writable else _jdbc_copy(cargs)
        b = (
            b.config(c + "type", "jdbc")
            .config(c + "uri", f"jdbc:sqlite:{db}")
            .config(c + "warehouse", cargs.warehouse)
            .config(c + "jdbc.schema-version", "V0")
        )
    spark = b.getOrCreate()
    spark.sparkContext.setLogLevel("WARN")
    return spark
