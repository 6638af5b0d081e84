#!/usr/bin/env python3
"""Flink SQL peer: Debezium JSON in Kafka -> Iceberg (REST catalog), one job.

Runs in PyFlink's local mode (a MiniCluster inside the py4j gateway JVM that
PyFlink starts as a child process). Pure SQL: no Python UDFs, so no Python
worker processes are started. Environment: see run.sh.

After the job finishes, the snapshots it committed (summary `flink.job-id`)
are checked against the workload: for every table
  added-records - added-equality-deletes - added-position-deletes == expectedRows
and, over all tables, added-records == #c + #u (each c gives +I, each u +U).
The result line (JSON) is written to $BENCH_WORK_DIR/result.json.
"""
from __future__ import annotations

import json
import os
import signal
import sys
import time
import traceback

from pyflink.table import EnvironmentSettings, TableEnvironment


T0 = time.monotonic()


def log(msg: str) -> None:
    print(f"[flink-job +{time.monotonic() - T0:5.1f}s] {msg}", file=sys.stderr, flush=True)


def children() -> list[int]:
    me, kids = os.getpid(), []
    for d in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{d}/stat") as f:
                if int(f.read().rsplit(")", 1)[1].split()[1]) == me:
                    kids.append(int(d))
        except (OSError, ValueError, IndexError):
            pass
    return kids


def cpu_s() -> float:
    """user+sys CPU seconds so far of this process and its live children (the JVM)."""
    total = 0
    for pid in [os.getpid(), *children()]:
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])  # utime, stime (ticks)
        except (OSError, ValueError, IndexError):
            pass
    return total / os.sysconf("SC_CLK_TCK")


def q(s: str) -> str:
    return "'" + s.replace("'", "''") + "'"


def qi(s: str) -> str:
    return "`" + s.replace("`", "``") + "`"


def iter_java(it):
    """py4j hands back java.util.Iterator; walk it explicitly."""
    while it.hasNext():
        yield it.next()


# Kafka Connect schema -> (Flink type read from the JSON, Flink type written to
# Iceberg, SQL expression converting the former to the latter, Iceberg type).
def column_types(col: dict) -> tuple[str, str, str, str]:
    c = col["connect"]
    name, typ = c.get("name"), c["type"]
    ref = qi(col["name"])
    if name == "org.apache.kafka.connect.data.Decimal":
        # Flink's JSON format reads a base64 string into BYTES, but has no way
        # (format option or SQL function) to turn the two's-complement bytes
        # into DECIMAL: kept as Iceberg binary.
        return "BYTES", "BYTES", ref, "binary"
    if name == "io.debezium.time.MicroTimestamp":
        # TO_TIMESTAMP_LTZ only takes precision 0|3 and TIMESTAMPADD has no
        # MICROSECOND in Flink; a string round trip through the built-in
        # CAST(STRING AS TIMESTAMP(6)) keeps the microseconds (epoch >= 1970).
        expr = (f"CAST(CONCAT(FROM_UNIXTIME({ref} / 1000000), '.', "
                f"LPAD(CAST(MOD({ref}, 1000000) AS STRING), 6, '0')) AS TIMESTAMP(6))")
        return "BIGINT", "TIMESTAMP(6)", expr, "timestamp"
    if name == "io.debezium.time.ZonedTimestamp":
        # 'debezium-json.timestamp-format.standard'='ISO-8601' parses
        # 2026-01-01T00:01:00.576709Z into TIMESTAMP_LTZ(6).
        return "TIMESTAMP_LTZ(6)", "TIMESTAMP_LTZ(6)", ref, "timestamptz"
    if name is not None:
        raise SystemExit(f"unsupported logical type {name} for column {col['name']}")
    # JsonConverter's schema names (double/float), plus the float64/float32 spelling
    simple = {"int64": ("BIGINT", "long"), "int32": ("INT", "int"),
              "int16": ("SMALLINT", "int"), "int8": ("TINYINT", "int"),
              "string": ("STRING", "string"), "boolean": ("BOOLEAN", "boolean"),
              "double": ("DOUBLE", "double"), "float64": ("DOUBLE", "double"),
              "float": ("FLOAT", "float"), "float32": ("FLOAT", "float")}
    if typ not in simple:
        raise SystemExit(f"unsupported connect type {typ} for column {col['name']}")
    ft, it = simple[typ]
    return ft, ft, ref, it


def stop_gateway_jvm() -> None:
    """Stop the gateway JVM now and reap it.

    PyFlink starts the JVM as our child but keeps no handle to wait on; the JVM
    only exits once its watchdog ping to this process fails. If we just exited,
    it would be orphaned and its CPU time missing from run.sh's rusage (e.g.
    /usr/bin/time). SIGTERM runs its shutdown hooks; the job is done by now.
    """
    kids = children()
    for pid in kids:
        os.kill(pid, signal.SIGTERM)
    for pid in kids:
        for _ in range(300):  # up to 30 s, then kill
            try:
                if os.waitpid(pid, os.WNOHANG)[0] == pid:
                    break
            except ChildProcessError:
                break
            time.sleep(0.1)
        else:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)


