"""DuckDB's postgres scanner exporting the benchmark SELECT to Parquet (zstd).

    python bench/duckdb_export.py LIBPQ_DSN QUERY_FILE OUT.parquet

The SELECT runs on the server through postgres_query (the same rows and columns as the other
methods); DuckDB streams the result over the binary COPY protocol and writes the Parquet file.
The extension comes from the PyPI package duckdb-ext-postgres, loaded from its file.
"""

import pathlib
import sys

import duckdb
import duckdb_ext


def extension_path() -> str:
    root = pathlib.Path(list(duckdb_ext.__path__)[0])
    found = sorted(root.glob(f"extensions/v{duckdb.__version__}/*/postgres_scanner.duckdb_extension"))
    if not found:
        sys.exit(f"no postgres_scanner extension for DuckDB {duckdb.__version__} under {root}")
    return str(found[0])


def main() -> None:
    dsn, query_file, out = sys.argv[1:4]
    query = pathlib.Path(query_file).read_text()
    con = duckdb.connect(config={"allow_unsigned_extensions": "true"})
    con.execute(f"LOAD '{extension_path()}'")
    con.execute(f"ATTACH '{dsn}' AS pg (TYPE postgres, READ_ONLY)")
    con.execute(
        f"COPY (SELECT * FROM postgres_query('pg', $q${query}$q$)) "
        f"TO '{out}' (FORMAT parquet, COMPRESSION zstd)"
    )


if __name__ == "__main__":
    main()
