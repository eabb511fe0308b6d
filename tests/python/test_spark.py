"""The same dbt project on Spark (`make test-spark`): a small demo organisation ingested through the real sources
into DuckDB and built there; its raw tables copied into Spark tables of the same names (dlt has no Spark
destination: DuckDB → parquet → `saveAsTable`); `dbt build --target spark` (dbt-spark's session method, pyspark
on local[2], the machine's Java 17); the DORA marts must equal DuckDB's row for row."""

from __future__ import annotations

import math
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pytest
from dbt_unit_tests import with_unit_tests

from ingestion.demo.server import ReplayServer
from yardstick.demo import environment, source_settings
from yardstick.publish import private_path
from yardstick.refresh import Progress

pytestmark = pytest.mark.spark

TEAMS, WEEKS, END = 2, 4, date(2026, 3, 2)
DORA_MARTS = {
    "dora_team_weekly": ("team", "week_start"),
    "dora_team_monthly": ("team", "month_start"),
    "dora_org_monthly": ("month_start",),
}
RAW_TABLES = """
    select table_schema, table_name from information_schema.tables
    where table_schema like 'raw\\_%' escape '\\' and table_name not like '\\_dlt\\_%' escape '\\'
    order by 1, 2
"""


@dataclass
class Built:
    warehouse: Path  # the DuckDB build of the same raw data
    spark: Any  # the pyspark SparkSession dbt built in
    raw_tables: list[tuple[str, str]]


def spark_session(warehouse: Path) -> Any:
    """The Spark session profiles.yml's `spark` output describes, started by dbt-spark itself (`dbt debug` runs
    a query through it); the dbt build below reuses it, as the loading does: one JVM."""
    from pyspark.sql import SparkSession

    from yardstick import dbt

    dbt.dbt(["debug", "--target", "spark"], warehouse)
    session = SparkSession.builder.getOrCreate()
    session.sparkContext.setLogLevel("ERROR")
    return session


def copy_raw_tables(warehouse: Path, spark: Any, scratch: Path) -> list[tuple[str, str]]:
    """Every raw table of the DuckDB `warehouse` (dlt's bookkeeping tables aside) into a Spark table of the
    same schema and name, through a parquet file."""
    with duckdb.connect(str(private_path(warehouse)), read_only=True) as con:
        tables = [(schema, table) for schema, table in con.execute(RAW_TABLES).fetchall()]
        for schema, table in tables:
            path = scratch / f"{schema}.{table}.parquet"
            con.execute(f"copy (select * from {schema}.{table}) to '{path}' (format parquet)")
            spark.sql(f"create database if not exists {schema}")
            spark.read.parquet(str(path)).write.mode("overwrite").saveAsTable(f"{schema}.{table}")
    return tables


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Built]:
    from ingestion.demo.events import generate_events, product_vars
    from ingestion.demo.generator import generate_org
    from yardstick import dbt
    from yardstick.refresh import refresh

    root = tmp_path_factory.mktemp("spark")
    warehouse, events = root / "warehouse.duckdb", root / "events"
    events.mkdir()
    org = generate_org(teams=TEAMS, weeks=WEEKS, seed=7, end=END)
    vars = {**product_vars(generate_events(org, events, seed=7)), "as_of_date": END.isoformat()}
    # the developer's target/ stays theirs; profiles.yml's `spark` output keeps Spark's files under root/spark
    with environment({"DBT_TARGET_PATH": str(root / "target"), "YARDSTICK_SPARK_DIR": str(root / "spark")}):
        with ReplayServer(org) as server, environment({
            **source_settings(server, sorted(org.github), END - timedelta(weeks=WEEKS + 1)),
            "SOURCES__EVENTS__PATHS": str(events),
            "RUNTIME__REQUEST_BACKOFF_FACTOR": "0.05",
        }):
            refresh(warehouse, from_scratch=True, vars=vars, progress=Progress(quiet=True))
        spark = spark_session(warehouse)
        try:
            with tempfile.TemporaryDirectory(prefix="yardstick-parquet-") as scratch:
                raw_tables = copy_raw_tables(warehouse, spark, Path(scratch))
            with with_unit_tests():  # models, data tests and unit tests on Spark
                dbt.dbt(["build", "--target", "spark"], warehouse, vars=vars)
            yield Built(warehouse, spark, raw_tables)
        finally:
            spark.stop()
            shutil.rmtree(root / "spark", ignore_errors=True)


def normalised(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.replace(tzinfo=None)
    return value


def same(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)
    return a == b


def test_every_raw_table_is_copied_with_its_rows(built: Built) -> None:
    assert ("raw_github", "deployments") in built.raw_tables and ("raw_pagerduty", "incidents") in built.raw_tables
    with duckdb.connect(str(private_path(built.warehouse)), read_only=True) as con:
        for schema, table in built.raw_tables:
            expected = con.execute(f"select count(*) from {schema}.{table}").fetchone()[0]
            assert built.spark.table(f"{schema}.{table}").count() == expected, f"{schema}.{table}"


@pytest.mark.parametrize("mart", sorted(DORA_MARTS))
def test_dora_mart_on_spark_equals_duckdb(built: Built, mart: str) -> None:
    keys = DORA_MARTS[mart]
    with duckdb.connect(str(private_path(built.warehouse)), read_only=True) as con:
        cursor = con.execute(f"select * from marts.{mart}")
        columns = [d[0] for d in cursor.description]
        expected = {tuple(row[columns.index(k)] for k in keys): row for row in cursor.fetchall()}
    frame = built.spark.table(f"marts.{mart}")
    assert frame.columns == columns
    got = {tuple(row[k] for k in keys): tuple(row) for row in frame.collect()}
    assert expected, f"the demo gives marts.{mart} rows"
    assert sum(row[columns.index("deployments")] for row in expected.values()) > 0
    assert sorted(got) == sorted(expected)
    for key, row in expected.items():
        mismatched = [
            f"{column}: duckdb {want!r} spark {have!r}"
            for column, want, have in zip(columns, row, got[key], strict=True)
            if not same(normalised(want), normalised(have))
        ]
        assert not mismatched, f"marts.{mart} {key}: " + "; ".join(mismatched)
