"""GitHub issues and GitHub Actions jobs through the real GitHub client and the replay server: pull requests
kept out of issues, incremental second syncs that fetch nothing again, a bad issue payload, and the issues,
transitions, `#123` links and jobs that come out of the models."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest
from quarantine import rejected

from ingestion.demo.org import OrgBuilder
from ingestion.demo.server import ReplayServer
from ingestion.pipeline import ensure_raw_tables, ingest_source
from yardstick.dbt import dbt


@pytest.fixture(autouse=True)
def _rest_api(monkeypatch: pytest.MonkeyPatch) -> None:
    """These tests are about GitHub's REST endpoints and request patterns (GraphQL: test_github_graphql.py)."""
    monkeypatch.setenv("SOURCES__GITHUB__API", "rest")

REPO = "acme/shop"
ISSUES_PATH = f"/repos/{REPO}/issues"


def at(day: int, hour: int) -> datetime:
    return datetime(2026, 3, day, hour, tzinfo=UTC)


def shop() -> OrgBuilder:
    """Issues #1 (bug, closed as completed), #2 (closed as not planned), #3 (open); pull request #4 fixes #1
    in its body, #5 names #3 in a commit message and #4 (a pull request, not an issue) in its title."""
    b = OrgBuilder("acme")
    b.issue(REPO, author="ann", title="Checkout fails", opened_at=at(2, 9), closed_at=at(4, 12), labels=["bug"],
            assignee="bob")
    b.issue(REPO, author="ann", title="Dark mode", opened_at=at(2, 10), closed_at=at(3, 10),
            state_reason="not_planned")
    b.issue(REPO, author="cat", title="Slow search", opened_at=at(3, 9))
    fix = b.pull_request(REPO, author="bob", title="Fix checkout", opened_at=at(3, 11), commit_times=[at(3, 10)],
                         body="Fixes #1", reviews=[("cat", "APPROVED", at(3, 15))], merged_at=at(4, 12))
    b.pull_request(REPO, author="cat", title="Follow-up to #4", opened_at=at(4, 9), commit_times=[at(4, 8)],
                   commit_messages=["Speed up search, see #3"])
    b.workflow_run(REPO, name="CI", at=at(3, 10), head_sha=fix.head_sha, event="pull_request",
                   head_branch=fix.branch, actor="bob")
    b.workflow_run(REPO, name="Deploy", at=at(4, 13), head_sha=fix.merge_commit_sha, conclusion="failure")
    return b


