"""The real Jira Cloud board (tests/fixtures/jira, see NOTICE.md) served by the replay server, ingested by the
real Jira source and built into staging and the planning models: Chinese status names mapped through
statusCategory, changelogs (truncated ones read from the changelog endpoint), sprints and the sprint field."""

from __future__ import annotations

import copy
import dataclasses
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest
from quarantine import rejected
from recorded import recorded_jira

from ingestion.demo import jira_api
from ingestion.demo.org import Org
from ingestion.demo.pagerduty_api import PagerDutyData
from ingestion.demo.server import ReplayServer
from ingestion.errors import SourceError, TokenRejected
from ingestion.pipeline import ensure_raw_tables, ingest_source
from yardstick.dbt import dbt
from yardstick.demo import environment

PROJECTS = ["EE", "K5"]
CHANGELOG_LIMIT = 20  # EE-1 (25 histories), EE-2 (24), EE-3 (26), EE-4 (23) and EE-17 (31) arrive truncated


def jira_org(changelog_limit: int = CHANGELOG_LIMIT) -> Org:
    return Org(github={}, pagerduty=PagerDutyData(), jira=recorded_jira(changelog_limit))


def settings(server: ReplayServer) -> dict[str, str]:
    return {**jira_api.source_settings(server.url + "/jira", PROJECTS, "2010-01-01"),
            "RUNTIME__REQUEST_BACKOFF_FACTOR": "0.05", "RUNTIME__REQUEST_MAX_ATTEMPTS": "3"}


@pytest.fixture(scope="module")
def loaded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, list]]:
    """One ingest of the recorded board and one build of the Jira staging and planning models."""
    path = tmp_path_factory.mktemp("jira") / "warehouse.duckdb"
    with ReplayServer(jira_org()) as server, environment(settings(server)):
        counts = ingest_source("jira", path)
        requests = server.requests
    assert counts == {"raw_jira.issues": 33, "raw_jira.issue_changelog_items": 714, "raw_jira.statuses": 53,
                      "raw_jira.sprints": 30}
    ensure_raw_tables(path)
    dbt(["seed"], path)
    dbt(["build", "--select", "+int_issues", "+int_issue_transitions", "+int_sprints", "+int_sprint_issues",
         "--indirect-selection", "cautious"], path)
    yield path, requests


def query(path: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(path), read_only=True) as con:
        con.execute("set TimeZone = 'UTC'")
        return con.sql(sql).fetchall()


def utc(*parts: int) -> datetime:
    return datetime(*parts)  # intermediate timestamps are naive UTC


def test_search_pages_and_truncated_changelogs_use_the_real_paths(loaded: tuple[Path, list]) -> None:
    _, requests = loaded
    search = [r for r in requests if r.path == "/rest/api/3/search/jql"]
    assert len(search) == 1
    jql = search[0].query["jql"][0]
    assert jql == 'project in ("EE", "K5") AND updated >= "2010/01/01 00:00" ORDER BY updated ASC'
    assert search[0].query["expand"] == ["changelog"]
    changelog_ids = sorted(r.path.split("/")[5] for r in requests if r.path.endswith("/changelog"))
    assert changelog_ids == ["10063", "10064", "10065", "10066", "10079"]
    assert {r.path for r in requests if "/agile/" in r.path} == {
        "/rest/agile/1.0/board", "/rest/agile/1.0/board/8/sprint", "/rest/agile/1.0/board/93/sprint"}


def test_raw_issues_keep_chinese_names_and_every_history(loaded: tuple[Path, list]) -> None:
    path, _ = loaded
    assert query(path, "select key, status_name, status_category_key, issue_type, sprint_ids, created_at "
                       "from raw_jira.issues where key in ('EE-2', 'K5-2') order by key") == [
        ("EE-2", "已完成", "done", "故事", "7", datetime(2020, 6, 12, 0, 15, 36, 123000, tzinfo=UTC)),
        ("K5-2", "To Do", "new", "Story", "175", datetime(2022, 7, 15, 22, 29, 49, 26000, tzinfo=UTC)),
    ]
    # EE-17 has 31 histories; the search embedded 20, the changelog endpoint gave all of them
    assert query(path, "select count(distinct history_id), count(*) from raw_jira.issue_changelog_items "
                       "where issue_id = '10079'") == [(31, 40)]
    assert query(path, "select count(distinct history_id) from raw_jira.issue_changelog_items") == [(522,)]


