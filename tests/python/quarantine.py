"""Reading the quarantine (`raw_<source>._rejected`) in tests."""

from __future__ import annotations

from pathlib import Path

import duckdb


def rejected(warehouse: Path, dataset: str) -> list[tuple[str, str, str, str]]:
    """(table, endpoint, record id, reason) of every quarantined record of a raw dataset, in a stable order."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute(f"select table_name, endpoint, record_id, reason from {dataset}._rejected "
                           "order by table_name, record_id").fetchall()
