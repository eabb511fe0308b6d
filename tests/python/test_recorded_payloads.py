"""Recorded GitHub and PagerDuty payloads, served by the replay server, through the real sources."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest
from recorded import GITHUB_REPO, recorded_org

from ingestion.demo.server import ReplayServer
from ingestion.pipeline import ingest_source


@pytest.fixture()
def warehouse(serve: Callable[..., ReplayServer], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    serve(recorded_org())
    monkeypatch.setenv("SOURCES__GITHUB__API", "rest")  # GitHub's recorded REST examples, through the REST path
    monkeypatch.setenv("SOURCES__GITHUB__START_DATE", "2010-01-01")
    monkeypatch.setenv("SOURCES__PAGERDUTY__START_DATE", "2022-01-01")
    path = tmp_path / "w.duckdb"
    for name in ("github", "github_actions", "pagerduty"):
        ingest_source(name, path)
    return path


def one(con: duckdb.DuckDBPyConnection, sql: str) -> tuple:
    return con.sql(sql).fetchone()


def test_github_example_payloads_land_typed(warehouse: Path) -> None:
    def utc(*parts: int) -> datetime:
        return datetime(*parts, tzinfo=UTC)

    with duckdb.connect(str(warehouse), read_only=True) as con:
        con.execute("set TimeZone = 'UTC'")
        assert one(con, "select repository, number, user_login, head_ref, merge_commit_sha, additions, deletions, "
                        "changed_files, merged_at from raw_github.pull_requests") == (
            GITHUB_REPO, 1347, "octocat", "new-topic", "e5bd3914e2e596debea16f433f57875b5b90bcd6", 100, 3, 5,
            utc(2011, 1, 26, 19, 1, 12))
        assert one(con, "select sha, parent_shas, author_email, authored_at from raw_github.pull_request_commits") == (
            "6dcb09b5b57875f334f61aebed695e2e4193db5e", "6dcb09b5b57875f334f61aebed695e2e4193db5e",
            "support@github.com", utc(2011, 4, 14, 16, 0, 49))
        assert one(con, "select id, user_login, state, submitted_at from raw_github.pull_request_reviews") == (
            80, "octocat", "APPROVED", utc(2019, 11, 17, 17, 43, 43))
        assert one(con, "select id, sha, environment, production_environment from raw_github.deployments") == (
            1, "a84d88e7554fc1fa21bcbc4efae3c782a70d2b9d", "production", True)
        assert one(con, "select deployment_id, state from raw_github.deployment_statuses") == (1, "success")
        assert one(con, "select id, name, head_sha, run_attempt from raw_github_actions.workflow_runs") == (
            30433642, "Build", "acb5820ced9479c074f688cc328bf03f341a511d", 1)


def test_recorded_issues_and_jobs_land_and_pull_requests_stay_out(warehouse: Path) -> None:
    """The 13 recorded issues arrive; the issues list's pull requests (GitHub's own example item and the served
    pull request, both carrying `pull_request`) do not; the documented job keeps its runner and 10 steps."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        con.execute("set TimeZone = 'UTC'")
        assert con.sql("select count(*), min(number), max(number), count(distinct id) from raw_github.issues"
                       ).fetchone() == (13, 1, 13, 13)
        assert one(con, "select count(*) from raw_github.issues where number = 1347") == (0,)
        assert one(con, "select id, title, state, user_login, created_at from raw_github.issues where number = 13"
                   ) == (1000, "Test issue 13", "open", "octokit-fixture-user-a", datetime(2017, 10, 10, 16, tzinfo=UTC))
        assert one(con, "select id, run_id, name, status, conclusion, runner_name, steps_count, started_at, "
                        "completed_at from raw_github_actions.workflow_jobs") == (
            399444496, 29679449, "build", "completed", "success", "my runner", 10,
            datetime(2020, 1, 20, 17, 42, 40, tzinfo=UTC), datetime(2020, 1, 20, 17, 44, 39, tzinfo=UTC))


def test_real_pagerduty_incidents_and_log_entries(warehouse: Path) -> None:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        con.execute("set TimeZone = 'UTC'")
        statuses = con.sql("select id, status, service_name from raw_pagerduty.incidents order by id").fetchall()
        assert statuses == [("Q1OHFWFP3GPXOG", "resolved", "DevService"),
                            ("Q3CZAU7Q4008QD", "acknowledged", "DevService"),
                            ("Q3YON8WNWTZMRQ", "triggered", "DevService")]
        assert one(con, "select count(*), count(distinct incident_id) from raw_pagerduty.log_entries") == (44, 3)
        resolved = con.sql("select type, created_at from raw_pagerduty.log_entries where incident_id = "
                           "'Q1OHFWFP3GPXOG' and type in ('trigger_log_entry', 'resolve_log_entry') order by 2")
        assert [(kind, moment.strftime("%H:%M:%S")) for kind, moment in resolved.fetchall()] == [
            ("trigger_log_entry", "06:45:36"), ("resolve_log_entry", "06:51:44")]

