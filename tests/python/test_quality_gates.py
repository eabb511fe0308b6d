"""The Great Expectations gates really fail on bad rows, and say which check, table and rows."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from ingestion.pipeline import ensure_raw_tables
from yardstick.errors import QualityGateFailed
from yardstick.quality import RAW_SUITE, enforce, run_gate


@pytest.fixture()
def raw_warehouse(tmp_path: Path) -> Path:
    path = tmp_path / "raw.duckdb"
    ensure_raw_tables(path)
    with duckdb.connect(str(path)) as con:
        con.execute("""
            insert into raw_pagerduty.incidents (id, status, created_at, resolved_at) values
                ('PGOOD', 'resolved', '2026-01-05 10:00:00+00', '2026-01-05 11:00:00+00'),
                ('POPEN', 'triggered', '2026-01-06 10:00:00+00', null)
        """)
    return path


def test_clean_raw_tables_pass(raw_warehouse: Path) -> None:
    assert run_gate("raw", raw_warehouse, RAW_SUITE) == []


def test_gate_names_check_table_and_rows(raw_warehouse: Path) -> None:
    with duckdb.connect(str(raw_warehouse)) as con:
        con.execute("""
            insert into raw_pagerduty.incidents (id, status, created_at, resolved_at) values
                ('PBAD', 'resolved', '2026-01-07 10:00:00+00', '2026-01-07 09:00:00+00'),
                ('PGOOD', 'exploded', '2026-01-08 10:00:00+00', null)
        """)
    failures = run_gate("raw", raw_warehouse, RAW_SUITE)
    by_check = {f.check.split("(")[0]: f for f in failures if f.table == "raw_pagerduty.incidents"}
    assert set(by_check) == {
        "expect_column_values_to_be_unique",
        "expect_column_values_to_be_in_set",
        "expect_column_pair_values_a_to_be_greater_than_b",
    }
    assert by_check["expect_column_values_to_be_unique"].unexpected_count == 2
    assert {row["id"] for row in by_check["expect_column_pair_values_a_to_be_greater_than_b"].sample} == {"PBAD"}
    assert by_check["expect_column_values_to_be_in_set"].sample == [{"id": "PGOOD", "status": "exploded"}]

    with pytest.raises(QualityGateFailed, match=r"raw quality gate failed: .*raw_pagerduty\.incidents.*PBAD"):
        enforce("raw", raw_warehouse, RAW_SUITE)


def test_great_expectations_passes_every_raw_check_on_an_empty_table(raw_warehouse: Path) -> None:
    """The gate skips a table with no rows (a tool not configured): GX itself passes each of its checks there."""
    import great_expectations as gx

    from yardstick.quality import _batch_definition

    with duckdb.connect(str(raw_warehouse), read_only=True) as con:
        for table, (_, checks) in RAW_SUITE.items():
            frame = con.sql(f"select * from {table} limit 0").df()
            suite = gx.ExpectationSuite(name=f"empty.{table}")
            for check in checks:
                suite.add_expectation(getattr(gx.expectations, check.expectation)(**check.kwargs))
            result = _batch_definition("empty", table).get_batch(batch_parameters={"dataframe": frame}).validate(suite)
            assert result.success and len(result.results) == len(checks), table
