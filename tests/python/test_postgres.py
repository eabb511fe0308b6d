"""`yardstick publish-postgres` against a real PostgreSQL server (Debian's packages, started here on
127.0.0.1 in a temporary directory), read by real clients as Metabase would: pgjdbc from Java, psql and
psycopg, through the read-only role."""

from __future__ import annotations

import shutil
import subprocess
from datetime import date
from pathlib import Path

import duckdb
import psycopg
import pytest
from postgres_server import Postgres
from scenarios import march_2026

from ingestion.demo.server import ReplayServer
from yardstick.demo import environment, source_settings
from yardstick.nightly import nightly
from yardstick.postgres import publish_postgres
from yardstick.refresh import Progress

# builds without dbt's data tests: the scenario's shared build runs them on the same data (dbt_unit_tests.py)
DBT_DATA_TESTS = False

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "postgres"
JDBC_JAR = "/usr/share/java/postgresql.jar"
READER_PASSWORD = "reader-pw-for-tests"
CHANGES_BY_MONTH = "select cast(date_trunc('month', merged_at) as date) as month, count(*) from marts.fct_changes " \
    "group by 1 order by 1"


@pytest.fixture(scope="module")
def published(postgres: Postgres, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[str]]:
    warehouse = tmp_path_factory.mktemp("pg") / "warehouse.duckdb"
    scenario = march_2026()
    with ReplayServer(scenario.org) as server, environment(
            source_settings(server, sorted(scenario.org.github), date(2026, 1, 1))):
        # the nightly copies the marts when PostgreSQL is configured
        first = nightly(warehouse, progress=Progress(quiet=True), postgres_url=postgres.url())
    tables = publish_postgres(warehouse, postgres.url())  # and so does the command: a fresh copy swapped in
    assert tables == first.postgres_tables
    with psycopg.connect(postgres.url(), autocommit=True) as con:
        con.execute(f"alter role yardstick_reader login password '{READER_PASSWORD}'")
    return warehouse, tables


def duck(warehouse: Path, sql: str, *params: object) -> list[tuple]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute(sql, list(params)).fetchall()


def test_every_public_mart_is_copied_with_its_rows(postgres: Postgres, published: tuple[Path, list[str]]) -> None:
    warehouse, tables = published
    assert {"fct_changes", "fct_deployments", "fct_incidents", "dim_teams", "dora_team_weekly",
            "dora_team_monthly", "dora_org_monthly"} <= set(tables)
    with psycopg.connect(postgres.url()) as con:
        schemas = {name for (name,) in con.execute("select nspname from pg_namespace")}
        assert "marts" in schemas and "marts_incoming" not in schemas
        for table in tables:
            got = con.execute(f"select count(*) from marts.{table}").fetchone()[0]
            assert got == duck(warehouse, f"select count(*) from marts.{table}")[0][0], table


def test_pgjdbc_does_what_metabase_sync_and_questions_do(
    postgres: Postgres, published: tuple[Path, list[str]], tmp_path: Path
) -> None:
    warehouse, tables = published
    shutil.copy(FIXTURES / "MetabaseLikeCheck.java", tmp_path)
    subprocess.run(["javac", "-cp", JDBC_JAR, "MetabaseLikeCheck.java"], cwd=tmp_path, check=True, timeout=120)
    result = subprocess.run(
        ["java", "-cp", f"{JDBC_JAR}:.", "MetabaseLikeCheck",
         f"jdbc:postgresql://127.0.0.1:{postgres.port}/analytics", "yardstick_reader", READER_PASSWORD],
        check=False, cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    got = dict(line.split("=", 1) for line in result.stdout.splitlines())
    assert got["schemas_include_marts"] == "true"
    assert got["tables"].split(",") == sorted(tables)
    assert "team:text" in got["dora_team_monthly_columns"] and "month_start:date" in got["dora_team_monthly_columns"]
    assert got["dora_team_monthly_primary_key"] == "1:team,2:month_start"
    assert got["changes"] == "6"
    assert got["payments_changes"] == str(duck(warehouse, "select count(*) from marts.fct_changes where team = ?",
                                               "payments")[0][0]) == "4"
    assert got["changes_by_month"] == ",".join(f"{m}:{n}" for m, n in duck(warehouse, CHANGES_BY_MONTH))


def test_psql_and_psycopg_run_the_same_queries(postgres: Postgres, published: tuple[Path, list[str]]) -> None:
    warehouse, _ = published
    url = postgres.url("yardstick_reader", READER_PASSWORD)
    expected = duck(warehouse, CHANGES_BY_MONTH)
    psql = subprocess.run(["psql", url, "-At", "-F", ",", "-c", CHANGES_BY_MONTH], check=False, capture_output=True,
                          text=True, timeout=60)
    assert psql.returncode == 0, psql.stderr
    assert psql.stdout.split() == [f"{m},{n}" for m, n in expected]
    with psycopg.connect(url) as con:
        assert con.execute(CHANGES_BY_MONTH).fetchall() == expected
        assert con.execute("select count(*) from marts.fct_changes where team = %s", ["payments"]).fetchone() == (4,)
        keys = con.execute("""
            select a.attname from pg_index i
            join pg_attribute a on a.attrelid = i.indrelid and a.attnum = any(i.indkey)
            where i.indrelid = 'marts.fct_changes'::regclass and i.indisprimary""").fetchall()
        assert keys == [("pull_request_key",)]
        comment = con.execute("select obj_description('marts.fct_changes'::regclass)").fetchone()[0]
        assert comment.startswith("One row per merged")


@pytest.mark.parametrize("statement", [
    "insert into marts.dim_teams (team) values ('intruder')",
    "delete from marts.fct_changes",
    "create table marts.scratch (id int)",
    "create table public.scratch (id int)",
    "drop table marts.fct_changes",
])
@pytest.mark.parametrize("read_write_session", [False, True])
def test_the_reader_role_cannot_write(postgres: Postgres, published: tuple[Path, list[str]], statement: str,
                                      read_write_session: bool) -> None:
    """Sessions default to read-only; even a session that turns that off has no privilege to write."""
    with psycopg.connect(postgres.url("yardstick_reader", READER_PASSWORD), autocommit=True) as con:
        if read_write_session:
            con.execute("set default_transaction_read_only = off")
        with pytest.raises(psycopg.Error, match=r"read-only transaction|permission denied|must be owner"):
            con.execute(statement)