def rows(warehouse: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        con.execute("set TimeZone = 'UTC'")
        return con.sql(sql).fetchall()


def sync(warehouse: Path) -> dict[str, int]:
    return {**ingest_source("github", warehouse), **ingest_source("github_actions", warehouse)}


def paths(server: ReplayServer, since: int, suffix: str) -> list[str]:
    return [r.path for r in server.requests[since:] if r.path.endswith(suffix)]


def test_issues_and_jobs_load_once_and_second_syncs_fetch_only_what_changed(
    serve: Callable[..., ReplayServer], tmp_path: Path
) -> None:
    builder = shop()
    server = serve(builder.build())
    warehouse = tmp_path / "warehouse.duckdb"

    loaded = sync(warehouse)
    assert loaded["raw_github.issues"] == 3  # the two pull requests the issues list also returns stay out
    assert rows(warehouse, "select number, state, state_reason, label_names, assignee_login, closed_at "
                           "from raw_github.issues order by number") == [
        (1, "closed", "completed", "bug", "bob", at(4, 12)),
        (2, "closed", "not_planned", None, None, at(3, 10)),
        (3, "open", None, None, None, None),
    ]
    first_list = next(r for r in server.requests if r.path == ISSUES_PATH)
    assert {k: v[0] for k, v in first_list.query.items()} == {
        "state": "all", "since": "2026-01-01T00:00:00Z", "sort": "updated", "direction": "asc", "per_page": "100"}
    # CI has a build and a test job, the failed Deploy one deploy job; each run's jobs were read once
    assert rows(warehouse, "select name, conclusion, steps_count from raw_github_actions.workflow_jobs "
                           "order by run_id, id") == [
        ("build", "success", 4), ("test", "success", 4), ("deploy", "failure", 4)]
    assert len(paths(server, 0, "/jobs")) == 2

    # nothing changed: one issues page from the cursor, nothing loaded, no run's jobs read again
    seen = len(server.requests)
    loaded = sync(warehouse)
    assert [r.query["since"] for r in server.requests[seen:] if r.path == ISSUES_PATH] == [["2026-03-04T12:00:00Z"]]
    assert loaded.get("raw_github.issues", 0) == 0
    assert paths(server, seen, "/jobs") == []

    # a new issue and a new run: exactly those are fetched
    builder.issue(REPO, author="ann", title="Receipts missing", opened_at=at(5, 9))
    builder.workflow_run(REPO, name="CI", at=at(5, 10), head_sha=None)
    server.set_org(builder.build())
    seen = len(server.requests)
    loaded = sync(warehouse)
    assert loaded["raw_github.issues"] == 1
    assert len(paths(server, seen, "/jobs")) == 1
    assert rows(warehouse, "select count(*) from raw_github.issues") == [(4,)]
    assert rows(warehouse, "select count(*) from raw_github_actions.workflow_jobs") == [(5,)]


def test_issue_missing_a_required_field_is_quarantined_naming_endpoint_and_record(
    serve: Callable[..., ReplayServer], tmp_path: Path
) -> None:
    org = shop().build()
    server = serve(org)
    warehouse = tmp_path / "warehouse.duckdb"
    ingest_source("github", warehouse)
    broken = [dict(issue) for issue in org.github[REPO].issues]
    del broken[0]["created_at"]
    server.fail(ISSUES_PATH, 200, body=json.dumps(broken))
    ingest_source("github", warehouse, full_refresh=True)
    assert rejected(warehouse, "raw_github") == [
        ("issues", ISSUES_PATH, str(broken[0]["id"]), "missing required field 'created_at'")]
    assert rows(warehouse, "select count(*) from raw_github.issues") == [(3,)]  # the first load is intact


def test_issues_statuses_transitions_links_and_jobs_in_the_domain_layer(
    serve: Callable[..., ReplayServer], tmp_path: Path
) -> None:
    serve(shop().build())
    warehouse = tmp_path / "warehouse.duckdb"
    sync(warehouse)
    ensure_raw_tables(warehouse)
    dbt(["seed"], warehouse)
    dbt(["build", "--select", "+int_issue_pull_requests", "+int_issue_transitions", "+int_build_jobs",
         "--indirect-selection", "cautious"], warehouse)
    assert rows(warehouse, "select issue_key, issue_ref, status, done_at, source_system from intermediate.int_issues "
                           "order by issue_key") == [
        ("github:acme/shop#1", "acme/shop#1", "done", datetime(2026, 3, 4, 12), "github"),
        ("github:acme/shop#2", "acme/shop#2", "cancelled", None, "github"),  # not planned is not done
        ("github:acme/shop#3", "acme/shop#3", "todo", None, "github"),
    ]
    assert rows(warehouse, "select issue_key, from_category, to_category, transitioned_at "
                           "from intermediate.int_issue_transitions order by issue_key") == [
        ("github:acme/shop#1", "todo", "done", datetime(2026, 3, 4, 12)),
        ("github:acme/shop#2", "todo", "cancelled", datetime(2026, 3, 3, 10)),
    ]
    assert rows(warehouse, "select issue_key, pull_request_key, link_method from intermediate.int_issue_pull_requests "
                           "order by issue_key") == [
        ("github:acme/shop#1", "github:acme/shop#4", "body"),
        ("github:acme/shop#3", "github:acme/shop#5", "commit_message"),
    ]
    assert rows(warehouse, "select job_name, status, is_deployment, duration_seconds, build_key like 'github_actions:%' "
                           "from intermediate.int_build_jobs order by started_at, job_name") == [
        ("build", "success", False, 150.0, True), ("test", "success", False, 150.0, True),
        ("deploy", "failure", True, 300.0, True),
    ]
