"""The real dlt sources against the replay server: incremental syncs, retries, rate limits, bad
credentials and bad payloads."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import duckdb
import pytest
from quarantine import rejected
from scenarios import PAYMENTS, at, march_2026

from ingestion.demo.server import ReplayServer
from ingestion.errors import SourceError, TokenRejected
from ingestion.pipeline import ingest_source


@pytest.fixture(autouse=True)
def _rest_api(monkeypatch: pytest.MonkeyPatch) -> None:
    """These tests are about GitHub's REST endpoints and request patterns (GraphQL: test_github_graphql.py)."""
    monkeypatch.setenv("SOURCES__GITHUB__API", "rest")

RAW_TABLES = [
    "raw_github.pull_requests", "raw_github.pull_request_commits", "raw_github.pull_request_reviews",
    "raw_github.commits", "raw_github.deployments", "raw_github.deployment_statuses",
    "raw_pagerduty.incidents", "raw_pagerduty.log_entries",
]


def counts(warehouse: Path) -> dict[str, int]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return {table: con.sql(f"select count(*) from {table}").fetchone()[0] for table in RAW_TABLES}


def ingest_all(warehouse: Path) -> None:
    for name in ("github", "github_actions", "pagerduty"):
        ingest_source(name, warehouse)


def pr_detail_paths(server: ReplayServer, since: int = 0) -> list[str]:
    return [r.path for r in server.requests[since:] if re.fullmatch(r"/repos/[^/]+/[^/]+/pulls/\d+", r.path)]


def test_second_run_fetches_only_what_changed_and_adds_no_duplicates(
    serve: Callable[..., ReplayServer], tmp_path: Path
) -> None:
    scenario = march_2026()
    server = serve(scenario.org)
    warehouse = tmp_path / "w.duckdb"

    ingest_all(warehouse)
    first = counts(warehouse)
    assert first == {
        "raw_github.pull_requests": 6, "raw_github.pull_request_commits": 7, "raw_github.pull_request_reviews": 7,
        "raw_github.commits": 15, "raw_github.deployments": 8, "raw_github.deployment_statuses": 9,
        "raw_pagerduty.incidents": 3, "raw_pagerduty.log_entries": 10,
    }
    assert len(pr_detail_paths(server)) == 6

    seen = len(server.requests)
    ingest_all(warehouse)
    assert counts(warehouse) == first
    assert pr_detail_paths(server, seen) == []  # nothing changed: no PR is fetched again
    commit_lists = [r for r in server.requests[seen:] if r.path == f"/repos/{PAYMENTS}/commits"]
    assert commit_lists[0].query["since"] == ["2026-03-09T14:00:00Z"]  # the stored cursor, not start_date
    log_lists = [r for r in server.requests[seen:] if r.path == "/log_entries"]
    assert log_lists[0].query["since"] == ["2026-03-20T10:30:00Z"]

    # one new PR arrives: exactly that one is fetched, with its commits and reviews
    new = scenario.builder.pull_request(PAYMENTS, author="bob", title="Idempotency keys", opened_at=at(25, 10),
                                        commit_times=[at(25, 9)], reviews=[("cat", "APPROVED", at(25, 11))],
                                        merged_at=at(25, 12))
    server.set_org(scenario.builder.build())
    seen = len(server.requests)
    ingest_all(warehouse)
    assert pr_detail_paths(server, seen) == [f"/repos/{PAYMENTS}/pulls/{new.number}"]
    after = counts(warehouse)
    assert after["raw_github.pull_requests"] == 7
    assert after["raw_github.pull_request_reviews"] == 8
    assert after["raw_github.commits"] == 17  # the branch commit and the merge commit


