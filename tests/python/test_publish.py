"""A refresh publishes atomically; any failure leaves the last published warehouse untouched."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path

import duckdb
import pytest
from scenarios import march_2026

from ingestion.demo.server import ReplayServer
from ingestion.errors import TokenRejected
from yardstick.errors import QualityGateFailed
from yardstick.publish import private_path, publish
from yardstick.refresh import Progress, refresh


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture()
def published(serve: Callable[..., ReplayServer], tmp_path: Path, quiet: Progress) -> Path:
    serve(march_2026().org)
    warehouse = tmp_path / "warehouse.duckdb"
    refresh(warehouse, sources=["github", "pagerduty"], build=False, progress=quiet)
    return warehouse


def test_publish_leaves_a_readers_file_and_a_private_file(published: Path) -> None:
    assert sorted(p.name for p in published.parent.iterdir() if p.name.startswith("warehouse")) == [
        "warehouse.duckdb", "warehouse.private.duckdb"]
    with duckdb.connect(str(private_path(published)), read_only=True) as con:
        assert con.sql("select count(*) from raw_github.pull_requests").fetchone() == (6,)
    with duckdb.connect(str(published), read_only=True) as con:
        schemas = {s for (s,) in con.sql("select distinct table_schema from information_schema.tables").fetchall()}
        seeds = {t for (t,) in con.sql("select table_name from information_schema.tables "
                                       "where table_schema = 'seeds'").fetchall()}
    assert schemas <= {"marts", "ops", "seeds"}
    assert not seeds & {"identities", "people_teams"}


def test_publish_copies_the_public_tables_with_their_constraints(tmp_path: Path) -> None:
    work, warehouse = tmp_path / "work.duckdb", tmp_path / "warehouse.duckdb"
    with duckdb.connect(str(work)) as con:
        for schema in ("raw_github", "intermediate", "marts", "seeds", "ops"):
            con.execute(f"create schema {schema}")
        con.execute("create table raw_github.users (login varchar)")
        con.execute("insert into raw_github.users values ('ana')")
        con.execute("create table intermediate.int_people (person_id varchar)")
        con.execute("create table marts.fct_x (x_key varchar primary key, n integer not null)")
        con.execute("insert into marts.fct_x values ('a', 1), ('b', 2)")
        con.execute("create table seeds.teams (team varchar)")
        con.execute("create table seeds.identities (identity varchar)")
        con.execute("create table ops.versions (version bigint)")
    publish(work, warehouse)
    assert not work.exists() and private_path(warehouse).exists()
    with duckdb.connect(str(warehouse), read_only=True) as con:
        tables = con.sql("select schema_name || '.' || table_name from duckdb_tables() order by 1").fetchall()
        assert [t for (t,) in tables] == ["marts.fct_x", "ops.versions", "seeds.teams"]
        assert con.sql("select * from marts.fct_x order by 1").fetchall() == [("a", 1), ("b", 2)]
        assert con.sql("select constraint_type from duckdb_constraints() where table_name = 'fct_x' "
                       "order by 1").fetchall() == [("NOT NULL",), ("NOT NULL",), ("PRIMARY KEY",)]
    assert b"ana" not in warehouse.read_bytes()  # a fresh file: no freed page ever held raw rows
    with duckdb.connect(str(private_path(warehouse)), read_only=True) as con:
        assert con.sql("select login from raw_github.users").fetchall() == [("ana",)]


def test_failed_ingest_keeps_the_published_warehouse(
    published: Path, monkeypatch: pytest.MonkeyPatch, quiet: Progress
) -> None:
    before = digest(published)
    monkeypatch.setenv("SOURCES__PAGERDUTY__API_TOKEN", "wrong")
    with pytest.raises(TokenRejected, match=r"PagerDuty rejected the token \(401\)"):
        refresh(published, sources=["github", "pagerduty"], build=False, progress=quiet)
    assert digest(published) == before
    assert not published.with_name("warehouse.duckdb.building").exists()


def test_failed_gate_keeps_the_published_warehouse(published: Path, quiet: Progress) -> None:
    # a bad row sneaks into the raw layer of the private file we then refresh from
    with duckdb.connect(str(private_path(published))) as con:
        con.execute("insert into raw_github.pull_requests (repository, id, number, state, created_at, updated_at, "
                    "merged_at, _dlt_load_id, _dlt_id) select repository, id, number, state, created_at, "
                    "updated_at, created_at - interval 1 day, 'x', 'y' from raw_github.pull_requests limit 1")
    before = digest(published), digest(private_path(published))
    with pytest.raises(QualityGateFailed, match=r"raw_github\.pull_requests"):
        refresh(published, ingest=False, build=False, progress=quiet)
    assert (digest(published), digest(private_path(published))) == before


def test_a_warehouse_with_no_source_configured_still_builds(tmp_path: Path, quiet: Progress) -> None:
    """A first run before any source is set up builds every model on empty raw tables."""
    warehouse = tmp_path / "warehouse.duckdb"
    refresh(warehouse, progress=quiet)
    with duckdb.connect(str(warehouse), read_only=True) as con:
        assert con.sql("select count(*) from marts.dora_team_monthly").fetchone() == (0,)
        teams = {team for (team,) in con.sql("select team from marts.dim_teams").fetchall()}
    assert {"payments", "search", "unassigned"} <= teams
