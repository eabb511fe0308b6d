"""A table's rows as the tests compare them: every column but dlt's load columns (`_dlt_…`), in column-name
order, sorted, floats rounded to 9 decimals (a sum over rows loaded in another order may differ in its last bit)."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from pathlib import Path

import duckdb


def table_rows(con: duckdb.DuckDBPyConnection, schema: str, table: str, *, catalog: str | None = None,
               skip: Collection[str] = ()) -> list[tuple]:
    """The rows of `[catalog.]schema.table` without dlt's columns and the columns in `skip`."""
    columns = [c for (c,) in con.execute(
        "select column_name from information_schema.columns where table_catalog = coalesce(?, current_database()) "
        "and table_schema = ? and table_name = ? and column_name not like '\\_dlt%' escape '\\' "
        "order by column_name", [catalog, schema, table]).fetchall() if c not in skip]
    name = f"{catalog}.{schema}.{table}" if catalog else f"{schema}.{table}"
    rows = con.sql(f"select {', '.join(columns)} from {name}").fetchall()
    return sorted((tuple(round(v, 9) if isinstance(v, float) else v for v in row) for row in rows), key=repr)


def two_warehouses(directory: Path) -> tuple[Path, Path]:
    """`whole/warehouse.duckdb` and `parts/warehouse.duckdb` under `directory`: the same file name for both, as
    dbt's link to a warehouse is named after its file and a new name costs a whole parse (yardstick/dbt.py)."""
    whole, parts = directory / "whole", directory / "parts"
    whole.mkdir()
    parts.mkdir()
    return whole / "warehouse.duckdb", parts / "warehouse.duckdb"


def same_tables(whole: Path, parts: Path, schema: str, tables: Sequence[str], *, nonempty: bool = False) -> None:
    """Assert each table of `schema` has the same rows in both warehouse files (and, with `nonempty`, some)."""
    with duckdb.connect() as con:
        con.execute(f"attach '{whole}' as w (read_only)")
        con.execute(f"attach '{parts}' as p (read_only)")
        for table in tables:
            expected = table_rows(con, schema, table, catalog="w")
            assert expected or not nonempty, table
            assert table_rows(con, schema, table, catalog="p") == expected, table


def build_marts(*warehouses: Path) -> list[str]:
    """Seed and run the marts (and what they read) in each warehouse; the names of the marts built."""
    from ingestion.pipeline import ensure_raw_tables
    from yardstick.dbt import dbt

    for path in warehouses:
        ensure_raw_tables(path)
        dbt(["seed"], path)
        dbt(["run", "--select", "+path:models/marts"], path)
    with duckdb.connect(str(warehouses[0]), read_only=True) as con:
        return [t for (t,) in con.sql("select table_name from information_schema.tables "
                                      "where table_schema = 'marts' order by 1").fetchall()]