def test_429_with_retry_after_and_502_are_retried(serve: Callable[..., ReplayServer], tmp_path: Path) -> None:
    server = serve(march_2026().org)
    server.fail(f"/repos/{PAYMENTS}/pulls", 429, retry_after=1)
    server.fail(f"/repos/{PAYMENTS}/commits", 502, times=2)
    ingest_source("github", tmp_path / "w.duckdb")

    statuses = [r.status for r in server.requests if r.path == f"/repos/{PAYMENTS}/pulls"]
    assert statuses == [429, 200]
    statuses = [r.status for r in server.requests if r.path == f"/repos/{PAYMENTS}/commits"]
    assert statuses == [502, 502, 200]
    with duckdb.connect(str(tmp_path / "w.duckdb"), read_only=True) as con:
        assert con.sql("select count(*) from raw_github.pull_requests").fetchone() == (6,)


def test_persistent_5xx_ends_with_a_clear_error(serve: Callable[..., ReplayServer], tmp_path: Path) -> None:
    server = serve(march_2026().org)
    server.fail("/deployments", 503, times=10)
    with pytest.raises(SourceError, match=r"GitHub answered 503 for http://127\.0\.0\.1:\d+/github/repos/acme/"):
        ingest_source("github", tmp_path / "w.duckdb")


def test_bad_token_is_named_and_nothing_is_written(
    serve: Callable[..., ReplayServer], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = serve(march_2026().org)
    monkeypatch.setenv("SOURCES__GITHUB__ACCESS_TOKEN", "ghp_wrong-secret-token")
    warehouse = tmp_path / "w.duckdb"
    with pytest.raises(TokenRejected) as error:
        ingest_source("github", warehouse)
    message = str(error.value)
    assert re.fullmatch(rf"GitHub rejected the token \(401\) for {server.github_url}/repos/acme/\S+", message)
    assert "ghp_wrong-secret-token" not in message
    with duckdb.connect(str(warehouse), read_only=True) as con:
        tables = con.sql("select table_name from information_schema.tables where table_schema = 'raw_github' "
                         "and table_name not like '\\_dlt%' escape '\\'").fetchall()
    assert tables == []


def test_token_never_reaches_the_warehouse(serve: Callable[..., ReplayServer], tmp_path: Path) -> None:
    server = serve(march_2026().org)
    warehouse = tmp_path / "w.duckdb"
    ingest_all(warehouse)
    content = warehouse.read_bytes()
    assert server.github_token.encode() not in content
    assert server.pagerduty_token.encode() not in content


def test_missing_required_field_is_quarantined_naming_endpoint_and_record(
    serve: Callable[..., ReplayServer], tmp_path: Path
) -> None:
    org = march_2026().org
    broken = org.github[PAYMENTS].pulls[1]
    del broken["created_at"]
    serve(org)
    counts = ingest_source("github", tmp_path / "w.duckdb")
    assert rejected(tmp_path / "w.duckdb", "raw_github") == [
        ("pull_requests", f"/repos/{PAYMENTS}/pulls/{broken['number']}", str(broken["id"]),
         "missing required field 'created_at'")]
    assert counts["raw_github._rejected"] == 1 and counts["raw_github.pull_requests"] == 5  # the rest loads


def test_unknown_enum_is_quarantined(serve: Callable[..., ReplayServer], tmp_path: Path) -> None:
    org = march_2026().org
    org.pagerduty.incidents[0]["status"] = "exploded"
    for entry in org.pagerduty.log_entries:
        if entry["incident"]["id"] == org.pagerduty.incidents[0]["id"]:
            entry["incident"] = org.pagerduty.incidents[0]
    serve(org)
    ingest_source("pagerduty", tmp_path / "w.duckdb")
    [(table, endpoint, record_id, reason)] = rejected(tmp_path / "w.duckdb", "raw_pagerduty")
    assert (table, endpoint, record_id) == ("incidents", "/log_entries (include[]=incidents)",
                                            org.pagerduty.incidents[0]["id"])
    assert reason.startswith("field 'status': unknown value 'exploded'")


def test_truncated_json_is_reported_with_its_endpoint(serve: Callable[..., ReplayServer], tmp_path: Path) -> None:
    server = serve(march_2026().org)
    server.fail("/log_entries", 200, body='{"log_entries": [{"id": "R1", "type": "trig')
    with pytest.raises(SourceError, match=r"PagerDuty sent a body that is not valid JSON for /log_entries"):
        ingest_source("pagerduty", tmp_path / "w.duckdb")
