"""A team defines its own metric (README "Define your own metric"): a file in the metrics directory, no SQL and no
change to the project, goes the whole way — MetricFlow validates it, the build puts it in metrics_team_daily with
the values counted by hand from the March 2026 scenario (tests/python/scenarios.py), `yardstick metrics query`
answers it, a goal targets a team metric, the report draws it and the PostgreSQL copy serves it."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import duckdb
import pandas as pd
import psycopg
import pytest
from postgres_server import Postgres

from yardstick.metrics import (
    check_team_metric_files,
    list_metrics,
    load_semantic_manifest,
    parse_project,
    query,
)
from yardstick.postgres import publish_postgres
from yardstick.refresh import Progress, refresh
from yardstick.report import render

# builds without dbt's data tests: they run on the suite's shared builds (dbt_unit_tests.py)
DBT_DATA_TESTS = False

PROJECT = Path(__file__).resolve().parents[2]

TEAM_FILE = """\
metrics:
  - name: payments_api_merged_prs
    label: PRs merged in payments-api
    description: Pull requests of acme/payments-api merged (per day at metric_time__day).
    type: simple
    type_params:
      measure: merged_prs
    filter: "{{ Dimension('change__repository') }} = 'acme/payments-api'"
    config:
      meta: {better: higher, unit: pull requests, category: flow}
"""
# payments-api's pull requests merged on 2, 3, 4 and 9 March 2026, one a day (scenarios.py: PR1–PR4)
EXPECTED_DAYS = {date(2026, 3, 2): 1.0, date(2026, 3, 3): 1.0, date(2026, 3, 4): 1.0, date(2026, 3, 9): 1.0}
# the seeded goal payments-unreviewed (2026-11-02 → 2027-01-31) moved 245 days back starts on 2 March 2026
GOAL_VARS = {"as_of_date": "2026-03-15", "goal_date_shift_days": -245}


@pytest.fixture(scope="module")
def built(scenario_warehouse: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("team-metrics")
    metrics = directory / "metrics"
    metrics.mkdir()
    shutil.copy(PROJECT / "metrics" / "payments.yml", metrics)  # metric_targets.csv's team goal targets it
    (metrics / "payments_flow.yml").write_text(TEAM_FILE)
    for name in ("warehouse.duckdb", "warehouse.private.duckdb"):
        shutil.copy(scenario_warehouse.with_name(name), directory / name)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("YARDSTICK_METRICS_DIR", str(metrics))
        patch.setenv("DBT_TARGET_PATH", str(directory / "target"))
        assert check_team_metric_files(metrics) == [metrics / "payments.yml", metrics / "payments_flow.yml"]
        names = {info.name: info for info in list_metrics(parse_project(force=True))}
        assert names["payments_api_merged_prs"].team == "payments_flow"  # no meta.team: the file's name
        load_semantic_manifest(directory / "target" / "semantic")
        refresh(directory / "warehouse.duckdb", ingest=False, vars=GOAL_VARS, progress=Progress(quiet=True))
    return directory


def test_the_build_puts_it_in_metrics_team_daily(built: Path) -> None:
    with duckdb.connect(str(built / "warehouse.duckdb"), read_only=True) as con:
        rows = con.execute("select team, metric_date, value, is_team_defined, defined_in from marts.metrics_team_daily "
                           "where metric = 'payments_api_merged_prs' order by metric_date").fetchall()
    assert {day: value for _, day, value, _, _ in rows} == EXPECTED_DAYS
    assert {(team, flag) for team, _, _, flag, _ in rows} == {("payments", True)}
    assert all(path.endswith("payments_flow.yml") for *_, path in rows)


def test_the_build_records_the_definitions(built: Path, scenario_warehouse: Path) -> None:
    """The new metric is first seen by this build (its day: var as_of_date); payments' metric keeps the day the
    scenario's build first saw it, whatever day that was."""
    sql = ("select metric_name, team, defined_in, first_defined_at, last_changed_at, is_current "
           "from intermediate.int_team_metric_definitions order by metric_name")
    with duckdb.connect(str(scenario_warehouse.with_name("warehouse.private.duckdb")), read_only=True) as con:
        earlier = con.execute(sql).fetchall()
    with duckdb.connect(str(built / "warehouse.private.duckdb"), read_only=True) as con:
        rows = con.execute(sql).fetchall()
    assert [row[:3] for row in earlier] == [
        ("payments_api_prs_merged_without_review", "payments", "metrics/payments.yml")]
    new, kept = rows
    assert new[:2] == ("payments_api_merged_prs", "payments_flow") and new[2].endswith("payments_flow.yml")
    assert new[3:] == (date(2026, 3, 15), date(2026, 3, 15), True)
    assert kept[:2] == earlier[0][:2] and kept[3:] == earlier[0][3:]  # first seen and unchanged since


def test_metrics_query_answers_it_by_week(built: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("YARDSTICK_METRICS_DIR", str(built / "metrics"))
    monkeypatch.setenv("DBT_TARGET_PATH", str(built / "target"))
    _, frame = query(built / "warehouse.duckdb", ["payments_api_merged_prs"], ["team", "metric_time__week"])
    weeks = {(row.team, pd.Timestamp(row.metric_time__week).date()): row.payments_api_merged_prs
             for row in frame.itertuples(index=False)}
    assert weeks == {("payments", date(2026, 3, 2)): 3, ("payments", date(2026, 3, 9)): 1}


def test_a_goal_targets_a_team_metric(built: Path) -> None:
    """payments-unreviewed: PRs of payments-api merged without review, target 1 (lower is better). Judged on
    15 March over 28 days: every payments-api PR had a review by someone else → 0; baseline (window ending on
    2 March) 0 → on track."""
    with duckdb.connect(str(built / "warehouse.duckdb"), read_only=True) as con:
        goal = con.execute("select metric, better, baseline_value, current_value, status from marts.goals_status "
                           "where goal_id = 'payments-unreviewed'").fetchone()
    assert goal == ("payments_api_prs_merged_without_review", "lower", 0.0, 0.0, "on_track")


def test_the_report_draws_it(built: Path, tmp_path: Path) -> None:
    page = render(built / "warehouse.duckdb", tmp_path / "report").read_text()
    section = page[page.index('<section id="team-metrics">'):]
    assert "payments · payments_api_merged_prs" in section and "plotly" in section


def test_the_postgresql_copy_serves_it(built: Path, postgres: Postgres, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DBT_TARGET_PATH", str(built / "target"))
    tables = publish_postgres(built / "warehouse.duckdb", postgres.url())
    assert "metrics_team_daily" in tables
    with psycopg.connect(postgres.url()) as con:
        rows = con.execute("select metric_date, value from marts.metrics_team_daily "
                           "where metric = 'payments_api_merged_prs' order by metric_date").fetchall()
    assert dict(rows) == EXPECTED_DAYS
