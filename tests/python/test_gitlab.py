"""Real GitLab bodies (tests/fixtures/gitlab, see NOTICE.md) served by the replay server under a self-hosted
style base URL, ingested by the real GitLab source and built into staging and the tool-agnostic delivery layer:
merge requests as pull requests, notes as reviews, pipelines as builds, deployments."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import duckdb
import pytest
from quarantine import rejected
from recorded import GITLAB_PROJECT, GITLAB_SELF_HOSTED, recorded_gitlab

from ingestion.demo import gitlab_api
from ingestion.demo.org import Org
from ingestion.demo.pagerduty_api import PagerDutyData
from ingestion.demo.server import ReplayServer
from ingestion.errors import SourceError, TokenRejected
from ingestion.pipeline import ensure_raw_tables, ingest_source
from yardstick.dbt import dbt
from yardstick.demo import environment

SELECT = ["+path:models/intermediate/delivery", "+path:models/intermediate/organisation"]


def gitlab_org() -> Org:
    return Org(github={}, pagerduty=PagerDutyData(), gitlab=recorded_gitlab())


def settings(server: ReplayServer, per_page_projects: list[str] | None = None) -> dict[str, str]:
    return {**gitlab_api.source_settings(server.url + "/gitlab", per_page_projects or [GITLAB_PROJECT,
                                         GITLAB_SELF_HOSTED], "2010-01-01"),
            "RUNTIME__REQUEST_BACKOFF_FACTOR": "0.05", "RUNTIME__REQUEST_MAX_ATTEMPTS": "3"}


@pytest.fixture(scope="module")
def loaded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, dict, list]]:
    path = tmp_path_factory.mktemp("gitlab") / "warehouse.duckdb"
    with ReplayServer(gitlab_org()) as server, environment(settings(server)):
        counts = ingest_source("gitlab", path)
        requests = server.requests
    ensure_raw_tables(path)
    dbt(["seed"], path)
    dbt(["build", "--select", *SELECT, "--indirect-selection", "cautious"], path)
    yield path, counts, requests


def query(path: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(path), read_only=True) as con:
        return con.sql(sql).fetchall()


def test_real_paths_and_counts(loaded: tuple[Path, dict, list]) -> None:
    _, counts, requests = loaded
    # notes and commits of the 18 listed merge requests (the recording also holds some of unlisted ones)
    assert counts == {"raw_gitlab.merge_requests": 18, "raw_gitlab.merge_request_commits": 26,
                      "raw_gitlab.merge_request_notes": 20, "raw_gitlab.pipelines": 103, "raw_gitlab.jobs": 75,
                      "raw_gitlab.deployments": 8}
    first = requests[0]
    assert first.path == "/api/v4/projects/gitlab-data%2Fsnowflake_spend/merge_requests"
    assert first.query == {"updated_after": ["2010-01-01T00:00:00Z"], "order_by": ["updated_at"], "sort": ["asc"],
                           "per_page": ["100"], "state": ["all"]}
    assert any(r.path == "/api/v4/projects/merico%2Fpip_test/pipelines/73/jobs" for r in requests)


def test_merge_requests_become_pull_requests(loaded: tuple[Path, dict, list]) -> None:
    path, _, _ = loaded
    assert query(path, "select count(*), count(*) filter (where state = 'open'), count(merged_at) "
                       "from intermediate.int_pull_requests where source_system = 'gitlab'") == [(18, 5, 10)]
    # MR !3: first commit 19:32:19, opened 19:34:32, first note by someone else (emilie) 26 Aug 12:14:39
    assert query(path, """
        select author_login, first_commit_at, opened_at, first_review_at, merged_at, merge_commit_sha, commit_count,
            review_count
        from intermediate.int_pull_requests where pull_request_key = 'gitlab:gitlab-data/snowflake_spend#3'""") == [
        ("martinguindon", datetime(2019, 8, 15, 19, 32, 19), datetime(2019, 8, 15, 19, 34, 32, 706000),
         datetime(2019, 8, 26, 12, 14, 39, 3000), datetime(2019, 8, 26, 14, 15, 27, 922000),
         "d678bea9d47b42eb13512d1c9d6a592d80b432d4", 1, 2)]
    # the author's own note is a review by the author; system notes (pushes, assignments, merges) are not reviews
    assert query(path, "select reviewer_login, is_author_review from intermediate.int_reviews "
                       "where pull_request_number = 3 order by submitted_at") == [
        ("emilie", False), ("martinguindon", True), ("emilie", False)]


def test_pipelines_become_builds_and_deployments_keep_their_environment(loaded: tuple[Path, dict, list]) -> None:
    path, _, _ = loaded
    # 07:17:10.123 → next day 01:54:29.748
    assert query(path, "select repository, status, sha, duration_seconds from intermediate.int_builds "
                       "where build_key = 'gitlab:1078343570'") == [
        ("gitlab-data/snowflake_spend", "success", "694ed6ede74c367f17c7fddb56de629354a27069", 67039.0)]
    assert query(path, "select status, count(*) from intermediate.int_builds where source_system = 'gitlab' "
                       "group by 1 order by 1") == [
        ("cancelled", 2), ("failure", 60), ("in_progress", 8), ("skipped", 2), ("success", 31)]
    assert query(path, "select count(*), count(distinct pipeline_id) from raw_gitlab.jobs") == [(75, 58)]
    assert query(path, """
        select deployment_id, environment, status, is_production, deployed_at from intermediate.int_deployments
        where source_system = 'gitlab' and status in ('success', 'failure', 'inactive') order by deployment_id""") == [
        (13426753, "staging", "success", False, datetime(2019, 3, 13, 14, 17, 47, 640000)),
        (13432768, "staging", "failure", False, None),
        (13436532, "production", "inactive", True, None),
    ]


def test_pagination_follows_link_headers(tmp_path: Path) -> None:
    with ReplayServer(gitlab_org()) as server, environment(settings(server, [GITLAB_SELF_HOSTED])):
        status, body, headers = gitlab_api.handle(
            server.org.gitlab, "GET", "/api/v4/projects/44/pipelines", {"per_page": ["20"], "page": ["2"]},
            {"PRIVATE-TOKEN": gitlab_api.TOKEN, "Host": "127.0.0.1:1"})
        assert (status, len(body), headers["X-Next-Page"], headers["X-Total"]) == (200, 20, "3", "58")
        assert 'page=3>; rel="next"' in headers["Link"]
        counts = ingest_source("gitlab", tmp_path / "warehouse.duckdb")
    assert counts["raw_gitlab.pipelines"] == 58


def test_bad_payloads_and_token(tmp_path: Path) -> None:
    org = gitlab_org()
    warehouse = tmp_path / "warehouse.duckdb"
    with ReplayServer(org) as server, environment(settings(server)):
        ingest_source("gitlab", warehouse)
        mr = org.gitlab.projects[GITLAB_PROJECT].merge_requests[2]
        mr["state"] = "exploded"
        ingest_source("gitlab", warehouse, full_refresh=True)
        [(table, endpoint, record_id, reason)] = rejected(warehouse, "raw_gitlab")
        assert (table, endpoint, record_id) == (
            "merge_requests", "/projects/gitlab-data%2Fsnowflake_spend/merge_requests", str(mr["id"]))
        assert reason.startswith("field 'state': unknown value 'exploded'")
        mr["state"] = "merged"
        del org.gitlab.projects[GITLAB_PROJECT].deployments[0]["sha"]
        ingest_source("gitlab", warehouse, full_refresh=True)  # the merge request is valid again: released
        assert [(t, r, why) for t, _, r, why in rejected(warehouse, "raw_gitlab")] == [
            ("deployments", "13426753", "missing required field 'sha'")]
        server.fail("/deployments", 200, body='[{"id": 1, "iid')
        with pytest.raises(SourceError, match=r"GitLab sent a body that is not valid JSON for .*/deployments"):
            ingest_source("gitlab", warehouse, full_refresh=True)
    assert query(warehouse, "select count(*) from raw_gitlab.merge_requests where state = 'merged'") == [(10,)]
    with ReplayServer(org) as server, environment({**settings(server), "SOURCES__GITLAB__PRIVATE_TOKEN": "nope"}), \
            pytest.raises(TokenRejected, match=r"^GitLab rejected the token \(401\) for http://127.0.0.1:\d+/gitlab/"):
        ingest_source("gitlab", tmp_path / "x.duckdb")
