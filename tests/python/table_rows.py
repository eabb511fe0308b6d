"""A table's rows as the tests compare them: every column but dlt's load columns (`_dlt_…`), in column-name
order, sorted, floats rounded to 9 decimals (a sum over rows loaded in another order may differ in its last bit)."""

from __future__ import annotations

from collections.abc import Collection

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