def main() -> None:
    env = os.environ
    wl = json.load(open(env["BENCH_WORKLOAD"]))
    ns = env["BENCH_NAMESPACE"]
    work = env["BENCH_WORK_DIR"]
    bootstrap = env["BENCH_KAFKA_BOOTSTRAP"]
    parallelism = 2
    checkpoint_s = 10

    log("starting gateway JVM")
    t_env = TableEnvironment.create(EnvironmentSettings.in_streaming_mode())
    conf = t_env.get_config()
    for k, v in {
        # 2 cores: one subtask per core for every operator
        "parallelism.default": str(parallelism),
        # the Iceberg sink commits on checkpoints: same 10 s cadence as floe's commit.intervalMs
        "execution.checkpointing.interval": f"{checkpoint_s} s",
        # durable-ish checkpoint storage like a real deployment (state is tiny: offsets + manifests)
        "execution.checkpointing.dir": f"file://{work}/checkpoints",
        # final checkpoint after bounded sources end so the last data is committed (Flink 2 default, explicit)
        "execution.checkpointing.checkpoints-after-tasks-finish": "true",
        # no operator here keeps input records (Iceberg copies the keys it remembers):
        # skip the defensive copies between chained operators (Flink tuning docs)
        "pipeline.object-reuse": "true",
        # Iceberg applies the changelog by key itself; no SinkUpsertMaterializer state
        "table.exec.sink.upsert-materialize": "NONE",
        # Debezium events are not duplicated in this workload: no ChangelogNormalize state
        "table.exec.source.cdc-events-duplicate": "false",
        # interpret/print timestamps in UTC (FROM_UNIXTIME above, TIMESTAMP_LTZ)
        "table.local-time-zone": "UTC",
        # spill/tmp files under the bench scratch dir, not /tmp
        "io.tmp.dirs": f"{work}/tmp",
    }.items():
        conf.set(k, v)

    log(f"gateway JVM up (cpu {cpu_s():.1f}s)")
    cat = "ice"
    props = {
        "type": "iceberg",
        "catalog-type": "rest",
        "uri": env["FLOE_REST_URI"],
        "warehouse": env["FLOE_REST_WAREHOUSE"],
        "io-impl": "org.apache.iceberg.aws.s3.S3FileIO",
        "s3.endpoint": env["FLOE_S3_ENDPOINT"],
        "s3.path-style-access": "true",
        "s3.access-key-id": env["AWS_ACCESS_KEY_ID"],
        "s3.secret-access-key": env["AWS_SECRET_ACCESS_KEY"],
        "client.region": env.get("FLOE_S3_REGION", "us-east-1"),
        "cache-enabled": "false",
        "rest.auth.type": "sigv4",
        "rest.signing-name": env.get("FLOE_REST_SIGNING_NAME", "s3tables"),
        "rest.signing-region": env.get("FLOE_S3_REGION", "us-east-1"),
        "rest.access-key-id": env["AWS_ACCESS_KEY_ID"],
        "rest.secret-access-key": env["AWS_SECRET_ACCESS_KEY"],
    }
    t_env.execute_sql(f"CREATE CATALOG {cat} WITH ("
                      + ", ".join(f"{q(k)}={q(v)}" for k, v in props.items()) + ")")
    t_env.execute_sql(f"CREATE DATABASE IF NOT EXISTS {cat}.{qi(ns)}")

    stmts = t_env.create_statement_set()
    columns_out: dict[str, str] = {}
    for t in wl["tables"]:
        key = t["key"]
        src_cols, dst_cols, exprs = [], [], []
        for col in t["columns"]:
            src_t, dst_t, expr, ice_t = column_types(col)
            nn = " NOT NULL" if col["name"] in key else ""
            src_cols.append(f"{qi(col['name'])} {src_t}{nn}")
            dst_cols.append(f"{qi(col['name'])} {dst_t}{nn}")
            exprs.append(f"{expr} AS {qi(col['name'])}")
            columns_out[col["name"]] = ice_t
        pk = f"PRIMARY KEY ({', '.join(qi(k) for k in key)}) NOT ENFORCED"
        src = f"src_{t['table']}"
        kafka = {
            "connector": "kafka",
            "topic": t["topic"],
            "properties.bootstrap.servers": bootstrap,
            "properties.group.id": f"flink-bench-{ns}",
            "scan.startup.mode": "earliest-offset",
            # bounded: the job ends at the offsets that exist when it starts
            "scan.bounded.mode": "latest-offset",
            "format": "debezium-json",
            # JsonConverter with schemas.enable=true wraps every event in {schema, payload}
            "debezium-json.schema-include": "true",
            "debezium-json.timestamp-format.standard": "ISO-8601",
            # value only: the key (also with schema) is not needed, id is in before/after
        }
        # the source PK tells the planner the changelog is keyed by id, so the
        # sink needs no upsert materialization (and Iceberg gets -U/+U/-D as is)
        t_env.execute_sql(
            f"CREATE TEMPORARY TABLE {src} ({', '.join(src_cols)}, {pk}) WITH ("
            + ", ".join(f"{q(k)}={q(v)}" for k, v in kafka.items()) + ")")
        dst = f"{cat}.{qi(ns)}.{qi(t['table'])}"
        t_env.execute_sql(
            f"CREATE TABLE IF NOT EXISTS {dst} ({', '.join(dst_cols)}, {pk}) WITH ("
            "'format-version'='2', "
            # full changelog (-U/+U/-D with before rows): the default equality-delete
            # writer deletes exactly on -U/-D. Upsert mode would also add a delete
            # for every +I/+U (ignoring -U), i.e. more delete records for no gain.
            "'write.upsert.enabled'='false', "
            # same codec as floe (commit.codec zstd); the REST server here does not
            # persist Iceberg's zstd default, so the writer would fall back to gzip
            "'write.parquet.compression-codec'='zstd')")
        stmts.add_insert_sql(f"INSERT INTO {dst} SELECT {', '.join(exprs)} FROM {src}")

    log("submitting one job with %d INSERTs" % len(wl["tables"]))
    result = stmts.execute()
    job_id = str(result.get_job_client().get_job_id())
    log(f"job {job_id} running (cpu {cpu_s():.1f}s)")
    result.wait()
    log(f"job {job_id} finished (cpu {cpu_s():.1f}s)")

    # ---- check what the job committed, from snapshot summaries (metadata only)
    gw = t_env._j_tenv  # noqa: SLF001  (py4j handle; no public API for this)
    jvm = __import__("pyflink.java_gateway", fromlist=["get_gateway"]).get_gateway().jvm
    ice = gw.getCatalog(cat).get().catalog()
    ok = True
    added = deletes = 0
    for t in wl["tables"]:
        table = ice.loadTable(jvm.org.apache.iceberg.catalog.TableIdentifier.parse(f"{ns}.{t['table']}"))
        snaps = [s for s in iter_java(table.snapshots().iterator()) if s.summary().get("flink.job-id") == job_id]
        a = sum(int(s.summary().get("added-records") or 0) for s in snaps)
        d = sum(int(s.summary().get("added-equality-deletes") or 0)
                + int(s.summary().get("added-position-deletes") or 0) for s in snaps)
        added += a
        deletes += d
        live = a - d
        log(f"{t['table']}: {len(snaps)} snapshots, +{a} rows, -{d} deletes, net {live}"
            f" (expected {t['expectedRows']})")
        if not snaps or live != t["expectedRows"]:
            ok = False
    ops = wl["ops"]
    if added != ops["c"] + ops["u"] or deletes != ops["u"] + ops["d"]:
        log(f"totals: +{added} (expected {ops['c'] + ops['u']}), -{deletes} (expected {ops['u'] + ops['d']})")
        ok = False
    if not ok:
        raise SystemExit("committed data does not match the workload")

    version = __import__("pyflink.version", fromlist=["__version__"]).__version__
    line = {
        "system": "flink",
        "version": f"{version} + iceberg 1.11.0",
        "config": (f"Flink SQL local MiniCluster, parallelism {parallelism}, checkpoint "
                   f"{checkpoint_s}s (commit per checkpoint), Iceberg v2 equality-delete "
                   "changelog write (upsert off), debezium-json schema-include, JVM -Xmx2g"),
        "columns": columns_out,
        "notes": ("amount stored as Iceberg binary (base64-decoded Connect Decimal bytes, "
                  "Flink JSON has no bytes->DECIMAL); created_at via string round trip to "
                  "TIMESTAMP(6); updated_at parsed ISO-8601 into timestamptz; "
                  f"{added} rows +{deletes} deletes committed"),
    }
    with open(os.path.join(work, "result.json"), "w") as f:
        f.write(json.dumps(line) + "\n")


if __name__ == "__main__":
    rc = 1
    try:
        main()
        rc = 0
    except SystemExit as e:
        log(f"ERROR: {e}")
    except Exception:  # noqa: BLE001  (report, then still stop the JVM)
        traceback.print_exc()
    finally:
        stop_gateway_jvm()
        log("gateway JVM stopped")
    # skip PyFlink's atexit hooks: they would try to reach the stopped gateway
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(rc)
