"""What a nightly build selects (yardstick/build_state.py), without running dbt: the plan follows the raw tables
that changed, today's date, the project's files, the vars and the person key. The clock is pinned."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import duckdb
import pytest

from yardstick import build_state
from yardstick.dbt import PROJECT_DIR

KEY, VARS = "k" * 64, {"as_of_date": "2026-03-31"}


@pytest.fixture()
def project(tmp_path: Path) -> Path:
    copy = tmp_path / "project"
    copy.mkdir()
    for name in ("models", "macros", "seeds"):
        shutil.copytree(PROJECT_DIR / name, copy / name, ignore=shutil.ignore_patterns("python", "fixtures"))
    shutil.copy(PROJECT_DIR / "dbt_project.yml", copy / "dbt_project.yml")
    return copy


@pytest.fixture()
def warehouse(tmp_path: Path) -> Path:
    path = tmp_path / "w.duckdb"
    with duckdb.connect(str(path)) as con:
        for table in ("raw_github.pull_requests", "raw_pagerduty.incidents", "raw_jira.issues"):
            con.execute(f"create schema if not exists {table.split('.')[0]}")
            con.execute(f"create table {table} (id varchar, _dlt_load_id varchar, _dlt_id varchar)")
            con.execute(f"insert into {table} values ('1', '100.1', 'a')")
    return path


def insert(warehouse: Path, table: str, load_id: str) -> None:
    with duckdb.connect(str(warehouse)) as con:
        con.execute(f"insert into {table} values ('2', '{load_id}', 'b')")


def test_the_plan_follows_what_changed(warehouse: Path, project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(build_state, "today", lambda: date(2026, 3, 31))
    first = build_state.plan(warehouse, project, VARS, KEY)
    assert (first.select, first.unit_tests, first.full_refresh) == (None, True, False)
    build_state.record(warehouse, project, VARS, KEY)

    # nothing loaded since: nothing to build
    assert build_state.plan(warehouse, project, VARS, KEY).select == []
    # a day's load reaches two raw tables: their downstream models, no unit tests
    insert(warehouse, "raw_github.pull_requests", "200.1")
    insert(warehouse, "raw_pagerduty.incidents", "200.1")
    plan = build_state.plan(warehouse, project, VARS, KEY)
    assert plan.select == ["source:github.pull_requests+", "source:pagerduty.incidents+"]
    assert plan.args() == ["build", "--select", "source:github.pull_requests+", "source:pagerduty.incidents+",
                           "--exclude-resource-type", "unit_test"]
    assert plan.args("run") == ["run", "--select", "source:github.pull_requests+", "source:pagerduty.incidents+"]
    build_state.record(warehouse, project, VARS, KEY)

    # a row deleted by hand changes the count, so the table counts as changed
    with duckdb.connect(str(warehouse)) as con:
        con.execute("delete from raw_jira.issues")
    assert build_state.plan(warehouse, project, VARS, KEY).select == ["source:jira.issues+"]
    build_state.record(warehouse, project, VARS, KEY)

    # with `as_of_date` blank, a new day also rebuilds the models that read today's date
    build_state.record(warehouse, project, {}, KEY)
    assert build_state.plan(warehouse, project, {}, KEY).select == []
    monkeypatch.setattr(build_state, "today", lambda: date(2026, 4, 1))
    assert build_state.plan(warehouse, project, {}, KEY).select == ["tag:as_of_date+"]

    # a var, a seed or a model changed: everything (incremental models see it through their own fingerprint)
    build_state.record(warehouse, project, VARS, KEY)
    assert build_state.plan(warehouse, project, {**VARS, "min_group_size": 3}, KEY).select is None
    seed = project / "seeds" / "teams.csv"
    seed.write_text(seed.read_text() + "newteam,\n")
    changed = build_state.plan(warehouse, project, VARS, KEY)
    assert (changed.select, changed.full_refresh) == (None, False)
    build_state.record(warehouse, project, VARS, KEY)

    # a macro or the person key changed, which incremental models cannot see: every table from scratch
    rotated = build_state.plan(warehouse, project, VARS, "another key")
    assert (rotated.select, rotated.full_refresh) == (None, True)
    assert rotated.args()[-1] == "--full-refresh"
    (project / "macros" / "as_of_date.sql").write_text("{% macro as_of_date() %}current_date{% endmacro %}")
    assert build_state.plan(warehouse, project, VARS, KEY).full_refresh
    assert build_state.plan(warehouse, project, VARS, KEY, full_refresh=True).full_refresh


def test_the_state_never_holds_the_person_key(warehouse: Path, project: Path) -> None:
    build_state.record(warehouse, project, VARS, KEY)
    with duckdb.connect(str(warehouse), read_only=True) as con:
        row = con.execute(f"select * from {build_state.STATE}").fetchone()
    assert all(KEY not in str(value) for value in row)