def test_status_maps_through_status_category_never_the_name(loaded: tuple[Path, list]) -> None:
    path, _ = loaded
    assert query(path, "select status, count(*) from intermediate.int_issues group by 1 order by 1") == [
        ("done", 25), ("todo", 8)]
    # EE-1 and EE-2 are both named 已完成 ("completed"), but EE-1's status category is `new`
    assert query(path, "select issue_ref, status_name, status from intermediate.int_issues "
                       "where issue_ref in ('EE-1', 'EE-2') order by 1") == [
        ("EE-1", "已完成", "todo"), ("EE-2", "已完成", "done")]


def test_issue_transitions_and_dates(loaded: tuple[Path, list]) -> None:
    path, _ = loaded
    transitions = query(path, """
        select from_status_name, to_status_name, to_category, transitioned_at from intermediate.int_issue_transitions
        where issue_key = 'jira:EE-17' order by transitioned_at""")
    # 'To Do' (10000) and 'Resolved' (5) are no longer in the site's status list: category unknown
    assert transitions == [
        ("To Do", "Open", "todo", utc(2020, 6, 12, 5, 1, 20, 707000)),
        ("Open", "In Progress", "in_progress", utc(2020, 7, 22, 6, 34, 22, 169000)),
        ("In Progress", "Resolved", "unknown", utc(2020, 7, 22, 7, 25, 29, 223000)),
        ("Resolved", "Closed", "done", utc(2020, 11, 10, 1, 43, 3, 405000)),
        ("Closed", "已完成", "done", utc(2021, 3, 28, 8, 5, 54, 428000)),
    ]
    # started = first move into progress; done = last move into done from a status that was not done
    assert query(path, "select started_at, done_at, source_system from intermediate.int_issues "
                       "where issue_key = 'jira:EE-17'") == [
        (utc(2020, 7, 22, 6, 34, 22, 169000), utc(2020, 11, 10, 1, 43, 3, 405000), "jira")]


def test_sprints_and_sprint_membership_from_the_sprint_field_history(loaded: tuple[Path, list]) -> None:
    path, _ = loaded
    assert query(path, "select count(*), min(sprint_name), max(completed_at) from intermediate.int_sprints") == [
        (30, "EE Sprint 10", utc(2021, 5, 17, 1, 51, 41, 754000))]
    # EE-17: in sprint 7 at its start, moved to 9 (EE Sprint 8) before 9 started, then to 17 (EE Sprint 9)
    assert query(path, """
        select sprint_key, added_at, removed_at, is_in_sprint_field, is_committed, is_added_mid_sprint
        from intermediate.int_sprint_issues where issue_key = 'jira:EE-17' order by added_at""") == [
        ("jira:7", utc(2020, 6, 12, 0, 29, 19, 614000), utc(2020, 6, 17, 7, 26, 56, 197000), False, True, False),
        ("jira:9", utc(2020, 6, 17, 7, 26, 56, 197000), utc(2020, 7, 10, 6, 37, 6, 529000), False, True, False),
        ("jira:17", utc(2020, 7, 10, 6, 37, 6, 529000), None, True, True, False),
    ]
    # sprint 7 (EE Sprint 7, 12–22 June 2020): members, those done within it
    assert query(path, """
        select count(*), count(*) filter (where is_committed), count(*) filter (where is_completed_in_sprint)
        from intermediate.int_sprint_issues where sprint_key = 'jira:7'""") == [(29, 16, 5)]


