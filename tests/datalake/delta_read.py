"""Reads one Delta table of a `webitel-export run` tree with the engines analysts use and
checks it against what the Rust test read with delta-rs: Python deltalake (current version
and time travel), Polars read_delta, and DuckDB's delta_scan from the duckdb-ext-delta wheel.

    python delta_read.py '{"table": ..., "key": ..., "rows": N, "distinct": N,
                           "previous_version": V, "previous_rows": N}'
"""
import json
import os
import sys

import deltalake
import duckdb
import polars as pl

want = json.loads(sys.argv[1])
table, key = want["table"], want["key"]
# An s3:// table: the test object store's endpoint and credentials.
storage = want.get("storage_options")
failures = []


def check(engine, what, got, expected):
    if got != expected:
        failures.append(f"{engine}: {what} = {got}, expected {expected}")


dt = deltalake.DeltaTable(table, storage_options=storage)
counted = deltalake.QueryBuilder().register("t", dt).execute(
    f'SELECT count(*) AS n, count(DISTINCT "{key}") AS d FROM t').read_all()
check("deltalake", "rows", counted["n"][0].as_py(), want["rows"])
check("deltalake", "distinct ids", counted["d"][0].as_py(), want["distinct"])
old = deltalake.DeltaTable(table, version=want["previous_version"], storage_options=storage)
counted = deltalake.QueryBuilder().register("t", old).execute("SELECT count(*) AS n FROM t").read_all()
check("deltalake", "rows of the previous version", counted["n"][0].as_py(), want["previous_rows"])
mark = dt.history(1)[0].get("webitelExport") or {}
check("deltalake", "commitInfo carries the run", "run" in mark and "bound" in mark, True)

os.environ.setdefault("POLARS_UNKNOWN_EXTENSION_TYPE_BEHAVIOR", "load_as_storage")
frame = pl.read_delta(table, storage_options=storage)
check("polars", "rows", frame.height, want["rows"])
check("polars", "distinct ids", frame[key].n_unique(), want["distinct"])
check("polars", "date is a date", frame.schema["date"], pl.Date)
old = pl.read_delta(table, version=want["previous_version"], storage_options=storage)
check("polars", "rows of the previous version", old.height, want["previous_rows"])

def read_with_duckdb(site):
    """The delta extension from PyPI (no network): the extension directory inside the wheel."""
    con = duckdb.connect()
    con.execute(f"SET extension_directory = '{os.path.join(site, 'duckdb_ext', 'extensions')}'")
    con.execute("SET autoinstall_known_extensions = false")
    con.execute("LOAD delta")
    n, d = con.execute(
        f'SELECT count(*), count(DISTINCT "{key}") FROM delta_scan(?)', [table]).fetchone()
    check("duckdb", "rows", n, want["rows"])
    check("duckdb", "distinct ids", d, want["distinct"])


if storage:
    # DuckDB reads S3 through its httpfs and aws extensions, which it downloads: not here.
    pass
else:
    read_with_duckdb(os.path.dirname(os.path.dirname(duckdb.__file__)))

if failures:
    print("\n".join(failures))
    sys.exit(1)
print(f"{table}: read {want['rows']} rows")
