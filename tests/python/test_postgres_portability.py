"""The same dbt project on PostgreSQL (issue 9): a demo organisation, served by the replay server, is ingested by
the real sources into a PostgreSQL server (Debian's packages, on 127.0.0.1) through dlt's postgres destination
and into DuckDB; `dbt build --target postgres` (models, data tests, unit tests, contracts) and the DuckDB build
must then give the same marts, row for row."""

from __future__ import annotations

import decimal
from collections import Counter
from datetime import date, timedelta
from pathlib import Path

import dlt
import duckdb
import psycopg
import pytest
from dbt_unit_tests import with_unit_tests
from postgres_server import ADMIN_PASSWORD, Postgres

from ingestion.demo.events import generate_events, product_vars
from ingestion.demo.generator import generate_org
from ingestion.demo.server import ReplayServer
from ingestion.pipeline import SOURCES, ensure_raw_tables, ingest_source, missing_settings
from yardstick import dbt
from yardstick.demo import environment, source_settings

TEAMS, WEEKS, END = 2, 4, date(2026, 3, 2)
DORA_MARTS = ["dora_team_monthly", "dora_team_weekly", "dora_org_monthly", "fct_changes", "fct_deployments"]


def _pg_settings(postgres: Postgres) -> dict[str, str]:
    return {"YARDSTICK_PG_HOST": "127.0.0.1", "YARDSTICK_PG_PORT": str(postgres.port),
            "YARDSTICK_PG_USER": "postgres", "YARDSTICK_PG_PASSWORD": ADMIN_PASSWORD,
            "YARDSTICK_PG_DBNAME": "analytics"}


@pytest.fixture(scope="module")
def warehouse(postgres: Postgres, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo's raw data in DuckDB and in PostgreSQL, each built by dbt; returns the DuckDB file."""
    root = tmp_path_factory.mktemp("portability")
    org = generate_org(teams=TEAMS, weeks=WEEKS, seed=7, end=END)
    (root / "events").mkdir()
    story = generate_events(org, root / "events", seed=7)
    path = root / "warehouse.duckdb"
    with ReplayServer(org) as server, environment({
        **source_settings(server, sorted(org.github), END - timedelta(weeks=WEEKS + 1)),
        "SOURCES__EVENTS__PATHS": str(root / "events"),
        "RUNTIME__REQUEST_BACKOFF_FACTOR": "0.05",
    }):
        for name in SOURCES:
            if not missing_settings(name):
                ingest_source(name, path)
                ingest_source(name, None, destination=dlt.destinations.postgres(postgres.url()))
    ensure_raw_tables(path)
    with psycopg.connect(postgres.url(), autocommit=True) as con:
        ensure_raw_tables(None, connection=con)
    # DuckDB: models and seeds only (its data and unit tests run in every other suite); PostgreSQL: everything
    dbt.dbt(["build", "--resource-type", "seed", "--resource-type", "model"], path, vars=product_vars(story))
    with environment(_pg_settings(postgres)), with_unit_tests():
        dbt.dbt(["build", "--target", "postgres"], path, vars=product_vars(story))
    return path


def _rows(postgres: Postgres, warehouse: Path, table: str) -> tuple[Counter, Counter]:
    """A mart's rows in DuckDB and in PostgreSQL, as multisets (order-insensitive); floats (and PostgreSQL's
    numerics) rounded to 9 significant digits, so summation order and numeric vs double don't count."""
    def norm(value: object) -> object:
        return float(f"{float(value):.9g}") if isinstance(value, float | decimal.Decimal) else value

    with duckdb.connect(str(warehouse), read_only=True) as con:
        columns = [row[0] for row in con.execute(f"describe marts.{table}").fetchall()]
        query = f"select {', '.join(columns)} from marts.{table}"
        duck = Counter(tuple(map(norm, row)) for row in con.execute(query).fetchall())
    with psycopg.connect(postgres.url()) as con:
        pg = Counter(tuple(map(norm, row)) for row in con.execute(query).fetchall())
    return duck, pg


def _marts(warehouse: Path) -> list[str]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return [name for (name,) in con.execute(
            "select table_name from information_schema.tables where table_schema = 'marts' order by 1").fetchall()]


def test_dlt_loads_the_same_raw_data_into_postgres(postgres: Postgres, warehouse: Path) -> None:
    with duckdb.connect(str(warehouse), read_only=True) as duck, psycopg.connect(postgres.url()) as pg:
        for spec in SOURCES.values():
            for table in spec.tables:
                count = f"select count(*) from {spec.dataset}.{table}"
                assert pg.execute(count).fetchone()[0] == duck.execute(count).fetchone()[0], table
        assert pg.execute("select count(*) from raw_github.pull_requests").fetchone()[0] > 0


@pytest.mark.parametrize("table", DORA_MARTS)
def test_dora_marts_equal_duckdbs_row_for_row(postgres: Postgres, warehouse: Path, table: str) -> None:
    duck, pg = _rows(postgres, warehouse, table)
    assert sum(duck.values()) > 0, f"{table} is empty: the comparison would prove nothing"
    assert pg == duck, f"{table}: only in PostgreSQL {list(pg - duck)[:3]}, only in DuckDB {list(duck - pg)[:3]}"


def test_dora_marts_cover_every_team_with_deployments_and_lead_times(postgres: Postgres, warehouse: Path) -> None:
    with psycopg.connect(postgres.url()) as con:
        teams, deployments, lead_times = con.execute(
            "select count(distinct team), sum(deployments), count(lead_time_median_hours) "
            "from marts.dora_team_monthly").fetchone()
    assert teams >= TEAMS and deployments > 0 and lead_times > 0


def test_every_other_mart_equals_duckdbs_too(postgres: Postgres, warehouse: Path) -> None:
    others = [table for table in _marts(warehouse) if table not in DORA_MARTS]
    assert {"flow_stage_breakdown_weekly", "goals_status", "product_metric_daily"} <= set(others)
    differing = []
    for table in others:
        duck, pg = _rows(postgres, warehouse, table)
        if pg != duck:
            differing.append(table)
    assert differing == []