def test_second_sync_asks_only_for_recent_changes(tmp_path: Path) -> None:
    org = jira_org()
    with ReplayServer(org) as server, environment(settings(server)):
        ingest_source("jira", tmp_path / "warehouse.duckdb")
        server.clear_requests()
        updated = copy.deepcopy(org.jira.issues[-1])  # K5-4, the most recently updated issue
        updated["fields"]["summary"] = "renamed"
        updated["fields"]["updated"] = "2022-07-20T10:00:00.000+0800"
        org.jira.issues[-1] = updated
        counts = ingest_source("jira", tmp_path / "warehouse.duckdb")
        jql = next(r for r in server.requests if r.path == "/rest/api/3/search/jql").query["jql"][0]
    # cursor = K5's latest `updated` before the change (2022-07-16 06:31 +08:00 → 2022-07-15 22:31 UTC), minus 24 h
    assert 'updated >= "2022/07/14 22:' in jql
    assert counts["raw_jira.issues"] == 3  # K5-2, K5-3 (updated within the look-back) and K5-4
    renamed = "select count(*), count(*) filter (where summary = 'renamed') from raw_jira.issues"
    assert query(tmp_path / "warehouse.duckdb", renamed) == [(33, 1)]


def _break_and_ingest(tmp_path: Path, breaker, error: type[Exception]) -> pytest.ExceptionInfo:
    """Load the board once, break it, load again: the second load fails and the first one stays intact."""
    org = jira_org()
    tmp_path.mkdir(parents=True, exist_ok=True)
    warehouse = tmp_path / "warehouse.duckdb"
    with ReplayServer(org) as server, environment(settings(server)):
        ingest_source("jira", warehouse)
        breaker(org, server)
        with pytest.raises(error) as info:
            ingest_source("jira", warehouse, full_refresh=True)
    assert query(warehouse, "select count(*) from raw_jira.issues") == [(33,)]
    return info


def _break_and_quarantine(tmp_path: Path, breaker) -> list[tuple[str, str, str, str]]:
    """Load the board once, break it, load again: the broken record is quarantined, the rest loads, and the
    first load of the broken record stays as it was."""
    org = jira_org()
    tmp_path.mkdir(parents=True, exist_ok=True)
    warehouse = tmp_path / "warehouse.duckdb"
    with ReplayServer(org) as server, environment(settings(server)):
        ingest_source("jira", warehouse)
        breaker(org, server)
        ingest_source("jira", warehouse, full_refresh=True)
    assert query(warehouse, "select count(*) from raw_jira.issues") == [(33,)]
    return rejected(warehouse, "raw_jira")


def test_missing_required_field_is_quarantined_naming_endpoint_and_record(tmp_path: Path) -> None:
    def breaker(org: Org, server: ReplayServer) -> None:
        del org.jira.issues[3]["fields"]["created"]

    assert _break_and_quarantine(tmp_path, breaker) == [
        ("issues", "/rest/api/3/search/jql", "10066", "missing required field 'fields.created'")]


def test_wrong_type_and_unknown_status_category_are_quarantined(tmp_path: Path) -> None:
    def wrong_type(org: Org, server: ReplayServer) -> None:
        org.jira.issues[0]["fields"]["updated"] = 1593911000

    [(table, endpoint, record_id, reason)] = _break_and_quarantine(tmp_path, wrong_type)
    assert (table, endpoint, record_id) == ("issues", "/rest/api/3/search/jql", "10063")
    assert reason.startswith("field 'fields.updated': expected an ISO-8601 timestamp, got 1593911000")

    def unknown_enum(org: Org, server: ReplayServer) -> None:
        org.jira.statuses[0]["statusCategory"] = {"key": "exploded"}

    [(table, endpoint, record_id, reason)] = _break_and_quarantine(tmp_path / "enum", unknown_enum)
    assert (table, endpoint, record_id) == ("statuses", "/rest/api/3/status", "3")
    assert reason.startswith("field 'statusCategory.key': unknown value 'exploded'")


