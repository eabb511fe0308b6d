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


def reload(warehouse: Path, table: str, load_id: str, **changes: str) -> None:
    """As dlt's merge leaves a re-fetched row: the old version deleted, the new one inserted with a new load id
    and row id (`changes` to its content; none for a look-back re-reading it unchanged)."""
    with duckdb.connect(str(warehouse)) as con:
        con.execute(f"create temp table fetched as select * from {table} where id = '1'")
        con.execute(f"delete from {table} where id = '1'")
        values = {**changes, "_dlt_load_id": load_id, "_dlt_id": f"r{load_id}"}
        replace = ", ".join(f"'{value}' as {name}" for name, value in values.items())
        con.execute(f"insert into {table} select * replace ({replace}) from fetched")


def test_a_table_changed_only_when_its_content_did(warehouse: Path, project: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(build_state, "today", lambda: date(2026, 3, 31))
    build_state.record(warehouse, project, VARS, KEY)

    # a nightly whose look-back re-read rows that did not change: new load ids, same content; only their staging
    # models take the new load ids, nothing after them is built
    reload(warehouse, "raw_github.pull_requests", "200.1")
    reload(warehouse, "raw_jira.issues", "200.1")
    quiet = build_state.plan(warehouse, project, VARS, KEY)
    assert (quiet.select, quiet.reason) == (["source:github.pull_requests+1", "source:jira.issues+1"],
                                            "0 raw table(s) changed, 2 reloaded as they were")
    build_state.record(warehouse, project, VARS, KEY, marks=quiet.marks)
    assert build_state.plan(warehouse, project, VARS, KEY).select == []

    # a row changed late: the same row count, a newer load id and other content: its table counts as changed
    reload(warehouse, "raw_github.pull_requests", "300.1")
    reload(warehouse, "raw_jira.issues", "300.1", id="1", _dlt_id="other row id")
    reload(warehouse, "raw_pagerduty.incidents", "300.1", id="2")
    late = build_state.plan(warehouse, project, VARS, KEY)
    assert late.select == ["source:pagerduty.incidents+", "source:github.pull_requests+1", "source:jira.issues+1"]
    build_state.record(warehouse, project, VARS, KEY, marks=late.marks)

    # an appended row is hashed alone and added to the last digest: the same mark as hashing the whole table
    insert(warehouse, "raw_github.pull_requests", "400.1")
    appended = build_state.plan(warehouse, project, VARS, KEY)
    assert appended.select == ["source:github.pull_requests+"]
    with duckdb.connect(str(warehouse), read_only=True) as con:
        assert appended.marks == build_state.raw_marks(con, sorted(appended.marks))
    build_state.record(warehouse, project, VARS, KEY, marks=appended.marks)

    # a row deleted and another inserted in its place (same count) with the deleted row's content but a new id
    with duckdb.connect(str(warehouse)) as con:
        con.execute("delete from raw_github.pull_requests where id = '2'")
        con.execute("insert into raw_github.pull_requests values ('3', '500.1', 'c')")
    assert build_state.plan(warehouse, project, VARS, KEY).select == ["source:github.pull_requests+"]


def test_a_state_of_the_older_shape_counts_every_table_as_changed(warehouse: Path, project: Path) -> None:
    """A work copy recorded by the previous version (marks `rows:newest load id`): one build of what every raw
    table reaches, then the content marks take over."""
    build_state.record(warehouse, project, VARS, KEY)
    with duckdb.connect(str(warehouse)) as con:
        con.execute(f"update {build_state.STATE} set raw_marks = ?", [
            '{"raw_github.pull_requests": "1:100.1", "raw_jira.issues": "1:100.1", "raw_pagerduty.incidents": '
            '"1:100.1"}'])
    older = build_state.plan(warehouse, project, VARS, KEY)
    assert older.select == ["source:github.pull_requests+", "source:jira.issues+", "source:pagerduty.incidents+"]
    build_state.record(warehouse, project, VARS, KEY, marks=older.marks)
    assert build_state.plan(warehouse, project, VARS, KEY).select == []
