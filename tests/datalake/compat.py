"""Reads a `webitel-export run` output tree with DuckDB, Polars and PySpark, as each engine
reads a Hive-partitioned Parquet lake by default, and checks it against the database.

usage: compat.py ROOT EXPECTED.json

EXPECTED.json (written by tests/datalake/run from psql):
  {"counts": {"calls": N, ...},
   "sample_call": {"id": "...", "from_number": "...", "created_at_epoch_us": N, "talk_sec": N}}

Prints one line per engine and dataset; exits 1 on the first mismatch.
"""

import json
import sys

ROOT, EXPECTED = sys.argv[1], json.load(open(sys.argv[2]))
DATASETS = list(EXPECTED["counts"])
# Column → the type family every engine must report (not a string holding a number).
TYPES = {
    "calls": {"created_at": "timestamp", "domain_id": "int", "talk_sec": "int", "id": "string",
              "duration_sec": "int", "recording_file_ids": "list"},
    "attempts": {"joined_at": "timestamp", "attempt_id": "int"},
    "agent-states": {"joined_at": "timestamp", "agent_id": "int"},
    "queues": {"created_at": "timestamp", "id": "int", "name": "string"},
    "agents": {"id": "int", "name": "string"},
    "agent-activity": {"bucket_start": "timestamp", "online_sec": "float"},
    "queue-activity": {"bucket_start": "timestamp", "offered": "int"},
}
failed = False


def family(type_name):
    t = type_name.lower()
    for fam, words in (
        ("timestamp", ("timestamp", "datetime")),
        ("list", ("list", "array", "[]")),
        ("float", ("double", "float")),
        ("int", ("int", "long", "bigint")),
        ("string", ("string", "varchar", "utf8", "str", "json")),
    ):
        if any(w in t for w in words):
            return fam
    return t


def check(engine, dataset, count, types, sample=None):
    global failed
    problems = []
    want = EXPECTED["counts"][dataset]
    if count != want:
        problems.append(f"{count} rows, database has {want}")
    for column, fam in TYPES[dataset].items():
        got = family(types.get(column, "missing"))
        if got != fam:
            problems.append(f"{column} is {types.get(column, 'missing')}, expected {fam}")
    if sample is not None:
        want_sample = EXPECTED["sample_call"]
        for key in ("from_number", "created_at_epoch_us", "talk_sec"):
            if sample.get(key) != want_sample[key]:
                problems.append(f"call {want_sample['id']} {key}={sample.get(key)!r}, "
                                f"database {want_sample[key]!r}")
    status = "ok " if not problems else "FAIL"
    print(f"{status} {engine:7} {dataset:15} {count:>8} rows  {'; '.join(problems)}")
    failed = failed or bool(problems)


def duckdb_checks():
    import duckdb
    con = duckdb.connect()
    for ds in DATASETS:
        rel = f"read_parquet('{ROOT}/{ds}/**/*.parquet', hive_partitioning = true)"
        count = con.execute(f"SELECT count(*) FROM {rel}").fetchone()[0]
        types = {r[0]: r[1] for r in con.execute(f"DESCRIBE SELECT * FROM {rel}").fetchall()}
        sample = None
        if ds == "calls":
            row = con.execute(
                f"SELECT from_number, epoch_us(created_at), talk_sec FROM {rel} WHERE id = ?",
                [EXPECTED["sample_call"]["id"]]).fetchone()
            sample = dict(zip(("from_number", "created_at_epoch_us", "talk_sec"), row))
        check("duckdb", ds, count, types, sample)


def polars_checks():
    import polars as pl
    for ds in DATASETS:
        frame = pl.scan_parquet(f"{ROOT}/{ds}/**/*.parquet", hive_partitioning=True)
        schema = frame.collect_schema()
        count = frame.select(pl.len()).collect().item()
        types = {name: str(t) for name, t in schema.items()}
        sample = None
        if ds == "calls":
            row = (frame.filter(pl.col("id") == EXPECTED["sample_call"]["id"])
                   .select("from_number", pl.col("created_at").dt.epoch("us"), "talk_sec")
                   .collect().row(0))
            sample = dict(zip(("from_number", "created_at_epoch_us", "talk_sec"), row))
        check("polars", ds, count, types, sample)


def spark_checks():
    from pyspark.sql import SparkSession, functions as F
    spark = (SparkSession.builder.master("local[2]").appName("webitel-export-compat")
             .config("spark.ui.enabled", "false")
             .config("spark.ui.showConsoleProgress", "false")
             .config("spark.sql.session.timeZone", "UTC").getOrCreate())
    spark.sparkContext.setLogLevel("ERROR")
    for ds in DATASETS:
        frame = spark.read.option("basePath", f"{ROOT}/{ds}").parquet(f"{ROOT}/{ds}")
        types = {f.name: f.dataType.simpleString() for f in frame.schema.fields}
        count = frame.count()
        sample = None
        if ds == "calls":
            row = (frame.where(F.col("id") == EXPECTED["sample_call"]["id"])
                   .select("from_number", F.unix_micros("created_at"), "talk_sec").first())
            sample = dict(zip(("from_number", "created_at_epoch_us", "talk_sec"), row))
        check("spark", ds, count, types, sample)
    spark.stop()


def duckdb_profile_check():
    """The duckdb profile's call ids are Parquet UUIDs, which DuckDB types as UUID."""
    global failed
    import duckdb
    path = f"{ROOT}/../duckdb-profile-calls.parquet"
    con = duckdb.connect()
    id_type = dict((r[0], r[1]) for r in con.execute(f"DESCRIBE SELECT * FROM '{path}'").fetchall())["id"]
    found = con.execute(f"SELECT count(*) FROM '{path}' WHERE id = ?::UUID",
                        [EXPECTED["sample_call"]["id"]]).fetchone()[0]
    ok = id_type == "UUID" and found == 1
    print(f"{'ok ' if ok else 'FAIL'} duckdb  --profile duckdb  id is {id_type}, sample call found {found}")
    failed = failed or not ok


for engine in (duckdb_checks, duckdb_profile_check, polars_checks, spark_checks):
    engine()
sys.exit(1 if failed else 0)