def test_truncated_json_and_rejected_token(tmp_path: Path) -> None:
    def truncate(org: Org, server: ReplayServer) -> None:
        server.fail("/rest/agile/1.0/board/8/sprint", 200, body='{"values": [{"id": 7, "name": "EE Spr')

    info = _break_and_ingest(tmp_path, truncate, SourceError)
    assert "Jira sent a body that is not valid JSON for /rest/agile/1.0/board/8/sprint" in str(info.value)

    rejected = pytest.raises(TokenRejected, match=r"^Jira rejected the token \(401\) for http://127.0.0.1:\d+/jira/")
    with ReplayServer(jira_org()) as server, environment({**settings(server), "SOURCES__JIRA__API_TOKEN": "nope"}), \
            rejected:
        ingest_source("jira", tmp_path / "x.duckdb")


def test_sprint_field_in_data_center_form_and_search_errors() -> None:
    from ingestion.sources.jira import sprint_ids

    assert sprint_ids(["com.atlassian.greenhopper.service.sprint.Sprint@1b2c[id=12,rapidViewId=3,state=CLOSED]",
                       "com.atlassian.greenhopper.service.sprint.Sprint@9f1e[id=15,rapidViewId=3,state=ACTIVE]"]) \
        == "12 15"
    assert sprint_ids([{"id": 7, "name": "EE Sprint 7"}]) == "7"
    assert sprint_ids(None) is None
    data_center = dataclasses.replace(jira_org().jira, cloud=False)
    status, body, _ = jira_api.handle(data_center, "GET", "/rest/api/2/search", {"jql": ["assignee = me"]},
                                      "Bearer " + jira_api.TOKEN)
    assert status == 400 and json.dumps(body).startswith('{"errorMessages": ["Error in the JQL Query')


def test_cloud_answers_the_removed_search_with_410_and_refuses_unbounded_jql() -> None:
    cloud = jira_org().jira
    for path in ("/rest/api/3/search", "/rest/api/2/search"):
        status, body, _ = jira_api.handle(cloud, "GET", path, {"jql": ['project = "EE"']}, "Bearer " + jira_api.TOKEN)
        assert status == 410 and "/rest/api/3/search/jql" in body["errorMessages"][0]
    status, body, _ = jira_api.handle(cloud, "GET", "/rest/api/3/search/jql", {"jql": ["ORDER BY updated ASC"]},
                                      "Bearer " + jira_api.TOKEN)
    assert status == 400 and body["errorMessages"][0].startswith("Unbounded JQL queries are not allowed")
    status, body, _ = jira_api.handle(cloud, "GET", "/rest/api/3/search/jql", {"jql": ['project = "EE"']},
                                      "Bearer " + jira_api.TOKEN)
    assert status == 200 and set(body["issues"][0]) == {"id"}  # no fields named: ids only, as Cloud answers


def test_cloud_pages_by_token_and_names_its_fields(tmp_path: Path) -> None:
    with ReplayServer(jira_org()) as server, environment({**settings(server), "SOURCES__JIRA__PAGE_SIZE": "10"}):
        counts = ingest_source("jira", tmp_path / "warehouse.duckdb")
        search = [r for r in server.requests if r.path == "/rest/api/3/search/jql"]
    assert counts["raw_jira.issues"] == 33
    assert len(search) == 4  # 10 + 10 + 10 + 3, the last answered with isLast
    assert "nextPageToken" not in search[0].query
    assert all("nextPageToken" in r.query and "startAt" not in r.query for r in search[1:])
    named = search[0].query["fields"][0].split(",")
    assert {"summary", "status", "created", "updated", "customfield_10020", "customfield_10016"} <= set(named)
    assert query(tmp_path / "warehouse.duckdb", "select count(*) from raw_jira.issues "
                 "where status_category_key is not null and created_at is not null") == [(33,)]


def test_data_center_keeps_the_offset_search(tmp_path: Path) -> None:
    org = jira_org()
    org.jira.cloud = False
    with ReplayServer(org) as server, environment({**settings(server), "SOURCES__JIRA__API_VERSION": "2",
                                                   "SOURCES__JIRA__PAGE_SIZE": "10"}):
        counts = ingest_source("jira", tmp_path / "warehouse.duckdb")
        search = [r for r in server.requests if r.path == "/rest/api/2/search"]
    assert counts["raw_jira.issues"] == 33
    assert [r.query["startAt"] for r in search] == [["0"], ["10"], ["20"], ["30"]]
